"""Scoring an evaluation's rows: per-dance PFC and BAS, and FID / Div against a reference pool.

**Metrics** (:mod:`motionbeat.metrics.scoring`, the protocol of every table in the project; the
``protocol`` entry of the JSON spells it out):

* PFC, BAS, BAS_motion per dance with :func:`motionbeat.metrics.scoring.score_dance` against the song's
  rhythm from ``motionbeat.audio.analyse_rhythm`` on the song audio (not the corpus' exact
  beats), so every row is scored on the same music beats; the row value is the mean over its
  dances (:func:`motionbeat.metrics.scoring.mean_scores`); the same for BEC, BEC_lag and the
  beat-phase locking R (:mod:`motionbeat.metrics.alignment`).
* Own vs other songs (:func:`motionbeat.metrics.scoring.own_other_scores`): every dance of the
  row is also scored against every OTHER held-out song of the run (same span, same beats
  analysis), and each measure's gap own - other with a bootstrap 95 % interval over songs
  goes into the summary (``<measure>_own``, ``_other``, ``_gap``, ``_gap_lo``, ``_gap_hi``).
  A measure sees the song only where the gap is > 0; for random clips of other songs it should
  be ~0 by construction.
* Fastest turn: the row's largest root turn between two frames in degrees per 1/30 s
  (:func:`motionbeat.metrics.turns.max_turn`), beside the reference pool's (whole dances) so a
  turn faster than any in the data shows.
* FID_k, FID_g, Div_k, Div_g on the AIST++ kinetic (72) and geometric (32) features of each
  dance at 60 fps (:func:`motionbeat.metrics.motion_features`, the preprocessing of
  :func:`motionbeat.metrics.scoring.distribution_scores`: resample to 60 fps, y-up, first root at the
  origin), against a reference pool. FID = |mu_g - mu_r|^2 + tr(S_g) + tr(S_r)
  - 2 tr((S_g S_r)^1/2) of Gaussians fitted to features z-scored with the pool's statistics;
  Div = mean pairwise Euclidean distance of the row's normalised features
  (:func:`motionbeat.metrics.fid_div_from_features`; Bailando ``utils/metrics_new.py``).

**Reference pool** (``--reference``): ``train`` (default) = every dance of the train split, cut
to the same first S seconds. ``shared/reference/metrics.md`` notes that the field (Bailando's
code) pools the whole AIST++ dataset rather than the test split; the train split is the part of
our corpus disjoint from the held-out songs, large enough for 72-d covariances (a test split of
tens of dances is not), and it gives the ground-truth row a meaningful FID (the train / test
shift: the floor a generator can reach), as the field's tables show for their ground truth.
``test`` = the held-out ground-truth dances themselves (the ground-truth row's FID is then 0 by
construction). The random clips come from the train split, so against the train pool their FID
is that of real, unaligned dancing: a floor for motion quality, while their BAS is the number
that matters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator.evaluate.songs import POOL_SPLIT, EvaluationError, HeldOutSong, PoolDance, cut_motion
from motionbeat import metrics
from motionbeat.core import contract
from motionbeat.core.motion import Motion
from motionbeat.metrics.scoring import DanceScore, mean_scores, own_other_scores, score_dance
from motionbeat.metrics.turns import max_turn

REFERENCES: tuple[str, ...] = ("train", "test")
"""``--reference`` choices: the train-split dances, or the held-out ground truth."""


def motion_features(motions: Sequence[Motion]) -> tuple[np.ndarray, np.ndarray]:
    """Kinetic (N, 72) and geometric (N, 32) AIST++ features, as
    :func:`motionbeat.metrics.scoring.distribution_scores` computes them (60 fps, y-up)."""
    joints = [m.resampled(contract.AISTPP_FPS).joints() for m in motions]  # each (T', 24, 3)
    return metrics.motion_features(joints, contract.AISTPP_FPS)


@dataclass
class Row:
    """One row of the table: its dances per song, their scores, and the distribution metrics."""

    label: str
    kind: str  # "ground_truth" | "generator" | "choreographer" | "random"
    dances: list[list[Motion]]  # per song
    wall_s: float = 0.0
    checkpoint: str | None = None
    sampling: dict | None = None  # a generator's sampler, steps and guidance
    scores: list[DanceScore] = field(default_factory=list)
    summary: dict[str, float] = field(default_factory=dict)
    own_other: dict = field(default_factory=dict)  # motionbeat.metrics.scoring.own_other_scores


OWN_OTHER_KEYS: tuple[str, ...] = ("own", "other", "gap", "gap_lo", "gap_hi")
"""What the summary holds of each measure's own/other comparison, as ``<measure>_<key>``."""


def own_other_row(row: Row, songs: Sequence[HeldOutSong], seed: int = 0) -> dict:
    """Every dance of the row against every held-out song (:func:`own_other_scores`); {} when
    there are fewer than 2 songs (no other song to compare with)."""
    if len(songs) < 2:
        return {}
    flat = [m for motions in row.dances for m in motions]
    own = [i for i, motions in enumerate(row.dances) for _ in motions]
    return own_other_scores(flat, [s.rhythm for s in songs], own, seed=seed)


