"""BVH loading with retargeting: T-pose and A-pose rigs of a known pose, axes, units, maps."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dataset_fixtures import known_motion, smpl_joints, write_click_song, write_rig_bvh
from scipy.spatial.transform import Rotation

from motionbeat.core import contract
from motionbeat.datasets import joint_maps
from motionbeat.datasets.bvh import BVHDataset
from motionbeat.datasets.bvh_file import BVHError, read_bvh
from motionbeat.datasets.retarget import retarget_bvh

FRAMES = 40
MM = 1e-3
MIXAMO = {k: f"mixamorig:{v}" for k, v in joint_maps.MIXAMO.items()}


@pytest.fixture(scope="module")
def dance():
    poses, trans = known_motion(FRAMES, seed=3)
    return poses, trans, smpl_joints(poses, trans)


@pytest.mark.parametrize(("rest", "up", "unit", "names", "hip_joint", "expect"), [
    ("T", "y", 1.0, MIXAMO, False, ("mixamo", "y", "m")),
    ("A", "y", 1.0, MIXAMO, False, ("mixamo", "y", "m")),
    ("A", "z", 100.0, joint_maps.CMU, True, ("cmu", "z", "cm")),
    ("T", "z", 1 / 0.0254, joint_maps.LAFAN1, False, ("lafan1", "z", "in")),
    ("A", "y", 100.0, joint_maps.BANDAI_NAMCO, False, ("bandai_namco", "y", "cm")),
])
def test_rigs_retarget_to_the_source_joint_positions(tmp_path, dance, rest, up, unit, names, hip_joint,
                                                     expect):
    poses, trans, joints = dance
    if names is joint_maps.BANDAI_NAMCO:  # that rig has no Spine3 joint: keep SMPL's still
        poses = poses.copy()
        poses[:, contract.JOINT_INDEX["Spine3"]] = 0.0
        joints = smpl_joints(poses, trans)
    path = write_rig_bvh(tmp_path / "d.bvh", poses, trans, contract.FPS, names, rest=rest, up=up,
                         unit=unit, hip_joint=hip_joint)
    motion, info = retarget_bvh(read_bvh(path))
    assert (info["joint_map"], info["up_axis"], info["units"]) == expect
    err = np.linalg.norm(motion.joints() - joints, axis=-1)  # (T, 24)
    if names is joint_maps.BANDAI_NAMCO:  # compare the joints the rig has
        mapped = [contract.JOINT_INDEX[n] for n in names]
        err = err[:, mapped]
    assert err.max() < MM, f"max joint error {err.max() * 1000:.3f} mm"


def test_t_pose_rig_transfers_rotations_exactly(tmp_path, dance):
    poses, trans, _ = dance
    path = write_rig_bvh(tmp_path / "t.bvh", poses, trans, contract.FPS, joint_maps.LAFAN1)
    motion, _ = retarget_bvh(read_bvh(path))
    body = [j for j, n in enumerate(contract.JOINT_NAMES) if n not in ("L_Hand", "R_Hand")]
    diff = Rotation.from_rotvec(motion.poses[:, body].reshape(-1, 3)).inv() * Rotation.from_rotvec(
        poses[:, body].reshape(-1, 3))
    assert np.degrees(diff.magnitude().max()) < 0.01


def test_a_pose_is_aligned_not_copied(tmp_path, dance):
    """Copying the A-pose rig's local rotations onto SMPL would put the elbows ~0.1 m off."""
    poses, trans, joints = dance
    path = write_rig_bvh(tmp_path / "a.bvh", poses, trans, contract.FPS, MIXAMO, rest="A")
    bvh = read_bvh(path)
    from motionbeat.datasets.bvh_file import channel_rotations
    rot, _ = channel_rotations(bvh)
    naive = Rotation.from_matrix(rot.reshape(-1, 3, 3)).as_rotvec().reshape(FRAMES, -1, 3)
    naive_joints = smpl_joints(naive.astype(np.float32), trans)
    assert np.linalg.norm(naive_joints - joints, axis=-1).max() > 0.05
    motion, _ = retarget_bvh(bvh)
    assert np.linalg.norm(motion.joints() - joints, axis=-1).max() < MM


def test_dataset_folder_resamples_to_30_fps_with_music(tmp_path):
    fast = 2 * contract.FPS
    p60, t60 = known_motion(2 * FRAMES, seed=4, fps=fast)
    write_rig_bvh(tmp_path / "set" / "a.bvh", p60, t60, fast, MIXAMO, rest="A", up="z", unit=100.0)
    write_click_song(tmp_path / "set" / "a.wav", 2.0)
    write_rig_bvh(tmp_path / "set" / "no_music.bvh", p60, t60, fast, MIXAMO)
    data = BVHDataset(tmp_path / "set")
    assert [i.dance_id for i in data.items()] == ["a"]  # the file without music is skipped
    motion = data.load("a")
    assert motion.fps == contract.FPS and motion.num_frames == FRAMES
    ref = smpl_joints(*known_motion(FRAMES, seed=4))  # the same dance sampled at 30 fps
    got = motion.joints()
    # floored and centred: the same dance up to one constant shift
    np.testing.assert_allclose(got - got[:1, :1], ref - ref[:1, :1], atol=MM)
    assert abs(got[..., contract.UP_AXIS].min()) < 0.05 and motion.meta["units"] == "cm"


def test_user_joint_map_and_clear_errors(tmp_path, dance):
    poses, trans, joints = dance
    odd = {n: f"bone_{i:02d}" for i, n in enumerate(contract.JOINT_NAMES)}
    folder = tmp_path / "odd"
    write_rig_bvh(folder / "x.bvh", poses, trans, contract.FPS, odd)
    write_click_song(folder / "x.wav", 2.0)
    with pytest.raises(joint_maps.JointMapError, match="joint_map.json"):
        BVHDataset(folder).load("x")
    (folder / "joint_map.json").write_text(json.dumps(odd))
    motion = BVHDataset(folder).load_raw("x")
    assert np.linalg.norm(motion.joints() - joints, axis=-1).max() < MM
    (folder / "joint_map.json").write_text(json.dumps({"Pelvis": "bone_00", "Elbow": "x"}))
    with pytest.raises(joint_maps.JointMapError, match="not SMPL joint names"):
        BVHDataset(folder)
    bad = tmp_path / "bad.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n}\n"
                   "MOTION\nFrames: 2\nFrame Time: 0.0333\n0 0 0\n")
    with pytest.raises(BVHError, match="expected 2 frames"):
        read_bvh(bad)
