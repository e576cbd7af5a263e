"""Evaluate dance generators on held-out songs: one table of PFC, BAS, FID and Div with baselines.

    python -m generator.evaluate --corpus DIR \
        --generators checkpoints/generator checkpoints/generator-librosa \
        [--split test] [--max-songs N] [--seconds 30] [--seed 0] [--out docs/generator_eval.md]

One run writes one markdown table (and the same numbers, per dance too, as JSON beside it).

**Songs.** The songs of one split (``test`` by default) of a corpus built by
``motionbeat.choreography.build`` (``--max-songs N``: N of them, evenly spread over the split sorted by
song id, so both sources stay in). Every song is scored on the same span, its first S seconds
(``--seconds``, default 30; the whole song when it is shorter), so every row covers the same
music and rows are comparable.

**Rows.** Each row has, for every song, as many dances as the song has ground-truth dances in the
corpus (``--samples`` overrides), so all rows weigh the songs alike and FID sees the same sample
count everywhere; the k-th dance of a song uses seed ``seed + k``.

* *ground truth*: the corpus dances of the held-out songs, cut to the span.
* *generator (MotionBeat)* / *generator (librosa features)*: each ``--generators`` checkpoint
  (label from the conditioner its config names), through
  :meth:`generator.sampling.pipeline.DanceGenerator.generate_many` on the song audio with
  ``duration = S`` (the whole song is conditioned, the first S seconds sampled).
* *rule-based choreographer*: :func:`motionbeat.choreography.choreographer.choreograph` on the song
  audio with the scoring rhythm (below) and seed ``seed + k``, the whole song, cut to the span.
  The synthetic corpus' dances are made by this choreographer (with the songs' exact beats), so
  on such a corpus this row is the data's own generator, not a weak baseline.
* *random clips*: the field's "random" baseline. For each held-out song, dances of OTHER songs of
  the ``train`` split (never one of the same song id), drawn without replacement per song with
  ``numpy.random.default_rng(seed)``, each cut at a random frame to the span's length (among the
  dances at least that long) and laid on the held-out song from its first frame.

**Metrics** (:mod:`motionbeat.metrics.scoring`, the protocol of every table in the project; the
``protocol`` entry of the JSON spells it out):

* PFC, BAS, BAS_motion per dance with :func:`motionbeat.metrics.scoring.score_dance` against the song's
  rhythm from ``motionbeat.audio.analyse_rhythm`` on the song audio (not the corpus' exact
  beats), so every row is scored on the same music beats; the row value is the mean over its
  dances (:func:`motionbeat.metrics.scoring.mean_scores`).
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

import argparse
import json
import math
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from motionbeat import audio as au
from motionbeat import metrics
from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.core.motion import Motion
from motionbeat.datasets.manifest import load_manifest
from motionbeat.metrics.scoring import PROTOCOL, DanceScore, mean_scores, score_dance

DEFAULT_SECONDS: float = 30.0
"""Seconds of every held-out song that are scored (from its start)."""
DEFAULT_THREADS: int = 2
"""torch CPU threads (the target machine has 2 cores)."""
DEFAULT_BATCH_SONGS: int = 16
"""Songs per :meth:`DanceGenerator.generate_many` call (bounds memory on long splits)."""
POOL_SPLIT: str = "train"
"""Split the random clips (and the default FID reference pool) come from."""
REFERENCES: tuple[str, ...] = ("train", "test")
"""``--reference`` choices: the train-split dances, or the held-out ground truth."""
GROUND_TRUTH: str = "ground truth"
CHOREOGRAPHER: str = "rule-based choreographer"
RANDOM_CLIPS: str = "random clips (other songs, train split)"
CONDITIONER_LABELS: dict[str, str] = {
    "motionbeat": "generator (MotionBeat)",
    "librosa": "generator (librosa features)",
}
AISTPP_REFERENCE: dict[str, dict[str, float]] = {
    "pfc": {"ground truth": 1.332, "EDGE": 1.5363},
    "bas": {"ground truth": 0.2374, "EDGE": 0.26, "MotionBeat": 0.27, "Danceba": 0.2714},
}
"""AIST++ numbers for context, from ``shared/reference/metrics.md`` (PFC: EDGE protocol, 5 s clips
at 30 fps; BAS: Bailando protocol, music-beat direction). Other data, other music: context only."""
NA: str = "–"
LARGE: float = 1e6
"""Values at least this large are printed in scientific notation (an exploded FID / Div)."""

Log = Callable[[str], None]


class EvaluationError(ValueError):
    """The corpus cannot be evaluated as asked (no such split, no other songs for random clips)."""


# --------------------------------------------------------------------------------- songs


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


def _cut(motion: Motion, frames: int) -> Motion:
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
            _cut(Motion(poses[i], trans[i], fps, source_song=str(path),
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


# ---------------------------------------------------------------------------- baselines


def plan_random_clips(
    songs: Sequence[HeldOutSong], pool: Sequence[PoolDance], counts: Sequence[int], seed: int = 0
) -> list[list[tuple[PoolDance, int, int]]]:
    """Per song, ``counts[i]`` (dance, first frame, frames) picks of dances of OTHER songs.

    Picks are without replacement within a song, among the dances at least as long as the span
    (all other-song dances when none is); the first frame is uniform over the positions where
    the span fits. Deterministic in ``seed``.
    """
    rng = np.random.default_rng(seed)
    plans = []
    for song, count in zip(songs, counts, strict=True):
        others = [d for d in pool if d.song_id != song.song_id]
        if not others:
            raise EvaluationError(f"{song.song_id}: no dance of another {POOL_SPLIT} song for random clips")

        def need(d: PoolDance, song=song) -> int:
            return max(1, round(song.span_s * d.fps))

        long_enough = [d for d in others if d.frames >= need(d)]
        candidates = long_enough or others
        chosen = rng.choice(len(candidates), size=count, replace=count > len(candidates))
        picks = []
        for c in chosen:
            d = candidates[int(c)]
            frames = min(need(d), d.frames)
            picks.append((d, int(rng.integers(0, d.frames - frames + 1)), frames))
        plans.append(picks)
    return plans


def random_clips(
    songs: Sequence[HeldOutSong], pool: Sequence[PoolDance], counts: Sequence[int], seed: int = 0
) -> list[list[Motion]]:
    """The random-clip baseline (module docstring): per song, clips of other songs' dances laid on
    it from its first frame; ``meta`` names the dance, its song and the cut."""
    plans = plan_random_clips(songs, pool, counts, seed)
    shards: dict[Path, list[tuple[int, int, PoolDance, int, int]]] = {}
    for i, picks in enumerate(plans):
        for j, (d, first, frames) in enumerate(picks):
            shards.setdefault(d.shard, []).append((i, j, d, first, frames))
    out: list[list[Motion | None]] = [[None] * len(p) for p in plans]
    for shard, wanted in shards.items():
        with np.load(shard, allow_pickle=False) as z:
            poses, trans, fps = z["poses"], z["trans"], float(z["fps"])  # (D, T, 24, 3), (D, T, 3)
        for i, j, d, first, frames in wanted:
            clip = Motion(
                poses[d.index, first:first + frames], trans[d.index, first:first + frames], fps,
                source_song=str(songs[i].audio_path),
                meta={"random_clip_of": d.dance_id, "from_song": d.song_id,
                      "from_seconds": round(first / fps, 4)},
            )
            out[i][j] = _cut(clip, songs[i].num_frames)
    return [list(row) for row in out]  # type: ignore[arg-type]


def choreographer_dances(
    songs: Sequence[HeldOutSong], counts: Sequence[int], seed: int = 0
) -> list[list[Motion]]:
    """The rule-based choreographer on each whole song (scoring rhythm, seed ``seed + k``), cut."""
    from motionbeat.choreography.choreographer import choreograph

    out = []
    for song, count in zip(songs, counts, strict=True):
        audio = au.load_audio(song.audio_path)
        out.append([_cut(choreograph(audio, rhythm=song.rhythm, seed=seed + k), song.num_frames)
                    for k in range(count)])
    return out


def generator_label(conditioner: str, checkpoint: str | os.PathLike, taken: Sequence[str] = (),
                    untrained: bool = False) -> str:
    """"generator (MotionBeat)" / "generator (librosa features)", made unique with the
    checkpoint's name when two checkpoints share a conditioner; ", untrained" when it is."""
    label = CONDITIONER_LABELS.get(conditioner, f"generator ({conditioner})")
    if untrained:
        label = label[:-1] + ", untrained)"
    if label in taken:
        label = f"{label} [{Path(checkpoint).name}]"
    return label


