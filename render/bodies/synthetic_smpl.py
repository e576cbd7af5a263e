"""A licence-free SMPL-format model file (a capsule figure) for tests and benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import trimesh

from motionbeat.core import contract, kinematics
from motionbeat.core.contract import JOINT_INDEX as _J

SYNTHETIC_LIMB_RADIUS = 0.05
SYNTHETIC_BONE_RADIUS = {
    "Spine1": 0.12,
    "Spine2": 0.12,
    "Spine3": 0.12,
    "L_Hip": 0.085,
    "R_Hip": 0.085,
    "Neck": 0.055,
    "L_Collar": 0.055,
    "R_Collar": 0.055,
    "Head": 0.05,
    "L_Shoulder": 0.055,
    "R_Shoulder": 0.055,
    "L_Knee": 0.065,
    "R_Knee": 0.065,
}
"""Capsule radius, metres, of the bone ending at each joint (others: SYNTHETIC_LIMB_RADIUS)."""
SYNTHETIC_TORSO_SCALE = (1.3, 1.0, 0.8)
"""Torso capsules are widened left-right and flattened front-back (rest-pose world axes)."""
SYNTHETIC_HEAD = (0.1, 0.08)
"""Head sphere radius and its lift above the SMPL head joint, metres."""


def write_synthetic_smpl(
    path: str | os.PathLike, sphere_subdivisions: int = 1, capsule_count: int = 8
) -> Path:
    """Write a small, valid, licence-free SMPL-format ``.npz`` for tests and benchmarks.

    It is *not* a human body model: a capsule figure on the contract skeleton. Each joint
    has a sphere whose vertex mean is the joint, and ``J_regressor`` averages those vertices,
    so the model's rest joints are exactly :data:`contract.REST_OFFSETS` (pelvis at 0).
    Sphere vertices follow their joint; a capsule around each bone blends from the parent to
    the child joint along its length. ``shapedirs`` holds a height and a width direction;
    ``posedirs`` is zero. Arrays and their shapes are SMPL's: v_template (V, 3),
    shapedirs (V, 3, 10), posedirs (V, 3, 207), J_regressor (24, V), weights (V, 24),
    kintree_table (2, 24), f (F, 3).
    """
    from motionbeat.core.fileio import atomic_path

    rest = kinematics.rest_joints().astype(np.float64)
    verts, faces, weights = [], [], []
    regressor_rows: list[tuple[int, int, int]] = []  # (joint, first vertex, count)
    count = 0

    def add(mesh, w):
        nonlocal count
        verts.append(np.asarray(mesh.vertices))
        faces.append(np.asarray(mesh.faces) + count)
        weights.append(w)
        count += len(mesh.vertices)

    def rigid(j: int, num: int) -> np.ndarray:
        w = np.zeros((num, contract.NUM_JOINTS))
        w[:, j] = 1.0
        return w

    for j in range(contract.NUM_JOINTS):  # joint spheres: their vertex means are the joints
        sphere = trimesh.creation.icosphere(
            subdivisions=sphere_subdivisions, radius=0.8 * SYNTHETIC_LIMB_RADIUS
        )
        sphere.apply_translation(rest[j])
        regressor_rows.append((j, count, len(sphere.vertices)))
        add(sphere, rigid(j, len(sphere.vertices)))
    head_radius, head_lift = SYNTHETIC_HEAD
    head = trimesh.creation.icosphere(subdivisions=sphere_subdivisions + 1, radius=head_radius)
    head.apply_translation(rest[_J["Head"]] + [0.0, head_lift, 0.0])
    add(head, rigid(_J["Head"], len(head.vertices)))
    torso = {_J["Spine1"], _J["Spine2"], _J["Spine3"]}
    for j, parent in enumerate(contract.PARENTS):
        if parent < 0:
            continue
        start, end = rest[parent], rest[j]
        length = float(np.linalg.norm(end - start))
        radius = SYNTHETIC_BONE_RADIUS.get(contract.JOINT_NAMES[j], SYNTHETIC_LIMB_RADIUS)
        capsule = trimesh.creation.capsule(
            height=length, radius=radius, count=[capsule_count, capsule_count]
        )
        capsule.apply_transform(
            trimesh.geometry.align_vectors([0.0, 0.0, 1.0], (end - start) / length)
        )
        if j in torso:
            capsule.vertices = capsule.vertices * SYNTHETIC_TORSO_SCALE
        capsule.apply_translation((start + end) / 2)
        along = np.clip((capsule.vertices - start) @ (end - start) / length**2, 0.0, 1.0)
        blend = np.clip(
            (along - 0.7) / 0.3, 0.0, 1.0
        )  # rigid with the parent, blending at the child
        w = np.zeros((len(capsule.vertices), contract.NUM_JOINTS))
        w[:, parent] = 1.0 - blend
        w[:, j] += blend
        add(capsule, w)

    v_template = np.concatenate(verts).astype(np.float64)
    num_verts = len(v_template)
    regressor = np.zeros((contract.NUM_JOINTS, num_verts))
    for j, first, n in regressor_rows:
        regressor[j, first : first + n] = 1.0 / n
    num_betas, num_pose_basis = 10, (contract.NUM_JOINTS - 1) * 9
    shapedirs = np.zeros((num_verts, 3, num_betas))
    shapedirs[:, :, 0] = 0.05 * v_template  # taller / shorter about the pelvis
    shapedirs[:, 0, 1] = 0.05 * v_template[:, 0]  # wider / narrower
    kintree = np.array(
        [[2**32 - 1 if p < 0 else p for p in contract.PARENTS], range(contract.NUM_JOINTS)]
    )
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            v_template=v_template,
            shapedirs=shapedirs,
            posedirs=np.zeros((num_verts, 3, num_pose_basis)),
            J_regressor=regressor,
            weights=np.concatenate(weights),
            kintree_table=kintree.astype(np.int64),
            f=np.concatenate(faces).astype(np.int64),
        )
    return path
