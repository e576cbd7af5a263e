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

The total is 0.636 L_simple + 2.964 L_vel + 0.646 L_FK + 10.942 L_foot (EDGE's weights; here
they are :class:`generator.model.config.GeneratorConfig` fields). EDGE computes FK on normalised
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


def _masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``values`` (B, T, ...) over the entries whose frame is real under ``mask`` (B, T)."""
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


def frames_to_joints(frames: torch.Tensor) -> torch.Tensor:
    """(..., T, D) physical frames -> (..., T, 24, 3) joint positions in metres (differentiable)."""
    rot6d = frames[..., contract.ROTATIONS].unflatten(-1, (contract.NUM_JOINTS, contract.ROT6D_DIM))
    mats = safe_rot6d_to_matrix(rot6d)  # (..., T, 24, 3, 3)
    return kinematics.forward_kinematics(mats, frames[..., contract.ROOT_POS])  # (..., T, 24, 3)


def reconstruction_loss(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """L_simple = mean ||x̂ - x||^2 over (B, T, D) (Ho et al. 2020 with x_0 as target, EDGE)."""
    return _masked_mean((pred - target).square(), mask)


def velocity_loss(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """L_vel = mean ||Δx̂ - Δx||^2 with Δx_t = x_{t+1} - x_t, contacts excluded (EDGE)."""
    if pred.shape[1] < 2:
        return pred.new_zeros(())
    pred_v = pred[:, 1:, NON_CONTACT] - pred[:, :-1, NON_CONTACT]  # (B, T-1, D-4)
    target_v = target[:, 1:, NON_CONTACT] - target[:, :-1, NON_CONTACT]  # (B, T-1, D-4)
    return _masked_mean((pred_v - target_v).square(), _pair_mask(mask))


def fk_loss(
    pred_joints: torch.Tensor, target_joints: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """L_FK = mean ||FK(x̂) - FK(x)||^2 over (B, T, 24, 3) joint positions in metres (EDGE)."""
    return _masked_mean((pred_joints - target_joints).square(), mask)


def foot_skate_loss(
    pred_joints: torch.Tensor,
    pred_contacts: torch.Tensor,
    threshold: float = 0.95,
    mask: torch.Tensor | None = None,
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
    return _masked_mean((foot_v * planted.unsqueeze(-1)).square(), _pair_mask(mask))


def diffusion_losses(
    pred_norm: torch.Tensor,
    target_norm: torch.Tensor,
    pred_frames: torch.Tensor,
    target_frames: torch.Tensor,
    weights: dict[str, float],
    contact_threshold: float = 0.95,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The weighted EDGE objective and its unweighted terms.

    Args:
        pred_norm, target_norm: (B, T, D) prediction and data in the denoiser's normalised space.
        pred_frames, target_frames: (B, T, D) the same in physical units (denormalised).
        weights: {"recon", "velocity", "fk", "foot"} -> weight (``GeneratorConfig.loss_weights``).
        contact_threshold: tau of :func:`foot_skate_loss`.
        mask: (B, T) bool real frames, or None.
    Returns:
        (total, {"recon", "velocity", "fk", "foot"}) with total = sum_k weights[k] * terms[k].
    """
    pred_joints = frames_to_joints(pred_frames)  # (B, T, 24, 3)
    with torch.no_grad():
        target_joints = frames_to_joints(target_frames)  # (B, T, 24, 3)
    terms = {
        "recon": reconstruction_loss(pred_norm, target_norm, mask),
        "velocity": velocity_loss(pred_norm, target_norm, mask),
        "fk": fk_loss(pred_joints, target_joints, mask),
        "foot": foot_skate_loss(
            pred_joints, pred_frames[..., contract.CONTACTS], contact_threshold, mask
        ),
    }
    total = sum(weights[name] * value for name, value in terms.items())
    return total, terms