def generator_dances(
    generator,
    songs: Sequence[HeldOutSong],
    counts: Sequence[int],
    seed: int = 0,
    seconds: float = DEFAULT_SECONDS,
    *,
    steps: int | None = None,
    guidance: float | None = None,
    batch_songs: int = DEFAULT_BATCH_SONGS,
    log: Log | None = None,
    foot_lock: bool = True,
) -> list[list[Motion]]:
    """Dances of a :class:`~generator.sampling.pipeline.DanceGenerator`: the k-th dance of every song in
    one :meth:`generate_many` call (``batch_songs`` songs at a time) with seed ``seed + k``."""
    out: list[list[Motion]] = [[] for _ in songs]
    for k in range(max(counts, default=0)):
        todo = [i for i, c in enumerate(counts) if c > k]
        for a in range(0, len(todo), batch_songs):
            batch = todo[a:a + batch_songs]
            motions = generator.generate_many(
                [songs[i].audio_path for i in batch], seed=seed + k, steps=steps, guidance=guidance,
                start=0.0, duration=seconds, foot_lock=foot_lock,
            )
            for i, m in zip(batch, motions, strict=True):
                out[i].append(_cut(m, songs[i].num_frames))
            if log:
                log(f"  seed {seed + k}: {min(a + batch_songs, len(todo))}/{len(todo)} songs")
    return out


