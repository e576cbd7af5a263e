"""The ablations of the MotionBeat encoder: their config switches, table labels and recognition.

Each ablation is a set of ``MotionBeatConfig`` switch overrides (``ABLATIONS``);
:func:`config_with_ablation` builds a config from one, :func:`ablation_of` names the ablation a
config implements, and ``ABLATION_LABELS`` are the row labels of the evaluation table.
"""

from __future__ import annotations

from motionbeat.encoder.config import MOTIONBEAT_SIZES, MotionBeatConfig, config_for

ABLATIONS: dict[str, dict[str, bool]] = {
    "full": {},
    "no_hard_negatives": {"use_hard_negatives": False},
    "no_sral": {"use_sral": False},
    "no_phase": {"use_phase_rotation": False},
    "no_contact": {"use_contact_attention": False},
    "logmel_baseline": {"baseline_logmel": True},
}
"""Config overrides of each ablation of the issue (``MotionBeatConfig`` switches)."""
ABLATION_LABELS: dict[str, str] = {
    "full": "MotionBeat (full)",
    "no_hard_negatives": "- hard negatives (tempo-aware + beat-jitter)",
    "no_sral": "- SRAL",
    "no_phase": "- phase rotation",
    "no_contact": "- contact attention",
    "logmel_baseline": "log-mel baseline encoder (plain InfoNCE)",
}


def config_with_ablation(size: str, ablation: str = "full", **overrides) -> MotionBeatConfig:
    """``config_for(size)`` with the switches of ``ablation`` and further ``overrides``."""
    if ablation not in ABLATIONS:
        raise KeyError(f"unknown ablation {ablation!r}; choose from {sorted(ABLATIONS)}")
    return config_for(size, **ABLATIONS[ablation], **overrides)


def ablation_of(cfg: MotionBeatConfig) -> str:
    """Name of the ablation a config implements (``"custom"`` for any other combination)."""
    reference = MOTIONBEAT_SIZES["tiny"]
    switches = ("use_hard_negatives", "use_sral", "use_phase_rotation", "use_contact_attention",
                "baseline_logmel")
    flags = {k: getattr(cfg, k) for k in switches}
    for name, override in ABLATIONS.items():
        if flags == {k: override.get(k, getattr(reference, k)) for k in switches}:
            return name
    return "custom"
