"""Read a ``.glb`` back: its accessors, its skeleton, and its joints' world positions over time.

A second reader of what :mod:`render.gltf_export` writes, independent of the writer's maths:
it parses the file with ``pygltflib``, decodes accessors from the binary chunk, and evaluates
the first animation by plain node-transform forward kinematics (``M_node = T R S``, world =
parent world @ local). ``tests/render/test_render_gltf.py`` compares the result with
:meth:`Motion.joints`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygltflib
from scipy.spatial.transform import Rotation

_DTYPES = {
    pygltflib.FLOAT: np.float32,
    pygltflib.UNSIGNED_BYTE: np.uint8,
    pygltflib.UNSIGNED_SHORT: np.uint16,
    pygltflib.UNSIGNED_INT: np.uint32,
    pygltflib.BYTE: np.int8,
    pygltflib.SHORT: np.int16,
}
_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


class GlbError(ValueError):
    """Not a readable glTF binary, or not the skinned, animated skeleton expected."""


def load_glb(path: str | os.PathLike) -> pygltflib.GLTF2:
    """Parse a ``.glb`` file with pygltflib."""
    path = Path(path)
    try:
        gltf = pygltflib.GLTF2.load_binary(str(path))
    except (OSError, ValueError, KeyError) as err:
        raise GlbError(f"{path.name}: not a readable .glb ({err})") from None
    if gltf is None or gltf.binary_blob() is None:
        raise GlbError(f"{path.name}: not a binary glTF (.glb) file")
    return gltf


def accessor_array(gltf: pygltflib.GLTF2, index: int) -> np.ndarray:
    """Accessor ``index`` of the binary chunk as an array: (count,) or (count, width)."""
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    dtype = np.dtype(_DTYPES[accessor.componentType])
    width = _WIDTHS[accessor.type]
    item = dtype.itemsize * width
    stride = view.byteStride or item
    start = (view.byteOffset or 0) + (accessor.byteOffset or 0)
    blob = np.frombuffer(gltf.binary_blob(), dtype=np.uint8)
    if accessor.count and start + (accessor.count - 1) * stride + item > len(blob):
        raise GlbError(f"accessor {index} reaches past the end of the binary chunk")
    rows = np.lib.stride_tricks.as_strided(blob[start:], shape=(accessor.count, item), strides=(stride, 1))
    values = np.ascontiguousarray(rows).view(dtype).reshape(accessor.count, width)  # (count, width)
    return values[:, 0] if width == 1 else values


@dataclass(frozen=True)
class GlbAnimation:
    """A skinned skeleton and its first animation, evaluated at the animation's key times.

    Attributes:
        names: skin joint names, in skin order. times: (T,) seconds.
        matrices: (T, J, 4, 4) joint world transforms, in the file's units and axes.
    """

    names: tuple[str, ...]
    times: np.ndarray
    matrices: np.ndarray

    @property
    def positions(self) -> np.ndarray:
        """(T, J, 3) joint world positions."""
        return self.matrices[..., :3, 3]


def _local_matrices(node: pygltflib.Node, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The node's rest translation (T, 3), rotation XYZW (T, 4) and scale (T, 3), repeated."""
    if node.matrix:
        raise GlbError(f"node {node.name!r} uses a matrix; this reader handles TRS nodes only")
    translation = np.tile(node.translation or [0.0, 0.0, 0.0], (count, 1)).astype(np.float64)
    rotation = np.tile(node.rotation or [0.0, 0.0, 0.0, 1.0], (count, 1)).astype(np.float64)
    scale = np.tile(node.scale or [1.0, 1.0, 1.0], (count, 1)).astype(np.float64)
    return translation, rotation, scale


def glb_animation(path: str | os.PathLike) -> GlbAnimation:
    """Evaluate the first skin's joints under the first animation at its key times.

    Every channel must share the first channel's key times (what the exporter writes).
    """
    gltf = load_glb(path)
    if not gltf.skins or not gltf.animations:
        raise GlbError(f"{Path(path).name}: no skin or no animation")
    animation = gltf.animations[0]
    times = accessor_array(gltf, animation.samplers[animation.channels[0].sampler].input).astype(np.float64)
    count = len(times)
    trs = {i: _local_matrices(node, count) for i, node in enumerate(gltf.nodes)}
    for channel in animation.channels:
        sampler = animation.samplers[channel.sampler]
        if not np.array_equal(accessor_array(gltf, sampler.input), times.astype(np.float32)):
            raise GlbError(f"{Path(path).name}: channels with different key times")
        slot = {"translation": 0, "rotation": 1, "scale": 2}.get(channel.target.path)
        if slot is not None:
            trs[channel.target.node][slot][:] = accessor_array(gltf, sampler.output)
    parent = {child: i for i, node in enumerate(gltf.nodes) for child in (node.children or [])}
    world: dict[int, np.ndarray] = {}

    def world_matrix(i: int) -> np.ndarray:
        if i not in world:
            translation, rotation, scale = trs[i]
            local = np.tile(np.eye(4), (count, 1, 1))  # (T, 4, 4)
            local[:, :3, :3] = Rotation.from_quat(rotation).as_matrix() * scale[:, None, :]
            local[:, :3, 3] = translation
            world[i] = local if i not in parent else world_matrix(parent[i]) @ local
        return world[i]

    joints = gltf.skins[0].joints
    matrices = np.stack([world_matrix(j) for j in joints], axis=1)  # (T, J, 4, 4)
    names = tuple(gltf.nodes[j].name for j in joints)
    return GlbAnimation(names=names, times=times, matrices=matrices)


def glb_skinned_vertices(path: str | os.PathLike, frames) -> np.ndarray:
    """(F, V, 3) the first skinned mesh's vertices at animation keys ``frames``, by the glTF skin.

    v' = sum_k w_k (W_jk @ IBM_jk) v (glTF 2.0, "Skins"), with the world transforms W of
    :func:`glb_animation`; the skinned mesh node's own transform is ignored, as the spec says.
    """
    gltf = load_glb(path)
    skinned = [node for node in gltf.nodes if node.skin is not None and node.mesh is not None]
    if not skinned:
        raise GlbError(f"{Path(path).name}: no skinned mesh")
    primitive = gltf.meshes[skinned[0].mesh].primitives[0]
    skin = gltf.skins[skinned[0].skin]
    vertices = accessor_array(gltf, primitive.attributes.POSITION).astype(np.float64)  # (V, 3)
    joints = accessor_array(gltf, primitive.attributes.JOINTS_0).astype(np.int64)  # (V, 4)
    weights = accessor_array(gltf, primitive.attributes.WEIGHTS_0).astype(np.float64)  # (V, 4)
    inverse_bind = accessor_array(gltf, skin.inverseBindMatrices).astype(np.float64)
    inverse_bind = inverse_bind.reshape(-1, 4, 4).transpose(0, 2, 1)  # column-major (J, 16) -> (J, 4, 4)
    world = glb_animation(path).matrices[list(frames)]  # (F, J, 4, 4)
    skin_mats = world @ inverse_bind  # (F, J, 4, 4)
    blended = np.einsum("vk,fvkab->fvab", weights, skin_mats[:, joints])  # (F, V, 4, 4)
    return np.einsum("fvab,vb->fva", blended[..., :3, :3], vertices) + blended[..., :3, 3]
