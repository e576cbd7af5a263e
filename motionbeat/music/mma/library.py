"""The installed side of synthesis: mma's groove library, General MIDI soundfonts, the tools on PATH.

:func:`discover_grooves` parses mma's standard library into :class:`GrooveStyle` records (grooves
for verses, intros and endings, meter, tempo range); :func:`find_soundfont` and
:func:`check_tools` find what fluidsynth and mma need, raising :class:`MusicToolError` when
something is missing.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# ------------------------------------------------------------------------------- constants
MMA_LIBRARY_DIRS: tuple[str, ...] = ("/usr/share/mma/lib/stdlib", "/usr/local/share/mma/lib/stdlib")
"""Where Debian's (or a source install's) mma keeps its standard groove library."""
SOUNDFONT_DIRS: tuple[str, ...] = ("/usr/share/sounds/sf2", "/usr/share/soundfonts")
SOUNDFONTS: tuple[str, ...] = ("FluidR3_GM.sf2", "TimGM6mb.sf2", "default-GM.sf2")
"""Preferred General MIDI soundfonts: fluid-soundfont-gm (141 MB, best), timgm6mb (6 MB)."""
SOUNDFONT_ENV: str = "MOTIONBEAT_SOUNDFONT"
"""Environment variable naming a soundfont to use instead."""
EXCLUDED_STYLES: frozenset[str] = frozenset(
    {"metronome", "metronome3", "metronome6", "metronome68", "none"}
)
"""Library files that are not music."""
METERS: tuple[int, ...] = (3, 4)
"""Beats per bar we keep; 2/4, 5/4 and 6/8 files are skipped."""

# Tempo ranges by style keyword, BPM; the first match wins, the default covers the rest.
_TEMPO_HINTS: tuple[tuple[tuple[str, ...], tuple[float, float]], ...] = (
    (
        ("slow", "ballad", "lullaby", "hymn", "spiritual", "bolero", "mellow", "nite", "evans"),
        (70.0, 96.0),
    ),
    (("vienese", "fastwaltz", "fastjazzwaltz"), (140.0, 180.0)),
    (("waltz",), (84.0, 150.0)),
    (
        (
            "fast",
            "quickstep",
            "bebop",
            "jive",
            "polka",
            "ska",
            "trance",
            "merengue",
            "samba",
            "bluegrass",
            "dixie",
            "charleston",
            "zydeco",
            "boggie",
            "shuffle",
            "march",
            "twist",
        ),
        (125.0, 180.0),
    ),
)
_DEFAULT_TEMPO: tuple[float, float] = (88.0, 150.0)


class MusicToolError(RuntimeError):
    """mma, fluidsynth or a soundfont is missing."""


# ------------------------------------------------------------------------- the library


@dataclass(frozen=True)
class GrooveStyle:
    """One mma library file: its grooves and meter."""

    name: str  # file stem, e.g. "rock-128"
    beats_per_bar: int
    main: tuple[str, ...]  # grooves for verses and choruses
    intros: tuple[str, ...]
    endings: tuple[str, ...]

    @property
    def tempo_range(self) -> tuple[float, float]:
        for keys, rng in _TEMPO_HINTS:
            if any(k in self.name.lower() for k in keys):
                return rng
        return _DEFAULT_TEMPO


def library_dir() -> Path:
    """The installed mma groove library; :class:`MusicToolError` when mma is not installed."""
    for d in MMA_LIBRARY_DIRS:
        if Path(d).is_dir():
            return Path(d)
    raise MusicToolError("mma's groove library is missing: install the Debian package 'mma'")


_DEFGROOVE = re.compile(r"^\s*DefGroove\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_TIME = re.compile(r"^\s*Time\s+(\d+)", re.IGNORECASE | re.MULTILINE)
_TIMESIG = re.compile(r"^\s*TimeSig\s+(\d+)\s*/?\s*(\d+)", re.IGNORECASE | re.MULTILINE)


@lru_cache(maxsize=4)
def discover_grooves(lib: str | None = None) -> tuple[GrooveStyle, ...]:
    """Parse the installed library (``*.mma`` files' ``Time`` and ``DefGroove`` lines).

    Files in 3/4 or 4/4 (``Time 3`` / ``Time 4`` with no contrary ``TimeSig``) are kept;
    grooves named ``*Intro*`` / ``*End*`` serve intros and endings, ``*Fill*`` / ``*Break*``
    are skipped, the rest play verses, choruses and bridges.
    """
    root = Path(lib) if lib else library_dir()
    styles = []
    for path in sorted(root.glob("*.mma")):
        if path.stem.lower() in EXCLUDED_STYLES:
            continue
        text = path.read_text(errors="replace")
        times = _TIME.findall(text)
        if not times or int(times[0]) not in METERS:
            continue
        bpb = int(times[0])
        sig = _TIMESIG.search(text)
        if sig and (int(sig.group(1)) != bpb or int(sig.group(2)) != 4):
            continue
        names = list(dict.fromkeys(_DEFGROOVE.findall(text)))
        main = tuple(n for n in names if not re.search(r"intro|end|fill|break", n, re.IGNORECASE))
        intros = tuple(n for n in names if re.search(r"intro", n, re.IGNORECASE))
        endings = tuple(n for n in names if re.search(r"end", n, re.IGNORECASE))
        if main:
            styles.append(GrooveStyle(path.stem, bpb, main, intros, endings))
    if not styles:
        raise MusicToolError(f"no usable grooves found in {root}")
    return tuple(styles)


def find_soundfont(preferred: str | None = None) -> Path:
    """A General MIDI soundfont: ``preferred`` (a path or a file name), $MOTIONBEAT_SOUNDFONT,
    else the first of :data:`SOUNDFONTS` installed."""
    wanted = [preferred] if preferred else []
    if os.environ.get(SOUNDFONT_ENV):
        wanted.append(os.environ[SOUNDFONT_ENV])
    wanted += list(SOUNDFONTS)
    for name in wanted:
        p = Path(name)
        if p.is_file():
            return p
        for d in SOUNDFONT_DIRS:
            if (Path(d) / name).is_file():
                return Path(d) / name
    raise MusicToolError(
        "no General MIDI soundfont: install 'fluid-soundfont-gm' or 'timgm6mb-soundfont'"
    )


def check_tools() -> None:
    """Raise :class:`MusicToolError` unless mma and fluidsynth are on PATH."""
    for tool, package in (("mma", "mma"), ("fluidsynth", "fluidsynth")):
        if shutil.which(tool) is None:
            raise MusicToolError(f"'{tool}' is not installed: apt-get install {package}")
