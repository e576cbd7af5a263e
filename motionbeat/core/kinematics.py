"""Kinematics in torch: rotation conversions, forward kinematics, contacts, axes, resampling.

Everything is batched over any leading dimensions, differentiable, and batch-first.
Rotation conversions delegate to `roma` (Brégier, 3DV 2021), a maintained library; this
module only fixes the project's conventions on top of it:

* quaternions are roma's **XYZW** order, unit norm;
* 6-D rotations are the first two *rows* of the matrix (pytorch3d / EDGE layout, see
  ``contract``), decoded by Gram-Schmidt (Zhou et al., CVPR 2019).
"""

from __future__ import annotations

import math

import numpy as np
import roma
import torch

from motionbeat.core import contract

# ----------------------------------------------------------------------------- rotations


def axis_angle_to_matrix(aa: torch.Tensor) -> torch.Tensor:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrix (Rodrigues)."""
    return roma.rotvec_to_rotmat(aa)


def matrix_to_axis_angle(mat: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotation matrix -> (..., 3) axis-angle with angle in [0, pi]."""
    return roma.rotmat_to_rotvec(mat)


def axis_angle_to_quaternion(aa: torch.Tensor) -> torch.Tensor:
    """(..., 3) axis-angle -> (..., 4) unit quaternion, XYZW."""
    return roma.rotvec_to_unitquat(aa)


def quaternion_to_axis_angle(quat: torch.Tensor) -> torch.Tensor:
    """(..., 4) unit quaternion, XYZW -> (..., 3) axis-angle."""
    return roma.unitquat_to_rotvec(quat)


def quaternion_to_matrix(quat: torch.Tensor) -> torch.Tensor:
    """(..., 4) unit quaternion, XYZW -> (..., 3, 3)."""
    return roma.unitquat_to_rotmat(quat)


def matrix_to_quaternion(mat: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 4) unit quaternion, XYZW."""
    return roma.rotmat_to_unitquat(mat)


def matrix_to_rot6d(mat: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 6): the first two rows, row-major (pytorch3d / EDGE layout)."""
    return mat[..., :2, :].reshape(*mat.shape[:-2], contract.ROT6D_DIM)  # (..., 6)


def rot6d_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3, 3) by Gram-Schmidt on the two encoded rows.

    b1 = a1/|a1|, b2 = normalise(a2 - (b1.a2) b1), b3 = b1 x b2; the rows of R are b1, b2, b3.
    roma orthonormalises *columns*, so the two rows are passed as columns and the result is
    transposed back.
    """
    rows = d6.reshape(*d6.shape[:-1], 2, 3)  # (..., 2, 3)
    as_columns = rows.transpose(-1, -2)  # (..., 3, 2)
    return roma.special_gramschmidt(as_columns).transpose(-1, -2)  # (..., 3, 3)


def axis_angle_to_rot6d(aa: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 6)."""
    return matrix_to_rot6d(axis_angle_to_matrix(aa))


def rot6d_to_axis_angle(d6: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3)."""
    return matrix_to_axis_angle(rot6d_to_matrix(d6))


def quaternion_slerp(q0: torch.Tensor, q1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Element-wise spherical interpolation along the shortest arc.

    slerp(q0, q1, t) = q0 * exp(t * log(q0^-1 * q1)) (Shoemake, SIGGRAPH 1985). The log of a
    unit quaternion as a rotation vector has angle <= pi, which picks the shortest arc.

    Args:
        q0, q1: (..., 4) unit quaternions, XYZW.
        t: interpolation weights broadcastable to (...,), 0 gives q0 and 1 gives q1.
    """
    rel = roma.quat_composition([roma.quat_conjugation(q0), q1])  # (..., 4)
    rel_vec = roma.unitquat_to_rotvec(rel) * t.unsqueeze(-1)  # (..., 3)
    return roma.quat_composition([q0, roma.rotvec_to_unitquat(rel_vec)])  # (..., 4)


# ------------------------------------------------------------------------ forward kinematics


