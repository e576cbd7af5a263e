"""PFC: golden values by hand and agreement with a direct re-implementation of EDGE eval_pfc.py."""

import numpy as np
import pytest

from motionbeat.core import contract
from motionbeat.metrics import pfc, pfc_batch, pfc_per_frame

ROOT = contract.JOINT_INDEX["Pelvis"]


def _to_z_up(points):
    """(x, y, z) y-up -> (x, -z, y) z-up, as kinematics.y_up_to_z_up."""
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


def _hand_clip():
    """4 frames at contract.FPS, y-up; the PFC worked out on paper is 3.5.

    Root, per-frame displacements (x, y, z):
      0->1 (0, 0, 0), 1->2 (0.01, -0.02, 0), 2->3 (0.01, 0, 0).
      accelerations (times fps^2): t0 = (0.01, -0.02, 0) -> up clamped -> (0.01, 0, 0), |.| = 0.01
                                   t1 = (0, 0.02, 0) -> |.| = 0.02;  normalised A = [0.5, 1].
    Feet, horizontal displacement of frames 1->2 (t0) and 2->3 (t1):
      left  ankle 0.03, 0.05;  left  toe 0.04, 0.01 (+0.2 vertical, ignored) -> L = [0.03, 0.01]
      right ankle 0.02, 0.04;  right toe 0.06, 0.07                         -> R = [0.02, 0.04]
    PFC = 10000 * mean(0.5 * 0.03 * 0.02, 1 * 0.01 * 0.04) = 10000 * mean(3e-4, 4e-4) = 3.5.
    The feet also jump at 0->1, which EDGE's foot term never looks at.
    """
    steps = np.zeros((4, contract.NUM_JOINTS, 3))  # steps[t] = p[t] - p[t-1]; steps[0] = p[0]
    steps[2, ROOT] = [0.01, -0.02, 0.0]
    steps[3, ROOT] = [0.01, 0.0, 0.0]
    steps[1, contract.L_ANKLE] = [0.5, 0.0, 0.3]  # ignored frame pair 0->1
    steps[2, contract.L_ANKLE] = [0.03, 0.0, 0.0]
    steps[3, contract.L_ANKLE] = [0.0, 0.0, 0.05]
    steps[2, contract.L_TOE] = [0.0, 0.0, 0.04]
    steps[3, contract.L_TOE] = [0.01, 0.2, 0.0]
    steps[2, contract.R_ANKLE] = [0.02, 0.0, 0.0]
    steps[3, contract.R_ANKLE] = [0.04, 0.0, 0.0]
    steps[2, contract.R_TOE] = [0.0, 0.0, 0.06]
    steps[3, contract.R_TOE] = [0.0, 0.0, 0.07]
    return np.cumsum(steps, axis=0)


def _smooth_random(rng, num_frames, scale=0.02):
    noise = rng.normal(0.0, scale, (num_frames, contract.NUM_JOINTS, 3))
    kernel = np.hanning(9) / np.hanning(9).sum()
    walk = np.cumsum(noise, axis=0)
    smooth = np.apply_along_axis(lambda x: np.convolve(x, kernel, mode="same"), 0, walk)
    return smooth + np.array([0.0, 0.9, 0.0])


def _edge_pfc_reference(joint3d_z_up):
    """EDGE eval_pfc.calc_physical_score for one z-up clip, written out directly (DT = 1/30 as in
    EDGE; it cancels in the normalisation)."""
    dt = 1 / 30
    root_v = (joint3d_z_up[1:, ROOT, :] - joint3d_z_up[:-1, ROOT, :]) / dt
    root_a = (root_v[1:] - root_v[:-1]) / dt
    root_a[:, 2] = np.maximum(root_a[:, 2], 0)
    root_a = np.linalg.norm(root_a, axis=-1)
    root_a /= root_a.max()
    feet = joint3d_z_up[:, [contract.L_ANKLE, contract.L_TOE, contract.R_ANKLE, contract.R_TOE]]
    foot_v = np.linalg.norm(feet[2:, :, :2] - feet[1:-1, :, :2], axis=-1)
    left = np.minimum(foot_v[:, 0], foot_v[:, 1])
    right = np.minimum(foot_v[:, 2], foot_v[:, 3])
    return (left * right * root_a).mean() * 10000


def test_static_feet_score_zero():
    clip = np.zeros((20, contract.NUM_JOINTS, 3))
    clip[:, ROOT] = np.random.default_rng(0).normal(size=(20, 3))  # root moves, feet do not
    assert pfc(clip, contract.FPS) == 0.0
    assert pfc(np.zeros((10, contract.NUM_JOINTS, 3)), contract.FPS) == 0.0  # nothing moves


def test_hand_example():
    clip = _hand_clip()
    assert pfc(clip, contract.FPS) == pytest.approx(3.5, rel=1e-9)
    np.testing.assert_allclose(pfc_per_frame(clip, contract.FPS), [3e-4, 4e-4], rtol=1e-9)
    # dt cancels in the normalised acceleration: the value does not depend on the fps argument
    assert pfc(clip, contract.AISTPP_FPS) == pytest.approx(3.5, rel=1e-9)


def test_up_axis_conversion_and_trap():
    clip = _hand_clip()
    assert pfc(_to_z_up(clip), contract.FPS, up_axis=2) == pytest.approx(3.5, rel=1e-9)
    assert pfc(clip, contract.FPS, up_axis=2) != pytest.approx(3.5, rel=1e-3)  # wrong axis


def test_batch_is_mean_of_clips():
    clip = _hand_clip()
    still = np.zeros_like(clip)
    assert pfc_batch([clip, still], contract.FPS) == pytest.approx(1.75)
    assert pfc_batch(np.stack([clip, clip]), contract.FPS) == pytest.approx(3.5)


def test_agrees_with_edge_reference_on_random_smooth_motion():
    rng = np.random.default_rng(1)
    for _ in range(5):
        clip = _smooth_random(rng, 300)  # 5 s at 60 fps, y-up
        ours = pfc(clip, contract.AISTPP_FPS)
        assert ours == pytest.approx(_edge_pfc_reference(_to_z_up(clip)), rel=1e-9)
        assert ours > 0


def test_rejects_bad_shapes():
    with pytest.raises(ValueError):
        pfc(np.zeros((2, contract.NUM_JOINTS, 3)), contract.FPS)
    with pytest.raises(ValueError):
        pfc(np.zeros((10, 22, 3)), contract.FPS)
