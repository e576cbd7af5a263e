"""Any dance dataset as a corpus: the ``motionbeat.choreography.build`` layout, written once.

Every trainer and evaluator of the project reads a corpus (``manifest.json`` + one shard
``.npz`` per song, :mod:`motionbeat.datasets.manifest`). A dataset loader (FineDance, BVH
folders, positions-only captures, AIST++) lists its dances as :class:`DanceItem` values;
:func:`materialise` converts them once into a corpus folder under the dataset
(``<root>/cache/corpus-<name>-<key>/``), so ``--dataset X --corpus ROOT`` trains and scores
exactly as our own corpus does. The key hashes the loader version, every input file's name,
size and modification time and the loader's options: a changed dataset is converted again,
never silently reused. The folder is built beside its final name and renamed into place.

Per song (dances sharing a ``song_id``, e.g. AIST++ dancers of one music piece):

* the shard holds the dances at :data:`contract.FPS`, cut to the shortest (no padded frames);
* the beats are ``motionbeat.audio.analyse_rhythm`` of the song audio (``beats_exact`` false:
  real recordings have no beat annotation), as :func:`songs.load_aistpp_songs` does;
* the genre label is the dataset's own (``""`` when it has none);
* a *clip* item (a protocol's scoring clip, e.g. Lodge's 1024 frames) gets its own audio: the
  song cut to the clip's span, written as ``audio/<song_id>.wav`` inside the corpus folder.

Folder helpers shared by the loaders: :func:`audio_beside` (the music of a dance file),
:func:`assign_splits` (deterministic splits when a dataset has none), ``splits.json`` and
``genres.json`` overrides.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.core.motion import Motion
from motionbeat.datasets.manifest import MANIFEST

log = logging.getLogger(__name__)

VIEW_FORMAT: int = 1
"""Version of the conversion; part of every key."""
AUDIO_SUFFIXES: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3", ".m4a")
"""Music files looked for beside a dance file, in this order."""
MUSIC_DIRS: tuple[str, ...] = ("music", "music_wav", "audio")
"""Sub-folders of a dataset root also searched for the music of a dance."""
SPLITS_FILE: str = "splits.json"
"""``{"train": [...], "val": [...], "test": [...]}`` of dance ids, overriding the default split."""
GENRES_FILE: str = "genres.json"
"""``{dance id: genre}``, the genre labels of a dataset that has none of its own."""
HELD_OUT_FRACTION: float = 0.1
"""Fraction of the dances that :func:`assign_splits` puts in val, and again in test."""
SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")
CACHE_DIRS: tuple[str, ...] = ("cache",)
"""Sub-folders of a dataset root that hold derived files, never inputs."""


@dataclass(frozen=True)
class DanceItem:
    """One dance of a dataset, ready to load.

    ``load()`` returns the dance at :data:`contract.FPS`, metres, y-up, floor at 0. ``clip``
    is ``(first frame, frames)`` for a scoring clip: the motion is cut to it and the song's
    audio too. Items sharing ``song_id`` become one song with several dances.
    """

    dance_id: str
    song_id: str
    split: str
    genre: str
    audio_path: Path
    load: Callable[[], Motion]
    clip: tuple[int, int] | None = None


class DatasetError(ValueError):
    """A dataset folder is not in the expected layout, or holds nothing usable."""


# ----------------------------------------------------------------------------- folder helpers
def audio_beside(path: Path, root: Path) -> Path | None:
    """The music of a dance file: ``<stem><suffix>`` beside it, else in ``root``'s music dirs."""
    folders = [path.parent, *(root / d for d in MUSIC_DIRS)]
    for folder in folders:
        for suffix in AUDIO_SUFFIXES:
            candidate = folder / f"{path.stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def assign_splits(ids: Sequence[str], root: Path | None = None) -> dict[str, str]:
    """{id: split}: ``root/splits.json`` when present, else a deterministic spread.

    Without the file, the ids are sorted and ``round(n * HELD_OUT_FRACTION)`` of them (at least
    one each once there are 3) at evenly spread positions go to test, as many more to val.
    """
    file = root / SPLITS_FILE if root is not None else None
    if file is not None and file.is_file():
        data = json.loads(file.read_text())
        out = {str(i): split for split in SPLIT_NAMES for i in data.get(split, [])}
        missing = sorted(set(ids) - set(out))
        if missing:
            log.warning("%s: %d dances in no split (%s...) go to train", file, len(missing), missing[:3])
        return {i: out.get(i, "train") for i in ids}
    ordered = sorted(ids)
    n = len(ordered)
    held = max(1, round(n * HELD_OUT_FRACTION)) if n >= 3 else 0
    out = dict.fromkeys(ordered, "train")
    if held:
        picks = np.unique(np.round(np.linspace(0, n - 1, 2 * held)).astype(int))
        for rank, idx in enumerate(picks):
            out[ordered[idx]] = "test" if rank % 2 else "val"
    return out