def score_row(row: Row, songs: Sequence[HeldOutSong], ref_kinetic: np.ndarray | None,
              ref_geometric: np.ndarray | None, seed: int = 0) -> Row:
    """Fill ``row.scores`` (one per dance), ``row.own_other`` and ``row.summary`` (means,
    own/other gaps, FID, Div, counts). No reference features (None): FID / Div are NaN."""
    row.scores = [
        score_dance(m, song.rhythm, name=f"{song.song_id}#{k}")
        for song, motions in zip(songs, row.dances, strict=True)
        for k, m in enumerate(motions)
    ]
    flat = [m for motions in row.dances for m in motions]
    summary: dict[str, float] = dict(mean_scores(row.scores))
    summary.update({f"{k}{v}": math.nan for k in ("fid_k", "fid_g", "div_k", "div_g")
                    for v in ("", "_varying")})
    row.own_other = own_other_row(row, songs, seed)
    for measure in metrics.MEASURES:
        found = row.own_other.get("measures", {}).get(measure, {})
        summary.update({f"{measure}_{k}": found.get(k, math.nan) for k in OWN_OTHER_KEYS})
    if len(flat) >= 2 and ref_kinetic is not None and ref_geometric is not None and len(ref_kinetic) >= 2:
        kin, geo = motion_features(flat)
        found = metrics.fid_div_from_features(kin, geo, ref_kinetic, ref_geometric)
        summary.update({k: found[k] for k in ("fid_k", "fid_g", "div_k", "div_g")})
        # the same on the channels the pool varies on (see varying_features)
        vk, vg = varying_features(ref_kinetic), varying_features(ref_geometric)
        found = metrics.fid_div_from_features(kin[:, vk], geo[:, vg], ref_kinetic[:, vk],
                                              ref_geometric[:, vg])
        summary.update({f"{k}_varying": found[k] for k in ("fid_k", "fid_g", "div_k", "div_g")})
    summary["max_turn"] = max((s.max_turn for s in row.scores), default=math.nan)
    summary["n_dances"] = len(flat)
    row.summary = summary
    return row


def reference_features(
    reference: str, songs: Sequence[HeldOutSong], pool: Sequence[PoolDance], seconds: float
) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Kinetic and geometric features of the reference pool, its size, and the fastest turn of
    its whole dances in degrees per frame (module docstring)."""
    if reference == "test":
        motions = [m for s in songs for m in s.dances]
        kin, geo = motion_features(motions)
        return kin, geo, len(motions), max(max_turn(m.poses, m.fps) for m in motions)
    if reference != "train":
        raise EvaluationError(f"unknown reference pool {reference!r}; choose from {REFERENCES}")
    frames = round(seconds * contract.FPS)
    kin, geo = [], []
    fastest = 0.0
    by_shard: dict[Path, list[PoolDance]] = {}
    for d in pool:
        by_shard.setdefault(d.shard, []).append(d)
    for shard, dances in by_shard.items():  # one shard in memory at a time
        with np.load(shard, allow_pickle=False) as z:
            poses, trans, fps = z["poses"], z["trans"], float(z["fps"])
        whole = [Motion(poses[d.index, :d.frames], trans[d.index, :d.frames], fps) for d in dances]
        fastest = max([fastest, *(max_turn(m.poses, m.fps) for m in whole)])
        clips = [cut_motion(m, frames) for m in whole]
        k, g = motion_features(clips)
        kin.append(k)
        geo.append(g)
    if not kin:
        raise EvaluationError(f"no {POOL_SPLIT}-split dances for the reference pool")
    return np.concatenate(kin), np.concatenate(geo), sum(len(k) for k in kin), fastest


def constant_features(reference: np.ndarray) -> list[int]:
    """Feature channels on which the (M, D) reference pool does not vary (population std 0).

    The z-scoring divides by std + 1e-10 (Bailando), so a dance that differs from the pool on such
    a channel gets a z-score of order 1e10 there and FID / Div explode: the table says so.
    """
    return [int(i) for i in np.flatnonzero(np.asarray(reference, np.float64).std(axis=0) == 0.0)]


def varying_features(reference: np.ndarray) -> np.ndarray:
    """Indices of the channels on which the (M, D) reference pool varies (population std > 0).

    A deviation from the field's protocol, reported beside it, never instead of it: on a
    channel the pool never varies (the procedural corpus never triggers some of the geometric
    relations), Bailando's z-scoring divides by 1e-10 and any dance that differs there gets an
    FID near 1e20 that says nothing about the other channels. Dropping those channels keeps
    the comparison between rows readable.
    """
    return np.flatnonzero(np.asarray(reference, np.float64).std(axis=0) > 0.0)
