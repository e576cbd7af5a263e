"""Run *inside* Blender: import a BVH or glTF file and write its joints' world positions as JSON.

    blender -b --factory-startup --python-exit-code 1 --python render/blender_sample_joints.py \
        -- FILE OUT.json FRAMES FPS

FRAMES is a comma-separated list of motion frame indices (0 = the first frame of the file).
Nothing here imports the project: it runs in Blender's own Python, and
:func:`render.blender_import.blender_import` is the caller. Both importers are run with their
defaults (BVH: Forward -Z, Up Y, Scale 1; glTF: +Y up), so both turn the file's y-up into
Blender's z-up by (x, y, z) -> (x, -z, y).

The JSON holds: blender (version), bones (pose bone names), frames, heads (per frame, per bone,
the bone head in world space, metres), mesh (for a glTF: vertex count, vertex group names, the
armature modifier's object and, per frame, the evaluated mesh's world bounding box),
scene_props (the scene's custom properties: the glTF's scene extras), action (name, frame range).
"""

import json
import sys

import bpy

BVH_FIRST_FRAME = 1
"""Blender frame of the BVH's first frame (the importer's default ``frame_start``)."""
GLTF_FIRST_FRAME = 0
"""Blender frame of time 0 s in a glTF animation (the importer keys time * scene fps)."""


def _plain(value):
    """A custom property as JSON (ID properties hold dicts and arrays of their own types)."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "to_list"):
        return value.to_list()
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _patch_bvh_reader():
    """Let Debian's Blender 3.4 read BVH files at all.

    Its BVH importer opens files with mode ``'rU'``, which Python 3.11 (Debian's, where upstream
    Blender 3.4 bundles 3.10) rejects: ``ValueError: invalid mode: 'rU'``. The importer module
    gets an ``open`` that drops the obsolete ``U`` (universal newlines are the default anyway).
    """
    import io_anim_bvh.import_bvh as import_bvh

    def open_without_u(file, mode="r", *args, **kwargs):
        return open(file, mode.replace("U", ""), *args, **kwargs)

    import_bvh.open = open_without_u


def _patch_numpy_aliases():
    """Let Debian's Blender 3.4 import glTF: restore the aliases NumPy 1.24 removed.

    Its glTF importer writes ``np.bool`` (a deprecated alias of ``bool``), which Debian's NumPy
    1.24 no longer has (``AttributeError: module 'numpy' has no attribute 'bool'``).
    """
    import numpy

    for name, builtin in (("bool", bool), ("int", int), ("float", float), ("object", object)):
        if name not in numpy.__dict__:
            setattr(numpy, name, builtin)


def main(argv):
    path, out, frames, fps = argv[0], argv[1], [int(f) for f in argv[2].split(",")], int(argv[3])
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = fps, 1.0
    if path.lower().endswith(".bvh"):
        _patch_bvh_reader()
        bpy.ops.import_anim.bvh(
            filepath=path, axis_forward="-Z", axis_up="Y", global_scale=1.0,
            frame_start=BVH_FIRST_FRAME, use_fps_scale=False, rotate_mode="NATIVE",
        )
        first = BVH_FIRST_FRAME
    else:
        _patch_numpy_aliases()
        bpy.ops.import_scene.gltf(filepath=path)
        first = GLTF_FIRST_FRAME
    armatures = [o for o in scene.objects if o.type == "ARMATURE"]
    if len(armatures) != 1:
        raise SystemExit(f"expected one armature, found {len(armatures)}")
    arm = armatures[0]
    meshes = [o for o in scene.objects if o.type == "MESH"]
    action = arm.animation_data.action if arm.animation_data else None
    result = {
        "blender": bpy.app.version_string,
        "bones": [pb.name for pb in arm.pose.bones],
        "frames": frames,
        "heads": [],
        "scene_props": {k: _plain(scene[k]) for k in scene.keys() if not k.startswith("_")},  # noqa: SIM118
        "action": None if action is None else {"name": action.name, "range": list(action.frame_range)},
        "mesh": None,
    }
    if meshes:
        mesh = meshes[0]
        modifiers = [m for m in mesh.modifiers if m.type == "ARMATURE"]
        result["mesh"] = {
            "vertices": len(mesh.data.vertices),
            "vertex_groups": [g.name for g in mesh.vertex_groups],
            "armature": modifiers[0].object.name if modifiers and modifiers[0].object else None,
            "bounds": [],
        }
    for frame in frames:
        scene.frame_set(first + frame)
        result["heads"].append([list(arm.matrix_world @ pb.head) for pb in arm.pose.bones])
        if meshes:
            depsgraph = bpy.context.evaluated_depsgraph_get()
            evaluated = meshes[0].evaluated_get(depsgraph)
            points = [evaluated.matrix_world @ v.co for v in evaluated.to_mesh().vertices]
            evaluated.to_mesh_clear()
            result["mesh"]["bounds"].append(
                [[min(p[i] for p in points) for i in range(3)], [max(p[i] for p in points) for i in range(3)]]
            )
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh)


main(sys.argv[sys.argv.index("--") + 1 :])
