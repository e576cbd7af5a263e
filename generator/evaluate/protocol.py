"""The evaluation as one run: :func:`evaluate` loads the generators and the held-out songs
(:mod:`generator.evaluate.songs`), makes every row's dances (:mod:`generator.evaluate.dances`),
scores them against the reference pool (:mod:`generator.evaluate.scoring`) and returns the report
that :mod:`generator.evaluate.table` writes."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from generator.evaluate.dances import (
    DEFAULT_BATCH_SONGS,
    choreographer_dances,
    generator_dances,
    generator_label,
    random_clips,
)
from generator.evaluate.scoring import REFERENCES, Row, constant_features, reference_features, score_row
from generator.evaluate.songs import (
    DEFAULT_SECONDS,
    POOL_SPLIT,
    EvaluationError,
    Log,
    dances_per_song,
    load_held_out,
    train_pool,
)
from motionbeat import metrics
from motionbeat.core.motion import Motion
from motionbeat.metrics.scoring import PROTOCOL

GROUND_TRUTH: str = "ground truth"
CHOREOGRAPHER: str = "rule-based choreographer"
RANDOM_CLIPS: str = "random clips (other songs, train split)"
ROW_KINDS: tuple[str, ...] = ("ground_truth", "generator", "choreographer", "random")
"""The kinds of rows (``--rows``); a run without ``generator`` needs no checkpoint."""
AISTPP_REFERENCE: dict[str, dict[str, float]] = {
    "pfc": {"ground truth": 1.332, "EDGE": 1.5363},
    "bas": {"ground truth": 0.2374, "EDGE": 0.26, "MotionBeat": 0.27, "Danceba": 0.2714},
}
"""AIST++ numbers for context, from ``shared/reference/metrics.md`` (PFC: EDGE protocol, 5 s clips
at 30 fps; BAS: Bailando protocol, music-beat direction). Other data, other music: context only."""


SAMPLING_KEYS: tuple[str, ...] = ("sampler", "steps", "guidance", "beat_guidance")
"""What a generator row reports of how its dances were sampled (from their motion metadata)."""
OPTIONAL_SAMPLING_KEYS: tuple[str, ...] = ("halftime_above_bpm", "style_scale", "style_prior",
                                           "beat_warp")
"""Reported too where the dances' metadata has them (dances made before they existed do not)."""


def sampling_settings(dances: list[list[Motion]]) -> dict | None:
    """The sampler, steps, guidance and beat guidance written into the first dance's metadata by
    the pipeline."""
    first = next((m for per_song in dances for m in per_song), None)
    meta = {} if first is None else first.meta.get("generator", {})
    if not all(k in meta for k in SAMPLING_KEYS):
        return None
    return {k: meta[k] for k in (*SAMPLING_KEYS, *OPTIONAL_SAMPLING_KEYS) if k in meta}


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
    sampler: str | None = None,
    device: str | None = None,
    beat_guidance: float | None = None,
    halftime_above_bpm: float | None = None,
    beat_warp: float | None = None,
    batch_songs: int = DEFAULT_BATCH_SONGS,
    log: Log | None = None,
    foot_lock: bool = True,
    row_kinds: Sequence[str] = ROW_KINDS,
    raw_rows: bool = False,
) -> dict:
    """Run the whole evaluation (:mod:`generator.evaluate`); returns the report (see
    :func:`generator.evaluate.table.write_report`). ``row_kinds``: the kinds of rows to make
    (:data:`ROW_KINDS`); without ``generator`` the checkpoints are not loaded. ``raw_rows``: each
    generator also gets a row of its raw output (clean-up off) right after its row with
    ``foot_lock``'s setting: the same samples, from the same sampling run, so both rows carry
    that run's wall time."""
    from generator.sampling.pipeline import DanceGenerator

    say = log or (lambda msg: None)
    started = time.perf_counter()
    if reference not in REFERENCES:
        raise EvaluationError(f"unknown reference pool {reference!r}; choose from {REFERENCES}")
    unknown = sorted(set(row_kinds) - set(ROW_KINDS))
    if unknown or not row_kinds:
        raise EvaluationError(f"unknown or no row kinds {unknown}; choose from {ROW_KINDS}")
    if "generator" not in row_kinds:
        generators = ()
    # load every checkpoint first: a missing one fails before minutes of work
    loaded = [(Path(stem), DanceGenerator.load(stem, device=device)) for stem in generators]
    songs = load_held_out(corpus, split, seconds, max_songs, say)
    counts = dances_per_song(songs, samples)
    pool = train_pool(corpus)

    rows: list[Row] = ([Row(GROUND_TRUTH, "ground_truth", [list(s.dances) for s in songs])]
                       if "ground_truth" in row_kinds else [])
    labels = [GROUND_TRUTH]
    for stem, gen in loaded:
        base = generator_label(gen.config.conditioner, stem, labels, gen.untrained)
        locks = [foot_lock] + ([False] if raw_rows and foot_lock else [])
        names = [base + ("" if lock else ", raw (no clean-up)") for lock in locks]
        labels.extend(names)
        say(f"{' and '.join(names)}: {stem}")
        t0 = time.perf_counter()
        variants = generator_dances(gen, songs, counts, seed, seconds, steps=steps,
                                    guidance=guidance, sampler=sampler,
                                    beat_guidance=beat_guidance,
                                    halftime_above_bpm=halftime_above_bpm, beat_warp=beat_warp,
                                    batch_songs=batch_songs, log=say, foot_locks=locks)
        wall = time.perf_counter() - t0  # one sampling run for all of this generator's rows
        for label, dances in zip(names, variants, strict=True):
            rows.append(Row(label, "generator", dances, wall, str(stem),
                            sampling_settings(dances)))
    if "choreographer" in row_kinds:
        say(CHOREOGRAPHER)
        t0 = time.perf_counter()
        rows.append(Row(CHOREOGRAPHER, "choreographer", choreographer_dances(songs, counts, seed),
                        time.perf_counter() - t0))
    if "random" in row_kinds:
        say(RANDOM_CLIPS)
        t0 = time.perf_counter()
        rows.append(Row(RANDOM_CLIPS, "random", random_clips(songs, pool, counts, seed),
                        time.perf_counter() - t0))

    say(f"reference pool ({reference})")
    ref_k, ref_g, n_ref, fastest = reference_features(reference, songs, pool, seconds)
    for row in rows:
        say(f"scoring {row.label}")
        score_row(row, songs, ref_k, ref_g, seed)

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
            "max_turn": fastest,
            "div_k": metrics.diversity(ref_k, ref_k),
            "div_g": metrics.diversity(ref_g, ref_g),
            "constant_features": {"kinetic": constant_features(ref_k),
                                  "geometric": constant_features(ref_g)},
        },
        "rows": [
            {"label": r.label, "kind": r.kind, "checkpoint": r.checkpoint, "sampling": r.sampling,
             "wall_s": round(r.wall_s, 3),
             **r.summary,
             "dances": [
                 dict(sc.as_dict(), **{k: v for k, v in m.meta.items()
                                       if k in ("dance_id", "random_clip_of", "from_song", "from_seconds")},
                      **{f"{k}_other": v["other"][i] for k, v in r.own_other.get("per_dance", {}).items()})
                 for i, (sc, m) in enumerate(zip(r.scores, [m for ms in r.dances for m in ms], strict=True))
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
