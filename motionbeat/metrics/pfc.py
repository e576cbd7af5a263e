"""PFC, the physical foot contact score of EDGE (Tseng et al., CVPR 2023, ``eval/eval_pfc.py``).

For one clip of joint positions p_t (t = 0 .. T-1, metres) sampled every dt = 1 / fps:

    v_t = (p_{t+1} - p_t) / dt,  a_t = (v_{t+1} - v_t) / dt    root (pelvis), t = 0 .. T-3
    a_t[up] <- max(a_t[up], 0)                                 gravity pulls down for free
    A_t = |a_t| / max_s |a_s|                                  normalised within the clip
    s^j_t = |h(p^j_{t+2} - p^j_{t+1})|                         horizontal displacement per frame
    L_t = min(s^{l_ankle}_t, s^{l_toe}_t),  R_t = min(s^{r_ankle}_t, s^{r_toe}_t)
    PFC = 10000 * mean_t (L_t * R_t * A_t)

where h() keeps the two ground-plane components. Lower is better.

Traps, as in ``shared/reference/metrics.md``:

* **fps**: the foot term is a displacement per frame, not a speed, so the same motion scores
  about 4x higher at half the frame rate (two factors of 2; measured 3.95-4.14 on smooth
  random motion). The ``fps`` argument only sets dt,
  which cancels in A_t; the frame rate enters through the sampling. EDGE's numbers are at 30 fps.
* **clip length**: A_t is divided by the clip's maximum, so a longer clip (more chances for a
  large peak) changes the normalisation; report the clip length (EDGE: 5 s clips).
* **up axis**: EDGE's arrays are z-up. The project's arrays are y-up (``contract.UP_AXIS``);
  this function clamps the ``up_axis`` component and takes the other two as the ground plane.
  This is exactly the same as rotating y-up to z-up first (``kinematics.y_up_to_z_up``) because
  the norms are rotation invariant and the rotation maps +y to +z. Passing y-up data with
  ``up_axis=2`` reproduces the wrong-axis trap.

A clip whose root never accelerates (max |a| = 0) scores 0 here; EDGE would divide by zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from motionbeat.core import contract

PFC_SCALE: float = 10_000.0
"""EDGE prints the mean over clips times 10000."""

ROOT: int = contract.JOINT_INDEX["Pelvis"]
MIN_FRAMES: int = 3
"""Fewest frames that give one root acceleration."""


def _check_joints(joints: np.ndarray) -> np.ndarray:
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (contract.NUM_JOINTS, 3):
        expected = f"(T, {contract.NUM_JOINTS}, 3)"
        raise ValueError(f"expected joints of shape {expected}, got {joints.shape}")
    return joints


def ground_axes(up_axis: int) -> list[int]:
    """The two axes of the ground plane for a given up axis."""
    if up_axis not in (0, 1, 2):
        raise ValueError(f"up_axis must be 0, 1 or 2, got {up_axis}")
    return [axis for axis in range(3) if axis != up_axis]


def pfc_per_frame(joints: np.ndarray, fps: float, up_axis: int = contract.UP_AXIS) -> np.ndarray:
    """(T, 24, 3) joints -> (T-2,) unscaled per-frame terms L_t * R_t * A_t (see module doc)."""
    joints = _check_joints(joints)
    if joints.shape[0] < MIN_FRAMES:
        raise ValueError(f"PFC needs at least {MIN_FRAMES} frames, got {joints.shape[0]}")
    flat = ground_axes(up_axis)
    dt = 1.0 / fps

    root = joints[:, ROOT]  # (T, 3)
    root_v = np.diff(root, axis=0) / dt  # (T-1, 3)
    root_a = np.diff(root_v, axis=0) / dt  # (T-2, 3)
    root_a[:, up_axis] = np.maximum(root_a[:, up_axis], 0.0)
    root_a = np.linalg.norm(root_a, axis=-1)  # (T-2,)
    peak = root_a.max()
    if peak <= 0.0:
        return np.zeros_like(root_a)
    root_a = root_a / peak

    # horizontal displacement per frame (NOT divided by dt), aligned with a_t: frames t+1 -> t+2
    step = joints[2:, :, :] - joints[1:-1, :, :]  # (T-2, 24, 3)
    disp = np.linalg.norm(step[:, :, flat], axis=-1)  # (T-2, 24)
    left = disp[:, list(contract.LEFT_FOOT)].min(axis=1)  # (T-2,) min(ankle, toe)
    right = disp[:, list(contract.RIGHT_FOOT)].min(axis=1)  # (T-2,)
    return left * right * root_a


def pfc(joints: np.ndarray, fps: float, up_axis: int = contract.UP_AXIS) -> float:
    """PFC of one clip, times 10000 as EDGE reports it (lower is better).

    Args:
        joints: (T, 24, 3) SMPL joint positions in metres, T >= 3.
        fps: frame rate of ``joints``; the score depends on it (see module doc).
        up_axis: index of the vertical axis of ``joints``: the project's y-up by default,
            2 for EDGE's own z-up arrays.
    Returns:
        10000 * mean over the T-2 frames of min-left-foot-speed * min-right-foot-speed *
        normalised root acceleration.
    """
    return float(pfc_per_frame(joints, fps, up_axis).mean() * PFC_SCALE)


def pfc_batch(
    clips: Sequence[np.ndarray] | np.ndarray, fps: float, up_axis: int = contract.UP_AXIS
) -> float:
    """Mean PFC over clips (EDGE averages the per-clip scores), times 10000.

    Args:
        clips: (B, T, 24, 3) array or a sequence of (T_i, 24, 3) arrays.
        fps, up_axis: as in :func:`pfc`.
    """
    scores = [pfc(clip, fps, up_axis) for clip in clips]
    if not scores:
        raise ValueError("pfc_batch needs at least one clip")
    return float(np.mean(scores))
