"""Bodies bound to the contract skeleton, for skinned exports (glTF).

:func:`bound_body` returns a :class:`BoundMesh`: a body's rest-pose mesh (the pelvis at the
origin, y up, metres) whose 24 joints sit exactly on the contract skeleton
(:func:`motionbeat.core.kinematics.rest_joints`), with at most :data:`MAX_INFLUENCES` joints
per vertex, which is what a glTF skin (``JOINTS_0`` / ``WEIGHTS_0``) holds. Posing it by linear
blend skinning with the contract's forward kinematics moves its joints exactly where
:meth:`Motion.joints` puts them.

* ``mannequin``: the wooden mannequin of :class:`MannequinBody` in its rest pose (fingers
  relaxed); finger weights fold onto their hand joint, and the *whole* body is retargeted onto
  the SMPL skeleton (the video's mannequin retargets its legs only and keeps its own, longer
  arms) by the same per-bone affine maps.
* ``smpl``: the SMPL template with the body's shape (``betas``), its skinning weights cut to
  the 4 largest per vertex and renormalised; the model's own rest joints are retargeted onto
  the contract skeleton (for the real neutral model they already agree). Pose correctives
  (``posedirs``) are dropped: a glTF skin is linear blend skinning only.
* ``skeleton``: the rigid spheres and capsules of :class:`SkeletonBody`, one joint each.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np
import trimesh

from motionbeat.core import contract, kinematics
from render.bodies.base import BodyError
from render.bodies.factory import BODY_NAMES
from render.bodies.mannequin import MannequinBody, _affine_bone_maps
from render.bodies.skeleton import SkeletonBody
from render.bodies.smpl import SMPLBody, find_smpl_model

MAX_INFLUENCES = 4
"""Joints per vertex in a glTF skin's first JOINTS_0 / WEIGHTS_0 set."""


@dataclass(frozen=True, eq=False)
class BoundMesh:
    """A rest-pose mesh skinned to the contract skeleton (pelvis at the origin, metres, y up).

    Attributes:
        name: the body's name. vertices, normals: (V, 3) float32. faces: (F, 3) uint32.
        colors: (V, 3) float32 RGB in [0, 1]. joints: (V, 4) uint8 contract joint indices.
        weights: (V, 4) float32, rows sum to 1.
    """

    name: str
    vertices: np.ndarray
    normals: np.ndarray
    faces: np.ndarray
    colors: np.ndarray
    joints: np.ndarray
    weights: np.ndarray


