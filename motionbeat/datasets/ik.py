"""Inverse kinematics: SMPL rotations from joint positions alone (positions-only datasets).

Given source joint positions P (T, J, 3) and a joint map, find SMPL local rotations R (T, 24)
and root positions r (T, 3) whose forward kinematics FK(R, r) (the project's, neutral SMPL
offsets) reaches the mapped joints:

1. **Initial guess**, analytic: :func:`motionbeat.datasets.retarget.retarget` without source
   rotations: every SMPL bone is turned, with no invented twist, to point at its source child
   (Kabsch for the pelvis and upper spine). Axes, units and the root scale are detected there;
   here the scale is the ratio of SMPL's leg length (hip-knee-ankle bone lengths) to the
   source's median one, since a positions-only capture has no rest pose.
2. **Refinement** by Adam (cosine-decayed learning rate) over 6-D local rotations (Zhou et
   al., CVPR 2019) and the root:

       L = mean_{t, j mapped} |FK(R, r)_tj - s P'_tj|^2
           + SMOOTH_WEIGHT * mean_t (|R6_{t+1} - R6_t|^2 + |r_{t+1} - r_t|^2)

   with P' the y-up source and s the root scale. All frames are solved at once (batched FK).
   It is skipped when the guess is already within ``GOOD_ENOUGH_M`` on average.
   Unmapped joints (e.g. a spine joint the capture lacks) are free variables of the fit.

The result records its residual: mean and max distance, metres, between SMPL's mapped joints
and the scaled source joints (``Motion.meta["ik_mean_error_m"]``, ``["ik_max_error_m"]``). On
positions made by SMPL forward kinematics the error is under 1 cm (the tests); on a capture with
other bone proportions it is the proportion difference and is reported, not hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from motionbeat.core import contract, kinematics
from motionbeat.core.motion import Motion
from motionbeat.datasets import joint_maps
from motionbeat.datasets.retarget import Z_UP_TO_Y_UP, retarget

IK_ITERATIONS: int = 150
"""Adam steps of the refinement."""
IK_LR: float = 0.01
"""Adam learning rate (6-D rotation units and metres)."""
SMOOTH_WEIGHT: float = 1e-3
"""Weight of the first-difference smoothness term."""
GOOD_ENOUGH_M: float = 5e-4
"""Mean residual (metres) of the initial guess below which the refinement is skipped: the guess
already reaches every mapped joint (a skeleton with SMPL's proportions and every joint mapped)."""
LEG_BONES: tuple[tuple[str, str], ...] = (("L_Hip", "L_Knee"), ("L_Knee", "L_Ankle"),
                                          ("R_Hip", "R_Knee"), ("R_Knee", "R_Ankle"))


@dataclass(frozen=True)
class IKResult:
    """The solved motion and its residual on the mapped joints (metres)."""

    motion: Motion
    mean_error_m: float
    max_error_m: float
    initial_mean_error_m: float


def leg_length(positions: np.ndarray, found: dict[int, int]) -> float:
    """Median over frames of the mean hip-knee + knee-ankle length, source units."""
    j = contract.JOINT_INDEX
    bones = [np.linalg.norm(positions[:, found[j[a]]] - positions[:, found[j[b]]], axis=-1)
             for a, b in LEG_BONES]  # each (T,)
    return float(np.median(np.mean(bones, axis=0)) * 2.0)


SMPL_LEG_LENGTH: float = float(sum(
    np.linalg.norm(contract.REST_OFFSETS[contract.JOINT_INDEX[b]]) for _, b in LEG_BONES) / 2.0)
"""SMPL's hip-knee-ankle length (mean of the two legs), metres."""


def solve_ik(
    positions: np.ndarray,
    names: list[str] | tuple[str, ...],
    fps: float,
    joint_map: dict[str, str] | None = None,
    *,
    iterations: int = IK_ITERATIONS,
    smooth_weight: float = SMOOTH_WEIGHT,
    analytic_init: bool = True,
) -> IKResult:
    """(T, J, 3) source joint positions -> SMPL :class:`Motion` at ``fps`` (module docstring)."""
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[-1] != 3 or positions.shape[1] != len(names):
        raise ValueError(f"positions must be (T, {len(names)}, 3), got {positions.shape}")
    if joint_map is None:
        _, joint_map = joint_maps.detect_joint_map(names)
    found = joint_maps.resolve(joint_map, names)
    joint_maps.check_core_joints(found, "the joint map does not fit these joints")
    # no rest pose: the mean pose over the dance tells the up axis (a dancer is upright on average)
    init, info = retarget(positions, names, positions.mean(axis=0), fps, joint_map)
    m = np.eye(3) if info["up_axis"] == "y" else Z_UP_TO_Y_UP
    scale = SMPL_LEG_LENGTH / leg_length(positions, found)
    smpl_idx = sorted(found)
    target = torch.tensor(positions[:, [found[k] for k in smpl_idx]] @ m.T * scale,
                          dtype=torch.float32)  # (T, K, 3) y-up metres, SMPL proportions
    if analytic_init:
        poses0, trans0 = torch.from_numpy(init.poses), target[:, smpl_idx.index(0)].clone()
    else:
        poses0, trans0 = torch.zeros_like(torch.from_numpy(init.poses)), target[:, smpl_idx.index(0)].clone()
    rot6d = kinematics.axis_angle_to_rot6d(poses0).clone().requires_grad_(True)  # (T, 24, 6)
    trans = trans0.clone().requires_grad_(True)  # (T, 3)

    def error() -> torch.Tensor:
        joints = kinematics.forward_kinematics(kinematics.rot6d_to_matrix(rot6d), trans)  # (T, 24, 3)
        return (joints[:, smpl_idx] - target).norm(dim=-1)  # (T, K)

    with torch.no_grad():
        initial = float(error().mean())
    if initial < GOOD_ENOUGH_M:
        iterations = 0
    opt = torch.optim.Adam([rot6d, trans], lr=IK_LR)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(iterations, 1))
    for _ in range(iterations):
        opt.zero_grad()
        loss = error().square().mean()
        if rot6d.shape[0] > 1:
            loss = loss + smooth_weight * ((rot6d[1:] - rot6d[:-1]).square().sum(-1).mean()
                                           + (trans[1:] - trans[:-1]).square().sum(-1).mean())
        loss.backward()
        opt.step()
        schedule.step()
    with torch.no_grad():
        err = error()
        poses = kinematics.rot6d_to_axis_angle(rot6d).numpy()  # (T, 24, 3)
        motion = Motion(poses, trans.numpy(), fps)
    mean_err, max_err = float(err.mean()), float(err.max())
    meta = {**{k: v for k, v in info.items() if k != "root_scale"}, "root_scale": scale,
            "ik_mean_error_m": mean_err, "ik_max_error_m": max_err, "ik_iterations": iterations}
    return IKResult(replace(motion, meta=meta), mean_err, max_err, initial)
