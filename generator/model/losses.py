"""Domain losses of the dance generator (EDGE: Tseng et al., "EDGE: Editable Dance Generation
From Music", CVPR 2023, Sec. 3.2 and ``model/diffusion.py::p_losses``).

Notation: x̂ is the predicted clean motion, x the data, both (B, T, D) frames of the contract
layout; m_t in {0, 1} marks real frames (1 everywhere unless windows are padded); ``mean`` is over
every real element. FK(x) are the (B, T, 24, 3) joint positions in metres from the frame's root
position and 6-D rotations (``motionbeat.core.kinematics``); F is the set of the 4 foot joints.

* reconstruction  L_simple = mean ||x̂_t - x_t||^2, in the normalised space the denoiser works in;
* velocity        L_vel    = mean ||(x̂_{t+1} - x̂_t) - (x_{t+1} - x_t)||^2 over every channel but
  the contacts (normalised space, as EDGE);
* kinematics      L_FK     = mean ||FK(x̂)_t - FK(x)_t||^2 in metres;
* foot skate      L_foot   = mean [ĉ_{t,f} > tau] ||FK(x̂)_{t+1,f} - FK(x̂)_{t,f}||^2, f in F, with
  ĉ the model's *own* predicted contacts (tau = 0.95): a foot the model calls planted must stay.

Two terms beyond EDGE, for what its objective leaves to post-processing here (raw PFC 1.25 and
turns of 121 degrees in one frame with EDGE's four terms alone, docs/generator.md):

* foot velocity   L_fvel   = mean ||ΔFK(x̂)_{t,f} - ΔFK(x)_{t,f}||^2, f in F, ΔFK_t = FK_{t+1} - FK_t
  (metres per frame): the feet move as the data's do, so a foot the data plants is still
  whatever the predicted contacts say (MDM, Tevet et al. ICLR 2023, puts a velocity term on
  joint positions; here it is on the feet, the joints PFC scores);
* root turn       L_turn   = mean ||R̂_{t+1} R̂_t^T - R_{t+1} R_t^T||_F^2, R the root's world
  rotation: the body turns at the data's angular velocity. For a per-frame turn error of angle
  θ the term is 4 (1 - cos θ) / 9 per element, so a 120-degree snap costs ~10^4 times a
  1-degree error.

And one for the rhythm of the motion, what the music-alignment measures read:

* kinetic envelope L_kin   = mean (ê_t - e_t)^2, e_t = (1/24) sum_j ||FK(x)_{t+1,j} - FK(x)_{t,j}||
  (metres per frame): the body's mean joint speed, whose local minima (after smoothing) are the
  motion beats of Bailando (Siyao et al., CVPR 2022, ``utils/metrics_new.py``;
  ``motionbeat.metrics.beats.bailando_envelope``) that BAS and R place against the music's beats.
  The per-joint terms above weigh where every joint is; this one weighs only when the body as a
  whole speeds up and settles, so a dance whose accents drift off the data's is charged for it
  even where its poses are close.

The total is 0.636 L_simple + 2.964 L_vel + 0.646 L_FK + 10.942 L_foot (EDGE's weights; here
they are :class:`generator.model.config.GeneratorConfig` fields) + w_fvel L_fvel + w_turn L_turn
(0 in EDGE's objective, the default; the registered sizes set them) + w_kin L_kin (0 unless a run
sets it, ``loss_kinetic``; docs/generator.md measures it). EDGE computes FK on normalised
frames; here FK and the foot term use physical frames (metres, metres per frame), which is what
they mean, so the weights are a starting point rather than a calibrated optimum.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from motionbeat.core import contract, kinematics

GRAM_SCHMIDT_EPS: float = 1e-6
"""Smallest norm divided by when decoding predicted 6-D rotations inside the losses."""

NON_CONTACT = slice(contract.CONTACTS.stop, contract.FRAME_DIM)
"""Channels of a frame after the contacts (root position and rotations)."""


def _masked_mean(
    values: torch.Tensor, mask: torch.Tensor | None, sample_weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean of ``values`` (B, T, ...) over the entries whose frame is real under ``mask`` (B, T),
    each window's entries scaled by its ``sample_weight`` (B,) (the count is not)."""
    if sample_weight is not None:
        values = values * sample_weight.to(values.dtype).reshape(-1, *([1] * (values.ndim - 1)))
    if mask is None:
        return values.mean()
    weights = mask.to(values.dtype).reshape(*mask.shape, *([1] * (values.ndim - mask.ndim)))
    weights = weights.expand_as(values)  # (B, T, ...)
    return (values * weights).sum() / weights.sum().clamp_min(1.0)


def _pair_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    """(B, T) frame mask -> (B, T-1) mask of consecutive pairs whose frames are both real."""
    return None if mask is None else mask[:, 1:] & mask[:, :-1]


