"""Motion beats, beat alignment (BAS, both directions) and beat hit metrics (BCS, BHS, F1).

Everything is in **seconds** so 30- and 60-fps motion give the same scores (project rule in
``shared/reference/metrics.md``); the defaults are the 60-fps frame counts of the references.

Motion beats
    * Bailando (Li et al., CVPR 2022, ``utils/beat_align_score.py``): envelope
      e_k = mean_j |p^j_{k+1} - p^j_k| (k = 0 .. T-2), Gaussian-smoothed with sigma = 5 frames
      at 60 fps, beats = strict local minima (``scipy.signal.argrelextrema(np.less)``).
    * FACT (Li et al., ICCV 2021, mint ``tools/calculate_beat_scores.py``): envelope
      e_t = sum_j |p^j_t - p^j_{t-1}| (t = 1 .. T-1, e_0 = 0), no smoothing, beats = minima of
      ``argrelextrema(np.less, order=10)`` at 60 fps.

    Time stamps: the references compare the envelope *index* with music-beat frame indices at
    60 fps. A Bailando sample k is the displacement between frames k and k+1 (centred at
    (k + 1/2) / fps) but is read as k / 60 s, i.e. 1/120 s early; FACT's sample t is centred at
    (t - 1/2) / fps and read 1/120 s late. We keep those fixed offsets (``REFERENCE_HALF_FRAME_S``)
    so that at 60 fps the beat times are exactly the references' k / 60, and at any other frame
    rate the same continuous motion gives the same times.

Beat alignment score, score(X -> Y) = mean_{x in X} exp(-min_{y in Y} (x - y)^2 / (2 sigma^2)),
with sigma = 3 frames at 60 fps = 0.05 s:
    * :func:`bas` (Bailando direction, the headline): X = music beats, Y = motion beats;
    * :func:`bas_motion` (FACT direction): X = motion beats, Y = music beats; 0 without motion
      beats.

Beat hit metrics (D2M-GAN, Zhu et al., 2022; CDCD; MoMu-Diffusion): BCS = #motion beats /
#music beats, BHS = #motion beats within ``tolerance_s`` of a music beat / #music beats,
CSD / HSD their standard deviations over samples, F1 = 2 BCS BHS / (BCS + BHS). The tolerance
is not fixed by the sources: it is a required argument, report it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motionbeat.core import contract

REFERENCE_FPS: int = contract.AISTPP_FPS
"""Frame rate at which the references' frame counts below are defined."""

BAS_SIGMA_S: float = 3 / REFERENCE_FPS
"""BAS Gaussian width: Bailando's ``/ 2 / 9`` and FACT's ``sigma=3``: 3 frames at 60 fps, 0.05 s."""

SMOOTHING_S: float = 5 / REFERENCE_FPS
"""Bailando's envelope smoothing ``gaussian_filter(..., 5)``: 5 frames at 60 fps = 0.083 s."""

FACT_ORDER_S: float = 10 / REFERENCE_FPS
"""FACT's minima neighbourhood ``argrelextrema(..., order=10)``: 10 frames at 60 fps = 0.167 s."""

REFERENCE_HALF_FRAME_S: float = 0.5 / REFERENCE_FPS
"""Half a 60-fps frame: the fixed offset between the references' index reading and the centre
of each envelope sample (see module doc)."""


# ------------------------------------------------------------------------------- envelopes


def _check_joints(joints: np.ndarray) -> np.ndarray:
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[-1] != 3:
        raise ValueError(f"expected joints of shape (T, J, 3), got {joints.shape}")
    return joints


def bailando_envelope(
    joints: np.ndarray, fps: float, smoothing_s: float = SMOOTHING_S
) -> np.ndarray:
    """(T, J, 3) -> (T-1,) mean joint displacement per frame, Gaussian-smoothed.

    Sigma is ``smoothing_s * fps`` frames (5 at 60 fps); ``scipy.ndimage`` defaults as in
    Bailando (reflect at the ends, truncate at 4 sigma). ``smoothing_s = 0`` skips smoothing.
    """
    joints = _check_joints(joints)
    env = np.linalg.norm(np.diff(joints, axis=0), axis=-1).mean(axis=1)  # (T-1,)
    if smoothing_s > 0 and env.size:
        env = gaussian_filter1d(env, smoothing_s * fps)
    return env


def fact_envelope(joints: np.ndarray) -> np.ndarray:
    """(T, J, 3) -> (T,) summed joint displacement per frame; the first entry is 0 (FACT)."""
    joints = _check_joints(joints)
    env = np.zeros(joints.shape[0])
    env[1:] = np.linalg.norm(np.diff(joints, axis=0), axis=-1).sum(axis=1)  # (T-1,)
    return env


