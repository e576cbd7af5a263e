"""The held-out songs of an evaluation and the train-split pool of dances.

**Songs.** The songs of one split (``test`` by default) of a corpus built by
``motionbeat.choreography.build`` (``--max-songs N``: N of them, evenly spread over the split sorted by
song id, so both sources stay in). Every song is scored on the same span, its first S seconds
(``--seconds``, default 30; the whole song when it is shorter), so every row covers the same
music and rows are comparable.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.core.motion import Motion
from motionbeat.datasets.manifest import load_manifest

DEFAULT_SECONDS: float = 30.0
"""Seconds of every held-out song that are scored (from its start)."""
POOL_SPLIT: str = "train"
"""Split the random clips (and the default FID reference pool) come from."""


Log = Callable[[str], None]


class EvaluationError(ValueError):
    """The corpus cannot be evaluated as asked (no such split, no other songs for random clips)."""


@dataclass(frozen=True, eq=False)
class HeldOutSong:
    """A held-out song: its audio file, the scoring rhythm, the scored span and its ground truth.

    ``num_frames`` = min(round(S * FPS), frames of the song) at :data:`contract.FPS`; every dance
    of every row is cut to at most this many frames from the song's start.
    """

    song_id: str
    source: str
    audio_path: Path
    rhythm: au.Rhythm  # analyse_rhythm of the whole song
    num_frames: int
    dances: tuple[Motion, ...]  # ground truth, cut to the span

    @property
    def span_s(self) -> float:
        return self.num_frames / contract.FPS


@dataclass(frozen=True)
class PoolDance:
    """A dance of the train split, as the manifest describes it (its frames are read on demand)."""

    song_id: str
    dance_id: str
    shard: Path
    index: int  # row of the dance in its shard
    frames: int
    fps: float


def spread(items: Sequence, count: int | None) -> list:
    """``count`` items evenly spread over ``items`` (indices round(linspace(0, n - 1, count)))."""
    items = list(items)
    if count is None or count >= len(items):
        return items
    if count < 1:
        raise EvaluationError(f"--max-songs must be at least 1, got {count}")
    idx = np.unique(np.round(np.linspace(0, len(items) - 1, count)).astype(int))
    return [items[i] for i in idx]


def _shard_dances(corpus: Path, rec: dict) -> tuple[np.ndarray, np.ndarray, float]:
    """(D, T, 24, 3) poses, (D, T, 3) trans and fps of a song record's shard."""
    with np.load(corpus / rec["shard"], allow_pickle=False) as z:
        return z["poses"], z["trans"], float(z["fps"])


def cut_motion(motion: Motion, frames: int) -> Motion:
    """The first ``frames`` frames (at :data:`contract.FPS` seconds) of a motion, offset 0."""
    return replace(motion.sliced(0.0, frames / contract.FPS), start_offset=0.0)


def load_held_out(
    corpus: str | os.PathLike,
    split: str = "test",
    seconds: float = DEFAULT_SECONDS,
    max_songs: int | None = None,
    log: Log | None = None,
) -> list[HeldOutSong]:
    """The songs of ``split`` with their scoring rhythm and their ground truth cut to the span."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise EvaluationError(f"--seconds must be positive, got {seconds}")
    corpus = Path(corpus)
    records = sorted(
        (r for r in load_manifest(corpus)["songs"] if r["split"] == split), key=lambda r: r["song_id"]
    )
    if not records:
        raise EvaluationError(f"{corpus}: no songs in the {split!r} split")
    songs = []
    for rec in spread(records, max_songs):
        path = corpus / rec["audio"]
        audio = au.load_audio(path)
        frames = min(round(seconds * contract.FPS), au.num_frames(audio))
        poses, trans, fps = _shard_dances(corpus, rec)
        dances = tuple(
            cut_motion(Motion(poses[i], trans[i], fps, source_song=str(path),
                        meta={"dance_id": d["dance_id"], "song_id": rec["song_id"]}), frames)
            for i, d in enumerate(rec["dances"])
        )
        songs.append(HeldOutSong(rec["song_id"], rec.get("source", ""), path, au.analyse_rhythm(audio),
                                 frames, dances))
        if log:
            log(f"song {rec['song_id']}: {frames / contract.FPS:.1f} s, {len(dances)} dance(s)")
    return songs


def train_pool(corpus: str | os.PathLike, split: str = POOL_SPLIT) -> list[PoolDance]:
    """Every dance of ``split`` (frame counts from the manifest, else from the shard)."""
    corpus = Path(corpus)
    manifest = load_manifest(corpus)
    pool = []
    for rec in manifest["songs"]:
        if rec["split"] != split:
            continue
        fps = float(manifest.get("fps", contract.FPS))
        if any("frames" not in d for d in rec["dances"]):
            poses, _, fps = _shard_dances(corpus, rec)
            counts = [poses.shape[1]] * len(rec["dances"])
        else:
            counts = [int(d["frames"]) for d in rec["dances"]]
        pool += [PoolDance(rec["song_id"], d["dance_id"], corpus / rec["shard"], i, n, fps)
                 for i, (d, n) in enumerate(zip(rec["dances"], counts, strict=True))]
    return pool


def dances_per_song(songs: Sequence[HeldOutSong], samples: int | None) -> list[int]:
    """Dances each row makes per song: the song's ground-truth count (at least 1), or ``samples``."""
    if samples is not None and samples < 1:
        raise EvaluationError(f"--samples must be at least 1, got {samples}")
    return [samples if samples is not None else max(1, len(s.dances)) for s in songs]
