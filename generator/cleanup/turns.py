"""Turn snaps smoothed: the body's orientation may not jump by more than a dancer can turn.

The generator now and then snaps the whole body round between two frames (up to 120-136
degrees in one 1/30 s frame on held-out songs), where the corpus never turns the pelvis by more
than about 22 degrees a frame. :func:`smooth_turn_snaps` spreads such a snap over its
neighbours: with R_t the root's world rotation and the per-frame increments

    w_t = log(R_{t+1} R_t^T)                     (axis-angle, world frame)

every step with |w_t| > :data:`MAX_TURN_PER_FRAME` gets a window of steps around it, grown one
step on each side until the window's mean increment is within the limit (or the window reaches
:data:`MAX_WINDOW_FRAMES`); the window's steps all become that mean, so a turn about a fixed
axis ends exactly where it did, only spread in time. Frames after a window keep their own
increments (a turn about a changing axis may end a little differently, and the rest of the
dance is turned by that small difference). Only the root rotation changes.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from motionbeat.core.kinematics import axis_angle_to_matrix, matrix_to_axis_angle

MAX_TURN_PER_FRAME: float = math.radians(25.0)
"""Largest root turn per 30 fps frame left alone: above the corpus' largest (21.8 degrees on
the validation dances) and about 750 degrees per second, two turns a second."""
MAX_WINDOW_FRAMES: int = 15
"""Widest window a snap is spread over (0.5 s); a longer run of fast turning is left as is."""


def _log(mats: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return matrix_to_axis_angle(torch.from_numpy(mats)).numpy()


def _exp(vecs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return axis_angle_to_matrix(torch.from_numpy(vecs)).numpy()


def snap_windows(steps: np.ndarray, limit: float, max_frames: int) -> list[tuple[int, int]]:
    """Half-open step windows [a, b) that spread the snaps of (S, 3) increments ``steps``."""
    angle = np.linalg.norm(steps, axis=-1)  # (S,)
    windows: list[tuple[int, int]] = []
    s = 0
    while s < len(steps):
        if angle[s] <= limit:
            s += 1
            continue
        lowest = windows[-1][1] if windows else 0  # windows never overlap
        a, b = s, s + 1
        while np.linalg.norm(steps[a:b].mean(axis=0)) > limit and b - a < max_frames:
            grown = False
            if a > lowest:
                a, grown = a - 1, True
            if b < len(steps):
                b, grown = b + 1, True
            if not grown:
                break
        if np.linalg.norm(steps[a:b].mean(axis=0)) <= limit:
            windows.append((a, b))
            s = b
        else:  # sustained fast turning, not a snap: leave it
            s += 1
    return windows

def smooth_turn_snaps(
    root_rotvec: np.ndarray, limit: float = MAX_TURN_PER_FRAME, max_frames: int = MAX_WINDOW_FRAMES
) -> np.ndarray:
    """(T, 3) root axis-angle rotations with turn snaps spread out (module docstring)."""
    rotvec = np.asarray(root_rotvec, np.float64)
    if len(rotvec) < 2:
        return np.asarray(root_rotvec, np.float32).copy()
    mats = _exp(rotvec)  # (T, 3, 3)
    steps = _log(mats[1:] @ np.swapaxes(mats[:-1], -1, -2))  # (T-1, 3) world-frame increments
    windows = snap_windows(steps, limit, max_frames)
    if not windows:
        return np.asarray(root_rotvec, np.float32).copy()
    out = mats.copy()
    carry = np.eye(3)  # rotation the frames after the last window are turned by
    done = 0
    for a, b in windows:
        out[done:a + 1] = carry @ mats[done:a + 1]
        mean = _exp(steps[a:b].mean(axis=0))  # (3, 3)
        for t in range(a, b):
            out[t + 1] = mean @ out[t]
        carry = out[b] @ mats[b].T
        done = b + 1
    out[done:] = carry @ mats[done:]
    return _log(out).astype(np.float32)
