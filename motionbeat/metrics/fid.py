"""FID_k, FID_g and Div_k, Div_g on the AIST++ API features (Bailando ``utils/metrics_new.py``).

Normalisation (Bailando ``normalize``): both sets are z-scored with the REFERENCE set's mean and
population std, x' = (x - mu_ref) / (std_ref + 1e-10).

Frechet distance of the Gaussians fitted to the normalised sets (Heusel et al., NeurIPS 2017):

    FID = |mu_g - mu_r|^2 + tr(S_g) + tr(S_r) - 2 tr((S_g S_r)^{1/2})

with unbiased covariances (``np.cov``); the square root is ``scipy.linalg.sqrtm``; if it is not
finite, 1e-5 I is added to both covariances and it is taken again; any imaginary part is dropped.

Diversity: mean Euclidean distance over all unordered pairs of normalised generated features.

Traps (``shared/reference/metrics.md``): the field's reference pool is the whole AIST++ dataset,
not the test split; ~40 generated samples against 72-d covariances make FID noisy, so report the
sample counts and repeat with several seeds. Generated 30-fps motion is resampled to 60 fps and
rotated to y-up first (:func:`prepare_for_features`). Bailando also cuts generated clips to their
first 1200 frames (20 s at 60 fps) before extracting features; cut the clips before calling if
you need that.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import linalg
from scipy.spatial.distance import pdist

from motionbeat.core import contract
from motionbeat.metrics.geometric import geometric_features
from motionbeat.metrics.kinetic import FEATURE_FPS, kinetic_features, prepare_for_features

STD_EPS: float = 1e-10
"""Added to the reference std before dividing (Bailando ``normalize``)."""

SQRTM_EPS: float = 1e-5
"""Diagonal offset when the covariance product has no finite square root (pytorch-fid)."""


def normalize(feats: np.ndarray, reference_feats: np.ndarray) -> np.ndarray:
    """(N, D) features z-scored with the (M, D) reference set's mean and std (+1e-10)."""
    feats = np.asarray(feats, dtype=np.float64)
    ref = np.asarray(reference_feats, dtype=np.float64)
    return (feats - ref.mean(axis=0)) / (ref.std(axis=0) + STD_EPS)


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrtm(S1 S2)), with the module doc's fallbacks."""
    diff = mu1 - mu2
    with warnings.catch_warnings():  # singular products are expected (N < D) and handled below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            offset = np.eye(sigma1.shape[0]) * SQRTM_EPS
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid(generated_feats: np.ndarray, reference_feats: np.ndarray) -> float:
    """FID between (N, D) generated and (M, D) reference features, both normalised by the
    reference statistics. N, M >= 2."""
    gen = normalize(generated_feats, reference_feats)
    ref = normalize(reference_feats, reference_feats)
    if gen.shape[0] < 2 or ref.shape[0] < 2:
        raise ValueError("FID needs at least 2 samples in each set")
    return frechet_distance(
        gen.mean(axis=0), np.cov(gen, rowvar=False), ref.mean(axis=0), np.cov(ref, rowvar=False)
    )


def diversity(feats: np.ndarray, reference_feats: np.ndarray | None) -> float:
    """Mean pairwise Euclidean distance of (N, D) features, 2 / (N (N-1)) sum_{i<j} |x_i - x_j|.

    Features are first normalised by ``reference_feats``' statistics (pass the reference pool
    as the field does; ``None`` uses the raw features). NaN for fewer than two samples.
    """
    x = np.asarray(feats, dtype=np.float64)
    if reference_feats is not None:
        x = normalize(x, reference_feats)
    if x.shape[0] < 2:
        return float("nan")
    return float(pdist(x).mean())


def motion_features(
    joints_list: Sequence[np.ndarray],
    fps: float,
    up_axis: int = contract.UP_AXIS,
    aistpp_accel_quirk: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Kinetic (N, 72) and geometric (N, 32) features of N clips of (T_i, 24, 3) joints.

    Each clip goes through :func:`prepare_for_features` (y-up, 60 fps, first root at origin).
    """
    kin, geo = [], []
    for joints in joints_list:
        prepared = prepare_for_features(joints, fps, up_axis)  # (T', 24, 3) at 60 fps
        kin.append(kinetic_features(prepared, FEATURE_FPS, aistpp_accel_quirk=aistpp_accel_quirk))
        geo.append(geometric_features(prepared, FEATURE_FPS))
    return np.stack(kin), np.stack(geo)


def fid_div_from_features(
    gen_kinetic: np.ndarray,
    gen_geometric: np.ndarray,
    ref_kinetic: np.ndarray,
    ref_geometric: np.ndarray,
) -> dict[str, float]:
    """FID_k, FID_g, Div_k, Div_g (and the reference pool's own Div) from feature arrays."""
    return {
        "fid_k": fid(gen_kinetic, ref_kinetic),
        "fid_g": fid(gen_geometric, ref_geometric),
        "div_k": diversity(gen_kinetic, ref_kinetic),
        "div_g": diversity(gen_geometric, ref_geometric),
        "div_k_ref": diversity(ref_kinetic, ref_kinetic),
        "div_g_ref": diversity(ref_geometric, ref_geometric),
        "n_gen": int(np.asarray(gen_kinetic).shape[0]),
        "n_ref": int(np.asarray(ref_kinetic).shape[0]),
    }


def fid_div_scores(
    gen_joints_list: Sequence[np.ndarray],
    ref_joints_list: Sequence[np.ndarray],
    fps: float,
    ref_fps: float | None = None,
    up_axis: int = contract.UP_AXIS,
    aistpp_accel_quirk: bool = True,
) -> dict[str, float]:
    """FID_k, FID_g, Div_k, Div_g of generated clips against a reference pool.

    Args:
        gen_joints_list: N clips of (T_i, 24, 3) joints at ``fps``.
        ref_joints_list: M reference clips at ``ref_fps`` (default ``fps``), e.g. AIST++ at 60.
        up_axis: vertical axis of both sets (y-up by default; 2 for z-up).
        aistpp_accel_quirk: see :func:`motionbeat.metrics.kinetic.kinetic_features`.
    Returns:
        ``fid_k``, ``fid_g``, ``div_k``, ``div_g``, ``div_k_ref``, ``div_g_ref``, ``n_gen``,
        ``n_ref``.
    """
    gen_k, gen_g = motion_features(gen_joints_list, fps, up_axis, aistpp_accel_quirk)
    ref_k, ref_g = motion_features(
        ref_joints_list, fps if ref_fps is None else ref_fps, up_axis, aistpp_accel_quirk
    )
    return fid_div_from_features(gen_k, gen_g, ref_k, ref_g)
