"""MotionBeat's training objective: Embodied Contrastive Loss + 0.2 x Structural Rhythm Alignment.

Source: MotionBeat, arXiv 2510.13244 ("L = L_ECL + 0.2 L_SRAL"). The paper names the pieces
(InfoNCE with tempo-aware and beat-jitter negatives; Soft-DTW between music accents and motion
contacts; EMD between bar-level distributions of accent mass and kinetic energy) but not every
detail; each choice we made is stated in the docstring of the function that makes it.

Pieces: :mod:`motionbeat.encoder.contrastive` (ECL) and :mod:`motionbeat.encoder.rhythm_alignment`
(SRAL and the rhythm-head supervision); this module combines them into :func:`motionbeat_loss`.

Shapes: B clips, N tokens, E embedding width, J jitter negatives per clip. ``valid_mask``
(B, N) bool is True on real tokens; the sequence losses need the valid tokens first (right
padding).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from motionbeat.encoder.config import MotionBeatConfig
from motionbeat.encoder.contrastive import embodied_contrastive_loss
from motionbeat.encoder.model import MotionBeatOutput
from motionbeat.encoder.rhythm_alignment import (
    RhythmTargets,
    SRALTerms,
    rhythm_supervision_loss,
    structural_rhythm_alignment_loss,
)


@dataclass
class LossTerms:
    """Every term of one step (0-d tensors); ``total`` is what to back-propagate."""

    total: torch.Tensor
    ecl: torch.Tensor
    sral: torch.Tensor
    sral_beat: torch.Tensor
    sral_bar: torch.Tensor
    rhythm: torch.Tensor

    def as_floats(self) -> dict[str, float]:
        return {name: float(getattr(self, name).detach()) for name in self.__dataclass_fields__}


def motionbeat_loss(
    cfg: MotionBeatConfig,
    output: MotionBeatOutput,
    bar_phase: torch.Tensor,
    valid_mask: torch.Tensor,
    *,
    hard_mask: torch.Tensor | None = None,
    motion_jitter: torch.Tensor | None = None,
    jitter_mask: torch.Tensor | None = None,
    ignore_mask: torch.Tensor | None = None,
    targets: RhythmTargets | None = None,
) -> LossTerms:
    """L = L_ECL + sral_weight * L_SRAL + rhythm_supervision_weight * L_rhythm.

    With the defaults this is the paper's L_ECL + 0.2 L_SRAL plus our 0.1-weighted grounding
    of the rhythm heads (``rhythm_supervision_weight = 0`` gives the paper's total exactly).
    The ablation switches of ``cfg`` decide which pieces count: without hard negatives
    ``hard_mask`` and ``motion_jitter`` are ignored; ``baseline_logmel`` leaves plain InfoNCE.

    Args:
        cfg: the model's config.
        output: ``MotionBeat.forward`` of the paired clips.
        bar_phase, valid_mask: (B, N) token grid of the batch (right padded).
        hard_mask: (B, B) from :func:`tempo_aware_negative_mask`.
        motion_jitter: (B, J, E) ``encode_motion`` embeddings of the +-jitter_beats motions.
        jitter_mask: (B, J) bool, False where a jittered window does not exist.
        ignore_mask: (B, B) from :func:`duplicate_mask`.
        targets: :class:`RhythmTargets`; required when rhythm supervision is enabled.
    """
    use_hard = cfg.hard_negatives_enabled
    ecl = embodied_contrastive_loss(
        output.audio.embedding,
        output.motion.embedding,
        output.temperature,
        hard_mask=hard_mask if use_hard else None,
        motion_jitter=motion_jitter if use_hard else None,
        jitter_mask=jitter_mask if use_hard else None,
        ignore_mask=ignore_mask,
        hard_negative_weight=cfg.hard_negative_weight,
    )
    zero = ecl.new_zeros(())
    sral = SRALTerms(zero, zero, zero)
    if cfg.sral_enabled:
        sral = structural_rhythm_alignment_loss(
            output.audio.onset,
            output.motion.contact_pulse,
            output.motion.kinetic_energy,
            bar_phase,
            valid_mask,
            lambda_beat=cfg.lambda_beat,
            lambda_bar=cfg.lambda_bar,
            gamma=cfg.softdtw_gamma,
            n_bins=cfg.bar_bins,
            circular=cfg.emd_circular,
            divergence=cfg.softdtw_divergence,
        )
    rhythm = zero
    if cfg.rhythm_supervision_enabled:
        if targets is None:
            raise ValueError(
                "rhythm supervision is enabled: pass targets=RhythmTargets(...) "
                "or set rhythm_supervision_weight=0"
            )
        rhythm = rhythm_supervision_loss(output, targets, valid_mask)
    total = ecl + cfg.sral_weight * sral.total + cfg.rhythm_supervision_weight * rhythm
    return LossTerms(total, ecl, sral.total, sral.beat, sral.bar, rhythm)
