"""Foot locking holds planted feet still (root path, then leg IK) and leaves flight phases alone."""

import numpy as np
import pytest
import torch

from generator.cleanup.footlock import (
    clean_feet,
    coast_unsupported,
    lock_planted_feet,
    pin_offsets,
    pin_planted_feet,
)
from generator.cleanup.leg_ik import LEGS
from motionbeat.core import contract
from motionbeat.core.kinematics import axis_angle_to_matrix, forward_kinematics

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


# --------------------------------------------------------------------------- leg IK pins

HORIZONTAL = [a for a in range(3) if a != contract.UP_AXIS]


def test_pin_offsets_hold_the_landing_point_then_fade_out():
    ankle = np.zeros((T, 3), np.float32)
    ankle[:, 0] = 0.01 * np.arange(T)  # slides 1 cm per frame
    toe = ankle + np.array([0.0, 0.0, 0.1], np.float32)
    planted = np.zeros(T, bool)
    planted[3:8] = True
    off, toe_off = pin_offsets(ankle, toe, planted, np.zeros(T, bool), release_frames=4)
    np.testing.assert_array_equal(toe_off, off)  # a lifted toe moves with its ankle
    held = ankle + off
    np.testing.assert_allclose(held[3:8, 0], 0.03, atol=1e-7)  # still from landing to lift-off
    np.testing.assert_array_equal(off[:3], 0.0)
    np.testing.assert_array_equal(off[:, contract.UP_AXIS], 0.0)
    # after lift-off the last pull (-0.04) fades by a fifth per frame, then is gone
    np.testing.assert_allclose(off[8:13, 0], -0.04 * np.array([0.8, 0.6, 0.4, 0.2, 0.0]), atol=1e-7)
    np.testing.assert_array_equal(off[13:], 0.0)


def test_a_toe_only_hold_pins_the_toe_and_continues_the_ankle_hold():
    ankle = np.zeros((T, 3), np.float32)
    ankle[:, 0] = 0.01 * np.arange(T)
    toe = ankle.copy()
    toe[:, 2] = 0.1 + 0.005 * np.arange(T)  # the foot also turns, so the toe moves differently
    ankle_planted = np.zeros(T, bool)
    ankle_planted[2:6] = True
    toe_planted = np.zeros(T, bool)
    toe_planted[2:10] = True  # heel rises at frame 6, the toe stays down
    off, toe_off = pin_offsets(ankle, toe, ankle_planted, toe_planted, release_frames=2)
    np.testing.assert_allclose((ankle + off)[2:6, HORIZONTAL], np.tile(ankle[2, HORIZONTAL], (4, 1)),
                               atol=1e-7)
    toe_held = (toe + toe_off)[2:10, HORIZONTAL]  # the toe holds its own point throughout
    np.testing.assert_allclose(toe_held, np.tile(toe[2, HORIZONTAL], (8, 1)), atol=1e-7)
    # heel up at frame 6: the ankle's lead over the toe's pull fades out over 2 frames, no jump
    lead = off[5] - toe_off[5]
    np.testing.assert_allclose(off[6:10], toe_off[6:10] + lead * np.array([[2 / 3], [1 / 3], [0], [0]]),
                               atol=1e-7)


def test_a_pull_past_the_cap_lets_the_foot_slide_by_the_excess():
    ankle = np.zeros((T, 3), np.float32)
    ankle[:, 0] = 0.05 * np.arange(T)  # 5 cm per frame: the model really moved this foot
    planted = np.ones(T, bool)
    off, toe_off = pin_offsets(ankle, ankle, planted, planted, max_offset=0.12)
    np.testing.assert_allclose(np.abs(off[:, 0]).max(), 0.12, atol=1e-6)
    np.testing.assert_allclose(off[3:, 0], -0.12, atol=1e-6)
    np.testing.assert_allclose(toe_off, off, atol=1e-7)