def safe_rot6d_to_matrix(d6: torch.Tensor, eps: float = GRAM_SCHMIDT_EPS) -> torch.Tensor:
    """(..., 6) -> (..., 3, 3): ``kinematics.rot6d_to_matrix``'s Gram-Schmidt with norms >= eps.

    b1 = a1 / max(|a1|, eps), b2 = normalise(a2 - (b1.a2) b1), b3 = b1 x b2 (rows), so a degenerate
    prediction (early in training) gives finite values and gradients instead of NaN.
    """
    a1, a2 = d6[..., :3], d6[..., 3:]  # 2 x (..., 3)
    b1 = F.normalize(a1, dim=-1, eps=eps)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1, eps=eps)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-2)  # (..., 3, 3), rows b1, b2, b3


def frames_to_rotations(frames: torch.Tensor) -> torch.Tensor:
    """(..., T, D) physical frames -> (..., T, 24, 3, 3) local joint rotations (differentiable)."""
    rot6d = frames[..., contract.ROTATIONS].unflatten(-1, (contract.NUM_JOINTS, contract.ROT6D_DIM))
    return safe_rot6d_to_matrix(rot6d)  # (..., T, 24, 3, 3)


def frames_to_joints(frames: torch.Tensor, mats: torch.Tensor | None = None) -> torch.Tensor:
    """(..., T, D) physical frames -> (..., T, 24, 3) joint positions in metres (differentiable).

    ``mats`` may pass the frames' :func:`frames_to_rotations` when the caller has them already.
    """
    mats = frames_to_rotations(frames) if mats is None else mats  # (..., T, 24, 3, 3)
    return kinematics.forward_kinematics(mats, frames[..., contract.ROOT_POS])  # (..., T, 24, 3)


