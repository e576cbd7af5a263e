"""Performing, the choreographer's third stage: the plan evaluated on the frames (:func:`perform`).

Beats warped by the dancer's feel and jitter, move channels cross-faded at the boundaries,
foot tracks from the steps, hits on the music's accents (:func:`accent_hits`) and the melody
shown with arms, chest and head (:func:`contour_follow`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motionbeat.choreography import moves as mv
from motionbeat.choreography.choreographer.planning import Plan
from motionbeat.choreography.choreographer.style import DancerStyle
from motionbeat.core import contract

SWING_TOE_PITCH: float = 0.35
"""Toe-down pitch of a foot at mid-swing, rad."""


def _smooth_noise(rng, n: int, fps: float, scale: float, width_s: float = 0.6) -> np.ndarray:
    """Slow Gaussian noise of standard deviation ``scale``: white noise smoothed by a Gaussian
    of sigma = width_s * fps frames, whose std is 1 / sqrt(2 sqrt(pi) sigma) for unit noise."""
    sigma = width_s * fps
    x = gaussian_filter1d(rng.standard_normal(n), sigma, mode="nearest")
    return scale * x * math.sqrt(2.0 * math.sqrt(math.pi) * sigma)


@dataclass
class _FootTrack:
    toe: np.ndarray  # (T, 3) world toe joint position
    ground: np.ndarray  # (T, 2) (x, z) ground reference of the foot (no lift, no via)
    yaw: np.ndarray  # (T,)
    pitch: np.ndarray  # (T,) toe-down pitch from swinging
    planted: np.ndarray  # (T,) bool


def _to_world(anchor, x: float, z: float) -> tuple[float, float]:
    ax, az, yaw = anchor
    c, s = math.cos(yaw), math.sin(yaw)
    return (ax + c * x + s * z, az - s * x + c * z)


def _foot_tracks(plan: Plan, times: np.ndarray, beat_time, stance: float) -> list[_FootTrack]:
    n = len(times)
    tracks = []
    for foot in (mv.LEFT, mv.RIGHT):
        home = (mv.SIDE_SIGN[foot] * stance, mv.TOE_Z)
        pos = np.array(home, dtype=np.float64)
        yaw = 0.0
        toe = np.zeros((n, 3))
        ground = np.zeros((n, 2))
        yaws = np.zeros(n)
        pitch = np.zeros(n)
        planted = np.ones(n, dtype=bool)
        events = sorted(
            (
                (inst.start + st.start, inst.start + st.end, st, inst.anchor)
                for inst in plan.instances
                for st in inst.clip.steps
                if st.foot == foot
            ),
            key=lambda ev: ev[0],
        )
        cursor = 0
        for b0, b1, st, anchor in events:
            t0, t1 = float(beat_time(b0)), float(beat_time(b1))
            f0 = int(np.searchsorted(times, t0))
            f1 = int(np.searchsorted(times, t1))
            toe[cursor:f0, 0], toe[cursor:f0, 2] = pos[0], pos[1]
            ground[cursor:f0] = pos
            yaws[cursor:f0] = yaw
            target = np.array(_to_world(anchor, *st.to))
            yaw1 = anchor[2] + st.yaw
            if f1 > f0:
                tau = (times[f0:f1] - t0) / max(t1 - t0, 1e-6)  # (F,) in [0, 1)
                if st.ballistic:
                    s = tau
                    height = 4.0 * st.lift * tau * (1.0 - tau)
                else:
                    s = mv.ease(tau, 1.8)
                    height = st.lift * np.sin(np.pi * mv.ease(tau, 1.4))
                flat = pos[None, :] + (target - pos)[None, :] * s[:, None]  # (F, 2)
                if st.via is not None:
                    via_xz = np.array(_to_world(anchor, st.via[0], st.via[2]))
                    ctrl = 2.0 * via_xz - 0.5 * (pos + target)
                    sv = mv.ease(tau, 1.6)[:, None]
                    horiz = (1 - sv) ** 2 * pos + 2 * sv * (1 - sv) * ctrl + sv**2 * target
                    height = st.via[1] * np.sin(np.pi * sv[:, 0]) ** 1.2
                else:
                    horiz = flat
                toe[f0:f1, 0], toe[f0:f1, 2] = horiz[:, 0], horiz[:, 1]
                toe[f0:f1, 1] = height
                ground[f0:f1] = flat
                yaws[f0:f1] = yaw + (yaw1 - yaw) * s
                pitch[f0:f1] = (
                    SWING_TOE_PITCH * np.sin(np.pi * tau) * (1.5 if st.via is not None else 1.0)
                )
                planted[f0:f1] = False
            pos, yaw, cursor = target, yaw1, max(f1, cursor)
        toe[cursor:, 0], toe[cursor:, 2] = pos[0], pos[1]
        ground[cursor:] = pos
        yaws[cursor:] = yaw
        tracks.append(_FootTrack(toe, ground, yaws, pitch, planted))
    return tracks


def perform(
    plan: Plan,
    style: DancerStyle,
    duration: float,
    rng: np.random.Generator,
    fps: float = contract.FPS,
) -> dict[str, np.ndarray]:
    """Evaluate the plan on the frame times: blended channels, foot tracks, body frame.

    Returns a dict of per-frame arrays for :func:`solve_pose` (see there).
    """
    n = max(int(round(duration * fps)), 2)
    times = np.arange(n) / fps  # (T,)
    grid = plan.grid
    warped = grid + style.feel + rng.normal(0.0, style.jitter, size=len(grid))
    warped = np.maximum.accumulate(warped + 1e-4 * np.arange(len(grid)))  # keep it increasing
    idx = np.arange(len(grid), dtype=np.float64)
    beat_of = np.interp(times, warped, idx)  # (T,) continuous beat index
    # extrapolate linearly outside the grid
    period = float(np.median(np.diff(warped)))
    beat_of = np.where(times < warped[0], (times - warped[0]) / period, beat_of)
    beat_of = np.where(times > warped[-1], len(grid) - 1 + (times - warped[-1]) / period, beat_of)

    def beat_time(b: float) -> float:
        return float(
            np.interp(
                b,
                idx,
                warped,
                left=warped[0] + b * period,
                right=warped[-1] + (b - idx[-1]) * period,
            )
        )

    scalars = [c for c in mv.LOWER_CHANNELS + mv.UPPER_CHANNELS if c not in mv.VECTOR_CHANNELS]
    acc = {c: np.zeros(n) for c in scalars}
    acc["lh"] = np.zeros((n, 3))
    acc["rh"] = np.zeros((n, 3))
    acc["facing_world"] = np.zeros(n)
    wsum = np.zeros(n)
    half = style.blend / 2.0
    idle_hand = mv.HAND_DOWN
    usage: dict[str, int] = {}
    for inst in plan.instances:
        lo, hi = inst.start - half, inst.start + inst.length + half
        f = np.nonzero((beat_of >= lo) & (beat_of < hi))[0]
        if f.size == 0:
            continue
        usage[inst.clip.name] = usage.get(inst.clip.name, 0) + 1
        b = beat_of[f]
        w_in = mv.ease((b - inst.start + half) / max(style.blend, 1e-6), 2.0)
        w_out = 1.0 - mv.ease((b - inst.start - inst.length + half) / max(style.blend, 1e-6), 2.0)
        if inst is plan.instances[0]:
            w_in = np.ones_like(b)
        if inst is plan.instances[-1]:
            w_out = np.ones_like(b)
        w = w_in * w_out
        ch = inst.clip.channels(b - inst.start)
        for c in scalars:
            if c in ch:
                acc[c][f] += w * ch[c]
        for c in ("lh", "rh"):
            acc[c][f] += w[:, None] * (ch[c] if c in ch else idle_hand[None, :])
        acc["facing_world"][f] += w * (inst.anchor[2] + ch.get("facing", 0.0))
        wsum[f] += w
    wsum = np.maximum(wsum, 1e-9)
    out = {c: v / (wsum[:, None] if v.ndim == 2 else wsum) for c, v in acc.items()}
    # slow postural drift: a dancer is never a metronome
    for c, scale in (("sp", 1.0), ("sr", 0.7), ("sy", 1.0), ("hp", 1.2), ("hr", 0.8), ("hy", 1.5)):
        out[c] = out[c] + _smooth_noise(rng, n, fps, style.noise * scale)
    for c in ("lh", "rh"):
        out[c] = out[c] + np.stack([_smooth_noise(rng, n, fps, 0.015) for _ in range(3)], axis=1)
    for c, delta in accent_hits(times, plan.accent_times, plan.accent_strength, style, rng).items():
        out[c] = out[c] + delta
    contour = contour_at(times, plan.contour, plan.contour_fps)
    for c, delta in contour_follow(contour, style).items():
        out[c] = out[c] + delta
    out["feet"] = _foot_tracks(plan, times, beat_time, style.stance)
    out["beat_of"] = beat_of
    out["usage"] = usage
    return out


HIT_CHANNELS: dict[str, dict[str, object]] = {
    "head": {"hp": 0.3, "sp": 0.08},  # a nod from the upper back, rad
    "chest": {"sp": -0.18},  # the chest pops forward (spine extends), rad
    "shoulders": {"shrug_l": 0.2, "shrug_r": 0.2},  # both shoulders up, rad
    "arms": {"lh": np.array([0.0, -0.16, 0.08]), "rh": np.array([0.0, -0.16, 0.08])},  # m
    "dip": {"bounce": -0.06},  # a quick knee dip, m
}
"""Channel offsets of a full-strength hit of each kind (``dance_genres.HIT_KINDS``), scaled by
the accent's strength and the dancer's amplitude. Sizes chosen to read clearly on a stick figure
without leaving the joint ranges ``solve_pose`` clips to."""
HIT_ATTACK_S: float = 0.05
"""Rise time (Gaussian sigma, s) of a hit before the accent: a hit lands on the accent."""
HIT_RELEASE_S: float = 0.12
"""Release time (Gaussian sigma, s) after the accent."""


def accent_hits(
    times: np.ndarray,
    accent_times: np.ndarray,
    accent_strength: np.ndarray,
    style: DancerStyle,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Channel offsets of the dancer's hits on the music's accents.

    Each accent is hit with probability ``style.hit_rate``, at the accent time plus the
    dancer's feel and timing jitter, by the pulse g(dt) = exp(-dt^2 / (2 sigma^2)) with sigma
    HIT_ATTACK_S before and HIT_RELEASE_S after the hit time; overlapping hits take the larger
    pulse (a dancer does not hit twice as hard). The offsets are ``HIT_CHANNELS[style.hit_kind]``
    times strength * style.amplitude.

    Returns:
        per channel, (T,) offsets (or (T, 3) for hand targets).
    """
    pulse = np.zeros(len(times))  # (T,)
    hit = rng.random(len(accent_times)) < style.hit_rate
    shift = style.feel + rng.normal(0.0, style.jitter, size=len(accent_times))
    for t, a in zip((accent_times + shift)[hit], np.asarray(accent_strength)[hit], strict=True):
        lo, hi = np.searchsorted(times, [t - 4 * HIT_ATTACK_S, t + 4 * HIT_RELEASE_S])
        dt = times[lo:hi] - t
        sigma = np.where(dt < 0, HIT_ATTACK_S, HIT_RELEASE_S)
        pulse[lo:hi] = np.maximum(pulse[lo:hi], a * np.exp(-0.5 * (dt / sigma) ** 2))
    return channel_offsets(pulse * style.amplitude, HIT_CHANNELS.get(style.hit_kind, {}))


