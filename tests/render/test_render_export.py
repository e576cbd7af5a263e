"""BVH export: hierarchy, conventions and the round trip to joint positions within 1 mm."""

from __future__ import annotations

import numpy as np
import pytest

from motionbeat.core import contract
from motionbeat.core.motion import Motion, load_motion
from render import export
from render.export import ExportError

ROUND_TRIP_TOLERANCE_M = 1e-3


def wild_motion(frames: int = 40, seed: int = 3) -> Motion:
    """Large rotations (beyond +-180 degrees, through gimbal lock) and a travelling root."""
    rng = np.random.default_rng(seed)
    poses = rng.normal(0.0, 1.2, (frames, contract.NUM_JOINTS, 3)).astype(np.float32)
    poses[frames // 2, :, :] = [np.pi / 2, 0.0, 0.0]  # 90 degrees about x: ZXY gimbal lock
    trans = np.cumsum(rng.normal(0.0, 0.05, (frames, 3)), axis=0).astype(np.float32)
    trans[:, 1] += 0.95
    return Motion(poses, trans, fps=contract.FPS)


@pytest.mark.parametrize("units", ["m", "cm"])
def test_bvh_round_trip_within_a_millimetre(tmp_path, units):
    motion = wild_motion()
    path = export.write_bvh(motion, tmp_path / f"dance {units}.bvh", units=units)
    error = export.bvh_round_trip_error(motion, path, units=units)
    assert error < ROUND_TRIP_TOLERANCE_M
    assert error < 1e-4  # in fact a few micrometres: six decimals are written


def test_bvh_reads_back_as_the_same_motion(tmp_path):
    motion = wild_motion()
    path = export.write_bvh(motion, tmp_path / "d.bvh")
    back = export.load_bvh_motion(path)
    assert back.num_frames == motion.num_frames
    assert back.fps == pytest.approx(motion.fps, rel=1e-6)
    np.testing.assert_allclose(back.joints(), motion.joints(), atol=1e-4)


def test_bvh_hierarchy_follows_the_contract(tmp_path):
    path = export.write_bvh(wild_motion(3), tmp_path / "d.bvh", units="cm")
    bvh = export.read_bvh(path)
    assert set(bvh.names) == set(contract.JOINT_NAMES)
    for name, parent in zip(bvh.names, bvh.parents, strict=True):
        expected = contract.PARENTS[contract.JOINT_INDEX[name]]
        assert (parent < 0) == (expected < 0)
        if parent >= 0:
            assert bvh.names[parent] == contract.JOINT_NAMES[expected]
    index = [bvh.names.index(n) for n in contract.JOINT_NAMES]
    np.testing.assert_allclose(bvh.offsets[index[1:]], contract.REST_OFFSETS[1:] * 100, atol=1e-5)
    np.testing.assert_allclose(bvh.offsets[index[0]], 0.0)
    assert bvh.channels[0] == (
        "Xposition",
        "Yposition",
        "Zposition",
        "Zrotation",
        "Xrotation",
        "Yrotation",
    )
    assert all(c == ("Zrotation", "Xrotation", "Yrotation") for c in bvh.channels[1:])
    assert bvh.frame_time == pytest.approx(1.0 / contract.FPS)
    text = path.read_text()
    assert text.count("End Site") == 5  # head, two toes, two hands


def test_rest_pose_bvh_positions_are_the_rest_skeleton(tmp_path):
    zero = Motion(np.zeros((1, contract.NUM_JOINTS, 3)), np.zeros((1, 3)))
    bvh = export.read_bvh(export.write_bvh(zero, tmp_path / "rest.bvh"))
    index = [bvh.names.index(n) for n in contract.JOINT_NAMES]
    from motionbeat.core import kinematics
    np.testing.assert_allclose(
        export.bvh_joint_positions(bvh)[0, index], kinematics.rest_joints(), atol=1e-5
    )


@pytest.mark.parametrize("suffix", [".npz", ".pkl"])
def test_export_motion_writes_project_formats(tmp_path, suffix):
    motion = wild_motion(10)
    path = export.export_motion(motion, tmp_path / f"dånce{suffix}")
    back = load_motion(path)
    assert back.num_frames >= motion.num_frames


def test_export_errors(tmp_path):
    with pytest.raises(ExportError, match="unknown export format"):
        export.export_motion(wild_motion(2), tmp_path / "d.fbx")
    with pytest.raises(ExportError, match="units"):
        export.write_bvh(wild_motion(2), tmp_path / "d.bvh", units="inch")
    bad = tmp_path / "bad.bvh"
    bad.write_text("HIERARCHY\nROOT a\n{\n")
    with pytest.raises(ExportError, match="not a BVH"):
        export.read_bvh(bad)
    bad.write_text(
        "HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 3 Xposition Yposition Zposition\n}\n"
        "MOTION\nFrames: 2\nFrame Time: 0.1\n1 2 3\n"
    )
    with pytest.raises(ExportError):
        export.read_bvh(bad)
