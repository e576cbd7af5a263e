"""Kinetic (72-d) and geometric (32-d) AIST++ features, and their preparation."""

import numpy as np
import pytest

from motionbeat.core import contract
from motionbeat.metrics import (
    geometric_features,
    kinetic_features,
    prepare_for_features,
    resample_linear,
)
from motionbeat.metrics.geometric import HUMERUS_LENGTH, RELATIONS

FPS60 = contract.AISTPP_FPS
RWRIST_FAST = RELATIONS.index(("fast", "rwrist", 2.5, "hl"))
LWRIST_FAST = RELATIONS.index(("fast", "lwrist", 2.5, "hl"))


def _rest_pose():
    joints = np.zeros((contract.NUM_JOINTS, 3))
    for j in range(1, contract.NUM_JOINTS):
        joints[j] = joints[contract.PARENTS[j]] + contract.REST_OFFSETS[j]
    return joints - np.array([0.0, joints[:, 1].min(), 0.0])  # feet on the floor


def _loop_kinetic(p, fps, quirk, window=2):
    """The AIST++ API loops (features/utils.py, kinetic.py), written out for one clip."""
    dt, num = 1.0 / fps, len(p)
    out = []
    for j in range(p.shape[1]):
        hor = ver = exp = 0.0
        for i in range(1, num):
            vel, n = np.zeros(3), 0
            for o in range(-window, window + 1):
                if i + o - 1 >= 0 and i + o < num:
                    vel += p[i + o, j] - p[i + o - 1, j]
                    n += 1
            vel /= n * dt
            hor += vel[0] ** 2 + vel[2] ** 2
            ver += vel[1] ** 2
            acc, n = np.zeros(3), 0
            for o in range(-window, window + 1):
                if i + o - 1 >= 0 and i + o + 1 < num:
                    v2 = (p[i + o + 1, j] - p[i + o, j]) / dt
                    v1_quirk = p[i + o, j] - p[i + o - 1, j] / dt
                    v1_true = (p[i + o, j] - p[i + o - 1, j]) / dt
                    v1 = v1_quirk if quirk else v1_true
                    acc += (v2 - v1) / dt
                    n += 1
            exp += np.linalg.norm(acc / n)
        out += [hor / (num - 1), ver / (num - 1), exp / (num - 1)]
    return np.array(out)


def test_constant_velocity_kinetic_by_hand():
    v = np.array([0.3, -0.4, 1.2])  # m/s; |v| = 1.3
    num = 6
    t = np.arange(num) / FPS60
    joints = np.zeros((num, contract.NUM_JOINTS, 3)) + (t[:, None] * v)[:, None, :]  # from 0
    feats = kinetic_features(joints, FPS60, aistpp_accel_quirk=False).reshape(-1, 3)
    np.testing.assert_allclose(feats[:, 0], 0.3**2 + 1.2**2)  # horizontal: x and z
    np.testing.assert_allclose(feats[:, 1], 0.4**2)  # vertical: y
    np.testing.assert_allclose(feats[:, 2], 0.0, atol=1e-9)  # no acceleration

    # quirk: v1 = p_k - p_{k-1} / dt. With p_k = v k dt: acc_k = (v - v k dt + v (k-1)) / dt
    # = v k (1 - dt) / dt = v k (fps - 1). The windows A_i (k in [max(1, i-2), min(T-2, i+2)])
    # for T = 6, i = 1..5 are [1,3], [1,4], [1,4], [2,4], [3,4]: mean k = 2, 2.5, 2.5, 3, 3.5,
    # mean over i = 2.7. So the third feature is 1.3 * (fps - 1) * 2.7.
    quirk = kinetic_features(joints, FPS60, aistpp_accel_quirk=True).reshape(-1, 3)
    np.testing.assert_allclose(quirk[:, :2], feats[:, :2])  # velocity terms unchanged
    np.testing.assert_allclose(quirk[:, 2], 1.3 * (FPS60 - 1) * 2.7)


def test_kinetic_matches_api_loops():
    rng = np.random.default_rng(0)
    joints = np.cumsum(rng.normal(0, 0.01, (40, contract.NUM_JOINTS, 3)), axis=0)
    for quirk in (True, False):
        ours = kinetic_features(joints, FPS60, aistpp_accel_quirk=quirk)
        assert ours.shape == (72,)
        np.testing.assert_allclose(ours, _loop_kinetic(joints, FPS60, quirk), rtol=1e-10)


def test_prepare_resamples_and_zeroes_first_root():
    rng = np.random.default_rng(1)
    joints = rng.normal(size=(5, contract.NUM_JOINTS, 3))
    out = prepare_for_features(joints, contract.FPS)
    assert out.shape == (9, contract.NUM_JOINTS, 3)  # 2 T - 1 frames at 60 fps
    root = contract.JOINT_INDEX["Pelvis"]
    np.testing.assert_allclose(out[0, root], 0.0, atol=1e-12)
    shifted = joints - joints[0, root]
    np.testing.assert_allclose(out[::2], shifted)
    np.testing.assert_allclose(out[1::2], 0.5 * (shifted[1:] + shifted[:-1]))
    # z-up input is rotated to y-up: (x, y, z)_z-up -> (x, z, -y)
    z_up = np.stack([joints[..., 0], -joints[..., 2], joints[..., 1]], axis=-1)
    np.testing.assert_allclose(prepare_for_features(z_up, contract.FPS, up_axis=2), out, atol=1e-12)
    assert resample_linear(joints, FPS60, FPS60).shape == joints.shape


def test_geometric_shape_and_range():
    rng = np.random.default_rng(2)
    rest = _rest_pose()
    joints = rest + np.cumsum(rng.normal(0, 0.02, (90, contract.NUM_JOINTS, 3)), axis=0)
    feats = geometric_features(prepare_for_features(joints, FPS60), FPS60)
    assert feats.shape == (32,)
    assert np.all((feats >= 0) & (feats <= 1))
    assert 0 < feats.mean() < 1


def test_geometric_fast_wrist_uses_api_time_step():
    # threshold 2.5 hl per "second" of 1/120 s: 2.5 * 0.2565 / 120 = 0.00534 m per frame
    num = 10
    joints = np.repeat(_rest_pose()[None], num, axis=0)
    step = 0.007  # m per 60-fps frame: 0.42 m/s true speed, read as 0.84 by the API
    assert step * FPS60 < 2.5 * HUMERUS_LENGTH < step * 2 * FPS60
    joints[:, contract.JOINT_INDEX["R_Wrist"], 0] += step * np.arange(num)
    feats = geometric_features(joints, FPS60)
    assert feats[RWRIST_FAST] == 1.0 and feats[LWRIST_FAST] == 0.0
    static = geometric_features(np.repeat(_rest_pose()[None], num, axis=0), FPS60)
    assert static[RWRIST_FAST] == 0.0


def test_geometric_refuses_other_frame_rates():
    with pytest.raises(ValueError):
        geometric_features(np.zeros((10, contract.NUM_JOINTS, 3)), contract.FPS)
