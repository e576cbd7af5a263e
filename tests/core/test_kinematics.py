"""Golden tests for motionbeat.core.kinematics: rest skeleton, rotation round trips, FK, axes, resampling."""

import math

import numpy as np
import pytest
import torch

from motionbeat.core import contract
from motionbeat.core import kinematics as K


def _rest_by_hand() -> np.ndarray:
    """Rest joints by summing offsets down the parent chain, written independently of FK."""
    out = np.zeros((contract.NUM_JOINTS, 3))
    for j, parent in enumerate(contract.PARENTS):
        out[j] = contract.REST_OFFSETS[j] + (out[parent] if parent >= 0 else 0.0)
    return out


def test_zero_pose_gives_rest_skeleton():
    joints = K.forward_kinematics(torch.zeros(2, 7, 24, 3), torch.zeros(2, 7, 3))  # (B, T, J, 3)
    assert joints.shape == (2, 7, contract.NUM_JOINTS, 3)
    np.testing.assert_allclose(joints[1, 3].numpy(), _rest_by_hand(), atol=1e-6)
    np.testing.assert_allclose(K.rest_joints(), _rest_by_hand(), atol=1e-6)


def test_root_translation_moves_every_joint():
    shift = torch.tensor([0.3, -0.2, 1.5])
    joints = K.forward_kinematics(torch.zeros(24, 3), shift)
    np.testing.assert_allclose(joints.numpy(), _rest_by_hand() + shift.numpy(), atol=1e-6)


def test_known_rotation_of_the_root():
    """90 degrees about +y (up) sends a child offset (x, y, z) to (z, y, -x)."""
    poses = torch.zeros(24, 3, dtype=torch.float64)
    poses[0] = torch.tensor([0.0, math.pi / 2, 0.0])
    joints = K.forward_kinematics(poses, torch.zeros(3, dtype=torch.float64)).numpy()
    x, y, z = contract.REST_OFFSETS[contract.JOINT_INDEX["L_Hip"]].astype(np.float64)
    np.testing.assert_allclose(joints[contract.JOINT_INDEX["L_Hip"]], [z, y, -x], atol=1e-7)


def test_elbow_bend_moves_only_the_forearm_chain():
    poses = torch.zeros(24, 3, dtype=torch.float64)
    elbow = contract.JOINT_INDEX["L_Elbow"]
    poses[elbow] = torch.tensor([0.0, 1.0, 0.0])
    bent = K.forward_kinematics(poses, torch.zeros(3, dtype=torch.float64)).numpy()
    rest = _rest_by_hand()
    moved = {contract.JOINT_INDEX[n] for n in ("L_Wrist", "L_Hand")}
    for j in range(contract.NUM_JOINTS):
        assert np.allclose(bent[j], rest[j], atol=1e-9) == (j not in moved), contract.JOINT_NAMES[j]
    # bone lengths are preserved
    wrist = contract.JOINT_INDEX["L_Wrist"]
    np.testing.assert_allclose(
        np.linalg.norm(bent[wrist] - bent[elbow]), np.linalg.norm(contract.REST_OFFSETS[wrist]), atol=1e-9
    )


@pytest.mark.parametrize(
    ("to", "back"),
    [
        (K.axis_angle_to_matrix, K.matrix_to_axis_angle),
        (K.axis_angle_to_quaternion, K.quaternion_to_axis_angle),
        (K.axis_angle_to_rot6d, K.rot6d_to_axis_angle),
    ],
)
def test_rotation_round_trips(to, back):
    gen = torch.Generator().manual_seed(0)
    axis = torch.nn.functional.normalize(torch.randn(500, 3, generator=gen, dtype=torch.float64), dim=-1)
    angle = torch.rand(500, 1, generator=gen, dtype=torch.float64) * (math.pi - 1e-3)
    aa = axis * angle  # (N, 3), angles in [0, pi)
    np.testing.assert_allclose(back(to(aa)).numpy(), aa.numpy(), atol=1e-6)


def test_rot6d_is_first_two_rows():
    mat = K.axis_angle_to_matrix(torch.tensor([0.3, -0.4, 0.5]))
    np.testing.assert_allclose(K.matrix_to_rot6d(mat).numpy(), mat[:2].reshape(6).numpy())
    np.testing.assert_allclose(K.rot6d_to_matrix(K.matrix_to_rot6d(mat)).numpy(), mat.numpy(), atol=1e-6)