def top_influences(dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V, 24) weights -> the :data:`MAX_INFLUENCES` largest per vertex: joints (V, 4), weights (V, 4).

    The kept weights are renormalised to sum to 1; unused slots get weight 0 (and joint 0).
    """
    order = np.argsort(-dense, axis=1, kind="stable")[:, :MAX_INFLUENCES]  # (V, 4)
    kept = np.take_along_axis(dense, order, axis=1).clip(min=0.0)  # (V, 4)
    total = kept.sum(axis=1, keepdims=True)
    if (total <= 0).any():
        raise BodyError("a vertex has no skinning weight")
    kept = kept / total
    order = np.where(kept > 0, order, 0)
    return order.astype(np.uint8), kept.astype(np.float32)


def retarget_to_contract(vertices: np.ndarray, own_joints: np.ndarray, dense: np.ndarray) -> np.ndarray:
    """Move a rest mesh bound to ``own_joints`` (24, 3) onto the contract skeleton.

    v' = sum_k w_k (b'_k + T_k (v - b_k)), with b the body's own rest joints, b' the contract's,
    and T_k the least-squares bone maps of :func:`render.bodies.mannequin._affine_bone_maps`
    for joints with one child bone (identity for leaves and for bones that already agree).
    Joints with several children (pelvis, chest) only move: fitted to three child bones, the
    map is a full 3x3 matrix that shears the mannequin's chest out of shape.

    Args:
        vertices: (V, 3) rest vertices. own_joints: (24, 3), pelvis at the origin. dense: (V, 24).
    """
    target = kinematics.rest_joints().astype(np.float64)  # (24, 3)
    parents = np.array(contract.PARENTS)
    has_parent = (parents >= 0)[:, None]
    own_offsets = np.where(has_parent, own_joints - own_joints[parents.clip(min=0)], 0.0)
    target_offsets = np.where(has_parent, target - target[parents.clip(min=0)], 0.0)
    maps = _affine_bone_maps(own_offsets, target_offsets, contract.PARENTS)  # (24, 3, 3)
    branching = np.bincount(parents[parents >= 0], minlength=contract.NUM_JOINTS) > 1
    maps[branching] = np.eye(3)  # a full 3x3 fit to 3 child bones shears the chest badly
    rel = vertices[:, None, :] - own_joints[None]  # (V, 24, 3)
    moved = np.einsum("kab,vkb->vka", maps, rel) + target[None]  # (V, 24, 3)
    return np.einsum("vk,vka->va", dense, moved)  # (V, 3)


def _finish(name, vertices, faces, colors, dense, normals=None) -> BoundMesh:
    faces = np.asarray(faces, dtype=np.uint32)
    if normals is None:
        normals = trimesh.Trimesh(vertices, faces, process=False).vertex_normals
    joints, weights = top_influences(dense)
    return BoundMesh(
        name=name,
        vertices=np.asarray(vertices, np.float32),
        normals=np.asarray(normals, np.float32),
        faces=faces,
        colors=np.asarray(colors, np.float32),
        joints=joints,
        weights=weights,
    )


def _bind_mannequin() -> BoundMesh:
    body = MannequinBody()
    zero_pose = np.zeros((1, contract.NUM_JOINTS, 3), np.float32)
    origin = np.zeros((1, 3), np.float32)
    rest = body.pose(zero_pose, origin).vertices[0].astype(np.float64)  # (V, 3), fingers relaxed
    own_joints = body.joints(zero_pose, origin)[0].astype(np.float64)  # (24, 3)
    skin = body._skin.weights.tocoo()  # (V, J_mannequin), J_mannequin > 24 (fingers)
    to_contract = np.array([_contract_ancestor(body.parents, j) for j in range(skin.shape[1])])
    dense = np.zeros((skin.shape[0], contract.NUM_JOINTS))
    np.add.at(dense, (skin.row, to_contract[skin.col]), skin.data)  # (V, 24)
    vertices = retarget_to_contract(rest, own_joints, dense)
    return _finish("mannequin", vertices, body.faces, body.vertex_colors, dense)


def _contract_ancestor(parents, joint: int) -> int:
    """The joint itself if it is one of the contract's 24, else its nearest such ancestor."""
    while joint >= contract.NUM_JOINTS:
        joint = parents[joint]
    return joint


def _bind_smpl(smpl_path) -> BoundMesh:
    import torch

    body = SMPLBody(smpl_path)
    model = body.model
    with torch.no_grad():
        shaped = model.v_template + torch.einsum("vcb,b->vc", model.shapedirs, body.betas[0])
        own_joints = (model.J_regressor @ shaped).double().numpy()  # (24, 3)
        dense = model.lbs_weights.double().numpy()  # (V, 24)
    vertices = shaped.double().numpy() - own_joints[0]
    own_joints = own_joints - own_joints[0]
    vertices = retarget_to_contract(vertices, own_joints, dense)
    return _finish("smpl", vertices, body.faces, body.vertex_colors, dense)


def _bind_skeleton() -> BoundMesh:
    body = SkeletonBody()
    rest = kinematics.rest_joints().astype(np.float64)
    vertices = body._local_vertices + rest[body._owner]  # rigid parts at their rest joints
    dense = np.zeros((len(vertices), contract.NUM_JOINTS))
    dense[np.arange(len(vertices)), body._owner] = 1.0
    return _finish("skeleton", vertices, body.faces, body.vertex_colors, dense, body._local_normals)


def bound_body(name: str = "mannequin", smpl_path: str | os.PathLike | None = None) -> BoundMesh:
    """The body ``name`` ("mannequin", "smpl" or "skeleton") bound to the contract skeleton.

    ``smpl_path`` (else ``$MOTIONBEAT_SMPL_DIR``) is the SMPL model for ``"smpl"``. Cached per
    body and model file.
    """
    if name not in BODY_NAMES:
        raise BodyError(f"unknown body {name!r}; choose one of {', '.join(BODY_NAMES)}")
    model = str(find_smpl_model(smpl_path).resolve()) if name == "smpl" else None
    return _bound_body_cached(name, model)


@functools.lru_cache(maxsize=4)
def _bound_body_cached(name: str, smpl_model: str | None) -> BoundMesh:
    if name == "mannequin":
        return _bind_mannequin()
    if name == "smpl":
        return _bind_smpl(smpl_model)
    return _bind_skeleton()