def standing_with_sliding_feet():
    """Bent-knee stance whose hips swing a little each frame, so the planted feet slide."""
    poses = np.zeros((T, contract.NUM_JOINTS, 3), np.float32)
    swing = 0.01 * np.arange(T)  # pulls stay under the cap (MAX_OFFSET)
    for hip, knee, _ in LEGS:
        poses[:, hip, 0] = -0.3 + swing
        poses[:, knee, 0] = 0.6
    trans = np.tile(np.array([[0.0, 0.85, 0.0]], np.float32), (T, 1))
    return poses, trans


def test_pinned_feet_stay_put_and_free_frames_are_untouched():
    poses, trans = standing_with_sliding_feet()
    contacts = np.zeros((T, contract.NUM_CONTACTS), np.float32)
    contacts[:12] = 1.0
    pinned = pin_planted_feet(poses, trans, contacts, release_frames=3)
    before, after = feet(poses, trans), feet(pinned, trans)
    assert np.abs(np.diff(before[:12, :2][..., HORIZONTAL], axis=0)).max() > 3e-3  # it did slide
    np.testing.assert_allclose(np.diff(after[:12, :2][..., HORIZONTAL], axis=0), 0.0, atol=1e-5)
    np.testing.assert_array_equal(pinned[16:], poses[16:])  # released and faded out by frame 16
    legs = [j for leg in LEGS for j in leg]
    others = [j for j in range(contract.NUM_JOINTS) if j not in legs]
    np.testing.assert_array_equal(pinned[:, others], poses[:, others])


def test_clean_feet_holds_feet_through_the_root_and_the_legs():
    poses, trans = standing_with_sliding_feet()
    trans[:, 0] = 0.01 * np.arange(T)  # the root slides too
    contacts = np.ones((T, contract.NUM_CONTACTS), np.float32)
    contacts[:, 1] = contacts[:, 3] = 0.0  # only the left foot is down
    new_poses, new_trans = clean_feet(poses, trans, contacts)
    left = feet(new_poses, new_trans)[:, [0, 2]]
    np.testing.assert_allclose(np.diff(left[..., HORIZONTAL], axis=0), 0.0, atol=1e-5)


def test_one_frame_and_mismatched_inputs():
    poses, trans = standing_with_sliding_feet()
    one = pin_planted_feet(poses[:1], trans[:1], np.ones((1, contract.NUM_CONTACTS), np.float32))
    np.testing.assert_allclose(one, poses[:1], atol=1e-6)  # a pin starts where the foot is
    with pytest.raises(ValueError, match="same frames"):
        pin_planted_feet(poses, trans, np.ones((T - 1, contract.NUM_CONTACTS), np.float32))


def test_short_unsupported_spans_coast_and_others_keep_their_velocity():
    velocity = np.zeros((12, 2))
    velocity[:, 0] = np.arange(12.0)  # the model accelerates steadily
    supported = np.ones(12, bool)
    supported[[0, 4, 5, 6, 11]] = False  # spans at both ends and one of 3 steps inside
    out = coast_unsupported(velocity, supported, max_frames=3)
    np.testing.assert_array_equal(out[[0, 11]], velocity[[0, 11]])  # clip ends: the model's
    # inside: from v[3] = 3 to v[7] = 7 in equal parts, so 4, 5, 6 (here the same line)
    np.testing.assert_allclose(out[4:7, 0], [4.0, 5.0, 6.0])
    velocity[4:7, 0] = [9.0, -3.0, 9.0]  # a jerky flight
    np.testing.assert_allclose(coast_unsupported(velocity, supported, 3)[4:7, 0], [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(coast_unsupported(velocity, supported, 2), velocity)  # too long


def test_a_hop_keeps_its_momentum():
    poses, trans = sliding_rest_pose()
    trans[8:12, 0] += [0.03, -0.02, 0.04, 0.0]  # jerky root during an unsupported hop
    contacts = np.ones((T, contract.NUM_CONTACTS), np.float32)
    contacts[8:12] = 0.0
    locked = lock_planted_feet(poses, trans, contacts)
    accel = np.diff(locked[:, 0], n=2)
    np.testing.assert_allclose(accel, 0.0, atol=1e-6)  # planted: still; hop: constant velocity
