"""FineDance: the (T, 315) motion files, the rot6d convention, splits, genres and Lodge clips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dataset_fixtures import known_motion, smpl_joints, write_finedance
from scipy.spatial.transform import Rotation

from motionbeat.core import contract
from motionbeat.datasets import finedance as fd

MM = 1e-3


def test_rot6d_is_the_first_two_rows_gram_schmidt():
    mats = Rotation.random(5, random_state=0).as_matrix()
    rows = mats[:, :2, :].reshape(5, 6)  # pytorch3d's matrix_to_rotation_6d
    # scaled rows, the second with some of the first mixed in: Gram-Schmidt must undo both
    noisy = np.concatenate([2.0 * rows[:, :3], 0.5 * rows[:, 3:] + 0.3 * rows[:, :3]], axis=1)
    a1, a2 = noisy[:, :3], noisy[:, 3:]
    b1 = a1 / np.linalg.norm(a1, axis=1, keepdims=True)
    b2 = a2 - np.sum(b1 * a2, axis=1, keepdims=True) * b1
    b2 /= np.linalg.norm(b2, axis=1, keepdims=True)
    by_hand = np.stack([b1, b2, np.cross(b1, b2)], axis=1)  # b1, b2, b3 as ROWS
    got = fd.finedance_rot6d_to_matrix(torch.tensor(noisy)).numpy()
    np.testing.assert_allclose(got, by_hand, atol=1e-6)
    np.testing.assert_allclose(got, mats, atol=1e-6)


def test_motion_file_round_trips_the_joint_positions(tmp_path):
    poses, trans = known_motion(50, seed=1)
    root = write_finedance(tmp_path / "fd", {"001": (poses, trans)}, genres={"001": "Breaking"})
    motion = fd.read_motion_file(root / "motion" / "001.npy")
    assert motion.fps == fd.FINEDANCE_FPS and motion.num_frames == 50
    err = np.linalg.norm(motion.joints() - smpl_joints(poses, trans), axis=-1)
    assert err.max() < MM  # the finger joints (random here) are ignored
    assert np.abs(motion.poses[:, contract.JOINT_INDEX["L_Hand"]]).max() == 0.0  # identity hands
    data = fd.FineDance(root)
    assert data.genre("001") == "Breaking" and data.music_path("001").is_file()
    loaded = data.load("001")  # floored and centred, the same dance
    got = loaded.joints()
    ref = smpl_joints(poses, trans)
    np.testing.assert_allclose(got - got[:1, :1], ref - ref[:1, :1], atol=MM)
    assert loaded.trans[0, 0] == 0.0 and loaded.trans[0, 2] == 0.0


def test_splits_ignore_list_genres_and_lodge_clips(tmp_path):
    short, long = known_motion(40, seed=2), known_motion(fd.CLIP_FRAMES * 2 + 10, seed=3)
    dances = {"001": short, "002": short, "063": long, "116": short}
    root = write_finedance(tmp_path / "fd", dances)
    (root / "label_json" / "002.json").write_text("not json")  # a broken label: no genre, no crash
    data = fd.FineDance(root)
    assert data.ids() == ["001", "002", "063"]  # 116 is on the ignore list
    assert [data.split_of(i) for i in data.ids()] == ["val", "train", "test"]
    assert data.genre("001") == "Popping" and data.genre("002") == ""
    assert data.test_clips() == [("063", 0), ("063", fd.CLIP_FRAMES)]
    items = {i.dance_id: i for i in data.items()}
    assert set(items) == {"001", "002", "063@0", f"063@{fd.CLIP_FRAMES}"}
    assert items[f"063@{fd.CLIP_FRAMES}"].clip == (fd.CLIP_FRAMES, fd.CLIP_FRAMES)
    assert len(list(data.windows("train"))) == 0  # 40 frames: shorter than one window


def test_bad_files_are_named(tmp_path):
    (tmp_path / "motion").mkdir()
    np.save(tmp_path / "motion" / "007.npy", np.zeros((10, 72)))
    with pytest.raises(fd.FineDanceError, match=r"007.npy: expected a \(T, 315\)"):
        fd.FineDance(tmp_path).load("007")
    with pytest.raises(fd.FineDanceError, match="no motion/"):
        fd.FineDance(tmp_path / "nothing")
