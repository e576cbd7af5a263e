"""The mannequin body: the wooden mannequin of ``mannequin-x``, legs retargeted onto SMPL.

:class:`MannequinBody` is the free wooden mannequin of ``mannequin-x`` (Apache-2.0). Its
skeleton is SMPL-X's, which is not SMPL's: with the same pose its feet sit about 2 cm higher
than the SMPL skeleton's (measured by :func:`mannequin_foot_offset`, stated in
``docs/render.md``). The body corrects this by *retargeting its legs*: pelvis, spine root,
hips, knees, ankles and toes are placed exactly on the SMPL skeleton of
:mod:`motionbeat.core.contract`, and the leg segments of the rest mesh are stretched to SMPL's bone
lengths (an affine map per bone, the same least-squares construction mannequin-x uses for its
own shape changes). The upper body keeps the mannequin's proportions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import trimesh

from motionbeat.core import contract, kinematics
from motionbeat.core.contract import JOINT_INDEX as _J
from render.bodies.base import BodyError, PosedMesh, _as_batch, _chunked, _unbatch
from render.bodies.skinning import _LinearBlendSkin, rotation_matrices, world_transforms

# Joints of the mannequin that are put exactly on the SMPL skeleton (the legs and the spine
# root, a set closed under "parent of"): the feet then land where the SMPL skeleton's do.
MANNEQUIN_SMPL_JOINTS: tuple[int, ...] = tuple(
    _J[n]
    for n in (
        "Pelvis",
        "L_Hip",
        "R_Hip",
        "Spine1",
        "L_Knee",
        "R_Knee",
        "L_Ankle",
        "R_Ankle",
        "L_Foot",
        "R_Foot",
    )
)

WOOD_COLOR = (0.80, 0.60, 0.40)
WOOD_JOINT_COLOR = (0.52, 0.34, 0.20)


def _affine_bone_maps(
    old_offsets: np.ndarray, new_offsets: np.ndarray, parents: Sequence[int]
) -> np.ndarray:
    """(J, 3, 3) linear maps taking each joint's child offsets from ``old`` to ``new``.

    T_j = I + (N'_j - N_j) pinv(N_j), with N_j the (3, children) matrix of old child offsets:
    the least-squares linear map with T_j N_j = N'_j that changes nothing orthogonal to the
    bones (identity for leaves). This is mannequin-x's ``joint_shape_transforms`` construction.
    """
    maps = np.repeat(np.eye(3)[None], len(parents), axis=0)
    children: list[list[int]] = [[] for _ in parents]
    for j, parent in enumerate(parents):
        if parent >= 0:
            children[parent].append(j)
    for j, kids in enumerate(children):
        if kids:
            old = old_offsets[kids].T.astype(np.float64)  # (3, C)
            new = new_offsets[kids].T.astype(np.float64)
            maps[j] += (new - old) @ np.linalg.pinv(old)
    return maps


class MannequinBody:
    """The wooden mannequin of mannequin-x, with legs retargeted onto the SMPL skeleton.

    mannequin-x exposes posed vertices but not its skinning weights; this class reads them
    from the model object once (checked against ``Mannequin.vertices`` in
    ``tests/render/test_render_bodies.py``) and skins with its own sparse blend, about fifteen
    times faster than the library's dense one (2.5 ms against 38 ms a frame on the 2-core CPU).
    """

    name = "mannequin"

    def __init__(self):
        try:
            from mannequin import Mannequin
        except ImportError as err:  # pragma: no cover - a declared dependency
            raise BodyError(
                "the mannequin body needs the mannequin-x package (pip install mannequin-x)"
            ) from err
        model = Mannequin("wooden")
        try:
            joint_index = np.asarray(model._skin_joint_indices)  # (V, K)
            joint_weight = np.asarray(model._skin_weights)  # (V, K)
            rest_vertices = np.asarray(model._identity["skin_vertices"], dtype=np.float64)  # (V, 3)
            bind = np.asarray(model._identity["skin_bind_positions"], dtype=np.float64)  # (J, 3)
            weights = model._weights
            part_names = list(weights.skin_part_names)
            part_starts = list(weights.skin_part_vertex_starts)
            part_counts = list(weights.skin_part_vertex_counts)
        except (AttributeError, KeyError, TypeError) as err:  # pragma: no cover - version guard
            raise BodyError(
                f"this mannequin-x version stores its skin differently ({err}); render was "
                "written against mannequin-x 0.3"
            ) from None
        self.model = model
        self.parents: tuple[int, ...] = tuple(int(p) for p in model.parents)
        names = model.joint_names
        if tuple(names[: contract.NUM_JOINTS]) != contract.JOINT_NAMES:
            raise BodyError(f"unexpected mannequin joints {names[: contract.NUM_JOINTS]}")
        num_joints = len(self.parents)

        # Rest local rotations: identity on the body, the relaxed hand mean on the fingers.
        rest = model.joint_transforms(model.rest_pose())  # (J, 4, 4)
        rest_world = rest[:, :3, :3].astype(np.float64)
        self.rest_local = np.repeat(np.eye(3)[None], num_joints, axis=0)
        for j, parent in enumerate(self.parents):
            if parent >= 0:
                self.rest_local[j] = rest_world[parent].T @ rest_world[j]
        self.rest_local[: contract.NUM_JOINTS] = np.eye(3)

        # Target rest joints: SMPL's for the retargeted legs, the mannequin's offsets elsewhere.
        own_offsets = bind - np.where(
            np.array(self.parents)[:, None] >= 0, bind[list(self.parents)], 0.0
        )
        own_offsets[0] = 0.0
        smpl_rest = kinematics.rest_joints().astype(np.float64)  # (24, 3), pelvis at 0
        offsets = own_offsets.copy()
        for j in MANNEQUIN_SMPL_JOINTS:
            if self.parents[j] >= 0:
                offsets[j] = smpl_rest[j] - smpl_rest[self.parents[j]]
        target = np.zeros_like(bind)
        target[0] = bind[0]
        for j in range(1, num_joints):
            target[j] = target[self.parents[j]] + offsets[j]
        self.offsets = offsets.astype(np.float32)  # (J, 3)

        # Stretch the rest mesh onto the new bones: v' = sum_k w_k (b'_k + T_k (v - b_k)).
        maps = _affine_bone_maps(own_offsets, offsets, self.parents)  # (J, 3, 3)
        rel = rest_vertices[:, None, :] - bind[joint_index]  # (V, K, 3)
        moved = np.einsum("vkab,vkb->vka", maps[joint_index], rel) + target[joint_index]
        vertices = np.sum(moved * joint_weight[..., None], axis=1)  # (V, 3)
        self.faces = np.asarray(model.faces, dtype=np.int32)
        normals = trimesh.Trimesh(vertices, self.faces, process=False).vertex_normals
        self._skin = _LinearBlendSkin(vertices, normals, joint_index, joint_weight, target)

        dominant = joint_index[np.arange(len(joint_index)), np.argmax(joint_weight, axis=1)]
        self.vertex_joints = self._to_smpl_joint(dominant)
        colors = np.tile(np.array(WOOD_COLOR, np.float32), (len(vertices), 1))
        for name, start, count in zip(part_names, part_starts, part_counts, strict=True):
            if name.startswith("joint_"):
                colors[start : start + count] = WOOD_JOINT_COLOR
        self.vertex_colors = colors

    def _to_smpl_joint(self, joints: np.ndarray) -> np.ndarray:
        """Map mannequin joints to SMPL joints: fingers and hands go to their wrist."""
        out = np.asarray(joints).copy()
        for j in np.unique(out):
            k = int(j)
            while k >= contract.NUM_JOINTS or k in (_J["L_Hand"], _J["R_Hand"]):
                k = self.parents[k]
            out[out == j] = k
        return out.astype(np.int64)

    def _transforms(self, poses: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World rotations and positions of all mannequin joints for SMPL poses."""
        num_frames = poses.shape[0]
        local = np.broadcast_to(
            self.rest_local.astype(np.float32), (num_frames, *self.rest_local.shape)
        ).copy()
        body = contract.JOINT_INDEX["L_Hand"]  # SMPL joints 0..21 drive the body
        local[:, :body] = rotation_matrices(poses[:, :body])
        return world_transforms(local, trans, self.offsets, self.parents)

    def pose(self, poses, trans) -> PosedMesh:
        poses, trans, single = _as_batch(poses, trans)
        return _unbatch(
            _chunked(lambda p, t: self._skin(*self._transforms(p, t)), poses, trans), single
        )

    def joints(self, poses, trans) -> np.ndarray:
        poses, trans, _ = _as_batch(poses, trans)
        return self._transforms(poses, trans)[1][:, : contract.NUM_JOINTS]


def mannequin_foot_offset() -> dict[str, float]:
    """Measure how far the mannequin's feet sit from the SMPL skeleton's, in the rest pose.

    Both skeletons are put in the zero pose with the pelvis at the origin. Returns metres:
    ``uncorrected_mean_y`` / ``uncorrected_max_3d``: the mannequin-x skeleton's own ankle and
    toe joints against SMPL's (positive y: the mannequin's feet are higher);
    ``corrected_max_3d``: the same after :class:`MannequinBody`'s retargeting;
    ``sole_below_toe``: how far the mannequin's sole reaches below the SMPL toe joints.
    """
    from mannequin import Mannequin

    model = Mannequin("wooden")
    own = model.joint_transforms(model.rest_pose())[: contract.NUM_JOINTS, :3, 3]
    own = own - own[0]
    smpl = kinematics.rest_joints()
    feet = list(contract.FOOT_JOINTS)
    body = MannequinBody()
    zero_pose = np.zeros((contract.NUM_JOINTS, 3), np.float32)
    corrected = body.joints(zero_pose, np.zeros(3, np.float32))[0]
    sole = body.pose(zero_pose, np.zeros(3, np.float32)).vertices[:, contract.UP_AXIS].min()
    return {
        "uncorrected_mean_y": float(np.mean(own[feet, 1] - smpl[feet, 1])),
        "uncorrected_max_3d": float(np.linalg.norm(own[feet] - smpl[feet], axis=-1).max()),
        "corrected_max_3d": float(np.linalg.norm(corrected[feet] - smpl[feet], axis=-1).max()),
        "sole_below_toe": float(smpl[[contract.L_TOE, contract.R_TOE], 1].mean() - sole),
    }