def rest_offsets(dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """(24, 3) neutral SMPL joint offsets from the contract, as a tensor."""
    return torch.tensor(contract.REST_OFFSETS, dtype=dtype, device=device)


def forward_kinematics(
    rotations: torch.Tensor, root_pos: torch.Tensor, offsets: torch.Tensor | None = None
) -> torch.Tensor:
    """World joint positions from local rotations.

    R_world[j] = R_world[parent(j)] @ R_local[j];
    p[j] = R_world[parent(j)] @ offset[j] + p[parent(j)], and p[root] = root_pos.

    Args:
        rotations: (..., 24, 3, 3) local rotation matrices, or (..., 24, 3) axis-angle.
        root_pos: (..., 3) root (pelvis) position in metres.
        offsets: (24, 3) or (..., 24, 3) bone offsets; the neutral SMPL skeleton by default.
    Returns:
        (..., 24, 3) joint positions in the same frame as ``root_pos``.
    """
    return forward_kinematics_with_rotations(rotations, root_pos, offsets)[0]


def forward_kinematics_with_rotations(
    rotations: torch.Tensor, root_pos: torch.Tensor, offsets: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`forward_kinematics` that also returns the (..., 24, 3, 3) world rotations R_world."""
    if rotations.shape[-1] == 3 and rotations.shape[-2] == contract.NUM_JOINTS:
        rotations = axis_angle_to_matrix(rotations)  # (..., 24, 3, 3)
    if offsets is None:
        offsets = rest_offsets(rotations.dtype, rotations.device)
    offsets = offsets.to(rotations.dtype).expand(*rotations.shape[:-3], contract.NUM_JOINTS, 3)
    world_rot: list[torch.Tensor] = []
    world_pos: list[torch.Tensor] = []
    for j, parent in enumerate(contract.PARENTS):
        if parent < 0:
            world_rot.append(rotations[..., j, :, :])
            world_pos.append(root_pos)
            continue
        parent_rot = world_rot[parent]  # (..., 3, 3)
        offset = offsets[..., j, :].unsqueeze(-1)  # (..., 3, 1)
        world_pos.append((parent_rot @ offset).squeeze(-1) + world_pos[parent])  # (..., 3)
        world_rot.append(parent_rot @ rotations[..., j, :, :])
    return torch.stack(world_pos, dim=-2), torch.stack(world_rot, dim=-3)  # (..., 24, 3), (..., 24, 3, 3)


def rest_joints() -> np.ndarray:
    """(24, 3) joint positions of the neutral rest pose with the root at the origin."""
    zero = torch.zeros(contract.NUM_JOINTS, 3)
    return forward_kinematics(zero, torch.zeros(3)).numpy()


# ------------------------------------------------------------------------------- contacts


def foot_speeds(joints: torch.Tensor, fps: float) -> torch.Tensor:
    """(..., T, 24, 3) -> (..., T, 4) speed of the contact joints in m/s.

    Speed of frame t is |p[t+1] - p[t]| * fps (forward difference, as EDGE); the last frame
    repeats the previous one so the output keeps T frames.
    """
    feet = joints[..., list(contract.FOOT_JOINTS), :]  # (..., T, 4, 3)
    if feet.shape[-3] < 2:
        return torch.zeros(feet.shape[:-1], dtype=feet.dtype, device=feet.device)
    speed = (feet[..., 1:, :, :] - feet[..., :-1, :, :]).norm(dim=-1) * fps  # (..., T-1, 4)
    return torch.cat([speed, speed[..., -1:, :]], dim=-2)  # (..., T, 4)


def foot_contacts(
    joints: torch.Tensor, fps: float, speed_threshold: float = contract.CONTACT_SPEED
) -> torch.Tensor:
    """(..., T, 24, 3) -> (..., T, 4) contact labels in {0, 1}, ordered as contract.FOOT_JOINTS.

    A foot joint is in contact where its speed is below ``speed_threshold`` m/s (EDGE's
    0.01 m/frame at 30 fps, stated in m/s so the labels do not depend on the frame rate).
    """
    return (foot_speeds(joints, fps) < speed_threshold).to(joints.dtype)


# ----------------------------------------------------------------------------------- axes

# Rotation by +90 degrees about x: (x, y, z) -> (x, -z, y) takes +y (SMPL up) to +z.
Y_UP_TO_Z_UP = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def y_up_to_z_up(points: torch.Tensor) -> torch.Tensor:
    """(..., 3) positions, y-up -> z-up (the frame EDGE's PFC and Blender use)."""
    return points @ Y_UP_TO_Z_UP.to(points).T


def z_up_to_y_up(points: torch.Tensor) -> torch.Tensor:
    """(..., 3) positions, z-up -> y-up; the inverse of :func:`y_up_to_z_up`."""
    return points @ Y_UP_TO_Z_UP.to(points)


def rotate_root_y_up_to_z_up(root_aa: torch.Tensor) -> torch.Tensor:
    """(..., 3) root axis-angle in a y-up world -> the same body orientation in a z-up world."""
    return matrix_to_axis_angle(Y_UP_TO_Z_UP.to(root_aa) @ axis_angle_to_matrix(root_aa))


# ----------------------------------------------------------------------------- resampling


def resampled_length(num_frames: int, fps_in: float, fps_out: float) -> int:
    """Frames at ``fps_out`` that span the same time as ``num_frames`` at ``fps_in``.

    Frame i sits at time i / fps; the output keeps every time inside [0, (T-1)/fps_in].
    """
    if num_frames <= 1:
        return num_frames
    span = (num_frames - 1) / fps_in
    return int(math.floor(span * fps_out + 1e-6)) + 1


def resample(
    poses: torch.Tensor, trans: torch.Tensor, fps_in: float, fps_out: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample a motion in time: rotations by slerp, translation linearly.

    Args:
        poses: (T, 24, 3) axis-angle; trans: (T, 3).
    Returns:
        poses (T', 24, 3) and trans (T', 3) at ``fps_out``; T' from :func:`resampled_length`.
    """
    num_in = poses.shape[0]
    num_out = resampled_length(num_in, fps_in, fps_out)
    if num_in <= 1 or fps_in == fps_out:
        return poses.clone(), trans.clone()
    pos = torch.arange(num_out, dtype=torch.float64) * (fps_in / fps_out)  # (T',) input frames
    return interpolate_frames(poses, trans, pos)


def interpolate_frames(
    poses: torch.Tensor, trans: torch.Tensor, positions: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """A motion read at fractional frame ``positions``: rotations by slerp, translation linearly.

    Args:
        poses: (T, 24, 3) axis-angle, T >= 2; trans: (T, 3); positions: (T',) frame indices in
            [0, T-1] (clamped there).
    Returns:
        poses (T', 24, 3) and trans (T', 3).
    """
    num_in = poses.shape[0]
    pos = positions.to(torch.float64).clamp(0, num_in - 1)  # (T',)
    lo = pos.floor().long().clamp(max=num_in - 2)  # (T',)
    frac = (pos - lo).to(poses.dtype)  # (T',)
    quats = axis_angle_to_quaternion(poses)  # (T, 24, 4)
    q = quaternion_slerp(quats[lo], quats[lo + 1], frac[:, None].expand(-1, poses.shape[1]))
    tr = trans[lo] + (trans[lo + 1] - trans[lo]) * frac[:, None]  # (T', 3)
    return quaternion_to_axis_angle(q), tr


# ------------------------------------------------------------------------ frame features


def motion_to_features(poses: torch.Tensor, trans: torch.Tensor, fps: float) -> torch.Tensor:
    """Axis-angle motion -> the 151-wide frames of the contract.

    Args:
        poses: (..., T, 24, 3) axis-angle; trans: (..., T, 3) root position in metres.
    Returns:
        (..., T, 151): [contacts 4 | root position 3 | 24 x 6-D rotation], see contract slices.
    """
    mats = axis_angle_to_matrix(poses)  # (..., T, 24, 3, 3)
    contacts = foot_contacts(forward_kinematics(mats, trans), fps)  # (..., T, 4)
    rot6d = matrix_to_rot6d(mats).flatten(-2)  # (..., T, 24 * 6)
    return torch.cat([contacts, trans, rot6d], dim=-1)  # (..., T, 151)


def features_to_motion(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(..., T, 151) frames -> poses (..., T, 24, 3), trans (..., T, 3), contacts (..., T, 4)."""
    if frames.shape[-1] != contract.FRAME_DIM:
        raise ValueError(f"expected frames of width {contract.FRAME_DIM}, got {frames.shape[-1]}")
    rot6d = frames[..., contract.ROTATIONS].unflatten(-1, (contract.NUM_JOINTS, contract.ROT6D_DIM))
    poses = rot6d_to_axis_angle(rot6d)  # (..., T, 24, 3)
    return poses, frames[..., contract.ROOT_POS], frames[..., contract.CONTACTS]
