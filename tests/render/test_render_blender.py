"""A real client checks the exports: headless Blender imports the BVH and the GLB of a 30 s dance.

Blender (Debian's 3.4, ``scripts/setup.sh --dev``) imports each file with its importer's
defaults, which turn y-up into z-up by (x, y, z) -> (x, -z, y); the bone heads it places, turned
back, must match the project's forward kinematics within 1 mm at frames spread over the dance.
For the GLB it also skins the mesh: the skinned mesh's bounding box must match the file's own
skin (evaluated by :func:`render.gltf_read.glb_skinned_vertices`) within 1 mm.

Slow (a 30 s dance is choreographed, Blender starts once per file). Skipped, with the reason,
only when no ``blender`` program is installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from motionbeat.audio import Audio, load_audio
from motionbeat.core import contract, kinematics
from motionbeat.core.motion import Motion
from render import export
from render.blender_import import blender_import, blender_joints_y_up, find_blender
from render.bodies import write_synthetic_smpl
from render.gltf_read import glb_skinned_vertices
from render.rigs import RIG_NAMES, joint_names

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_blender() is None,
        reason="Blender is not installed (apt-get install blender python3-numpy; scripts/setup.sh --dev)",
    ),
]

EXAMPLE_SONG = Path(__file__).resolve().parents[2] / "examples" / "song.ogg"
DANCE_SECONDS = 30.0
TOLERANCE_M = 1e-3
FRAMES = (0, 1, 37, 250, 451, 777, int(DANCE_SECONDS * contract.FPS) - 1)
"""Frames Blender samples: the first two, some in between, the last of the 30 s."""


@pytest.fixture(scope="module")
def dance_30s():
    """A 30 s dance by the rule-based choreographer to the example song, looped to 30 s."""
    from motionbeat.choreography.choreographer.dance import choreograph

    song = load_audio(EXAMPLE_SONG)
    repeats = int(np.ceil(DANCE_SECONDS / song.duration))
    looped = Audio(np.tile(song.samples, repeats), song.sr, name=EXAMPLE_SONG.name)
    motion = choreograph(looped, seed=0).sliced(0.0, DANCE_SECONDS)
    assert motion.num_frames == int(DANCE_SECONDS * contract.FPS)
    return motion


def _z_up(points: np.ndarray) -> np.ndarray:
    return kinematics.y_up_to_z_up(torch.from_numpy(np.asarray(points, np.float64))).numpy()


@pytest.mark.parametrize("rig", RIG_NAMES)
def test_blender_bvh_import_matches_forward_kinematics(dance_30s, tmp_path, rig):
    path = export.write_bvh(dance_30s, tmp_path / f"dance_{rig}.bvh", rig=rig)
    result = blender_import(path, FRAMES)
    assert set(result.bones) == set(joint_names(rig))
    assert result.action["range"] == [1.0, float(dance_30s.num_frames)]  # BVH frame 0 -> Blender frame 1
    error = np.linalg.norm(blender_joints_y_up(result) - dance_30s.joints()[list(FRAMES)], axis=-1)
    assert error.max() < TOLERANCE_M, f"Blender's BVH joints are {error.max() * 1000:.3f} mm off"


@pytest.mark.parametrize("rig", RIG_NAMES)
def test_blender_glb_import_matches_forward_kinematics(dance_30s, tmp_path, rig):
    path = export.export_motion(dance_30s, tmp_path / f"dance_{rig}.glb", rig=rig)
    result = blender_import(path, FRAMES)
    assert set(result.bones) == set(joint_names(rig))
    assert result.action["range"] == [0.0, float(dance_30s.num_frames - 1)]  # keys at i / 30 s, 30 fps
    error = np.linalg.norm(blender_joints_y_up(result) - dance_30s.joints()[list(FRAMES)], axis=-1)
    assert error.max() < TOLERANCE_M, f"Blender's glTF joints are {error.max() * 1000:.3f} mm off"
    # The skinned mesh opens and deforms with the skeleton as the file says.
    mesh = result.mesh
    assert mesh is not None and mesh["armature"] is not None
    assert sorted(mesh["vertex_groups"]) == sorted(joint_names(rig))
    skinned = _z_up(glb_skinned_vertices(path, FRAMES))  # (F, V, 3) in Blender's axes
    expected = np.stack([skinned.min(axis=1), skinned.max(axis=1)], axis=1)  # (F, 2, 3)
    np.testing.assert_allclose(np.asarray(mesh["bounds"]), expected, atol=TOLERANCE_M)
    assert result.scene_props["song"] == EXAMPLE_SONG.name == Path(dance_30s.source_song).name
    assert result.scene_props["fps"] == contract.FPS


def test_blender_opens_the_smpl_body_glb(tmp_path):
    model = write_synthetic_smpl(tmp_path / "SMPL_NEUTRAL.npz")
    rng = np.random.default_rng(2)
    poses = rng.normal(0.0, 0.4, (12, contract.NUM_JOINTS, 3)).astype(np.float32)
    trans = np.tile(np.array([0.0, 0.95, 0.0], np.float32), (12, 1))
    motion = Motion(poses, trans)
    path = export.export_motion(motion, tmp_path / "smpl.glb", body="smpl", smpl_path=model)
    frames = (0, 11)
    result = blender_import(path, frames)
    error = np.linalg.norm(blender_joints_y_up(result) - motion.joints()[list(frames)], axis=-1)
    assert error.max() < TOLERANCE_M
    skinned = _z_up(glb_skinned_vertices(path, frames))
    expected = np.stack([skinned.min(axis=1), skinned.max(axis=1)], axis=1)
    np.testing.assert_allclose(np.asarray(result.mesh["bounds"]), expected, atol=TOLERANCE_M)
