"""Foot locking: root motion re-derived from the feet the model says are planted.

A diffusion model predicts root translation and foot contacts separately, so a foot it labels
planted can still slide a little on the floor (the foot skate that PFC measures and that
animators clean by hand). Following the usual root-motion clean-up of character animation,
the horizontal root path is corrected so that planted feet stay where they landed:

    planted[t, f] = c[t-1, f] > tau and c[t, f] > tau            (contact in both frames)
    d[t] = mean over planted f of (p[t, f] - p[t-1, f]), horizontal components only
    trans'[t] = trans[t] - sum_{s <= t} d[s]

with c the predicted contact channels (ordered as ``contract.FOOT_JOINTS``), p the FK
positions of those joints and tau = :data:`CONTACT_THRESHOLD`. Translating the root moves every
joint by the same vector, so a single planted foot joint ends up exactly still; with several
planted joints their mean slide is removed. Frames with no planted foot (jumps, kicks, the
flight of a travelling step) keep the model's own root velocity, so travelling steps travel by
their footholds. Poses, heights and contacts are unchanged.
"""

from __future__ import annotations

import numpy as np
import torch

from motionbeat import contract
from motionbeat.kinematics import axis_angle_to_matrix, forward_kinematics

CONTACT_THRESHOLD: float = 0.5
"""Predicted contact probability above which a foot joint counts as planted (midpoint)."""
HORIZONTAL: tuple[int, int] = tuple(a for a in range(3) if a != contract.UP_AXIS)
"""The two floor axes of the contract's y-up frame."""


def lock_planted_feet(
    poses: np.ndarray, trans: np.ndarray, contacts: np.ndarray,
    threshold: float = CONTACT_THRESHOLD,
) -> np.ndarray:
    """(T, 3) root translation with planted feet held still (module docstring).

    Args:
        poses: (T, 24, 3) axis-angle local rotations; trans: (T, 3) root positions (metres, y up);
        contacts: (T, 4) predicted contact probabilities in ``contract.FOOT_JOINTS`` order.
    """
    poses = np.asarray(poses, np.float32)
    trans = np.asarray(trans, np.float32)
    contacts = np.asarray(contacts, np.float32)
    if poses.shape[0] != trans.shape[0] or contacts.shape != (trans.shape[0], contract.NUM_CONTACTS):
        raise ValueError(f"poses {poses.shape}, trans {trans.shape} and contacts {contacts.shape} "
                         "must cover the same frames")
    if trans.shape[0] < 2:
        return trans.copy()
    with torch.no_grad():
        mats = axis_angle_to_matrix(torch.from_numpy(poses))  # (T, 24, 3, 3)
        joints = forward_kinematics(mats, torch.from_numpy(trans)).numpy()  # (T, 24, 3)
    feet = joints[:, list(contract.FOOT_JOINTS)]  # (T, 4, 3)
    step = feet[1:] - feet[:-1]  # (T-1, 4, 3)
    planted = (contacts[1:] > threshold) & (contacts[:-1] > threshold)  # (T-1, 4)
    weight = planted.astype(np.float32)
    slide = (step * weight[..., None]).sum(axis=1) / np.maximum(weight.sum(axis=1), 1.0)[:, None]
    correction = np.zeros_like(trans)  # (T, 3)
    axes = list(HORIZONTAL)
    correction[1:, axes] = np.cumsum(slide[:, axes], axis=0)
    return trans - correction
