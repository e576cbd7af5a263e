"""Posing maths shared by the bodies: rotations, forward kinematics, normals, blend skinning.

Every body is posed by linear blend skinning (Magnenat-Thalmann et al. 1988; SMPL's ``lbs``):
with world joint transforms ``G_j = [R_j | p_j - R_j b_j]`` (``b_j`` the rest joint),
``v' = (sum_k w_vk G_jk) [v; 1]``. Normals take the blended rotation, ``n' ~ (sum_k w_vk R_jk) n``,
renormalised. The blend is one sparse (V x J) by dense (J x 12T) product per chunk of frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse
import torch

from motionbeat.core import contract, kinematics
from render.bodies.base import PosedMesh


def rotation_matrices(axis_angle: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrices (Rodrigues, via roma)."""
    with torch.no_grad():
        return kinematics.axis_angle_to_matrix(
            torch.from_numpy(np.ascontiguousarray(axis_angle))
        ).numpy()


def world_transforms(
    local_rot: np.ndarray, root_pos: np.ndarray, offsets: np.ndarray, parents: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Forward kinematics returning world rotations as well as positions.

    R_w[j] = R_w[parent] @ R_local[j];  p[j] = p[parent] + R_w[parent] @ offset[j];  p[root] = root.
    Parents must precede children.

    Args:
        local_rot: (T, J, 3, 3) local rotations. root_pos: (T, 3). offsets: (J, 3).
    Returns:
        rotations (T, J, 3, 3) and positions (T, J, 3).
    """
    num_frames, num_joints = local_rot.shape[:2]
    rot = np.empty_like(local_rot)
    pos = np.empty((num_frames, num_joints, 3), dtype=local_rot.dtype)
    for j, parent in enumerate(parents):
        if parent < 0:
            rot[:, j] = local_rot[:, j]
            pos[:, j] = root_pos
            continue
        rot[:, j] = rot[:, parent] @ local_rot[:, j]
        pos[:, j] = pos[:, parent] + rot[:, parent] @ offsets[j]
    return rot, pos


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(T, V, 3) vertices -> (T, V, 3) unit normals, area-weighted mean of the face normals."""
    with torch.no_grad():
        verts = torch.from_numpy(np.ascontiguousarray(vertices, dtype=np.float32))
        tri = torch.from_numpy(faces.astype(np.int64))
        v0, v1, v2 = verts[:, tri[:, 0]], verts[:, tri[:, 1]], verts[:, tri[:, 2]]  # (T, F, 3)
        face_n = torch.linalg.cross(v1 - v0, v2 - v0)  # (T, F, 3), length = 2 * area
        normals = torch.zeros_like(verts)
        for corner in range(3):
            normals.index_add_(1, tri[:, corner], face_n)
        return torch.nn.functional.normalize(normals, dim=-1).numpy()


class _LinearBlendSkin:
    """Linear blend skinning with a sparse weight matrix.

    Args:
        rest_vertices: (V, 3) bind-pose vertices. rest_normals: (V, 3).
        joint_index: (V, K) joints influencing each vertex. joint_weight: (V, K), rows sum to 1.
        bind_joints: (J, 3) joint positions in the bind pose.
    """

    def __init__(self, rest_vertices, rest_normals, joint_index, joint_weight, bind_joints):
        num_verts, influences = joint_index.shape
        self.num_joints = bind_joints.shape[0]
        self.rest_vertices = np.asarray(rest_vertices, dtype=np.float32)
        self.rest_normals = np.asarray(rest_normals, dtype=np.float32)
        self.bind_joints = np.asarray(bind_joints, dtype=np.float32)
        rows = np.repeat(np.arange(num_verts), influences)
        self.weights = scipy.sparse.csr_matrix(
            (joint_weight.ravel().astype(np.float32), (rows, joint_index.ravel())),
            shape=(num_verts, self.num_joints),
        )  # (V, J)

    def __call__(self, rot: np.ndarray, pos: np.ndarray) -> PosedMesh:
        """World joint rotations (T, J, 3, 3) and positions (T, J, 3) -> posed mesh."""
        num_frames = rot.shape[0]
        shift = pos - np.einsum("tjab,jb->tja", rot, self.bind_joints)  # (T, J, 3)
        affine = np.concatenate([rot, shift[..., None]], axis=-1)  # (T, J, 3, 4)
        flat = affine.transpose(1, 0, 2, 3).reshape(self.num_joints, num_frames * 12)  # (J, 12T)
        blended = np.asarray(self.weights @ flat, dtype=np.float32)  # (V, 12T)
        blended = blended.reshape(-1, num_frames, 3, 4).transpose(1, 0, 2, 3)  # (T, V, 3, 4)
        linear = blended[..., :3]  # (T, V, 3, 3)
        verts = np.einsum("tvij,vj->tvi", linear, self.rest_vertices) + blended[..., 3]
        normals = np.einsum("tvij,vj->tvi", linear, self.rest_normals)
        normals /= np.maximum(np.linalg.norm(normals, axis=-1, keepdims=True), 1e-8)
        return PosedMesh(verts.astype(np.float32), normals.astype(np.float32))


def smpl_world_transforms(poses: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World rotations (T, 24, 3, 3) and positions (T, 24, 3) of the contract skeleton.

    The positions equal :meth:`motionbeat.core.motion.Motion.joints`.
    """
    return world_transforms(
        rotation_matrices(poses), trans, contract.REST_OFFSETS, contract.PARENTS
    )