TIE_RTOL: float = 1e-9
"""Envelope values closer than this (relative to the envelope's peak) count as equal."""


def local_minima(env: np.ndarray, order: int = 1) -> np.ndarray:
    """Fractional indices of the local minima of a 1-D envelope, flat minima included.

    On an envelope without ties this is exactly ``scipy.signal.argrelextrema(env, np.less,
    order=order)`` (Bailando with order 1, FACT with order 10 at 60 fps): index i is a minimum
    when env[i] < env[j] for every other j within ``order`` frames, the ends excluded. A flat
    run of equal values (a held pose, or a beat falling exactly between two frames, which
    makes two equal envelope samples) is one minimum at the run's centre, where the strict
    rule of the references finds none.
    """
    env = np.asarray(env, dtype=np.float64).reshape(-1)
    if env.size < 3:
        return np.zeros(0)
    tol = TIE_RTOL * max(float(np.abs(env).max()), 1e-300)
    breaks = np.flatnonzero(np.abs(np.diff(env)) > tol) + 1  # starts of new runs
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [env.size]])  # run r covers [starts[r], stops[r])
    out = []
    for start, stop in zip(starts, stops, strict=True):
        if start == 0 or stop == env.size:
            continue
        value = env[start:stop].min()
        left = env[max(0, start - order):start]
        right = env[stop:stop + order]
        if (left > value + tol).all() and (right > value + tol).all():
            out.append((start + stop - 1) / 2)
    return np.asarray(out, dtype=np.float64)


def motion_beats(joints: np.ndarray, fps: float, smoothing_s: float = SMOOTHING_S) -> np.ndarray:
    """Bailando-style motion beats of a (T, J, 3) clip, in seconds (sorted).

    Beats are the local minima k of :func:`bailando_envelope` (see :func:`local_minima`),
    stamped at t_k = (k + 1/2) / fps - 1/120 s, which is exactly Bailando's k / 60 at 60 fps.
    """
    env = bailando_envelope(joints, fps, smoothing_s)
    idx = local_minima(env)
    return (idx + 0.5) / fps - REFERENCE_HALF_FRAME_S


def motion_beats_fact(joints: np.ndarray, fps: float, order_s: float = FACT_ORDER_S) -> np.ndarray:
    """FACT-style motion beats of a (T, J, 3) clip, in seconds (sorted).

    Minima of :func:`fact_envelope` over a neighbourhood of ``round(order_s * fps)`` frames
    (10 at 60 fps), stamped at t = (i - 1/2) / fps + 1/120 s, exactly FACT's i / 60 at 60 fps.
    """
    env = fact_envelope(joints)
    order = max(1, int(round(order_s * fps)))
    idx = local_minima(env, order)
    return (idx - 0.5) / fps + REFERENCE_HALF_FRAME_S


# ----------------------------------------------------------------------- alignment scores


def _nearest_distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each x, the distance to the nearest y; +inf where y is empty."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if y.size == 0:
        return np.full(x.shape, np.inf)
    return np.abs(x[:, None] - y[None, :]).min(axis=1)  # (|x|,)


def _alignment(x: np.ndarray, y: np.ndarray, sigma_s: float) -> float:
    d = _nearest_distance(x, y)
    if d.size == 0:
        return float("nan")
    return float(np.mean(np.exp(-(d**2) / (2.0 * sigma_s**2))))


def bas(
    music_beats_s: np.ndarray, motion_beats_s: np.ndarray, sigma_s: float = BAS_SIGMA_S
) -> float:
    """Beat alignment score averaged over MUSIC beats (Bailando direction, the headline).

    BAS = (1 / |B_m|) sum_{b in B_m} exp(-min_{d in B_d} (b - d)^2 / (2 sigma^2)).
    0 when there are no motion beats; NaN when there are no music beats (undefined mean).
    """
    return _alignment(music_beats_s, motion_beats_s, sigma_s)


def bas_motion(
    music_beats_s: np.ndarray, motion_beats_s: np.ndarray, sigma_s: float = BAS_SIGMA_S
) -> float:
    """Beat alignment score averaged over MOTION beats (FACT direction).

    0 without motion beats (FACT's rule) and 0 without music beats (no beat to align to).

    BAS_motion = (1 / |B_d|) sum_{d in B_d} exp(-min_{b in B_m} (d - b)^2 / (2 sigma^2)).
    """
    if np.asarray(motion_beats_s).size == 0:
        return 0.0
    return _alignment(motion_beats_s, music_beats_s, sigma_s)


