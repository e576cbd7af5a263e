"""Rhythm signals of motion frames (torch): the foot-strike pulse and whole-body kinetic energy.

They are the motion side of the encoder's rhythm targets (``motionbeat.encoder.rhythm_alignment``) and
are pooled onto beat tokens with the corpus songs (``motionbeat.datasets.songs``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from motionbeat.core import contract, kinematics


def contact_pulse_from_frames(frames: torch.Tensor) -> torch.Tensor:
    """Foot-strike pulse: mean over the 4 contact channels of max(0, c[t] - c[t-1]), 0 at t=0.

    Args:
        frames: (..., T, 151) motion frames (contacts in [0, 1], see ``contract.CONTACTS``).
    Returns:
        (..., T) >= 0; pool to tokens with the audio module's ``pool_frames_to_tokens``.
    """
    contacts = frames[..., contract.CONTACTS]  # (..., T, 4)
    strike = (contacts[..., 1:, :] - contacts[..., :-1, :]).clamp(min=0).mean(dim=-1)
    return F.pad(strike, (1, 0))  # (..., T)


def kinetic_energy_from_frames(frames: torch.Tensor, fps: float = contract.FPS) -> torch.Tensor:
    """Whole-body kinetic energy per frame with unit mass per joint.

    KE[t] = 1/2 sum_j |v_j[t]|^2, v_j[t] = (p_j[t+1] - p_j[t]) * fps from forward kinematics
    of the 24 SMPL joints (neutral skeleton); the last frame repeats the previous one. Unit
    joint masses are our choice (a Bailando-style kinetic feature); curves are normalised
    before use, so only the shape matters.

    Args:
        frames: (..., T, 151) motion frames; fps: their rate.
    Returns:
        (..., T) in J per unit mass.
    """
    rot6d = frames[..., contract.ROTATIONS].unflatten(-1, (contract.NUM_JOINTS, contract.ROT6D_DIM))
    joints = kinematics.forward_kinematics(
        kinematics.rot6d_to_matrix(rot6d), frames[..., contract.ROOT_POS]
    )  # (..., T, 24, 3)
    if joints.shape[-3] < 2:
        return joints.new_zeros(joints.shape[:-2])
    velocity = (joints[..., 1:, :, :] - joints[..., :-1, :, :]) * fps  # (..., T-1, 24, 3)
    energy = 0.5 * velocity.pow(2).sum(dim=(-1, -2))  # (..., T-1)
    return torch.cat([energy, energy[..., -1:]], dim=-1)  # (..., T)