# ------------------------------------------------------------------------------- scoring


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
    scores: list[DanceScore] = field(default_factory=list)
    summary: dict[str, float] = field(default_factory=dict)


def score_row(row: Row, songs: Sequence[HeldOutSong], ref_kinetic: np.ndarray,
              ref_geometric: np.ndarray) -> Row:
    """Fill ``row.scores`` (one per dance) and ``row.summary`` (means, FID, Div, counts)."""
    row.scores = [
        score_dance(m, song.rhythm, name=f"{song.song_id}#{k}")
        for song, motions in zip(songs, row.dances, strict=True)
        for k, m in enumerate(motions)
    ]
    flat = [m for motions in row.dances for m in motions]
    summary: dict[str, float] = dict(mean_scores(row.scores))
    summary.update({f"{k}{v}": math.nan for k in ("fid_k", "fid_g", "div_k", "div_g")
                    for v in ("", "_varying")})
    if len(flat) >= 2 and len(ref_kinetic) >= 2:
        kin, geo = motion_features(flat)
        found = metrics.fid_div_from_features(kin, geo, ref_kinetic, ref_geometric)
        summary.update({k: found[k] for k in ("fid_k", "fid_g", "div_k", "div_g")})
        # the same on the channels the pool varies on (see varying_features)
        vk, vg = varying_features(ref_kinetic), varying_features(ref_geometric)
        found = metrics.fid_div_from_features(kin[:, vk], geo[:, vg], ref_kinetic[:, vk],
                                              ref_geometric[:, vg])
        summary.update({f"{k}_varying": found[k] for k in ("fid_k", "fid_g", "div_k", "div_g")})
    summary["n_dances"] = len(flat)
    row.summary = summary
    return row


