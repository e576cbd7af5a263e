"""Real recorded music from Debian game-data packages, fetched at build time.

The packages in :data:`PACKAGES` ship free-licensed game soundtracks (Ogg Vorbis; Nexuiz's in
a ``.pk3`` zip). :func:`fetch_tracks` downloads each with ``apt-get download`` and unpacks it
with ``dpkg -x`` into a cache folder (nothing is installed and nothing is committed), finds the
music files, and reads each one's licence from the package's ``copyright`` file.

Tracker modules (``.mod``, ``.xm``, ``.it``, ``.s3m``) are converted only when Debian's
``xmp`` player is installed (``xmp -o out.wav``); otherwise they are skipped. Beats come from
``motionbeat.audio.analyse_rhythm`` at build time, not from here.

Licence lookup: machine-readable (DEP-5) copyright files are split into stanzas; the last
``Files:`` stanza whose glob matches the track (source paths are matched by their tails,
since the installed path differs from the source path) gives the ``License:``; otherwise the
``Files: *`` stanza; a free-form file is read for "GNU General Public License ... version N
(... or any later)".
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

PACKAGES: tuple[str, ...] = (
    "nexuiz-music",
    "supertux-data",
    "hedgewars-data",
    "frozen-bubble-data",
    "xmoto-data",
    "extremetuxracer-data",
)
"""The only Debian packages music is taken from (the issue's list)."""

AUDIO_SUFFIXES: frozenset[str] = frozenset({".ogg", ".oga", ".mp3", ".flac", ".wav", ".opus"})
TRACKER_SUFFIXES: frozenset[str] = frozenset({".mod", ".xm", ".it", ".s3m"})
ARCHIVE_SUFFIXES: frozenset[str] = frozenset({".pk3", ".zip"})
MUSIC_PATH_WORDS: tuple[str, ...] = ("music", "cdtracks", "zik")
"""A file is music when its path (lower case) contains one of these (sound effects do not)."""
MIN_TRACK_SECONDS: float = 20.0
"""Shorter files are jingles, not songs."""
_DONE = ".extracted"


class DebianFetchError(RuntimeError):
    """apt-get download or dpkg -x failed."""


@dataclass(frozen=True)
class DebianTrack:
    """One music file from a Debian package."""

    track_id: str  # "debian-<package>-<file stem>", unique
    package: str
    version: str
    path: Path  # the decodable file in the cache
    member: str  # path inside the package (or the archive member)
    licence: str
    copyright_file: Path
    duration: float

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"], d["copyright_file"] = str(self.path), str(self.copyright_file)
        return d


def _run(cmd: list[str], cwd: Path) -> None:
    try:
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    except FileNotFoundError as err:
        raise DebianFetchError(f"{cmd[0]} is not available: {err}") from None
    except subprocess.CalledProcessError as err:
        msg = (err.stderr or b"").decode(errors="replace").strip()[-400:]
        raise DebianFetchError(
            f"{' '.join(cmd)} failed: {msg} (try 'apt-get update' first)"
        ) from None


def fetch_package(package: str, cache: Path) -> tuple[Path, str]:
    """Download and unpack one package into ``cache/root/<package>``; returns (root, version).

    Skipped when already unpacked (resumable). Raises :class:`DebianFetchError`.
    """
    if package not in PACKAGES:
        raise ValueError(f"{package} is not one of the allowed music packages {PACKAGES}")
    cache = Path(cache).resolve()  # the commands run in the cache: a relative path would not resolve there
    root = cache / "root" / package
    debs = cache / "debs"
    marker = root / _DONE
    if marker.is_file():
        return root, marker.read_text().strip()
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        _run(["apt-get", "download", package], cwd=debs)
        found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        raise DebianFetchError(f"apt-get download {package} left no .deb in {debs}")
    deb = found[-1]
    version = deb.stem.split("_")[1] if deb.stem.count("_") >= 1 else "unknown"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    _run(["dpkg", "-x", str(deb), str(root)], cwd=cache)
    marker.write_text(version + "\n")
    return root, version


# ---------------------------------------------------------------------------- licences


def _stanzas(text: str) -> list[dict[str, str]]:
    out, cur, key = [], {}, None
    for line in text.splitlines():
        if not line.strip():
            if cur:
                out.append(cur)
            cur, key = {}, None
            continue
        if line[0] in " \t" and key:
            cur[key] += "\n" + line.strip()
            continue
        if ":" in line:
            key, _, val = line.partition(":")
            key = key.strip().lower()
            cur[key] = val.strip()
    if cur:
        out.append(cur)
    return out


def _tail_match(member: str, pattern: str) -> bool:
    parts = pattern.strip("/").split("/")
    for i in range(len(parts)):
        tail = "/".join(parts[i:])
        if tail == "*":
            return i == 0  # a bare "*" only counts as the whole-package stanza
        if fnmatch.fnmatch(member, "*/" + tail) or fnmatch.fnmatch(member, tail):
            return True
    return False


def licence_of(member: str, copyright_text: str) -> str:
    """Short licence name of the file ``member`` from a Debian copyright file's text."""
    stanzas = _stanzas(copyright_text)
    files = [s for s in stanzas if "files" in s and "license" in s]
    if files:
        best = None
        for s in files:
            pats = s["files"].split()
            if any(_tail_match(member, p) for p in pats):
                best = s
        if best is None:
            best = next((s for s in files if s["files"].split() == ["*"]), files[0])
        return best["license"].splitlines()[0].strip()
    flat = " ".join(copyright_text.split())
    m = re.search(r"GNU General Public License.{0,200}?version (\d)", flat, re.IGNORECASE)
    if m:
        later = re.search(r"any later version", flat[m.start() : m.start() + 400], re.IGNORECASE)
        return f"GPL-{m.group(1)}" + ("+" if later else "")
    return "see copyright file"


# ------------------------------------------------------------------------------ tracks


def _is_music(rel: str) -> bool:
    low = rel.lower()
    return any(w in low for w in MUSIC_PATH_WORDS)


def _convert_tracker(src: Path, dst: Path) -> Path | None:
    if shutil.which("xmp") is None:
        return None
    if not dst.is_file():
        subprocess.run(["xmp", "-q", "-o", str(dst), str(src)], check=True, capture_output=True)
    return dst


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def find_tracks(root: Path, package: str, version: str) -> list[DebianTrack]:
    """Music files of an unpacked package (archives unpacked into ``root/_archives``)."""
    import soundfile as sf

    copyright_file = next(iter(sorted(root.glob("usr/share/doc/*/copyright"))), None)
    text = copyright_file.read_text(errors="replace") if copyright_file else ""
    candidates: list[tuple[Path, str]] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        suffix = path.suffix.lower()
        if suffix in ARCHIVE_SUFFIXES:
            out = root / "_archives" / path.stem
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    if Path(info.filename).suffix.lower() in AUDIO_SUFFIXES and _is_music(
                        info.filename
                    ):
                        target = out / info.filename
                        if not target.is_file():
                            target.parent.mkdir(parents=True, exist_ok=True)
                            target.write_bytes(zf.read(info))
                        candidates.append((target, f"{rel}:{info.filename}"))
        elif rel.startswith("_archives/"):
            continue
        elif suffix in AUDIO_SUFFIXES and _is_music(rel):
            candidates.append((path, rel))
        elif suffix in TRACKER_SUFFIXES and _is_music(rel):
            converted = _convert_tracker(path, root / "_converted" / (path.stem + ".wav"))
            if converted is not None:
                candidates.append((converted, rel))
    tracks, seen = [], set()
    for path, member in candidates:
        try:
            info = sf.info(str(path))
        except RuntimeError:
            continue
        if info.duration < MIN_TRACK_SECONDS:
            continue
        track_id = f"debian-{_slug(package)}-{_slug(Path(member.split(':')[-1]).stem)}"
        while track_id in seen:
            track_id += "-b"
        seen.add(track_id)
        tracks.append(
            DebianTrack(
                track_id,
                package,
                version,
                path,
                member,
                licence_of(member.split(":")[0], text),
                copyright_file or Path(),
                float(info.duration),
            )
        )
    return tracks


def fetch_tracks(cache: str | Path, packages: tuple[str, ...] = PACKAGES) -> list[DebianTrack]:
    """Download, unpack and list the music of ``packages`` (cached in ``cache``)."""
    cache = Path(cache)
    tracks = []
    for package in packages:
        root, version = fetch_package(package, cache)
        tracks.extend(find_tracks(root, package, version))
    return tracks
