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
* **BEC, BEC_lag, BEC_any, R** (:mod:`motionbeat.metrics.alignment`): the beat envelope
  correlation of the motion pulse with the song's beat phase (lag 0, the best lag within
  0.1 s, the best constant phase offset) and the beat-phase locking of the motion beats, on the
  same beats as BAS.
* **Own vs other songs** (:func:`own_other_scores`): every dance scored with its own song and
  with every other song given (same start offset when the other song is long enough, else
  from its start; the dance cut to the other song's length when that is shorter), and the
  gap own - other with a bootstrap interval over songs. Only a measure with a gap > 0 sees
  the song; BAS alone does not show alignment (issue #16).
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
from motionbeat.metrics.turns import max_turn

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
    bec: float = math.nan
    bec_lag: float = math.nan
    bec_any: float = math.nan
    phase_r: float = math.nan
    max_turn: float = math.nan

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
    """PFC, BAS in both directions, BEC and beat-phase locking of one dance against its song."""
    check_motion_fits_song(motion, rhythm.duration, name)
    pfc, clips = pfc_windowed(motion)
    mr = metrics.motion_rhythm(motion.joints(), motion.fps)
    beats = np.asarray(rhythm.beat_times, dtype=np.float64) - motion.start_offset  # (K,)
    pair = metrics.pair_scores(mr, beats)
    n_music = metrics.clip_beats_to_motion(music_beats_in_motion(motion, rhythm), mr.num_frames, mr.fps).size
    return DanceScore(
        name=name,
        duration_s=motion.duration,
        fps=motion.fps,
        pfc=pfc,
        pfc_clips=clips,
        bas=pair["bas"],
        bas_motion=pair["bas_motion"],
        n_music_beats=int(n_music),
        n_motion_beats=int(mr.beats.size),
        bec=pair["bec"],
        bec_lag=pair["bec_lag"],
        bec_any=pair["bec_any"],
        phase_r=pair["phase_r"],
        max_turn=max_turn(motion.poses, motion.fps),
    )


def song_window(motion: Motion, song_duration: float) -> tuple[float, float]:
    """(offset, span) seconds of a song a dance is scored against: the dance's own start offset
    when the song is long enough, else the song's start; the span is the dance's length, cut
    to what the song has from the offset."""
    offset = motion.start_offset
    if offset + motion.duration > song_duration + END_TOLERANCE_S:
        offset = 0.0
    return offset, max(0.0, min(motion.duration, song_duration - offset))


def own_other_scores(
    motions: Sequence[Motion], rhythms: Sequence[Rhythm], own: Sequence[int], *, seed: int = 0,
    resamples: int = metrics.BOOTSTRAP_RESAMPLES,
) -> dict:
    """Every dance against every song; per measure the own / other summary (module doc).

    Args:
        motions: D dances. rhythms: S songs (S >= 2 for an "other"). own: (D,) each dance's
            song as an index into ``rhythms``.
    Returns ``{"measures": {measure: own_other dict}, "per_dance": {measure: {"own": [D],
    "other": [D]}}}`` for every measure of :data:`motionbeat.metrics.MEASURES`.
    """
    own = np.asarray(own, dtype=np.int64).reshape(-1)
    if own.shape != (len(motions),) or (own.size and (own.min() < 0 or own.max() >= len(rhythms))):
        raise ScoringError(f"own must give each of the {len(motions)} dances a song among {len(rhythms)}")
    dances = [metrics.motion_rhythm(m.joints(), m.fps) for m in motions]
    matrices = {k: np.full((len(motions), len(rhythms)), np.nan) for k in metrics.MEASURES}
    for d, (motion, mr) in enumerate(zip(motions, dances, strict=True)):
        for s, rhythm in enumerate(rhythms):
            offset, span = song_window(motion, rhythm.duration)
            beats = np.asarray(rhythm.beat_times, dtype=np.float64) - offset  # (K,)
            cut = None if span >= motion.duration - 0.5 / motion.fps else span
            for k, v in metrics.pair_scores(mr, beats, cut).items():
                matrices[k][d, s] = v
    out: dict = {"measures": {}, "per_dance": {}}
    for k, x in matrices.items():
        out["measures"][k] = metrics.own_other(x, own, resamples=resamples, seed=seed)
        mine, other = metrics.own_other_per_dance(x, own)
        out["per_dance"][k] = {"own": mine.tolist(), "other": other.tolist()}
    return out


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
    for key in ("pfc", "bas", "bas_motion", "bec", "bec_lag", "bec_any", "phase_r"):
        values = np.array([getattr(s, key) for s in scores], dtype=np.float64)
        out[key] = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
    return out


PROTOCOL: dict[str, object] = {
    "pfc": f"EDGE, mean over consecutive {contract.WINDOW_SECONDS:g} s clips at {contract.FPS} fps, x10000",
    "bas": "Bailando direction (mean over music beats), sigma 0.05 s, envelope smoothing 0.083 s",
    "bas_motion": "FACT direction (mean over motion beats), sigma 0.05 s, minima order 0.167 s",
    "fid": f"AIST++ kinetic (72) and geometric (32) features at {contract.AISTPP_FPS} fps, "
    "z-normalised by the reference pool; acceleration quirk kept",
    "bec": "motion pulse (minus Bailando's smoothed envelope) vs cos(2 pi beat phase), Pearson at lag 0; "
    "BEC_lag: best lag within 0.1 s; BEC_any: best constant phase offset (multiple correlation on cos, sin)",
    "phase_r": "resultant length of the music's beat phase at the Bailando motion beats",
    "max_turn": "largest root turn between two frames, degrees per 1/30 s (motionbeat.metrics.turns)",
    "own_other": f"each dance against every other song given, gap = own - other, "
    f"{metrics.BOOTSTRAP_RESAMPLES} bootstrap resamples of the songs, 95 % percentile interval",
    "music_beats": "motionbeat.audio.analyse_rhythm (librosa beat tracker on the percussive onset envelope)",
}
