"""Kinetic motion features (72-d) of the AIST++ API, and the preparation both feature sets need.

Source: AIST++ API ``aist_plusplus/features/{kinetic,utils}.py`` (Li et al., ICCV 2021; after
fairmotion), copied byte for byte by Bailando ``utils/features/kinetic.py`` and used by
``utils/metrics_new.py`` for FID_k / Div_k.

Input: joints p_i (i = 0 .. T-1), y-up, 60 fps, the first frame's root subtracted
(:func:`prepare_for_features`); dt = 1 / fps; window w = 2 frames. For every joint and every
i = 1 .. T-1 (d_k = p_k - p_{k-1}):

    vbar_i = sum_{k in K_i} d_k / (|K_i| dt),            K_i = [max(1, i-w), min(T-1, i+w)]
    abar_i = (1 / |A_i|) sum_{k in A_i} (v2_k - v1_k) / dt, A_i = [max(1, i-w), min(T-2, i+w)]
    v2_k = (p_{k+1} - p_k) / dt,   v1_k = (p_k - p_{k-1}) / dt

    features = [ mean_i |h(vbar_i)|^2,  mean_i |vbar_i[up]|^2,  mean_i |abar_i| ]   per joint

with h() the horizontal (x, z) part; joint-major, so 24 x 3 = 72 numbers.

Known quirk (kept by default for comparability): the API's acceleration has
``v1 = p_k - p_{k-1} / dt`` (operator precedence: only the second position is divided by dt),
which makes the third feature depend on absolute position. ``aistpp_accel_quirk=False`` uses
the corrected v1. The AIST++ API (commit 74fac6d) and several ports carry the quirk; the
revision of Bailando's ``utils/features/utils.py`` we read has the corrected line, so check
which one a published number used before comparing.
"""

from __future__ import annotations

import numpy as np

from motionbeat.core import contract

SLIDING_WINDOW: int = 2
"""Half-width of the averaging window in frames (AIST++ ``sliding_window=2`` at 60 fps)."""

FEATURE_FPS: int = contract.AISTPP_FPS
"""Frame rate the AIST++ features are defined at (``frame_time = 1 / 60``)."""

ROOT: int = contract.JOINT_INDEX["Pelvis"]
KINETIC_DIM: int = contract.NUM_JOINTS * 3

