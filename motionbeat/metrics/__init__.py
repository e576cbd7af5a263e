"""Dance metrics: pure numpy / scipy functions on arrays.

Definitions and traps: ``shared/reference/metrics.md``.

* :mod:`.pfc` - physical foot contact (EDGE).
* :mod:`.beats` - motion beats, BAS in both directions, BCS / BHS / CSD / HSD / F1.
* :mod:`.alignment` - alignment that sees the song: beat envelope correlation (BEC), beat-phase
  locking (R), and every measure's own-song vs other-song gap with a bootstrap interval.
* :mod:`.kinetic`, :mod:`.geometric` - the AIST++ API motion features (72-d, 32-d).
* :mod:`.fid` - FID_k, FID_g, Div_k, Div_g.
* :mod:`.retrieval` - Recall@K, median rank, QB-Norm.
* :mod:`.turns` - the root's turn per frame (the fastest turn of a dance).
"""

from motionbeat.metrics.alignment import (
    BOOTSTRAP_RESAMPLES,
    CONFIDENCE,
    MAX_LAG_S,
    MEASURES,
    MotionRhythm,
    beat_phase,
    cross_scores,
    envelope_correlation,
    lagged_correlation,
    motion_pulse,
    motion_rhythm,
    multiple_correlation,
    music_envelope,
    own_other,
    own_other_per_dance,
    pair_scores,
    phase_locking,
)
from motionbeat.metrics.beats import (
    bailando_envelope,
    bas,
    bas_motion,
    bcs,
    beat_alignment,
    beat_f1,
    beat_hit_scores,
    bhs,
    clip_beats_to_motion,
    fact_envelope,
    motion_beats,
    motion_beats_fact,
)
from motionbeat.metrics.fid import (
    diversity,
    fid,
    fid_div_from_features,
    fid_div_scores,
    frechet_distance,
    motion_features,
    normalize,
)
from motionbeat.metrics.geometric import geometric_features
from motionbeat.metrics.kinetic import (
    kinetic_features,
    prepare_for_features,
    resample_linear,
    to_y_up,
)
from motionbeat.metrics.pfc import pfc, pfc_batch, pfc_per_frame
from motionbeat.metrics.retrieval import (
    median_rank,
    qb_norm,
    recall_at_k,
    retrieval_ranks,
    retrieval_scores,
)

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "CONFIDENCE",
    "MAX_LAG_S",
    "MEASURES",
    "MotionRhythm",
    "beat_phase",
    "cross_scores",
    "envelope_correlation",
    "lagged_correlation",
    "motion_pulse",
    "motion_rhythm",
    "multiple_correlation",
    "music_envelope",
    "own_other",
    "own_other_per_dance",
    "pair_scores",
    "phase_locking",
    "bailando_envelope",
    "bas",
    "bas_motion",
    "bcs",
    "beat_alignment",
    "beat_f1",
    "beat_hit_scores",
    "bhs",
    "clip_beats_to_motion",
    "diversity",
    "fact_envelope",
    "fid",
    "fid_div_from_features",
    "fid_div_scores",
    "frechet_distance",
    "geometric_features",
    "kinetic_features",
    "median_rank",
    "motion_beats",
    "motion_beats_fact",
    "motion_features",
    "normalize",
    "pfc",
    "pfc_batch",
    "pfc_per_frame",
    "prepare_for_features",
    "qb_norm",
    "recall_at_k",
    "resample_linear",
    "retrieval_ranks",
    "retrieval_scores",
    "to_y_up",
]
