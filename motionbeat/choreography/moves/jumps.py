"""The jump family: physically timed jumps and hops.

Jump in place, jumping jack, hop turn, pony, skip, scissors and side hops; airtimes follow
the beat through gravity.
"""

from __future__ import annotations

import math

import numpy as np

from motionbeat.choreography.moves.body import GRAVITY, HAND_CHEST, HAND_DOWN, HAND_UP, LEFT, RIGHT, TOE_Z
from motionbeat.choreography.moves.clip import MoveClip, MoveParams, Step
from motionbeat.choreography.moves.helpers import _arm_swing, _hands, _rot
from motionbeat.choreography.moves.shapes import keys, pulse, ramp, wave

# ========================================================================== jump family


def _airtime_height(p: MoveParams, air_beats: float) -> float:
    t = air_beats * p.beat_s
    return GRAVITY * t * t / 8.0


def _jump_channels(u, p, takeoffs: list[float], air: float, h: float):
    """Crouch before take-off, a ballistic arc in the air, an absorbing bend on landing."""
    y = np.zeros_like(u, dtype=np.float64)
    for t0 in takeoffs:
        tau = (u - t0) / air
        y += np.where((tau > 0) & (tau < 1), 4.0 * h * tau * (1.0 - tau), 0.0)
        crouch = np.exp(-0.5 * ((u - (t0 - 0.25)) / 0.18) ** 2) + np.exp(
            -0.5 * ((u - (t0 + air + 0.2)) / 0.15) ** 2
        )
        y -= 0.07 * min(p.amp, 1.3) * crouch
    return y


def jump_in_place(p: MoveParams) -> MoveClip:
    air = 0.45
    h = _airtime_height(p, air)
    hl, hr = p.home(LEFT), p.home(RIGHT)
    takeoffs = [1.0 - air, 3.0 - air]
    steps = tuple(
        Step(f, t0, t0 + air, hl if f == LEFT else hr, lift=h * 0.9, ballistic=True)
        for t0 in takeoffs
        for f in (LEFT, RIGHT)
    )

    def ch(u):
        y = _jump_channels(np.mod(u, 4.0), p, takeoffs, air, h)
        up = np.clip(y, 0, None) / max(h, 1e-3)
        out = {"bounce": y, "sp": -2.0 * np.clip(y, None, 0) - 0.1 * up}
        out.update(_hands(u, HAND_DOWN, HAND_DOWN))
        raise_ = np.outer(up, HAND_UP - HAND_DOWN + [0.1, -0.1, 0.1]) * 0.7
        out["lh"] += raise_
        out["rh"] += raise_
        return out

    return MoveClip("jump_in_place", "jump", 4, steps, ch)


def jumping_jack(p: MoveParams) -> MoveClip:
    air = 0.4
    h = _airtime_height(p, air)
    w = 0.18 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    takeoffs = [1.0 - air, 2.0 - air, 3.0 - air, 4.0 - air]
    wide = [(hl[0] + w, hl[1]), (hr[0] - w, hr[1])]
    steps = []
    for i, t0 in enumerate(takeoffs):
        for f, home_ in ((LEFT, hl), (RIGHT, hr)):
            steps.append(
                Step(
                    f, t0, t0 + air, wide[f] if i % 2 == 0 else home_, lift=h * 0.8, ballistic=True
                )
            )

    def ch(u):
        y = _jump_channels(np.mod(u, 4.0), p, takeoffs, air, h) * 0.7
        open_ = keys(
            u, [(0, 0.0), (1.0 - air, 0.0), (1.0, 1.0), (2.0 - air, 1.0), (2.0, 0.0)], 2.0, p.k
        )
        out = {"bounce": y}
        out.update(_hands(u, HAND_DOWN + [0.05, 0, 0], HAND_DOWN + [0.05, 0, 0]))
        up = np.outer(open_, HAND_UP + [0.2, 0.0, -0.02] - HAND_DOWN)
        out["lh"] += up
        out["rh"] += up
        return out

    return MoveClip("jumping_jack", "jump", 4, tuple(steps), ch)