def channel_offsets(gain: np.ndarray, sizes: dict[str, object]) -> dict[str, np.ndarray]:
    """Per-channel offsets gain(t) * size_c: (T,) for scalar sizes, (T, 3) for hand targets.

    Args:
        gain: (T,) the time course. sizes: channel -> a float or a (3,) vector.
    """
    out = {}
    for c, size in sizes.items():
        size = np.asarray(size, dtype=np.float64)
        out[c] = gain[:, None] * size[None, :] if size.ndim else gain * float(size)
    return out


CONTOUR_CHANNELS: dict[str, object] = {
    "lh": np.array([0.0, 0.12, 0.04]),  # both hands rise (and come a little forward), m
    "rh": np.array([0.0, 0.12, 0.04]),
    "sp": -0.06,  # the chest lifts (the spine extends), rad
    "hp": -0.08,  # the eyes follow the melody up, rad
}
"""Channel offsets at contour +1 (the song's highest moments; the opposite at -1), scaled by
``style.contour * style.amplitude``. A dancer "shows the melody" with the height of the arms
and the lift of the chest; feet and pelvis are left to the steps, so nothing slides."""


def contour_at(times: np.ndarray, contour: np.ndarray, fps: float) -> np.ndarray:
    """The contour (frames from time 0 at ``fps``) at ``times`` (s): linear interpolation,
    held at the ends; zeros when there is no contour."""
    if len(contour) == 0:
        return np.zeros(len(times))
    return np.interp(times, np.arange(len(contour)) / fps, contour)


def contour_follow(contour: np.ndarray, style: DancerStyle) -> dict[str, np.ndarray]:
    """Channel offsets of a dancer showing the melodic contour (:func:`melodic_contour`).

    offset_c(t) = contour(t) * style.contour * style.amplitude * CONTOUR_CHANNELS[c].

    Args:
        contour: (T,) in (-1, 1) at the frame times.
    Returns:
        per channel, (T,) offsets (or (T, 3) for hand targets).
    """
    gain = np.asarray(contour, dtype=np.float64) * style.contour * style.amplitude  # (T,)
    return channel_offsets(gain, CONTOUR_CHANNELS)

