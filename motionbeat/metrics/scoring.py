"""Score dances against their songs: the protocol around the pure metric functions.

The metrics themselves (``motionbeat.metrics``) are pure functions on arrays; this module fixes
how a whole dance file is cut and converted before they are called, so every table in the
project uses one protocol:

* **PFC** (EDGE): the motion is resampled to :data:`contract.FPS` and cut into consecutive
  :data:`contract.WINDOW_SECONDS` clips (EDGE's 5 s at 30 fps; a dance shorter than one clip
  is one clip); the score is the mean over clips. PFC grows with clip length and depends on
  fps, so both are fixed here and reported.
* **BAS** (Bailando, averaged over music beats) and **BAS_motion** (FACT, averaged over motion
  beats) on the whole dance at its own frame rate, sigma and smoothing in seconds. Music
  beats are the song's beats from ``audio.analyse_rhythm`` inside the span the dance covers,
  shifted by the dance's start offset in the song.
* **FID_k / FID_g / Div_k / Div_g** on the AIST++ features, every motion at 60 fps, y-up,
  against a reference pool of motions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from motionbeat import metrics
from motionbeat.audio import Rhythm
from motionbeat.core import contract
from motionbeat.core.motion import Motion

MIN_FPS: float = 10.0
"""Slowest frame rate accepted: below it foot speeds and beats are meaningless."""
MAX_FPS: float = 240.0
"""Fastest frame rate accepted (motion capture rarely exceeds 240 Hz)."""
END_TOLERANCE_S: float = 0.1
"""How far a dance may run past the end of its song (decoder padding, rounding)."""


class ScoringError(ValueError):
    """The dances and songs given cannot be scored together (lengths, fps, missing song)."""


@dataclass(frozen=True)
class DanceScore:
    """Scores of one dance."""

    name: str
    duration_s: float
    fps: float
    pfc: float
    pfc_clips: int
    bas: float
    bas_motion: float
    n_music_beats: int
    n_motion_beats: int

    def as_dict(self) -> dict:
        return asdict(self)


def check_motion_fits_song(motion: Motion, song_duration: float, name: str = "motion") -> None:
    """Raise :class:`ScoringError` unless the dance's fps is sane and it lies inside its song."""
    if not MIN_FPS <= motion.fps <= MAX_FPS:
        raise ScoringError(f"{name}: {motion.fps:g} fps is outside the supported {MIN_FPS:g}-{MAX_FPS:g}")
    if motion.start_offset < 0:
        raise ScoringError(f"{name}: negative start offset {motion.start_offset:g} s")
    end = motion.start_offset + motion.duration
    if end > song_duration + END_TOLERANCE_S:
        raise ScoringError(
            f"{name}: the dance runs to {end:.2f} s but the song lasts {song_duration:.2f} s "
            f"(wrong song, or wrong fps: this motion is read at {motion.fps:g} fps)"
        )


def pfc_windowed(motion: Motion) -> tuple[float, int]:
    """EDGE-protocol PFC: mean over consecutive 5 s clips at 30 fps. Returns (pfc, clips).

    A dance shorter than one clip is scored whole; a tail shorter than one clip is dropped.
    """
    joints = motion.resampled(contract.FPS).joints()  # (T, 24, 3), y-up
    if joints.shape[0] < 3:  # PFC needs two accelerations' worth of frames
        return math.nan, 0
    window = contract.WINDOW_FRAMES
    num_clips = max(1, joints.shape[0] // window)
    clips = [joints[i * window:(i + 1) * window] for i in range(num_clips)]  # each (<=W, 24, 3)
    return metrics.pfc_batch(clips, contract.FPS), len(clips)


def music_beats_in_motion(motion: Motion, rhythm: Rhythm) -> np.ndarray:
    """(K,) song beats that fall inside the dance, in seconds from the dance's first frame."""
    beats = np.asarray(rhythm.beat_times, dtype=np.float64) - motion.start_offset
    return beats[(beats >= 0) & (beats < motion.duration)]


def score_dance(motion: Motion, rhythm: Rhythm, name: str = "motion") -> DanceScore:
    """PFC and BAS in both directions of one dance against the rhythm of its song."""
    check_motion_fits_song(motion, rhythm.duration, name)
    pfc, clips = pfc_windowed(motion)
    beat = metrics.beat_alignment(motion.joints(), motion.fps, music_beats_in_motion(motion, rhythm))
    return DanceScore(
        name=name,
        duration_s=motion.duration,
        fps=motion.fps,
        pfc=pfc,
        pfc_clips=clips,
        bas=beat["bas"],
        bas_motion=beat["bas_motion"],
        n_music_beats=beat["n_music_beats"],
        n_motion_beats=beat["n_motion_beats"],
    )


def distribution_scores(motions: Sequence[Motion], reference: Sequence[Motion]) -> dict[str, float]:
    """FID_k, FID_g, Div_k, Div_g of a set of dances against a reference pool (AIST++ features)."""
    if len(motions) < 2 or len(reference) < 2:
        raise ScoringError(
            f"FID needs at least 2 dances and 2 reference motions (got {len(motions)} and {len(reference)})"
        )
    gen = [m.resampled(contract.AISTPP_FPS).joints() for m in motions]
    ref = [m.resampled(contract.AISTPP_FPS).joints() for m in reference]
    return metrics.fid_div_scores(gen, ref, contract.AISTPP_FPS)


def mean_scores(scores: Sequence[DanceScore]) -> dict[str, float]:
    """Mean of each per-dance score, ignoring NaN (a clip with no music beat has no BAS)."""
    out = {}
    for key in ("pfc", "bas", "bas_motion"):
        values = np.array([getattr(s, key) for s in scores], dtype=np.float64)
        out[key] = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
    return out


PROTOCOL: dict[str, object] = {
    "pfc": f"EDGE, mean over consecutive {contract.WINDOW_SECONDS:g} s clips at {contract.FPS} fps, x10000",
    "bas": "Bailando direction (mean over music beats), sigma 0.05 s, envelope smoothing 0.083 s",
    "bas_motion": "FACT direction (mean over motion beats), sigma 0.05 s, minima order 0.167 s",
    "fid": f"AIST++ kinetic (72) and geometric (32) features at {contract.AISTPP_FPS} fps, "
    "z-normalised by the reference pool; acceleration quirk kept",
    "music_beats": "motionbeat.audio.analyse_rhythm (librosa beat tracker on the percussive onset envelope)",
}