def clip_beats_to_motion(beats_s: np.ndarray, num_frames: int, fps: float) -> np.ndarray:
    """Beats inside the span of the motion envelope, as Bailando truncates the music-beat track
    to the envelope's T-1 samples: keeps frame indices 0 .. T-2 (half-frame tolerance)."""
    beats_s = np.asarray(beats_s, dtype=np.float64).reshape(-1)
    half = 0.5 / fps
    return beats_s[(beats_s >= -half) & (beats_s < (num_frames - 1) / fps - half)]


def beat_alignment(
    joints: np.ndarray,
    fps: float,
    music_beat_times: np.ndarray,
    sigma_s: float = BAS_SIGMA_S,
    smoothing_s: float = SMOOTHING_S,
    order_s: float = FACT_ORDER_S,
) -> dict[str, float]:
    """BAS of one clip in both directions, each with its reference's motion beats.

    Args:
        joints: (T, J, 3) joint positions (any up axis: the envelopes use 3-D norms).
        fps: frame rate of ``joints``.
        music_beat_times: music beats in seconds from the clip's first frame; beats past the
            motion (see :func:`clip_beats_to_motion`) are dropped.
    Returns:
        ``bas`` (music direction, Bailando beats), ``bas_motion`` (motion direction, FACT beats),
        and the beat counts ``n_music_beats``, ``n_motion_beats``, ``n_motion_beats_fact``.
    """
    joints = _check_joints(joints)
    music = clip_beats_to_motion(music_beat_times, joints.shape[0], fps)
    beats = motion_beats(joints, fps, smoothing_s)
    beats_fact = motion_beats_fact(joints, fps, order_s)
    return {
        "bas": bas(music, beats, sigma_s),
        "bas_motion": bas_motion(music, beats_fact, sigma_s),
        "n_music_beats": int(music.size),
        "n_motion_beats": int(beats.size),
        "n_motion_beats_fact": int(beats_fact.size),
    }


# ------------------------------------------------------------------------ beat hit metrics


def bcs(music_beats_s: np.ndarray, motion_beats_s: np.ndarray) -> float:
    """Beat coverage score: #motion beats / #music beats (can exceed 1); NaN without music beats."""
    n_music = np.asarray(music_beats_s).size
    return float(np.asarray(motion_beats_s).size / n_music) if n_music else float("nan")


def bhs(music_beats_s: np.ndarray, motion_beats_s: np.ndarray, *, tolerance_s: float) -> float:
    """Beat hit score: #motion beats within ``tolerance_s`` (inclusive) of some music beat /
    #music beats; NaN without music beats."""
    n_music = np.asarray(music_beats_s).size
    if not n_music:
        return float("nan")
    hits = _nearest_distance(motion_beats_s, music_beats_s) <= tolerance_s
    return float(hits.sum() / n_music)


def beat_f1(bcs_value: float, bhs_value: float) -> float:
    """Harmonic mean 2 BCS BHS / (BCS + BHS); 0 when both are 0."""
    total = bcs_value + bhs_value
    return float(2.0 * bcs_value * bhs_value / total) if total > 0 else 0.0


def beat_hit_scores(
    music_beats: Sequence[np.ndarray],
    motion_beats_list: Sequence[np.ndarray],
    *,
    tolerance_s: float,
) -> dict[str, float]:
    """BCS, BHS, their standard deviations CSD, HSD over samples, and F1.

    Args:
        music_beats: per sample, music beat times in seconds.
        motion_beats_list: per sample, motion beat times in seconds (same order).
        tolerance_s: hit window in seconds (reported back; the sources do not fix it).
    Returns:
        ``bcs``, ``bhs`` (means over samples), ``csd``, ``hsd`` (population std, ddof = 0),
        ``f1`` (harmonic mean of the mean BCS and mean BHS), ``tolerance_s``, ``n_samples``.
    """
    if len(music_beats) != len(motion_beats_list):
        raise ValueError("music_beats and motion_beats_list must have the same length")
    if not len(music_beats):
        raise ValueError("beat_hit_scores needs at least one sample")
    pairs = list(zip(music_beats, motion_beats_list, strict=True))
    cov = np.array([bcs(m, d) for m, d in pairs])  # (N,)
    hit = np.array([bhs(m, d, tolerance_s=tolerance_s) for m, d in pairs])  # (N,)
    mean_cov, mean_hit = float(np.mean(cov)), float(np.mean(hit))
    return {
        "bcs": mean_cov,
        "bhs": mean_hit,
        "csd": float(np.std(cov)),
        "hsd": float(np.std(hit)),
        "f1": beat_f1(mean_cov, mean_hit),
        "tolerance_s": float(tolerance_s),
        "n_samples": len(cov),
    }
