"""FID and diversity on hand-made feature sets, and the joints-to-scores helper."""

import numpy as np
import pytest

from motionbeat.core import contract
from motionbeat.metrics import diversity, fid, fid_div_scores, normalize

# Mean 0 and population std 1 per column; unbiased covariance (4/3) I.
SQUARE = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])


def test_identical_sets_give_zero():
    feats = np.random.default_rng(0).normal(size=(200, 5)) * [1, 2, 3, 4, 5]
    assert abs(fid(feats, feats)) < 1e-6


def test_mean_shift_by_hand():
    # the shift (0.5, 2) is already in reference-std units; covariances are equal, so the
    # trace terms cancel and FID = 0.5^2 + 2^2 = 4.25
    assert fid(SQUARE + [0.5, 2.0], SQUARE) == pytest.approx(4.25, abs=1e-6)
    # a reference twice as wide: normalised generated set = SQUARE / 2 + (0.5, 2), shift 4.25;
    # covariances S_g = (1/3) I and S_r = (4/3) I give tr S_g + tr S_r - 2 tr (S_g S_r)^(1/2)
    # = 2/3 + 8/3 - 2 * 2 * (2/3) = 2/3
    assert fid(SQUARE + [1.0, 4.0], 2 * SQUARE) == pytest.approx(4.25 + 2.0 / 3.0, abs=1e-6)


def test_normalize_uses_reference_statistics():
    np.testing.assert_allclose(normalize(np.array([[2.0, 2.0]]), 2 * SQUARE), [[1.0, 1.0]])


def test_diversity_of_two_points():
    points = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert diversity(points, SQUARE) == pytest.approx(5.0)  # reference std 1: distance 5
    assert diversity(points, 2 * SQUARE) == pytest.approx(2.5)  # std 2: (0, 0), (1.5, 2)
    assert diversity(points, None) == pytest.approx(5.0)
    assert np.isnan(diversity(points[:1], None))


def test_singular_covariance_is_finite():
    rng = np.random.default_rng(1)
    gen, ref = rng.normal(size=(5, 20)), rng.normal(size=(8, 20))  # N < D
    assert np.isfinite(fid(gen, ref))


def test_fid_div_scores_from_joints():
    rng = np.random.default_rng(2)

    def clips(count, fps, scale):
        return [
            np.cumsum(rng.normal(0, scale, (int(2 * fps), contract.NUM_JOINTS, 3)), axis=0)
            for _ in range(count)
        ]

    out = fid_div_scores(
        clips(4, contract.FPS, 0.01),
        clips(6, contract.AISTPP_FPS, 0.01),
        fps=contract.FPS,
        ref_fps=contract.AISTPP_FPS,
    )
    assert out["n_gen"] == 4 and out["n_ref"] == 6
    for key in ("fid_k", "fid_g", "div_k", "div_g", "div_k_ref", "div_g_ref"):
        assert np.isfinite(out[key]), key