def read_genres(root: Path) -> dict[str, str]:
    """``root/genres.json`` ({dance id: genre}) or {}."""
    file = root / GENRES_FILE
    return {str(k): str(v) for k, v in json.loads(file.read_text()).items()} if file.is_file() else {}


def input_key(name: str, files: Iterable[Path], root: Path, extra: object = None) -> str:
    """Hash of the loader, its options and every input file's name, size and mtime."""
    stats = []
    for f in sorted(set(files)):
        st = f.stat()
        rel = f.relative_to(root) if f.is_relative_to(root) else f
        stats.append([str(rel), st.st_size, st.st_mtime_ns])
    payload = {"name": name, "format": VIEW_FORMAT, "fps": contract.FPS, "files": stats, "extra": extra}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:12]


# ------------------------------------------------------------------------------- conversion
def _write_clip_audio(item: DanceItem, out: Path, rel: str) -> float:
    """Cut the item's song to its clip span into ``out / rel`` (wav); returns the seconds."""
    import soundfile as sf

    from motionbeat.audio.decode import load_audio

    first, frames = item.clip  # type: ignore[misc]
    audio = load_audio(item.audio_path)
    a = int(round(first / contract.FPS * audio.sr))
    b = int(round((first + frames) / contract.FPS * audio.sr))
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    sf.write(out / rel, audio.samples[a:b], audio.sr)
    return (b - a) / audio.sr


def _song_record(name: str, song_id: str, items: list[DanceItem], out: Path) -> dict:
    from motionbeat.audio.decode import load_audio
    from motionbeat.audio.rhythm import analyse_rhythm

    motions = []
    for item in items:
        m = item.load()
        if item.clip is not None:
            first, frames = item.clip
            m = Motion(m.poses[first:first + frames], m.trans[first:first + frames], m.fps)
        motions.append(m)
    frames = min(m.num_frames for m in motions)
    shard = f"shards/{song_id}.npz"
    (out / "shards").mkdir(parents=True, exist_ok=True)
    with atomic_path(out / shard) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, poses=np.stack([m.poses[:frames] for m in motions]),  # (D, T, 24, 3)
                 trans=np.stack([m.trans[:frames] for m in motions]),  # (D, T, 3)
                 fps=np.float64(contract.FPS), dance_ids=np.array([i.dance_id for i in items]),
                 format_version=np.int64(1))
    audio_path, audio_field = items[0].audio_path, str(items[0].audio_path.resolve())
    if items[0].clip is not None:  # its own cut of the song, inside the corpus folder
        audio_field = f"audio/{song_id}.wav"
        _write_clip_audio(items[0], out, audio_field)
        audio_path = out / audio_field
    audio = load_audio(audio_path)
    rhythm = analyse_rhythm(audio)
    return {
        "song_id": song_id, "source": name,
        "genre": items[0].genre, "groove": {}, "beats_exact": False,
        "tempo_bpm": float(rhythm.tempo_bpm),
        "beat_times": [round(float(b), 6) for b in rhythm.beat_times],
        "downbeat_times": [round(float(b), 6) for b in rhythm.downbeat_times],
        "beats_per_bar": int(rhythm.beats_per_bar), "duration": float(audio.duration),
        "split": items[0].split, "audio": audio_field, "shard": shard,
        "clip": list(items[0].clip) if items[0].clip else None,
        "dances": [{"dance_id": i.dance_id, "frames": frames} for i in items],
    }


def materialise(
    name: str,
    items: Sequence[DanceItem],
    out: Path,
    *,
    notes: dict | None = None,
    progress: bool = False,
) -> Path:
    """Write ``items`` as a corpus folder ``out`` (module docstring) unless it exists; returns it."""
    from tqdm import tqdm

    if (out / MANIFEST).is_file():
        return out
    if not items:
        raise DatasetError(f"{name}: no dances with music to convert")
    by_song: dict[str, list[DanceItem]] = {}
    for item in items:
        by_song.setdefault(item.song_id, []).append(item)
    building = out.with_name(f"{out.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    songs = []
    bar = tqdm(sorted(by_song.items()), desc=f"{name} -> corpus", unit="song",
               disable=not progress, file=sys.stderr)
    for song_id, group in bar:
        songs.append(_song_record(name, song_id, group, building))
    manifest = {
        "format_version": 1, "fps": contract.FPS, "dataset": name, "num_songs": len(songs),
        "num_dances": sum(len(s["dances"]) for s in songs), "sources": [name],
        "splits": {k: sum(s["split"] == k for s in songs) for k in SPLIT_NAMES}, "songs": songs,
        "notes": notes or {},
    }
    with atomic_path(building / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1))
    try:
        building.rename(out)
    except OSError:  # another process finished first
        shutil.rmtree(building, ignore_errors=True)
        if not (out / MANIFEST).is_file():
            raise
    return out