def test_slerp_halfway_is_half_the_angle():
    q0 = K.axis_angle_to_quaternion(torch.zeros(3, dtype=torch.float64))
    q1 = K.axis_angle_to_quaternion(torch.tensor([0.0, 0.0, math.pi / 2], dtype=torch.float64))
    mid = K.quaternion_to_axis_angle(K.quaternion_slerp(q0, q1, torch.tensor(0.5, dtype=torch.float64)))
    np.testing.assert_allclose(mid.numpy(), [0.0, 0.0, math.pi / 4], atol=1e-9)


def test_axes_conversion():
    up_y = torch.tensor([0.0, 1.0, 0.0])
    np.testing.assert_allclose(K.y_up_to_z_up(up_y).numpy(), [0.0, 0.0, 1.0])
    pts = torch.randn(10, 3)
    np.testing.assert_allclose(K.z_up_to_y_up(K.y_up_to_z_up(pts)).numpy(), pts.numpy(), atol=1e-6)
    # rotating the root and the translation gives the converted joints
    poses, trans = torch.randn(24, 3, dtype=torch.float64) * 0.3, torch.randn(3, dtype=torch.float64)
    joints_z = K.y_up_to_z_up(K.forward_kinematics(poses, trans))
    poses_z = poses.clone()
    poses_z[0] = K.rotate_root_y_up_to_z_up(poses[0])
    np.testing.assert_allclose(
        K.forward_kinematics(poses_z, K.y_up_to_z_up(trans)).numpy(), joints_z.numpy(), atol=1e-9
    )


def test_contacts_static_and_moving_feet():
    joints = torch.zeros(10, 24, 3)
    joints[:, contract.L_ANKLE, 0] = torch.arange(10) * 0.1  # 0.1 m/frame = 3 m/s at 30 fps
    contacts = K.foot_contacts(joints, contract.FPS)  # (T, 4)
    assert contacts.shape == (10, contract.NUM_CONTACTS)
    assert contacts[:, 0].sum() == 0  # the moving left ankle is never in contact
    assert contacts[:, 1:].min() == 1  # the static joints always are


def test_resample_keeps_span_and_round_trips():
    assert K.resampled_length(150, 30, 60) == 299
    assert K.resampled_length(299, 60, 30) == 150
    t = torch.linspace(0, 1, 31, dtype=torch.float64)[:, None, None]  # (T, 1, 1)
    poses = (t * torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)).expand(31, 24, 3).clone()
    trans = torch.cat([t[:, 0] * 2.0, torch.zeros(31, 2, dtype=torch.float64)], dim=-1)  # (T, 3)
    p60, tr60 = K.resample(poses, trans, 30, 60)
    assert p60.shape == (61, 24, 3)
    # a constant-speed rotation about one axis stays linear in angle under slerp
    np.testing.assert_allclose(p60[1, 0].numpy(), [0.0, 1.0 / 60, 0.0], atol=1e-9)
    np.testing.assert_allclose(tr60[1].numpy(), [1.0 / 30, 0.0, 0.0], atol=1e-9)
    p30, tr30 = K.resample(p60, tr60, 60, 30)
    np.testing.assert_allclose(p30.numpy(), poses.numpy(), atol=1e-9)
    np.testing.assert_allclose(tr30.numpy(), trans.numpy(), atol=1e-9)


def test_features_round_trip_and_layout():
    gen = torch.Generator().manual_seed(1)
    poses = torch.randn(2, 12, 24, 3, generator=gen) * 0.4
    trans = torch.randn(2, 12, 3, generator=gen)
    frames = K.motion_to_features(poses, trans, contract.FPS)  # (B, T, 151)
    assert frames.shape == (2, 12, contract.FRAME_DIM) and contract.FRAME_DIM == 4 + 3 + 24 * 6
    back_poses, back_trans, contacts = K.features_to_motion(frames)
    np.testing.assert_allclose(back_trans.numpy(), trans.numpy())
    np.testing.assert_allclose(
        K.axis_angle_to_matrix(back_poses).numpy(), K.axis_angle_to_matrix(poses).numpy(), atol=1e-5
    )
    assert set(contacts.unique().tolist()) <= {0.0, 1.0}


def test_fk_is_differentiable():
    poses = torch.zeros(3, 24, 3, requires_grad=True)
    K.forward_kinematics(poses + 0.1, torch.zeros(3, 3)).sum().backward()
    assert poses.grad is not None and torch.isfinite(poses.grad).all()