def reconstruction_loss(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None,
    sample_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_simple = mean ||x̂ - x||^2 over (B, T, D) (Ho et al. 2020 with x_0 as target, EDGE)."""
    return _masked_mean((pred - target).square(), mask, sample_weight)


def velocity_loss(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None,
    sample_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_vel = mean ||Δx̂ - Δx||^2 with Δx_t = x_{t+1} - x_t, contacts excluded (EDGE)."""
    if pred.shape[1] < 2:
        return pred.new_zeros(())
    pred_v = pred[:, 1:, NON_CONTACT] - pred[:, :-1, NON_CONTACT]  # (B, T-1, D-4)
    target_v = target[:, 1:, NON_CONTACT] - target[:, :-1, NON_CONTACT]  # (B, T-1, D-4)
    return _masked_mean((pred_v - target_v).square(), _pair_mask(mask), sample_weight)


def fk_loss(
    pred_joints: torch.Tensor, target_joints: torch.Tensor, mask: torch.Tensor | None = None,
    sample_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_FK = mean ||FK(x̂) - FK(x)||^2 over (B, T, 24, 3) joint positions in metres (EDGE)."""
    return _masked_mean((pred_joints - target_joints).square(), mask, sample_weight)


def foot_skate_loss(
    pred_joints: torch.Tensor,
    pred_contacts: torch.Tensor,
    threshold: float = 0.95,
    mask: torch.Tensor | None = None,
    sample_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_foot = mean [ĉ_{t,f} > tau] ||p_{t+1,f} - p_{t,f}||^2 over (B, T-1, 4, 3) (EDGE).

    Args:
        pred_joints: (B, T, 24, 3) predicted joint positions, metres.
        pred_contacts: (B, T, 4) predicted contact probabilities, ordered as contract.FOOT_JOINTS.
        threshold: tau; the contacts only select frames (no gradient flows through them).
        mask: (B, T) real frames.
    Returns:
        scalar, in squared metres per frame^2; zero for planted feet that do not move.
    """
    if pred_joints.shape[1] < 2:
        return pred_joints.new_zeros(())
    feet = pred_joints[:, :, list(contract.FOOT_JOINTS)]  # (B, T, 4, 3)
    foot_v = feet[:, 1:] - feet[:, :-1]  # (B, T-1, 4, 3)
    planted = (pred_contacts[:, :-1] > threshold).to(foot_v.dtype).detach()  # (B, T-1, 4)
    return _masked_mean((foot_v * planted.unsqueeze(-1)).square(), _pair_mask(mask), sample_weight)


def foot_velocity_loss(
    pred_joints: torch.Tensor, target_joints: torch.Tensor, mask: torch.Tensor | None = None,
    sample_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_fvel = mean ||ΔFK(x̂)_f - ΔFK(x)_f||^2 over (B, T-1, 4, 3) foot velocities in metres/frame."""
    if pred_joints.shape[1] < 2:
        return pred_joints.new_zeros(())
    feet = list(contract.FOOT_JOINTS)
    pred_v = pred_joints[:, 1:, feet] - pred_joints[:, :-1, feet]  # (B, T-1, 4, 3)
    target_v = target_joints[:, 1:, feet] - target_joints[:, :-1, feet]  # (B, T-1, 4, 3)
    return _masked_mean((pred_v - target_v).square(), _pair_mask(mask), sample_weight)


def kinetic_envelope(joints: torch.Tensor) -> torch.Tensor:
    """(B, T, J, 3) joint positions -> (B, T-1) mean joint displacement per frame, metres.

    The unsmoothed :func:`motionbeat.metrics.beats.bailando_envelope` (which smooths it before
    finding the motion beats), differentiable.
    """
    return (joints[:, 1:] - joints[:, :-1]).norm(dim=-1).mean(dim=-1)  # (B, T-1)


def kinetic_envelope_loss(
    pred_joints: torch.Tensor, target_joints: torch.Tensor, mask: torch.Tensor | None = None,
    sample_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_kin = mean (ê_t - e_t)^2 over (B, T-1) kinetic envelopes (:func:`kinetic_envelope`)."""
    if pred_joints.shape[1] < 2:
        return pred_joints.new_zeros(())
    diff = kinetic_envelope(pred_joints) - kinetic_envelope(target_joints)  # (B, T-1)
    return _masked_mean(diff.square(), _pair_mask(mask), sample_weight)


def root_turns(root_mats: torch.Tensor) -> torch.Tensor:
    """(B, T, 3, 3) root world rotations -> (B, T-1, 3, 3) per-frame turns R_{t+1} R_t^T."""
    return root_mats[:, 1:] @ root_mats[:, :-1].transpose(-1, -2)  # (B, T-1, 3, 3)


def root_turn_loss(
    pred_root: torch.Tensor, target_root: torch.Tensor, mask: torch.Tensor | None = None,
    sample_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_turn = mean ||R̂_{t+1} R̂_t^T - R_{t+1} R_t^T||_F^2 over (B, T-1, 3, 3).

    Args:
        pred_root, target_root: (B, T, 3, 3) the root's rotation matrices (its local rotation is
            its world rotation in SMPL).
        mask: (B, T) real frames.
    """
    if pred_root.shape[1] < 2:
        return pred_root.new_zeros(())
    diff = root_turns(pred_root) - root_turns(target_root)  # (B, T-1, 3, 3)
    return _masked_mean(diff.square(), _pair_mask(mask), sample_weight)


def diffusion_losses(
    pred_norm: torch.Tensor,
    target_norm: torch.Tensor,
    pred_frames: torch.Tensor,
    target_frames: torch.Tensor,
    weights: dict[str, float],
    contact_threshold: float = 0.95,
    mask: torch.Tensor | None = None,
    sample_weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The weighted EDGE objective and its unweighted terms.

    Args:
        pred_norm, target_norm: (B, T, D) prediction and data in the denoiser's normalised space.
        pred_frames, target_frames: (B, T, D) the same in physical units (denormalised).
        weights: {"recon", "velocity", "fk", "foot", "foot_velocity", "root_turn", "kinetic"}
            -> weight
            (``GeneratorConfig.loss_weights``); a term whose weight is missing or 0 is skipped.
        contact_threshold: tau of :func:`foot_skate_loss`.
        mask: (B, T) bool real frames, or None.
        sample_weight: (B,) weight of each window's errors in every term (timestep weighting,
            :func:`generator.model.diffusion.timestep_weights`), or None for 1.
    Returns:
        (total, terms) with total = sum_k weights[k] * terms[k] over the terms computed.
    """
    pred_mats = frames_to_rotations(pred_frames)  # (B, T, 24, 3, 3)
    pred_joints = frames_to_joints(pred_frames, pred_mats)  # (B, T, 24, 3)
    with torch.no_grad():
        target_mats = frames_to_rotations(target_frames)  # (B, T, 24, 3, 3)
        target_joints = frames_to_joints(target_frames, target_mats)  # (B, T, 24, 3)
    terms = {
        "recon": reconstruction_loss(pred_norm, target_norm, mask, sample_weight),
        "velocity": velocity_loss(pred_norm, target_norm, mask, sample_weight),
        "fk": fk_loss(pred_joints, target_joints, mask, sample_weight),
        "foot": foot_skate_loss(
            pred_joints, pred_frames[..., contract.CONTACTS], contact_threshold, mask,
            sample_weight,
        ),
    }
    if weights.get("foot_velocity", 0.0):
        terms["foot_velocity"] = foot_velocity_loss(pred_joints, target_joints, mask,
                                                    sample_weight)
    if weights.get("root_turn", 0.0):
        root = contract.JOINT_INDEX["Pelvis"]
        terms["root_turn"] = root_turn_loss(pred_mats[:, :, root], target_mats[:, :, root], mask,
                                            sample_weight)
    if weights.get("kinetic", 0.0):
        terms["kinetic"] = kinetic_envelope_loss(pred_joints, target_joints, mask, sample_weight)
    total = sum(weights[name] * value for name, value in terms.items())
    return total, terms
