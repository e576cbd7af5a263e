"""Foot locking holds planted feet still and leaves flight phases alone."""

import numpy as np
import pytest
import torch

from generator.footlock import lock_planted_feet
from motionbeat import contract
from motionbeat.kinematics import axis_angle_to_matrix, forward_kinematics

T = 20


def feet(poses, trans):
    mats = axis_angle_to_matrix(torch.from_numpy(poses))
    return forward_kinematics(mats, torch.from_numpy(trans)).numpy()[:, list(contract.FOOT_JOINTS)]


def sliding_rest_pose():
    """A standing pose whose root slides 1 cm per frame along x (and bobs up and down)."""
    poses = np.zeros((T, contract.NUM_JOINTS, 3), np.float32)
    trans = np.zeros((T, 3), np.float32)
    trans[:, 0] = 0.01 * np.arange(T)
    trans[:, contract.UP_AXIS] = 0.9 + 0.01 * np.sin(np.arange(T))
    return poses, trans


def test_planted_feet_stop_sliding_and_heights_stay():
    poses, trans = sliding_rest_pose()
    locked = lock_planted_feet(poses, trans, np.ones((T, contract.NUM_CONTACTS), np.float32))
    horizontal = [a for a in range(3) if a != contract.UP_AXIS]
    f = feet(poses, locked)  # (T, 4, 3)
    assert np.abs(f[1:, :, horizontal] - f[:-1, :, horizontal]).max() < 1e-5
    np.testing.assert_allclose(locked[:, contract.UP_AXIS], trans[:, contract.UP_AXIS])


def test_no_contact_keeps_the_root_path():
    poses, trans = sliding_rest_pose()
    locked = lock_planted_feet(poses, trans, np.zeros((T, contract.NUM_CONTACTS), np.float32))
    np.testing.assert_array_equal(locked, trans)


def test_only_frames_planted_in_both_neighbours_are_corrected():
    poses, trans = sliding_rest_pose()
    contacts = np.zeros((T, contract.NUM_CONTACTS), np.float32)
    contacts[5:10] = 1.0  # planted from frame 5 to 9: the 4 steps 5->6 ... 8->9 are removed
    locked = lock_planted_feet(poses, trans, contacts)
    np.testing.assert_allclose(locked[:6, 0], trans[:6, 0], atol=1e-6)
    np.testing.assert_allclose(locked[9:, 0], trans[9:, 0] - 0.04, atol=1e-5)


def test_mismatched_shapes_are_refused():
    poses, trans = sliding_rest_pose()
    with pytest.raises(ValueError, match="same frames"):
        lock_planted_feet(poses, trans, np.ones((T - 1, contract.NUM_CONTACTS), np.float32))