def hop_turn(p: MoveParams) -> MoveClip:
    """Two-footed jump that lands facing a quarter turn away (a floor-facing change)."""
    air = 0.5
    h = _airtime_height(p, air)
    turn = math.pi / 2
    takeoff = 1.0 - air
    steps = [
        Step(f, takeoff, 1.0, _rot(*p.home(f), turn), yaw=turn, lift=h * 0.9, ballistic=True)
        for f in (LEFT, RIGHT)
    ]

    def ch(u):
        y = _jump_channels(np.mod(u, 4.0), p, [takeoff], air, h)
        out = {"bounce": y, "facing": turn * ramp(u, takeoff, 1.0, 1.5)}
        out.update(_hands(u, HAND_CHEST + [0.15, 0.0, -0.05], HAND_CHEST + [0.15, 0.0, -0.05]))
        return out

    return MoveClip("hop_turn", "turn", 2 if p.bpb != 3 else 3, tuple(steps), ch, turn=turn)


def pony(p: MoveParams) -> MoveClip:
    """Hop-ball-change side to side (the 'pony'): a small sideways hop landing on the beat."""
    air = 0.3
    h = _airtime_height(p, air)
    w = 0.12 * p.amp
    home = {LEFT: p.home(LEFT), RIGHT: p.home(RIGHT)}
    steps = []
    for half, side in ((0.0, -1.0), (2.0, 1.0)):
        lead = RIGHT if side < 0 else LEFT
        trail = 1 - lead
        dx = side * w
        t0 = half + 1.0 - air
        steps.append(
            Step(lead, t0, half + 1.0, (home[lead][0] + dx, home[lead][1]), lift=h, ballistic=True)
        )
        steps.append(
            Step(
                trail,
                t0,
                half + 1.0,
                (home[trail][0] + 0.5 * dx, home[trail][1] - 0.08),
                lift=h,
                ballistic=True,
            )
        )
        steps.append(Step(trail, half + 1.2, half + 1.5, home[trail], lift=0.03))
        steps.append(Step(lead, half + 1.6, half + 2.0, home[lead], lift=0.04))

    def ch(u):
        y = _jump_channels(np.mod(u, 4.0), p, [1.0 - air, 3.0 - air], air, h) * 0.8
        side = wave(u, 4.0, p.k, 1.0)
        out = {"bounce": y, "sr": 0.08 * p.amp * side, "sway": -0.03 * side}
        out.update(_hands(u, HAND_CHEST + [0.25, -0.05, -0.05], HAND_CHEST + [0.25, -0.05, -0.05]))
        out["lh"][:, 1] += 0.06 * pulse(u, p.k)
        out["rh"][:, 1] += 0.06 * pulse(u, p.k)
        return out

    return MoveClip("pony", "jump", 4, _no_overlap(steps), ch)


def _no_overlap(steps: list[Step]) -> tuple[Step, ...]:
    """Drop steps of a foot that start before that foot's previous step has landed."""
    out, busy = [], {LEFT: -1e9, RIGHT: -1e9}
    for st in sorted(steps, key=lambda s: s.start):
        if st.start >= busy[st.foot] - 1e-9:
            out.append(st)
            busy[st.foot] = st.end
    return tuple(out)


