"""Short low double lifts are bridged by the lowest foot joint; jumps and long flights are not."""

import numpy as np
import pytest
import torch

from generator.cleanup.contact_gaps import (
    MAX_BRIDGE_FRAMES,
    bridge_short_lifts,
    false_runs,
    supported_steps,
)
from generator.cleanup.footlock import clean_feet
from motionbeat.core import contract
from motionbeat.core.kinematics import axis_angle_to_matrix, forward_kinematics

T = 20
TAU = 0.5
HORIZONTAL = [a for a in range(3) if a != contract.UP_AXIS]


def test_false_runs_and_supported_steps_by_hand():
    assert false_runs(np.array([1, 0, 0, 1, 0], bool)) == [(1, 3), (4, 5)]
    assert false_runs(np.ones(3, bool)) == []
    contacts = np.zeros((4, 4), np.float32)
    contacts[:2, 0] = 1.0  # left ankle down in frames 0, 1
    contacts[2:, 1] = 1.0  # right ankle down in frames 2, 3: nobody holds step 1 -> 2
    np.testing.assert_array_equal(supported_steps(contacts, TAU), [True, False, True])


def test_a_short_gap_is_bridged_by_the_lowest_joint():
    contacts = np.ones((T, 4), np.float32)
    contacts[8:11] = 0.0  # frames 8-10 free: steps 7->8 ... 10->11 unsupported, frames 7..11
    heights = np.full((T, 4), 0.2, np.float32)
    heights[:, 2] = 0.03  # the left toe stays lowest
    heights[9, 3] = 0.01  # the right toe dips lower once but rises higher elsewhere in the span
    out = bridge_short_lifts(contacts, heights, TAU)
    expected = contacts.copy()
    expected[7:12, 2] = 1.0
    np.testing.assert_array_equal(out, expected)
    assert supported_steps(out, TAU).all()
    np.testing.assert_array_equal(contacts[8:11], 0.0)  # the input is not touched


def test_a_foot_switch_without_overlap_is_bridged():
    contacts = np.zeros((T, 4), np.float32)
    contacts[:10, 0] = 1.0
    contacts[10:, 1] = 1.0  # the right ankle lands the frame after the left one lifts
    heights = np.full((T, 4), 0.1, np.float32)
    heights[9:11, 1] = 0.02
    out = bridge_short_lifts(contacts, heights, TAU)
    assert out[9, 1] == 1.0 and out[10, 1] == 1.0
    assert supported_steps(out, TAU).all()


def test_jumps_and_long_flights_stay_unsupported():
    contacts = np.ones((T, 4), np.float32)
    contacts[5:8] = 0.0
    high = np.full((T, 4), 0.3, np.float32)  # a real jump: every joint clears 30 cm
    np.testing.assert_array_equal(bridge_short_lifts(contacts, high, TAU), contacts)
    long_gap = np.ones((3 * MAX_BRIDGE_FRAMES, 4), np.float32)
    long_gap[2:2 + MAX_BRIDGE_FRAMES + 1] = 0.0  # one step longer than the limit
    low = np.zeros_like(long_gap)
    np.testing.assert_array_equal(bridge_short_lifts(long_gap, low, TAU), long_gap)
    with pytest.raises(ValueError, match="must match"):
        bridge_short_lifts(contacts, high[:-1], TAU)


def test_clean_feet_holds_a_low_foot_through_a_contact_gap():
    """A body shuffling its legs while its root slides 1 cm a frame: with the contacts missing for
    3 frames the clean-up holds the lowest foot still through them (without the bridge both feet
    swing with the legs there while the root coasts)."""
    poses = np.zeros((T, contract.NUM_JOINTS, 3), np.float32)
    swing = 0.1 * np.sin(0.8 * np.arange(T))  # hip flexion, radians
    poses[:, contract.JOINT_INDEX["L_Hip"], 0] = swing
    poses[:, contract.JOINT_INDEX["R_Hip"], 0] = -swing
    trans = np.zeros((T, 3), np.float32)
    trans[:, 0] = 0.01 * np.arange(T)
    rest = forward_kinematics(axis_angle_to_matrix(torch.from_numpy(poses[:1])),
                              torch.from_numpy(trans[:1])).numpy()[0]  # (24, 3)
    trans[:, contract.UP_AXIS] = -rest[list(contract.FOOT_JOINTS), contract.UP_AXIS].min() + 0.01
    contacts = np.zeros((T, 4), np.float32)
    contacts[:, [0, 2]] = 1.0  # the left foot is down ...
    contacts[8:11] = 0.0  # ... but for frames 8-10
    new_poses, new_trans = clean_feet(poses, trans, contacts)
    joints = forward_kinematics(axis_angle_to_matrix(torch.from_numpy(new_poses)),
                                torch.from_numpy(new_trans)).numpy()  # (T, 24, 3)
    feet = joints[:, list(contract.FOOT_JOINTS)][..., HORIZONTAL]  # (T, 4, 2)
    slides = np.abs(np.diff(feet, axis=0)).max(axis=2)  # (T-1, 4) slide of each joint per step
    assert slides[:7][:, [0, 2]].max() < 1e-5  # the left foot held before the gap ...
    assert slides[7:11].min(axis=1).max() < 1e-5  # ... and one foot joint in every step of it
