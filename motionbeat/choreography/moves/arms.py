"""Arm overlays: upper-body-only moves combined with a lower-body move.

Waves, claps, punches, raise the roof, disco point, swings, windmill, shoulder moves, ...
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from motionbeat.choreography.moves.body import (
    HAND_CHEST,
    HAND_DOWN,
    HAND_FRONT,
    HAND_HIP,
    HAND_SIDE,
    HAND_UP,
    SHOULDER_OUT,
)
from motionbeat.choreography.moves.clip import MoveClip, MoveParams
from motionbeat.choreography.moves.helpers import _hands
from motionbeat.choreography.moves.shapes import keys, pulse, wave

# ====================================================================== arm overlays


def _arm_move(name: str, fn) -> Callable[[MoveParams], MoveClip]:
    def build(p: MoveParams) -> MoveClip:
        return MoveClip(name, "arms", 2 * p.bpb, channels=lambda u: fn(u, p), upper_only=True)

    build.__name__ = name
    build.__doc__ = fn.__doc__
    return build


def _arm_wave(u, p):
    """A wave passing along both arms held out to the sides, left to right over two beats."""
    base = HAND_SIDE * [0.95, 1, 1] + [0, -0.05, 0.05]
    out = _hands(u, base, base)
    out["lh"][:, 1] += 0.14 * p.amp * wave(u, 2.0, p.k)
    out["rh"][:, 1] += 0.14 * p.amp * wave(u, 2.0, p.k, 0.5)
    out["shrug_l"] = 0.12 * p.amp * np.clip(wave(u, 2.0, p.k, 0.75), 0, None)
    out["shrug_r"] = 0.12 * p.amp * np.clip(wave(u, 2.0, p.k, 1.25), 0, None)
    out["sr"] = 0.05 * p.amp * wave(u, 2.0, p.k, 0.25)
    return out


def _clap(u, p):
    """Claps in front of the chest on every second beat (the backbeat)."""
    meet = pulse(u - 1.0, max(p.k, 3.0), period=2.0, width=0.5)
    apart = HAND_CHEST + [0.22, -0.08, -0.05]
    together = np.array([-SHOULDER_OUT + 0.02, -0.12, 0.32])
    out = _hands(u, apart, apart)
    out["lh"] += np.outer(meet, together - apart)
    out["rh"] += np.outer(meet, together - apart)
    out["sp"] = 0.05 * p.amp * meet
    out["hp"] = 0.06 * p.amp * meet
    return out


def _clap_every(u, p):
    """Claps on every beat, hands low."""
    meet = pulse(u, max(p.k, 3.0), width=0.5)
    apart = HAND_CHEST + [0.2, -0.15, -0.08]
    together = np.array([-SHOULDER_OUT + 0.02, -0.25, 0.3])
    out = _hands(u, apart, apart)
    out["lh"] += np.outer(meet, together - apart)
    out["rh"] += np.outer(meet, together - apart)
    return out


def _punch(u, p):
    """Alternating forward punches landing on the beats."""
    k = max(p.k, 3.0)
    lp = keys(u, [(0, 1.0), (0.5, 0.0), (1.0, 0.0), (1.5, 0.0)], 2.0, k)
    rp = keys(u, [(0, 0.0), (0.5, 0.0), (1.0, 1.0), (1.5, 0.0)], 2.0, k)
    guard = np.array([0.0, -0.25, 0.2])
    hit = np.array([-0.1, 0.0, 0.52]) * [1, 1, min(1.0, 0.8 + 0.2 * p.amp)]
    out = _hands(u, guard, guard)
    out["lh"] += np.outer(lp, hit - guard)
    out["rh"] += np.outer(rp, hit - guard)
    out["sy"] = 0.2 * p.amp * (rp - lp)
    return out


def _raise_roof(u, p):
    """Both palms pumping up overhead on each beat."""
    pump = pulse(u, p.k)
    low = np.array([0.12, 0.22, 0.08])
    out = _hands(u, low, low)
    out["lh"] += np.outer(pump, HAND_UP - low) * min(1.0, 0.7 + 0.3 * p.amp)
    out["rh"] += np.outer(pump, HAND_UP - low) * min(1.0, 0.7 + 0.3 * p.amp)
    out["hp"] = -0.08 * pump
    return out


def _disco_point(u, p):
    """Right hand points up across the body, then down to the side; left hand on the hip."""
    k = max(p.k, 3.0)
    up = keys(u, [(0, 1.0), (1.0, 0.0)], 2.0, k)
    hi = np.array([-0.05, 0.45, 0.25])
    lo = np.array([0.32, -0.38, 0.12])
    out = _hands(u, HAND_HIP, lo)
    out["rh"] += np.outer(up, hi - lo)
    out["hy"] = 0.3 * (up - 0.5)
    out["hp"] = -0.15 * (up - 0.5)
    out["sr"] = 0.08 * p.amp * (up - 0.5)
    return out


def _big_swing(u, p):
    """Both arms swinging forward and back together, high on the beat."""
    sw = wave(u, 2.0, p.k)
    out = _hands(u, HAND_DOWN, HAND_DOWN)
    fwd = HAND_FRONT * [1, 1, 0.9] + [0.1, 0.0, 0.0]
    back = np.array([0.1, -0.42, -0.22])
    for key in ("lh", "rh"):
        out[key] = np.outer((1 + sw) / 2, fwd) + np.outer((1 - sw) / 2, back)
    out["sp"] = 0.06 * p.amp * sw
    return out


def _windmill(u, p):
    """One arm circling in the frontal plane, a turn per two beats."""
    ang = np.pi * keys(u, [(0, 0.0), (1.0, 1.0)], 2.0, 1.6) + np.pi * (np.mod(u, 2.0) >= 1.0)
    r = 0.36
    out = _hands(u, np.zeros(3), HAND_HIP)
    out["lh"] = np.stack([r * np.sin(ang) + 0.2, -r * np.cos(ang), np.full_like(ang, 0.22)], axis=1)
    out["sr"] = -0.06 * np.sin(ang)
    return out


def _overhead_sway(u, p):
    """Both arms up, swaying side to side over two beats (a crowd wave)."""
    w = wave(u, 2.0, p.k)
    base = HAND_UP + [0.12, -0.05, 0.08]
    out = _hands(u, base, base)
    out["lh"][:, 0] += 0.15 * w
    out["rh"][:, 0] -= 0.15 * w
    out["sr"] = -0.12 * p.amp * w
    out["hr"] = 0.06 * w
    return out


def _hands_on_hips(u, p):
    """Hands on the hips, shoulders popping alternately."""
    w = wave(u, 2.0, max(p.k, 3.0))
    out = _hands(u, HAND_HIP, HAND_HIP)
    out["shrug_l"] = 0.12 * np.clip(w, 0, None)
    out["shrug_r"] = 0.12 * np.clip(-w, 0, None)
    out["sy"] = 0.08 * w
    return out


def _shoulder_roll(u, p):
    """Shoulders rolling alternately with the arms relaxed."""
    l_ = keys(u, [(0, 0.0), (0.5, 1.0), (1.0, 0.3), (1.5, 0.0)], 2.0, p.k)
    r = keys(u, [(0, 0.3), (0.5, 0.0), (1.0, 0.0), (1.5, 1.0)], 2.0, p.k)
    out = _hands(u, HAND_DOWN, HAND_DOWN)
    out["shrug_l"], out["shrug_r"] = 0.18 * p.amp * l_, 0.18 * p.amp * r
    out["lh"][:, 2] += 0.05 * l_
    out["rh"][:, 2] += 0.05 * r
    out["sy"] = 0.1 * (l_ - r)
    return out


def _wave_hello(u, p):
    """One hand raised waving side to side on the beats, the other relaxed."""
    w = wave(u, 1.0, p.k)
    base = np.array([0.25, 0.32, 0.12])
    out = _hands(u, base, HAND_DOWN)
    out["lh"][:, 0] += 0.1 * w
    out["hy"] = 0.1 * w
    return out


def _arms_cross(u, p):
    """Arms cross in front of the chest on the beat and open wide on the off-beat."""
    k = max(p.k, 2.5)
    c = pulse(u, k, period=2.0, width=1.0)
    closed = np.array([-SHOULDER_OUT - 0.02, -0.15, 0.35])
    open_ = HAND_SIDE + [0.0, 0.05, 0.05]
    out = _hands(u, open_, open_)
    for key, dz in (("lh", 0.04), ("rh", 0.0)):
        out[key] += np.outer(c, closed + [0, 0, dz] - open_)
    out["sp"] = 0.08 * c
    return out