def reference_features(
    reference: str, songs: Sequence[HeldOutSong], pool: Sequence[PoolDance], seconds: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Kinetic and geometric features of the reference pool and its size (module docstring)."""
    if reference == "test":
        motions = [m for s in songs for m in s.dances]
        kin, geo = motion_features(motions)
        return kin, geo, len(motions)
    if reference != "train":
        raise EvaluationError(f"unknown reference pool {reference!r}; choose from {REFERENCES}")
    frames = round(seconds * contract.FPS)
    kin, geo = [], []
    by_shard: dict[Path, list[PoolDance]] = {}
    for d in pool:
        by_shard.setdefault(d.shard, []).append(d)
    for shard, dances in by_shard.items():  # one shard in memory at a time
        with np.load(shard, allow_pickle=False) as z:
            poses, trans, fps = z["poses"], z["trans"], float(z["fps"])
        clips = [_cut(Motion(poses[d.index], trans[d.index], fps), frames) for d in dances]
        k, g = motion_features(clips)
        kin.append(k)
        geo.append(g)
    if not kin:
        raise EvaluationError(f"no {POOL_SPLIT}-split dances for the reference pool")
    return np.concatenate(kin), np.concatenate(geo), sum(len(k) for k in kin)


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


# ------------------------------------------------------------------------------ evaluate


def evaluate(
    corpus: str | os.PathLike,
    generators: Sequence[str | os.PathLike] = (),
    *,
    split: str = "test",
    max_songs: int | None = None,
    seconds: float = DEFAULT_SECONDS,
    seed: int = 0,
    samples: int | None = None,
    reference: str = "train",
    steps: int | None = None,
    guidance: float | None = None,
    device: str | None = None,
    batch_songs: int = DEFAULT_BATCH_SONGS,
    log: Log | None = None,
    foot_lock: bool = True,
) -> dict:
    """Run the whole evaluation (module docstring); returns the report (see :func:`write_report`)."""
    from generator.sampling.pipeline import DanceGenerator

    say = log or (lambda msg: None)
    started = time.perf_counter()
    if reference not in REFERENCES:
        raise EvaluationError(f"unknown reference pool {reference!r}; choose from {REFERENCES}")
    # load every checkpoint first: a missing one fails before minutes of work
    loaded = [(Path(stem), DanceGenerator.load(stem, device=device)) for stem in generators]
    songs = load_held_out(corpus, split, seconds, max_songs, say)
    counts = dances_per_song(songs, samples)
    pool = train_pool(corpus)

    rows: list[Row] = [Row(GROUND_TRUTH, "ground_truth", [list(s.dances) for s in songs])]
    labels = [GROUND_TRUTH]
    for stem, gen in loaded:
        label = generator_label(gen.config.conditioner, stem, labels, gen.untrained)
        label += "" if foot_lock else ", no foot lock"
        labels.append(label)
        say(f"{label}: {stem}")
        t0 = time.perf_counter()
        dances = generator_dances(gen, songs, counts, seed, seconds, steps=steps, guidance=guidance,
                                  batch_songs=batch_songs, log=say, foot_lock=foot_lock)
        rows.append(Row(label, "generator", dances, time.perf_counter() - t0, str(stem)))
    say(CHOREOGRAPHER)
    t0 = time.perf_counter()
    rows.append(Row(CHOREOGRAPHER, "choreographer", choreographer_dances(songs, counts, seed),
                    time.perf_counter() - t0))
    say(RANDOM_CLIPS)
    t0 = time.perf_counter()
    rows.append(Row(RANDOM_CLIPS, "random", random_clips(songs, pool, counts, seed),
                    time.perf_counter() - t0))

    say(f"reference pool ({reference})")
    ref_k, ref_g, n_ref = reference_features(reference, songs, pool, seconds)
    for row in rows:
        say(f"scoring {row.label}")
        score_row(row, songs, ref_k, ref_g)

    return {
        "corpus": str(corpus),
        "split": split,
        "seconds": seconds,
        "seed": seed,
        "seeds": list(range(seed, seed + max(counts, default=1))),
        "samples_per_song": samples if samples is not None else "ground-truth count",
        "songs": [
            {"song_id": s.song_id, "source": s.source, "span_s": round(s.span_s, 4),
             "ground_truth_dances": len(s.dances), "dances_per_row": c,
             "tempo_bpm": round(float(s.rhythm.tempo_bpm), 2),
             "music_beats_in_span": int(np.sum(np.asarray(s.rhythm.beat_times) < s.span_s))}
            for s, c in zip(songs, counts, strict=True)
        ],
        "reference": {
            "pool": reference,
            "description": (f"every {POOL_SPLIT}-split dance, first {seconds:g} s" if reference == "train"
                            else f"the {split}-split ground-truth dances"),
            "dances": n_ref,
            "div_k": metrics.diversity(ref_k, ref_k),
            "div_g": metrics.diversity(ref_g, ref_g),
            "constant_features": {"kinetic": constant_features(ref_k),
                                  "geometric": constant_features(ref_g)},
        },
        "rows": [
            {"label": r.label, "kind": r.kind, "checkpoint": r.checkpoint, "wall_s": round(r.wall_s, 3),
             **r.summary,
             "dances": [
                 dict(sc.as_dict(), **{k: v for k, v in m.meta.items()
                                       if k in ("dance_id", "random_clip_of", "from_song", "from_seconds")})
                 for sc, m in zip(r.scores, [m for ms in r.dances for m in ms], strict=True)
             ]}
            for r in rows
        ],
        "protocol": dict(PROTOCOL, music_beats="motionbeat.audio.analyse_rhythm on each held-out "
                         "song's audio, the same beats for every row"),
        "aistpp_reference": AISTPP_REFERENCE,
        "threads": torch.get_num_threads(),
        "device": str(loaded[0][1].device) if loaded else "cpu",
        "wall_s": round(time.perf_counter() - started, 2),
    }


# -------------------------------------------------------------------------------- output


def _fmt(x, digits: int) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return NA
    if abs(x) >= LARGE:
        return f"{x:.2e}"
    return f"{round(x, digits) + 0.0:.{digits}f}"  # + 0.0 turns -0.0 into 0.0


def format_markdown(report: dict, command: str = "") -> str:
    """The report as markdown: setup, the table, protocol, AIST++ context."""
    songs = report["songs"]
    sources = {}
    for s in songs:
        sources[s["source"] or "?"] = sources.get(s["source"] or "?", 0) + 1
    spans = [s["span_s"] for s in songs]
    ref = report["reference"]
    lines = ["# Generator evaluation", ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += [
        f"- corpus `{report['corpus']}`, split `{report['split']}`: {len(songs)} songs "
        f"({', '.join(f'{n} {k}' for k, n in sorted(sources.items()))}), each scored on its first "
        f"{report['seconds']:g} s (whole song if shorter; spans {min(spans):.1f}-{max(spans):.1f} s)",
        f"- dances per song in every row: {report['samples_per_song']}; seeds "
        f"{', '.join(map(str, report['seeds']))} (the k-th dance of a song uses seed + k)",
        f"- FID / Div reference pool: {ref['description']} ({ref['dances']} dances; its own "
        f"Div_k {_fmt(ref['div_k'], 2)}, Div_g {_fmt(ref['div_g'], 2)})",
        *(
            f"- the reference pool never varies on {kind} feature(s) {', '.join(map(str, idx))}: "
            f"a dance that differs there gets z-scores near 1e10 (Bailando's std + 1e-10, kept), "
            f"so FID / Div on the {kind} features can be astronomically large"
            for kind, idx in ref.get("constant_features", {}).items() if idx
        ),
        f"- music beats for BAS: {report['protocol']['music_beats']}",
        f"- wall time {report['wall_s']:.0f} s, torch {report['threads']} thread(s), {report['device']}",
        "",
        "| method | dances | PFC ↓ | BAS ↑ | BAS_motion ↑ | FID_k ↓ | FID_g ↓ | Div_k | Div_g "
        "| FID_k* ↓ | FID_g* ↓ | Div_k* | Div_g* | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['label']} | {r['n_dances']} | {_fmt(r['pfc'], 3)} | {_fmt(r['bas'], 4)} "
            f"| {_fmt(r['bas_motion'], 4)} | {_fmt(r['fid_k'], 2)} | {_fmt(r['fid_g'], 2)} "
            f"| {_fmt(r['div_k'], 2)} | {_fmt(r['div_g'], 2)} "
            f"| {_fmt(r.get('fid_k_varying'), 2)} | {_fmt(r.get('fid_g_varying'), 2)} "
            f"| {_fmt(r.get('div_k_varying'), 2)} | {_fmt(r.get('div_g_varying'), 2)} "
            f"| {_fmt(r['wall_s'], 1)} |"
        )
    p = report["protocol"]
    aist = report["aistpp_reference"]
    lines += [
        "",
        f"{NA}: undefined (FID and Div need at least 2 dances). Wall s: time to make the row's dances. "
        "Starred columns: the same on only the feature channels the reference pool varies on "
        "(a documented deviation, `generator.evaluate.varying_features`; the unstarred columns "
        "follow the field's protocol).",
        "",
        "Rows: ground truth = the corpus dances of these songs; generators = `generate_many` on the "
        "song audio; rule-based choreographer = `motionbeat.choreography.choreographer.choreograph` with the "
        "scoring beats (it also made the corpus' dances, from the exact beats); random clips = dances "
        "of other train-split songs cut at a random frame, laid on each song (never a dance of the "
        "same song).",
        "",
        "Protocol (`motionbeat.metrics.scoring`):",
        "",
        f"- PFC: {p['pfc']}",
        f"- BAS: {p['bas']}; BAS_motion: {p['bas_motion']}",
        f"- FID / Div: {p['fid']}",
        "",
        "AIST++ numbers for context only (`shared/reference/metrics.md`; other dances, other music): "
        "PFC " + ", ".join(f"{k} {v:g}" for k, v in aist["pfc"].items()) + " (EDGE protocol); BAS "
        + ", ".join(f"{k} {v:g}" for k, v in aist["bas"].items()) + " (Bailando protocol). "
        "Compare only inside one table, ground truth included.",
        "",
    ]
    return "\n".join(lines)


def _clean(x):
    """NaN / inf -> None (JSON null), recursively; numpy scalars -> Python."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_report(report: dict, out: str | os.PathLike, command: str = "") -> tuple[Path, Path]:
    """Write ``out`` (markdown) and ``out`` with ``.json`` (the report, NaN as null), atomically."""
    out = Path(out)
    json_path = out.with_suffix(".json")
    with atomic_path(out) as tmp:
        tmp.write_text(format_markdown(report, command))
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(_clean(dict(report, command=command)), indent=1) + "\n")
    return out, json_path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m generator.evaluate",
                                description="Evaluate dance generators and baselines on held-out songs.")
    p.add_argument("--corpus", required=True, type=Path, help="corpus of motionbeat.choreography.build")
    p.add_argument("--generators", nargs="*", default=[], type=Path, help="generator checkpoint stems")
    p.add_argument("--split", default="test", help="held-out split (default: %(default)s)")
    p.add_argument("--max-songs", type=int, default=None, help="evenly spread subset of the split")
    p.add_argument("--seconds", type=float, default=DEFAULT_SECONDS,
                   help="scored span from each song's start")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samples", type=int, default=None,
                   help="dances per song in each row (default: the song's ground-truth count)")
    p.add_argument("--reference", choices=REFERENCES, default="train", help="FID / Div reference pool")
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default: the checkpoint's)")
    p.add_argument("--guidance", type=float, default=None, help="guidance weight (default: the checkpoint's)")
    p.add_argument("--no-foot-lock", action="store_true",
                   help="score the generators' raw output (generator.cleanup.footlock off)")
    p.add_argument("--device", default=None, help="cpu, cuda (default: cuda when available)")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=Path("docs/generator_eval.md"))
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    command = "python -m generator.evaluate " + shlex.join(sys.argv[1:] if argv is None else argv)

    def log(msg: str) -> None:
        if not a.quiet:
            print(f"[evaluate] {msg}", file=sys.stderr, flush=True)

    from generator.sampling.pipeline import GeneratorCheckpointError

    try:
        report = evaluate(
            a.corpus, a.generators, split=a.split, max_songs=a.max_songs, seconds=a.seconds,
            seed=a.seed, samples=a.samples, reference=a.reference, steps=a.steps,
            guidance=a.guidance, device=a.device, log=log, foot_lock=not a.no_foot_lock,
        )
    except (ValueError, GeneratorCheckpointError, FileNotFoundError) as err:  # AudioError too
        print(f"error: {err}", file=sys.stderr)
        return 2
    md, js = write_report(report, a.out, command)
    print(md)
    print(js)
    return 0


if __name__ == "__main__":
    sys.exit(main())
