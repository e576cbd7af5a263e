"""The skeleton body: spheres on the joints and capsules on the bones of the contract skeleton.

Fast, licence free, exact joint positions.
"""

from __future__ import annotations

import numpy as np
import trimesh

from motionbeat.core import contract
from motionbeat.core.contract import JOINT_INDEX as _J
from render.bodies.base import PosedMesh, _as_batch, _chunked, _unbatch
from render.bodies.skinning import smpl_world_transforms

SKELETON_LEFT_COLOR = (0.30, 0.55, 0.90)
SKELETON_RIGHT_COLOR = (0.92, 0.40, 0.32)
SKELETON_CENTRE_COLOR = (0.82, 0.82, 0.80)

# Skeleton body geometry, metres.
SKELETON_JOINT_RADIUS = 0.038
SKELETON_BONE_RADIUS = 0.024
SKELETON_HEAD_RADIUS = 0.095
SKELETON_HEAD_LIFT = 0.07
"""Head sphere centre above the SMPL head joint (which sits at the base of the skull)."""
SKELETON_HAND_RADIUS = 0.03


def _side_color(joint: int) -> tuple[float, float, float]:
    name = contract.JOINT_NAMES[joint]
    if name.startswith("L_"):
        return SKELETON_LEFT_COLOR
    if name.startswith("R_"):
        return SKELETON_RIGHT_COLOR
    return SKELETON_CENTRE_COLOR


class SkeletonBody:
    """Spheres on the joints and capsules on the bones of the contract skeleton (rigid parts)."""

    name = "skeleton"

    def __init__(self):
        parts_v, parts_n, parts_f, owner, colour_of = [], [], [], [], []
        count = 0

        def add(mesh: trimesh.Trimesh, joint: int, colour_joint: int):
            nonlocal count
            parts_v.append(np.asarray(mesh.vertices, np.float32))
            parts_n.append(np.asarray(mesh.vertex_normals, np.float32))
            parts_f.append(np.asarray(mesh.faces) + count)
            owner.append(np.full(len(mesh.vertices), joint))
            colour_of.append(np.full(len(mesh.vertices), colour_joint))
            count += len(mesh.vertices)

        hands = (_J["L_Hand"], _J["R_Hand"])
        for j in range(contract.NUM_JOINTS):
            radius = SKELETON_HAND_RADIUS if j in hands else SKELETON_JOINT_RADIUS
            add(trimesh.creation.icosphere(subdivisions=2, radius=radius), j, j)
        head = trimesh.creation.icosphere(subdivisions=3, radius=SKELETON_HEAD_RADIUS)
        head.apply_translation([0.0, SKELETON_HEAD_LIFT, 0.0])
        add(head, _J["Head"], _J["Head"])
        for j, parent in enumerate(contract.PARENTS):
            if parent < 0:
                continue
            offset = contract.REST_OFFSETS[j].astype(np.float64)
            length = float(np.linalg.norm(offset))
            bone = trimesh.creation.capsule(
                height=length, radius=SKELETON_BONE_RADIUS, count=[10, 6]
            )
            align = trimesh.geometry.align_vectors([0.0, 0.0, 1.0], offset / length)
            bone.apply_transform(align)
            bone.apply_translation(offset / 2)
            add(bone, parent, j)  # rides with the parent's frame; coloured by the child's side

        self.faces = np.concatenate(parts_f).astype(np.int32)
        self._local_vertices = np.concatenate(parts_v)  # (V, 3) in the owning joint's frame
        self._local_normals = np.concatenate(parts_n)
        self._owner = np.concatenate(owner)  # (V,)
        colour_joint = np.concatenate(colour_of)
        self.vertex_joints = self._owner.astype(np.int64)
        self.vertex_colors = np.array([_side_color(int(j)) for j in colour_joint], np.float32)

    def _pose_chunk(self, poses, trans) -> PosedMesh:
        rot, pos = smpl_world_transforms(poses, trans)
        r = rot[:, self._owner]  # (T, V, 3, 3)
        verts = np.einsum("tvab,vb->tva", r, self._local_vertices) + pos[:, self._owner]
        normals = np.einsum("tvab,vb->tva", r, self._local_normals)
        return PosedMesh(verts.astype(np.float32), normals.astype(np.float32))

    def pose(self, poses, trans) -> PosedMesh:
        poses, trans, single = _as_batch(poses, trans)
        return _unbatch(_chunked(self._pose_chunk, poses, trans), single)

    def joints(self, poses, trans) -> np.ndarray:
        poses, trans, _ = _as_batch(poses, trans)
        return smpl_world_transforms(poses, trans)[1]
