"""Positions-only dances: IK recovers SMPL joint positions from positions made by FK."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from dataset_fixtures import known_motion, smpl_joints, write_click_song

from motionbeat.core import contract, kinematics
from motionbeat.datasets import ik
from motionbeat.datasets.positions import PositionsDataset, PositionsError

CM = 0.01
FRAMES = 30


def test_npz_positions_z_up_centimetres_are_solved_within_1cm(tmp_path):
    poses, trans = known_motion(FRAMES, seed=7)
    joints = smpl_joints(poses, trans)  # (T, 24, 3) y-up metres
    order = np.random.default_rng(0).permutation(contract.NUM_JOINTS)  # another joint order
    names = np.array([f"mixamorig:{n}" for n in contract.JOINT_NAMES])[order]
    z_up_cm = kinematics.y_up_to_z_up(torch.from_numpy(joints)).numpy() * 100.0
    np.savez(tmp_path / "d.npz", positions=z_up_cm[:, order], fps=np.float64(contract.FPS),
             joint_names=names)
    write_click_song(tmp_path / "d.wav", 1.0)
    motion = PositionsDataset(tmp_path).load_raw("d")
    err = np.linalg.norm(motion.joints() - joints, axis=-1)
    assert err.max() < CM, f"max {err.max() * 100:.2f} cm"
    assert motion.meta["ik_max_error_m"] < CM and motion.meta["up_axis"] == "z"


def test_dance_with_melody_layout_with_a_missing_joint(tmp_path):
    """23 joints (no Spine2), names from joint_map.json: the optimiser bends the free joint."""
    poses, trans = known_motion(FRAMES, seed=8, amplitude=0.3)
    joints = smpl_joints(poses, trans)
    keep = [n for n in contract.JOINT_NAMES if n != "Spine2"]
    idx = [contract.JOINT_INDEX[n] for n in keep]
    dance = tmp_path / "DANCE_C_1"
    dance.mkdir()
    skeletons = {"length": FRAMES, "skeletons": joints[:, idx].tolist()}
    (dance / "skeletons.json").write_text(json.dumps(skeletons))
    (dance / "config.json").write_text(json.dumps({"fps": contract.FPS}))
    write_click_song(dance / "audio.wav", 1.0)
    with pytest.raises(PositionsError, match="without names"):
        PositionsDataset(tmp_path).read("DANCE_C_1")
    source = [f"j{i}" for i in range(len(keep))]
    (tmp_path / "joint_map.json").write_text(json.dumps(
        {"joints": dict(zip(keep, source, strict=True)), "source_joint_names": source}))
    data = PositionsDataset(tmp_path)
    motion = data.load_raw("DANCE_C_1")
    err = np.linalg.norm(motion.joints()[:, idx] - joints[:, idx], axis=-1)
    assert err.max() < CM, f"max {err.max() * 100:.2f} cm"
    assert data.music_path("DANCE_C_1").name == "audio.wav"


def test_refinement_reduces_the_error_of_a_poor_start():
    poses, trans = known_motion(10, seed=9, amplitude=0.3)
    joints = smpl_joints(poses, trans)
    result = ik.solve_ik(joints, list(contract.JOINT_NAMES), contract.FPS, analytic_init=False,
                         iterations=60)
    assert result.mean_error_m < 0.5 * result.initial_mean_error_m
