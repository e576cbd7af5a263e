"""What every body shares: the :class:`Body` protocol, :class:`PosedMesh`, :class:`BodyError`.

Also the frame batching every body's ``pose`` and ``joints`` use: one frame or many in, posed in
chunks of :data:`POSE_CHUNK_FRAMES` frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from motionbeat.core import contract

POSE_CHUNK_FRAMES = 16
"""Frames posed per batch; bounds the memory of the (V, 12T) blend to a few tens of MB."""


class BodyError(ValueError):
    """A body cannot be built: a missing or unreadable model file, a bad option."""


@dataclass(frozen=True)
class PosedMesh:
    """Posed vertices and unit vertex normals, (T, V, 3) float32 each (or (V, 3) for one frame)."""

    vertices: np.ndarray
    normals: np.ndarray


@runtime_checkable
class Body(Protocol):
    """What the scene needs from a body.

    Attributes:
        name: "mannequin", "smpl" or "skeleton".
        faces: (F, 3) int32 triangle indices, counter-clockwise seen from outside.
        vertex_joints: (V,) SMPL joint (0..23) that moves each vertex most; used to colour
            the feet on contact.
        vertex_colors: (V, 3) float32 RGB in [0, 1].
    """

    name: str
    faces: np.ndarray
    vertex_joints: np.ndarray
    vertex_colors: np.ndarray

    def pose(self, poses: np.ndarray, trans: np.ndarray) -> PosedMesh:
        """Pose (T, 24, 3) axis-angle and (T, 3) pelvis positions (or one frame: (24, 3), (3,))."""
        ...

    def joints(self, poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
        """(T, 24, 3) positions of the 24 SMPL joints on this body, metres, y-up."""
        ...


# ------------------------------------------------------------------------ frame batching


def _as_batch(poses, trans) -> tuple[np.ndarray, np.ndarray, bool]:
    """Check shapes; return (T, 24, 3), (T, 3) float32 and whether the input was one frame."""
    poses = np.asarray(poses, dtype=np.float32)
    trans = np.asarray(trans, dtype=np.float32)
    single = poses.shape == (contract.NUM_JOINTS, 3)
    if single:
        poses, trans = poses[None], trans[None]
    if poses.ndim == 2 and poses.shape[-1] == contract.NUM_JOINTS * 3:
        poses = poses.reshape(-1, contract.NUM_JOINTS, 3)  # (T, 72) -> (T, 24, 3)
    if poses.ndim != 3 or poses.shape[1:] != (contract.NUM_JOINTS, 3):
        raise BodyError(
            f"poses must be (T, {contract.NUM_JOINTS}, 3) axis-angle, got {poses.shape}"
        )
    if trans.shape != (poses.shape[0], 3):
        raise BodyError(f"trans must be ({poses.shape[0]}, 3) to match poses, got {trans.shape}")
    return poses, trans, single


def _unbatch(posed: PosedMesh, single: bool) -> PosedMesh:
    return PosedMesh(posed.vertices[0], posed.normals[0]) if single else posed


def _chunked(pose_fn, poses: np.ndarray, trans: np.ndarray) -> PosedMesh:
    """Apply ``pose_fn`` to chunks of :data:`POSE_CHUNK_FRAMES` frames and stack the results."""
    if poses.shape[0] <= POSE_CHUNK_FRAMES:
        return pose_fn(poses, trans)
    parts = [
        pose_fn(poses[i : i + POSE_CHUNK_FRAMES], trans[i : i + POSE_CHUNK_FRAMES])
        for i in range(0, poses.shape[0], POSE_CHUNK_FRAMES)
    ]
    return PosedMesh(
        np.concatenate([p.vertices for p in parts]), np.concatenate([p.normals for p in parts])
    )
