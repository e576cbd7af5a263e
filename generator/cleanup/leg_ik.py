"""Analytic two-bone inverse kinematics for the SMPL legs (hip -> knee -> ankle).

Given the world positions of hip H, knee K and ankle A and an ankle target A*, the thigh length
l1 = |K - H| and shin length l2 = |A - K| stay fixed, the knee stays in the plane spanned by the
hip-to-target direction u = (A* - H) / |A* - H| and the current knee's offset from that line
(the "pole", so the knee keeps pointing where it pointed), and the law of cosines places it:

    d = clamp(|A* - H|, |l1 - l2|, l1 + l2)        (an unreachable target is reached as far as
                                                    the leg allows)
    cos(alpha) = (l1^2 + d^2 - l2^2) / (2 l1 d)      (angle at the hip between thigh and u)
    K' = H + l1 (cos(alpha) u + sin(alpha) w),  A' = H + d u

with w the unit pole direction orthogonal to u. The rotations follow by the smallest rotation
that turns each old bone onto its new direction: R1 turns K - H onto K' - H (applied to the hip's
world rotation), R2 turns R1 (A - K) onto A' - K' (applied, after R1, to the knee's). The ankle's
world rotation is kept, so the foot keeps its orientation and the toe moves with the ankle;
given a toe target T* as well, the foot turns by the smallest rotation that puts the toe over
T*'s floor position (x, z) with the foot's length kept: the toe's height follows from that
length, on the side of the ankle it was (a target out of the foot's reach is reached as far as
the level foot allows).
This is the textbook two-bone solver of character animation (e.g. Buss, "Introduction to inverse
kinematics", 2004, section 1; Unity / Unreal "two bone IK" nodes).
"""

from __future__ import annotations

import numpy as np

from motionbeat.core import contract

LEGS: tuple[tuple[int, int, int], ...] = tuple(
    (contract.JOINT_INDEX[f"{s}_Hip"], contract.JOINT_INDEX[f"{s}_Knee"], contract.JOINT_INDEX[f"{s}_Ankle"])
    for s in ("L", "R")
)
"""(hip, knee, ankle) joint indices of the left and the right leg."""
REACH_MARGIN: float = 1e-4
"""Fraction of the leg length kept from full extension (a straight knee has no bend plane)."""
KNEE_FORWARD: np.ndarray = np.array([0.0, 0.0, 1.0], np.float32)
"""Knee's facing direction in its own frame (SMPL bodies face +z): the pole of a straight leg."""


def _unit(v: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) smallest rotations taking the directions of ``a`` onto those of ``b``.

    Rodrigues' formula with v = a x b, c = a . b (unit vectors): R = I + [v]x + [v]x^2 / (1 + c).
    Exactly opposite vectors (c = -1) have no unique answer and are not expected here.
    """
    a, b = _unit(a), _unit(b)
    v = np.cross(a, b)  # (..., 3)
    c = np.sum(a * b, axis=-1)[..., None, None]  # (..., 1, 1)
    vx = np.zeros(v.shape + (3,), v.dtype)  # (..., 3, 3) cross-product matrix of v
    vx[..., 0, 1], vx[..., 0, 2] = -v[..., 2], v[..., 1]
    vx[..., 1, 0], vx[..., 1, 2] = v[..., 2], -v[..., 0]
    vx[..., 2, 0], vx[..., 2, 1] = -v[..., 1], v[..., 0]
    eye = np.broadcast_to(np.eye(3, dtype=v.dtype), vx.shape)
    return eye + vx + vx @ vx / np.maximum(1.0 + c, 1e-8)


def solve_leg(
    local: np.ndarray, world: np.ndarray, joints: np.ndarray, leg: tuple[int, int, int],
    target: np.ndarray, toe_target: np.ndarray | None = None,
) -> np.ndarray:
    """New (T, 24, 3, 3) local rotations putting the ``leg``'s ankle on ``target`` (module doc).

    Args:
        local, world: (T, 24, 3, 3) local and world rotations of the pose.
        joints: (T, 24, 3) world joint positions of the pose.
        leg: (hip, knee, ankle) indices, one of :data:`LEGS`.
        target: (T, 3) ankle targets, world frame.
        toe_target: (T, 3) targets for the foot's child joint (the toe), or None to keep the
            ankle's world rotation.
    Only the hip, knee and ankle local rotations change.
    """
    hip, knee, ankle = leg
    pelvis = contract.PARENTS[hip]
    h, k, a = joints[:, hip], joints[:, knee], joints[:, ankle]  # each (T, 3)
    l1 = np.linalg.norm(k - h, axis=-1)  # (T,)
    l2 = np.linalg.norm(a - k, axis=-1)  # (T,)
    to_target = target - h  # (T, 3)
    u = _unit(to_target)
    d = np.clip(np.linalg.norm(to_target, axis=-1), np.abs(l1 - l2) * (1 + REACH_MARGIN),
                (l1 + l2) * (1 - REACH_MARGIN))  # (T,)
    # pole: the knee's offset from the hip-target line; a straight knee falls back on its facing
    pole = (k - h) - np.sum((k - h) * u, axis=-1, keepdims=True) * u  # (T, 3)
    facing = world[:, knee] @ KNEE_FORWARD  # (T, 3)
    facing = facing - np.sum(facing * u, axis=-1, keepdims=True) * u
    straight = np.linalg.norm(pole, axis=-1, keepdims=True) < 1e-4 * np.maximum(l1, 1e-9)[:, None]
    w = _unit(np.where(straight, facing, pole))  # (T, 3)
    cos_a = np.clip((l1**2 + d**2 - l2**2) / (2 * l1 * d), -1.0, 1.0)  # (T,)
    sin_a = np.sqrt(1.0 - cos_a**2)
    new_k = h + l1[:, None] * (cos_a[:, None] * u + sin_a[:, None] * w)  # (T, 3)
    new_a = h + d[:, None] * u  # (T, 3)

    r1 = rotation_between(k - h, new_k - h)  # (T, 3, 3)
    hip_world = r1 @ world[:, hip]
    shin = np.einsum("tij,tj->ti", r1, a - k)  # (T, 3) the shin after the thigh's turn
    knee_world = rotation_between(shin, new_a - new_k) @ r1 @ world[:, knee]

    ankle_world = world[:, ankle]
    if toe_target is not None:
        toe = contract.PARENTS.index(ankle)
        up = contract.UP_AXIS
        foot = joints[:, toe] - a  # (T, 3), the vector a kept ankle rotation would keep
        length = np.linalg.norm(foot, axis=-1)  # (T,)
        aim = toe_target - new_a  # (T, 3)
        aim[:, up] = 0.0
        flat = np.linalg.norm(aim, axis=-1)  # (T,)
        aim *= np.minimum(1.0, length / np.maximum(flat, 1e-9))[:, None]
        rise = np.sqrt(np.maximum(length**2 - np.sum(aim**2, axis=-1), 0.0))  # (T,)
        aim[:, up] = np.where(foot[:, up] >= 0.0, rise, -rise)
        ankle_world = rotation_between(foot, aim) @ ankle_world

    out = local.copy()
    out[:, hip] = np.swapaxes(world[:, pelvis], -1, -2) @ hip_world
    out[:, knee] = np.swapaxes(hip_world, -1, -2) @ knee_world
    out[:, ankle] = np.swapaxes(knee_world, -1, -2) @ ankle_world
    return out