def skip(p: MoveParams) -> MoveClip:
    """Skipping forward: step-hop on alternate feet, the free knee lifting; travels."""
    air = 0.3
    h = _airtime_height(p, air) * 0.8
    d = 0.16 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = []
    z = 0.0
    for i, f in enumerate((LEFT, RIGHT, LEFT, RIGHT)):
        other = 1 - f
        home_f = hl if f == LEFT else hr
        home_o = hl if other == LEFT else hr
        z += d
        # the free foot swings forward with the knee up while the standing foot hops
        steps.append(
            Step(
                other,
                i + 0.1,
                i + 1.0,
                (home_o[0], home_o[1] + z + d * 0.5 if i < 3 else home_o[1] + z),
                via=(home_o[0], 0.22 * p.amp, home_o[1] + z + 0.1),
            )
        )
        steps.append(
            Step(
                f,
                i + 1.0 - air - 0.05,
                i + 0.95,
                (home_f[0], home_f[1] + z),
                lift=h,
                ballistic=True,
            )
        )
    steps = [s for s in steps if s.end <= 4.0]
    last = {LEFT: None, RIGHT: None}
    for s in steps:
        last[s.foot] = s
    fz = max(st.to[1] for st in steps) - TOE_Z
    fixed = [s for s in steps]
    for f, home_ in ((LEFT, hl), (RIGHT, hr)):
        st = last[f]
        if st is not None and abs(st.to[1] - (home_[1] + fz)) > 1e-6:
            fixed.append(
                Step(f, max(st.end, 3.5) + 0.01, 4.0, (home_[0], home_[1] + fz), lift=0.03)
            )

    def ch(u):
        takeoffs = [i + 1.0 - air - 0.05 for i in range(4)]
        y = _jump_channels(np.mod(u, 4.0), p, takeoffs, air, h) * 0.7
        out = {"bounce": y, "sp": 0.05 * np.ones_like(u)}
        out.update(_arm_swing(u + 1.0, p, 2.0, 0.2))
        return out

    return MoveClip("skip", "travel", 4, _no_overlap(fixed), ch, travel=(0.0, fz))


def scissors(p: MoveParams) -> MoveClip:
    """Scissor jumps: each jump lands with the other foot forward."""
    air = 0.4
    h = _airtime_height(p, air)
    d = 0.14 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    takeoffs = [b + 1.0 - air for b in range(4)]
    steps = []
    for i, t0 in enumerate(takeoffs):
        last = i == 3
        lf = 0.0 if last else (d if i % 2 == 0 else -d)
        steps.append(Step(LEFT, t0, t0 + air, (hl[0], hl[1] + lf), lift=h * 0.8, ballistic=True))
        steps.append(Step(RIGHT, t0, t0 + air, (hr[0], hr[1] - lf), lift=h * 0.8, ballistic=True))

    def ch(u):
        y = _jump_channels(np.mod(u, 4.0), p, takeoffs, air, h) * 0.7
        sw = wave(u, 2.0, p.k, 1.0)
        out = {"bounce": y, "sy": -0.1 * sw}
        out.update(_arm_swing(u + 1.0, p, 2.0, 0.22))
        return out

    return MoveClip("scissors", "jump", 4, tuple(steps), ch)


def side_hops(p: MoveParams) -> MoveClip:
    """Two-footed hops travelling sideways, one per beat, then back."""
    air = 0.35
    h = _airtime_height(p, air)
    w = 0.14 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    offs = [-w, -2 * w, -w, 0.0]
    takeoffs = [b + 1.0 - air for b in range(4)]
    steps = []
    for t0, dx in zip(takeoffs, offs, strict=True):
        steps.append(Step(LEFT, t0, t0 + air, (hl[0] + dx, hl[1]), lift=h * 0.85, ballistic=True))
        steps.append(Step(RIGHT, t0, t0 + air, (hr[0] + dx, hr[1]), lift=h * 0.85, ballistic=True))

    def ch(u):
        y = _jump_channels(np.mod(u, 4.0), p, takeoffs, air, h) * 0.75
        out = {"bounce": y, "sr": 0.06 * wave(u, 4.0, p.k)}
        out.update(_hands(u, HAND_CHEST + [0.28, -0.05, -0.05], HAND_CHEST + [0.28, -0.05, -0.05]))
        return out

    return MoveClip("side_hops", "jump", 4, tuple(steps), ch)