# Rotation by -90 degrees about x, (x, y, z) -> (x, z, -y): z-up to y-up, the inverse of
# ``kinematics.Y_UP_TO_Z_UP`` (which takes +y to +z); written here so metrics stay numpy-only.
_Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def to_y_up(joints: np.ndarray, up_axis: int) -> np.ndarray:
    """(..., 3) positions with the given up axis -> y-up (``contract.UP_AXIS``).

    Only y-up (returned as float64) and z-up (rotated by -90 degrees about x, the inverse of
    ``kinematics.y_up_to_z_up``) are accepted.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if up_axis == contract.UP_AXIS:
        return joints
    if up_axis == 2:
        return joints @ _Z_UP_TO_Y_UP.T
    raise ValueError(f"up_axis must be {contract.UP_AXIS} (y-up) or 2 (z-up), got {up_axis}")


def resample_linear(joints: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """(T, J, 3) positions -> (T', J, 3) by linear interpolation in time.

    Frame i sits at i / fps; T' = floor((T - 1) / fps_in * fps_out) + 1 covers the same span
    (the convention of ``kinematics.resampled_length``). 30 -> 60 fps doubles the frames minus one.
    """
    joints = np.asarray(joints, dtype=np.float64)
    num_in = joints.shape[0]
    if num_in <= 1 or fps_in == fps_out:
        return joints.copy()
    num_out = int(np.floor((num_in - 1) / fps_in * fps_out + 1e-6)) + 1
    t_out = np.arange(num_out) * (fps_in / fps_out)  # (T',) in input frames
    lo = np.minimum(np.floor(t_out).astype(int), num_in - 2)  # (T',)
    frac = (t_out - lo)[:, None, None]  # (T', 1, 1)
    return joints[lo] + (joints[lo + 1] - joints[lo]) * frac


def prepare_for_features(
    joints: np.ndarray, fps: float, up_axis: int = contract.UP_AXIS
) -> np.ndarray:
    """Bring a clip to the AIST++ feature protocol: y-up, 60 fps, first root at the origin.

    Args:
        joints: (T, 24, 3) joint positions in metres at ``fps``.
        fps: frame rate of ``joints`` (the project's 30 is resampled to 60 by linear
            interpolation of positions, as the field does on joints).
        up_axis: vertical axis of ``joints``; z-up input is rotated to y-up.
    Returns:
        (T', 24, 3) at ``contract.AISTPP_FPS`` with ``p - p[0, root]`` (all three coordinates,
        as Bailando ``calc_and_save_feats``).
    """
    joints = to_y_up(joints, up_axis)
    joints = resample_linear(joints, fps, FEATURE_FPS)
    return joints - joints[:1, ROOT : ROOT + 1, :]


def _window_sum(values: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Sum of values[first[i] .. last[i]] (inclusive) along axis 0 via a cumulative sum."""
    cum = np.concatenate([np.zeros_like(values[:1]), np.cumsum(values, axis=0)])
    return cum[last + 1] - cum[first]


def kinetic_features(
    joints: np.ndarray,
    fps: float = FEATURE_FPS,
    up_axis: int = contract.UP_AXIS,
    aistpp_accel_quirk: bool = True,
) -> np.ndarray:
    """(T, J, 3) prepared joints -> (3 J,) kinetic features (72 for SMPL); see module doc.

    Args:
        joints: positions after :func:`prepare_for_features` (T >= 3). The first-root
            subtraction matters only through the quirk, which sees absolute positions.
        fps: frame rate; dt = 1 / fps. The window is in frames (2), so only 60 fps
            reproduces the field's numbers.
        up_axis: vertical axis (y-up by default, as the API's ``up_vec="y"``).
        aistpp_accel_quirk: keep the API's acceleration bug (default) or correct it.
    """
    p = np.asarray(joints, dtype=np.float64)
    if p.ndim != 3 or p.shape[-1] != 3:
        raise ValueError(f"expected joints of shape (T, J, 3), got {p.shape}")
    num = p.shape[0]
    if num < 3:
        raise ValueError(f"kinetic features need at least 3 frames, got {num}")
    dt = 1.0 / fps
    flat = [axis for axis in range(3) if axis != up_axis]
    i = np.arange(1, num)  # (T-1,) the frames averaged over

    # velocity windows over d_k, k = 1 .. T-1, stored at index k - 1
    d = p[1:] - p[:-1]  # (T-1, J, 3)
    first = np.maximum(1, i - SLIDING_WINDOW) - 1
    last = np.minimum(num - 1, i + SLIDING_WINDOW) - 1
    count = (last - first + 1)[:, None, None]  # (T-1, 1, 1)
    vbar = _window_sum(d, first, last) / (count * dt)  # (T-1, J, 3)
    energy_h = np.mean(np.sum(vbar[..., flat] ** 2, axis=-1), axis=0)  # (J,)
    energy_v = np.mean(vbar[..., up_axis] ** 2, axis=0)  # (J,)

    # accelerations at k = 1 .. T-2, stored at index k - 1
    v2 = (p[2:] - p[1:-1]) / dt  # (T-2, J, 3)
    v1 = p[1:-1] - p[:-2] / dt if aistpp_accel_quirk else (p[1:-1] - p[:-2]) / dt
    acc = (v2 - v1) / dt  # (T-2, J, 3)
    first = np.maximum(1, i - SLIDING_WINDOW) - 1
    last = np.minimum(num - 2, i + SLIDING_WINDOW) - 1
    count = (last - first + 1)[:, None, None]
    abar = _window_sum(acc, first, last) / count  # (T-1, J, 3)
    expenditure = np.mean(np.linalg.norm(abar, axis=-1), axis=0)  # (J,)

    return np.stack([energy_h, energy_v, expenditure], axis=-1).reshape(-1)  # (3 J,)
