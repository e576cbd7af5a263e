"""Two-bone leg IK reaches its targets, keeps the foot's orientation and the knee's bend plane."""

import numpy as np
import torch

from generator.cleanup.leg_ik import LEGS, rotation_between, solve_leg
from motionbeat.core import contract
from motionbeat.core.kinematics import (
    axis_angle_to_matrix,
    forward_kinematics,
    forward_kinematics_with_rotations,
)


def pose_state(poses, trans):
    local = axis_angle_to_matrix(torch.from_numpy(poses))  # (T, 24, 3, 3)
    joints, world = forward_kinematics_with_rotations(local, torch.from_numpy(trans))
    return local.numpy(), world.numpy(), joints.numpy()


def bent_legs(frames=4, seed=0):
    """Standing poses with bent knees and a little random hip and ankle rotation."""
    rng = np.random.default_rng(seed)
    poses = np.zeros((frames, contract.NUM_JOINTS, 3), np.float32)
    for hip, knee, ankle in LEGS:
        poses[:, hip] = rng.normal(0, 0.15, (frames, 3)) + [-0.4, 0, 0]
        poses[:, knee] = [0.7, 0, 0]
        poses[:, ankle] = rng.normal(0, 0.1, (frames, 3))
    poses[:, 0] = rng.normal(0, 0.2, (frames, 3))
    trans = np.tile(np.array([[0.0, 0.85, 0.0]], np.float32), (frames, 1))
    return poses, trans


def test_rotation_between_maps_directions_and_is_a_rotation():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    r = rotation_between(a, b)  # (50, 3, 3)
    mapped = np.einsum("nij,nj->ni", r, a / np.linalg.norm(a, axis=1, keepdims=True))
    np.testing.assert_allclose(mapped, b / np.linalg.norm(b, axis=1, keepdims=True), atol=1e-9)
    np.testing.assert_allclose(r @ np.swapaxes(r, 1, 2), np.broadcast_to(np.eye(3), r.shape), atol=1e-9)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-9)


def test_world_rotations_compose_parents():
    poses, trans = bent_legs()
    local, world, _ = pose_state(poses, trans)
    knee = LEGS[0][1]
    hip = contract.PARENTS[knee]
    np.testing.assert_allclose(world[:, knee], world[:, 0] @ local[:, hip] @ local[:, knee], atol=1e-6)


def test_reachable_targets_are_reached_with_the_foot_orientation_kept():
    poses, trans = bent_legs()
    local, world, joints = pose_state(poses, trans)
    hip, knee, ankle = LEGS[0]
    shift = np.array([[0.04, 0.02, -0.05]], np.float32)
    solved = solve_leg(local, world, joints, LEGS[0], joints[:, ankle] + shift)
    fk = forward_kinematics_with_rotations(torch.from_numpy(solved), torch.from_numpy(trans))
    new_joints, new_world = (t.numpy() for t in fk)
    np.testing.assert_allclose(new_joints[:, ankle], joints[:, ankle] + shift, atol=1e-5)
    np.testing.assert_allclose(new_world[:, ankle], world[:, ankle], atol=1e-5)  # foot orientation
    others = [j for j in range(contract.NUM_JOINTS) if j not in LEGS[0]]
    np.testing.assert_array_equal(solved[:, others], local[:, others])
    np.testing.assert_allclose(new_joints[:, LEGS[1][2]], joints[:, LEGS[1][2]], atol=1e-6)
    # the knee stays on the same side of the hip-ankle line (its bend plane keeps its facing)
    def bend(j):
        u = j[:, ankle] - j[:, hip]
        k = j[:, knee] - j[:, hip]
        return k - np.sum(k * u, 1, keepdims=True) * u / np.sum(u * u, 1, keepdims=True)
    assert (np.sum(bend(joints) * bend(new_joints), axis=1) > 0).all()


def test_a_zero_shift_changes_nothing_and_far_targets_straighten_the_leg():
    poses, trans = bent_legs()
    local, world, joints = pose_state(poses, trans)
    hip, knee, ankle = LEGS[1]
    same = solve_leg(local, world, joints, LEGS[1], joints[:, ankle])
    np.testing.assert_allclose(same, local, atol=1e-5)
    far = joints[:, hip] + np.array([0.0, -5.0, 0.0], np.float32)  # 5 m below the hip
    solved = solve_leg(local, world, joints, LEGS[1], far)
    new = forward_kinematics(torch.from_numpy(solved), torch.from_numpy(trans)).numpy()
    leg = np.linalg.norm(joints[:, knee] - joints[:, hip], axis=1) + np.linalg.norm(
        joints[:, ankle] - joints[:, knee], axis=1)
    reach = np.linalg.norm(new[:, ankle] - new[:, hip], axis=1)
    np.testing.assert_allclose(reach, leg, rtol=1e-3)  # straight
    direction = (new[:, ankle] - new[:, hip]) / reach[:, None]
    np.testing.assert_allclose(direction, np.tile([[0.0, -1.0, 0.0]], (len(direction), 1)), atol=1e-3)
