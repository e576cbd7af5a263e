"""Evaluate dance generators on held-out songs: one table of PFC, BAS, FID and Div with baselines.

    python -m generator.evaluate --corpus DIR \
        --generators checkpoints/generator checkpoints/generator-librosa \
        [--split test] [--max-songs N] [--seconds 30] [--seed 0] [--out docs/generator_eval.md]

One run writes one markdown table (and the same numbers, per dance too, as JSON beside it).

* :mod:`.songs` - the held-out songs (scored span, scoring rhythm, ground truth) and the train
  pool of dances.
* :mod:`.dances` - each row's dances: generators, the rule-based choreographer, random clips.
* :mod:`.scoring` - the per-dance scores and the FID / Div against a reference pool.
* :mod:`.protocol` - :func:`evaluate`: the whole run, as a report.
* :mod:`.table` - the report as a markdown table and JSON.
* :mod:`.cli` - ``python -m generator.evaluate``.

This package re-exports their public API: ``from generator import evaluate as ev; ev.X``.
"""

from .cli import DEFAULT_THREADS, main
from .dances import (
    CONDITIONER_LABELS,
    DEFAULT_BATCH_SONGS,
    choreographer_dances,
    generator_dances,
    generator_label,
    plan_random_clips,
    random_clips,
)
from .protocol import AISTPP_REFERENCE, CHOREOGRAPHER, GROUND_TRUTH, RANDOM_CLIPS, evaluate
from .scoring import (
    REFERENCES,
    Row,
    constant_features,
    motion_features,
    reference_features,
    score_row,
    varying_features,
)
from .songs import (
    DEFAULT_SECONDS,
    POOL_SPLIT,
    EvaluationError,
    HeldOutSong,
    Log,
    PoolDance,
    cut_motion,
    dances_per_song,
    load_held_out,
    spread,
    train_pool,
)
from .table import LARGE, NA, format_markdown, write_report

__all__ = [
    # songs
    "DEFAULT_SECONDS", "POOL_SPLIT", "Log", "EvaluationError", "HeldOutSong", "PoolDance", "spread",
    "cut_motion", "load_held_out", "train_pool", "dances_per_song",
    # dances
    "DEFAULT_BATCH_SONGS", "CONDITIONER_LABELS", "plan_random_clips", "random_clips",
    "choreographer_dances", "generator_label", "generator_dances",
    # scoring
    "REFERENCES", "motion_features", "Row", "score_row", "reference_features", "constant_features",
    "varying_features",
    # protocol
    "GROUND_TRUTH", "CHOREOGRAPHER", "RANDOM_CLIPS", "AISTPP_REFERENCE", "evaluate",
    # table
    "NA", "LARGE", "format_markdown", "write_report",
    # cli
    "DEFAULT_THREADS", "main",
]
