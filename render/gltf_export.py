"""GLB (binary glTF 2.0) export: a body skinned to the SMPL skeleton, dancing one animation.

What the file holds
-------------------
* **Skeleton**: one node per contract joint (24), named by the rig (:mod:`render.rigs`: SMPL
  names or ``mixamorig:`` names), parented as :data:`contract.PARENTS`, each translated by its
  :data:`contract.REST_OFFSETS` from its parent, rest rotation identity; the root (pelvis) node
  rests at the origin. The skin lists the joints in contract order; its inverse bind matrices
  are ``T(-rest_joint)`` (the bind pose is the rest pose, every joint frame world-aligned).
* **Mesh**: :func:`render.bodies.bind.bound_body`: the mannequin (default), the SMPL mesh
  (``body="smpl"``, from the user's model files) or the skeleton body, with POSITION, NORMAL,
  COLOR_0, JOINTS_0, WEIGHTS_0 (4 influences) and one material.
* **Animation**: one, named after the song, one key per motion frame at ``i / 30`` s (the motion
  is resampled to :data:`contract.FPS` first when it has another rate), LINEAR: the pelvis
  node's translation (the motion's ``trans``) and every joint's rotation (quaternions, signs kept
  continuous so interpolation takes the short way).
* **Axes and units**: glTF's own, which are the project's: +y up, +z the way the rest pose
  faces, +x the body's left, metres, the floor at y = 0.
* **Metadata**: ``asset.extras`` and ``scenes[0].extras`` hold the song's name and the source
  metadata (:data:`EXTRAS_KEYS`); Blender shows the scene's as custom properties.

Buffers are laid out by ``pygltflib``'s data classes; :mod:`render.gltf_read` reads a file back
(and evaluates its joints), ``tests/render/test_render_gltf.py`` checks both against
:meth:`Motion.joints`, and ``tests/render/test_render_blender.py`` checks Blender's import.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pygltflib
import torch

from motionbeat.core import contract, kinematics
from motionbeat.core.fileio import atomic_path
from motionbeat.core.motion import Motion
from render.bodies.bind import BoundMesh, bound_body
from render.rigs import DEFAULT_RIG, joint_names

GLB_SUFFIX = ".glb"
ALIGN = 4
"""glTF buffer views start on 4-byte boundaries (the largest component here is 4 bytes)."""
ROUGHNESS = 0.8
EXTRAS_KEYS = ("song", "source_song", "start_offset", "model_hash", "fps", "frames", "body", "rig", "meta")
"""Keys of the metadata written to ``asset.extras`` and ``scenes[0].extras``."""
GENERATOR = "motionbeat render.gltf_export (pygltflib)"
_COMPONENT_TYPES = {
    np.dtype(np.float32): pygltflib.FLOAT,
    np.dtype(np.uint8): pygltflib.UNSIGNED_BYTE,
    np.dtype(np.uint16): pygltflib.UNSIGNED_SHORT,
    np.dtype(np.uint32): pygltflib.UNSIGNED_INT,
}
_TYPES = {1: pygltflib.SCALAR, 3: pygltflib.VEC3, 4: pygltflib.VEC4, 16: pygltflib.MAT4}


class _Buffer:
    """Arrays packed into one binary buffer, each with its buffer view and accessor."""

    def __init__(self, gltf: pygltflib.GLTF2):
        self.gltf, self.chunks, self.size = gltf, [], 0

    def add(self, array: np.ndarray, target: int | None = None, bounds: bool = False) -> int:
        """Append ``array`` (N,) or (N, C); returns its accessor index."""
        array = np.ascontiguousarray(array)
        width = 1 if array.ndim == 1 else int(np.prod(array.shape[1:]))
        data = array.tobytes()
        self.gltf.bufferViews.append(
            pygltflib.BufferView(buffer=0, byteOffset=self.size, byteLength=len(data), target=target)
        )
        flat = array.reshape(len(array), width)  # (N, C)
        self.gltf.accessors.append(
            pygltflib.Accessor(
                bufferView=len(self.gltf.bufferViews) - 1,
                componentType=_COMPONENT_TYPES[array.dtype],
                count=len(array),
                type=_TYPES[width],
                min=flat.min(axis=0).tolist() if bounds else None,
                max=flat.max(axis=0).tolist() if bounds else None,
            )
        )
        padding = -len(data) % ALIGN
        self.chunks.append(data + b"\0" * padding)
        self.size += len(data) + padding
        return len(self.gltf.accessors) - 1

    def blob(self) -> bytes:
        self.gltf.buffers.append(pygltflib.Buffer(byteLength=self.size))
        return b"".join(self.chunks)


def continuous_quaternions(quats: np.ndarray) -> np.ndarray:
    """(T, J, 4) unit quaternions with signs flipped so each is within 90 degrees of the last."""
    dots = np.sum(quats[1:] * quats[:-1], axis=-1)  # (T-1, J)
    signs = np.cumprod(np.where(dots < 0, -1.0, 1.0), axis=0)  # (T-1, J)
    signs = np.concatenate([np.ones_like(signs[:1]), signs], axis=0)  # (T, J)
    return quats * signs[..., None]


def glb_extras(motion: Motion, body: str, rig: str) -> dict:
    """The metadata of :data:`EXTRAS_KEYS` for ``motion`` (JSON values only)."""
    song = Path(motion.source_song).name if motion.source_song else None
    return {
        "song": song,
        "source_song": motion.source_song,
        "start_offset": motion.start_offset,
        "model_hash": motion.model_hash,
        "fps": contract.FPS,
        "frames": motion.num_frames,
        "body": body,
        "rig": rig,
        "meta": json.loads(json.dumps(motion.meta, default=str)),
    }


def _skeleton_nodes(gltf: pygltflib.GLTF2, rig: str) -> None:
    names = joint_names(rig)
    for j, name in enumerate(names):
        offset = np.zeros(3) if contract.PARENTS[j] < 0 else contract.REST_OFFSETS[j]
        children = [k for k, parent in enumerate(contract.PARENTS) if parent == j]
        gltf.nodes.append(
            pygltflib.Node(name=name, translation=offset.astype(float).tolist(), children=children or None)
        )


def _mesh(gltf: pygltflib.GLTF2, buf: _Buffer, mesh: BoundMesh) -> None:
    index_type = np.uint16 if len(mesh.vertices) <= np.iinfo(np.uint16).max else np.uint32
    attributes = pygltflib.Attributes(
        POSITION=buf.add(mesh.vertices.astype(np.float32), pygltflib.ARRAY_BUFFER, bounds=True),
        NORMAL=buf.add(mesh.normals.astype(np.float32), pygltflib.ARRAY_BUFFER),
        COLOR_0=buf.add(mesh.colors.astype(np.float32), pygltflib.ARRAY_BUFFER),
        JOINTS_0=buf.add(mesh.joints.astype(np.uint8), pygltflib.ARRAY_BUFFER),
        WEIGHTS_0=buf.add(mesh.weights.astype(np.float32), pygltflib.ARRAY_BUFFER),
    )
    indices = buf.add(mesh.faces.reshape(-1).astype(index_type), pygltflib.ELEMENT_ARRAY_BUFFER)
    gltf.materials.append(
        pygltflib.Material(
            name=mesh.name,
            pbrMetallicRoughness=pygltflib.PbrMetallicRoughness(
                baseColorFactor=[1.0, 1.0, 1.0, 1.0], metallicFactor=0.0, roughnessFactor=ROUGHNESS
            ),
        )
    )
    gltf.meshes.append(
        pygltflib.Mesh(
            name=mesh.name,
            primitives=[pygltflib.Primitive(attributes=attributes, indices=indices, material=0)],
        )
    )
    rest = kinematics.rest_joints().astype(np.float32)  # (24, 3), pelvis at the origin
    inverse_bind = np.tile(np.eye(4, dtype=np.float32), (contract.NUM_JOINTS, 1, 1))  # (24, 4, 4)
    inverse_bind[:, :3, 3] = -rest
    column_major = inverse_bind.transpose(0, 2, 1).reshape(contract.NUM_JOINTS, 16)  # (24, 16)
    gltf.skins.append(
        pygltflib.Skin(
            name="skeleton",
            joints=list(range(contract.NUM_JOINTS)),
            skeleton=0,
            inverseBindMatrices=buf.add(column_major),
        )
    )


def _animation(gltf: pygltflib.GLTF2, buf: _Buffer, motion: Motion, name: str) -> None:
    times = (np.arange(motion.num_frames) / contract.FPS).astype(np.float32)  # (T,)
    with torch.no_grad():
        quats = kinematics.axis_angle_to_quaternion(torch.from_numpy(motion.poses)).numpy()  # (T, 24, 4)
    quats = continuous_quaternions(quats.astype(np.float64)).astype(np.float32)  # XYZW, glTF's order
    time_accessor = buf.add(times, bounds=True)
    root_path = pygltflib.AnimationChannelTarget(node=0, path="translation")
    root_keys = buf.add(motion.trans.astype(np.float32))  # (T, 3) pelvis positions
    samplers = [pygltflib.AnimationSampler(input=time_accessor, output=root_keys)]
    channels = [pygltflib.AnimationChannel(sampler=0, target=root_path)]
    for j in range(contract.NUM_JOINTS):
        samplers.append(
            pygltflib.AnimationSampler(input=time_accessor, output=buf.add(np.ascontiguousarray(quats[:, j])))
        )
        channels.append(
            pygltflib.AnimationChannel(
                sampler=len(samplers) - 1, target=pygltflib.AnimationChannelTarget(node=j, path="rotation")
            )
        )
    gltf.animations.append(pygltflib.Animation(name=name, samplers=samplers, channels=channels))


def build_glb(
    motion: Motion,
    body: str = "mannequin",
    rig: str = DEFAULT_RIG,
    smpl_path: str | os.PathLike | None = None,
) -> pygltflib.GLTF2:
    """The glTF document of ``motion`` (see the module notes), its binary blob attached."""
    if motion.fps != contract.FPS:
        motion = motion.resampled(contract.FPS)
    mesh = bound_body(body, smpl_path)
    extras = glb_extras(motion, body, rig)
    gltf = pygltflib.GLTF2(asset=pygltflib.Asset(version="2.0", generator=GENERATOR, extras=extras))
    _skeleton_nodes(gltf, rig)
    buf = _Buffer(gltf)
    _mesh(gltf, buf, mesh)
    gltf.nodes.append(pygltflib.Node(name=f"{mesh.name}_mesh", mesh=0, skin=0))
    gltf.scenes.append(pygltflib.Scene(name="dance", nodes=[0, len(gltf.nodes) - 1], extras=extras))
    gltf.scene = 0
    _animation(gltf, buf, motion, Path(extras["song"]).stem if extras["song"] else "dance")
    gltf.set_binary_blob(buf.blob())
    return gltf


def write_glb(
    motion: Motion,
    path: str | os.PathLike,
    body: str = "mannequin",
    rig: str = DEFAULT_RIG,
    smpl_path: str | os.PathLike | None = None,
) -> Path:
    """Write ``motion`` as a skinned, animated ``.glb`` (see the module notes); returns the path."""
    gltf = build_glb(motion, body=body, rig=rig, smpl_path=smpl_path)
    path = Path(path)
    with atomic_path(path) as tmp:
        gltf.save_binary(str(tmp))
    return path
