"""Eased curve shapes that every move is drawn with.

``ease`` joins keyframes on the beat grid; ``keys`` is a periodic keyframe curve, ``wave`` an
eased triangle wave, ``pulse`` a down-on-the-beat pulse and ``ramp`` a one-off transition.
"""

from __future__ import annotations

import numpy as np

# ------------------------------------------------------------------------------- shapes


def ease(s: np.ndarray, k: float) -> np.ndarray:
    """Symmetric easing ``s^k / (s^k + (1-s)^k)`` on [0, 1]; zero slope at both ends for k > 1."""
    s = np.clip(s, 0.0, 1.0)
    a = s**k
    return a / (a + (1.0 - s) ** k)


def keys(u: np.ndarray, pts: list[tuple[float, object]], period: float, k: float) -> np.ndarray:
    """Periodic keyframe curve: values ``pts = [(beat, value), ...]`` (first beat 0), eased.

    Returns (N,) for scalar values or (N, D) for vector values.
    """
    beats = np.array([p[0] for p in pts] + [period], dtype=np.float64)
    vals = np.array([np.asarray(p[1], dtype=np.float64) for p in pts] + [np.asarray(pts[0][1])])
    x = np.mod(np.asarray(u, dtype=np.float64), period)
    idx = np.clip(np.searchsorted(beats, x, side="right") - 1, 0, len(beats) - 2)
    s = ease((x - beats[idx]) / (beats[idx + 1] - beats[idx]), k)
    if vals.ndim > 1:
        s = s[:, None]
    return vals[idx] + (vals[idx + 1] - vals[idx]) * s


def wave(u: np.ndarray, period: float, k: float, phase: float = 0.0) -> np.ndarray:
    """Eased triangle wave in [-1, 1]: -1 at ``u = phase`` (mod period), +1 half a period later."""
    return keys(np.asarray(u) - phase, [(0.0, -1.0), (period / 2, 1.0)], period, k)


def pulse(u: np.ndarray, k: float, period: float = 1.0, width: float = 0.5) -> np.ndarray:
    """1 on the beat (u = 0 mod period), 0 ``width`` beats later, back to 1 at the next beat."""
    return keys(u, [(0.0, 1.0), (width * period, 0.0)], period, k)


def ramp(u: np.ndarray, start: float, end: float, k: float) -> np.ndarray:
    """Non-periodic eased ramp from 0 (before ``start``) to 1 (after ``end``)."""
    return ease((np.asarray(u, dtype=np.float64) - start) / (end - start), k)
