"""The stepping family: steps on the spot.

Step touch, march, taps, rock step, mambo, jazz box, V-step, cha-cha, kick-ball-change
and heel-toe.
"""

from __future__ import annotations

import numpy as np

from motionbeat.choreography.moves.body import (
    CLOSE,
    HAND_CHEST,
    HAND_DOWN,
    HAND_HIP,
    HAND_SIDE,
    HAND_UP,
    LEFT,
    RIGHT,
    TOE_Z,
)
from motionbeat.choreography.moves.clip import MoveClip, MoveParams, Step
from motionbeat.choreography.moves.helpers import _arm_swing, _groove, _hands, _stepper
from motionbeat.choreography.moves.shapes import keys, pulse, wave

# ====================================================================== stepping family


def step_touch(p: MoveParams) -> MoveClip:
    w = 0.22 * p.amp * p.jitter()
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (RIGHT, 0.3, 1.0, (hr[0] - w, hr[1])),
            (LEFT, 1.3, 2.0, (hr[0] - w + CLOSE, hl[1])),
            (LEFT, 2.3, 3.0, hl),
            (RIGHT, 3.3, 4.0, hr),
        ],
    )

    def ch(u):
        out = _groove(u, p, 0.035)
        out["shift"] = 0.2 * wave(u, 2.0, p.k, phase=1.0)
        out.update(_arm_swing(u, p, 2.0, 0.1))
        out["lh"][:, 0] += 0.06 * p.amp * wave(u, 2.0, p.k)
        out["rh"][:, 0] += 0.06 * p.amp * wave(u, 2.0, p.k, 1.0)
        return out

    return MoveClip("step_touch", "step", 4, steps, ch)


def double_step_touch(p: MoveParams) -> MoveClip:
    w = 0.2 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (RIGHT, 0.3, 1.0, (hr[0] - w, hr[1])),
            (LEFT, 1.3, 2.0, (hl[0] - w, hl[1])),
            (RIGHT, 2.3, 3.0, (hr[0] - 2 * w, hr[1])),
            (LEFT, 3.3, 4.0, (hr[0] - 2 * w + CLOSE, hl[1])),
            (LEFT, 4.3, 5.0, (hl[0] - w, hl[1])),
            (RIGHT, 5.3, 6.0, (hr[0] - w, hr[1])),
            (LEFT, 6.3, 7.0, hl),
            (RIGHT, 7.3, 8.0, hr),
        ],
    )

    def ch(u):
        out = _groove(u, p, 0.03)
        sw = wave(u, 8.0, 2.0, phase=0.0)
        out["sy"] = 0.1 * p.amp * sw
        out.update(_hands(u, HAND_CHEST + [0.2, -0.05, 0.0], HAND_CHEST + [0.2, -0.05, 0.0]))
        clap = pulse(u, p.k, period=2.0, width=0.5)
        out["lh"][:, 0] -= 0.1 * clap
        out["rh"][:, 0] -= 0.1 * clap
        return out

    return MoveClip("double_step_touch", "step", 8, steps, ch)


def march(p: MoveParams) -> MoveClip:
    lift = 0.1 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = tuple(
        Step(f, b + 0.35, b + 1.0, (hl if f == LEFT else hr), lift=lift)
        for b, f in zip(range(4), (LEFT, RIGHT, LEFT, RIGHT), strict=True)
    )

    def ch(u):
        out = _groove(u, p, 0.02)
        out.update(_arm_swing(u - 0.5, p, 2.0, 0.14))
        return out

    return MoveClip("march", "step", 4, steps, ch)


def toe_tap(p: MoveParams) -> MoveClip:
    d = 0.25 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (LEFT, 0.4, 1.0, (hl[0] + 0.02, hl[1] + d)),
            (LEFT, 1.4, 2.0, hl),
            (RIGHT, 2.4, 3.0, (hr[0] - 0.02, hr[1] + d)),
            (RIGHT, 3.4, 4.0, hr),
        ],
        lift=0.05,
    )

    def ch(u):
        out = _groove(u, p, 0.03)
        tap = keys(u, [(0, 0.0), (1.0, 1.0), (2.0, 0.0)], 4.0, p.k)
        out["heel_l"] = 0.35 * tap
        out["heel_r"] = 0.35 * keys(u, [(0, 0.0), (2.0, 0.0), (3.0, 1.0)], 4.0, p.k)
        out["shift"] = 0.35 * keys(u, [(0, 0.0), (0.5, 1.0), (2.0, 1.0), (2.5, -1.0)], 4.0, p.k)
        out.update(_hands(u, HAND_HIP, HAND_HIP))
        return out

    return MoveClip("toe_tap", "step", 4, steps, ch)


def side_tap(p: MoveParams) -> MoveClip:
    d = 0.22 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (LEFT, 0.4, 1.0, (hl[0] + d, hl[1])),
            (LEFT, 1.4, 2.0, hl),
            (RIGHT, 2.4, 3.0, (hr[0] - d, hr[1])),
            (RIGHT, 3.4, 4.0, hr),
        ],
        lift=0.05,
    )

    def ch(u):
        out = _groove(u, p, 0.035)
        out["shift"] = 0.35 * keys(u, [(0, 0.0), (0.5, 1.0), (2.0, 1.0), (2.5, -1.0)], 4.0, p.k)
        arm = keys(u, [(0, 0.0), (1.0, 1.0), (2.0, 0.0), (3.0, -1.0)], 4.0, p.k)
        out.update(_hands(u, HAND_DOWN, HAND_DOWN))
        out["lh"] += np.outer(np.clip(arm, 0, None), HAND_SIDE - HAND_DOWN) * p.amp * 0.8
        out["rh"] += np.outer(np.clip(-arm, 0, None), HAND_SIDE - HAND_DOWN) * p.amp * 0.8
        return out

    return MoveClip("side_tap", "step", 4, steps, ch)


def rock_step(p: MoveParams) -> MoveClip:
    d = 0.25 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (RIGHT, 0.35, 1.0, (hr[0], hr[1] - d)),
            (RIGHT, 1.35, 2.0, hr),
            (LEFT, 2.35, 3.0, (hl[0], hl[1] - d)),
            (LEFT, 3.35, 4.0, hl),
        ],
    )

    def ch(u):
        back = keys(u, [(0, 0.0), (1.0, 1.0), (2.0, 0.0), (3.0, 1.0)], 4.0, p.k)
        out = _groove(u, p, 0.03)
        out["surge"] = -0.06 * back * p.amp
        out["sp"] = out["sp"] - 0.05 * back
        out.update(_arm_swing(u, p, 2.0, 0.1))
        return out

    return MoveClip("rock_step", "step", 4, steps, ch)


def mambo(p: MoveParams) -> MoveClip:
    d = 0.25 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (LEFT, 0.35, 1.0, (hl[0], hl[1] + d)),
            (LEFT, 1.35, 2.0, hl),
            (RIGHT, 2.35, 3.0, (hr[0], hr[1] - d)),
            (RIGHT, 3.35, 4.0, hr),
        ],
    )

    def ch(u):
        fb = keys(u, [(0, 0.0), (1.0, 1.0), (2.0, 0.0), (3.0, -1.0)], 4.0, p.k)
        out = _groove(u, p, 0.03)
        out["surge"] = 0.06 * fb * p.amp
        out["pyaw"] = 0.12 * p.amp * fb
        out["sy"] = -0.15 * p.amp * fb
        out.update(_hands(u, HAND_CHEST + [0.2, -0.02, -0.05], HAND_CHEST + [0.2, -0.02, -0.05]))
        out["lh"][:, 2] -= 0.08 * fb
        out["rh"][:, 2] += 0.08 * fb
        return out

    return MoveClip("mambo", "step", 4, steps, ch)


def jazz_box(p: MoveParams) -> MoveClip:
    a = p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (RIGHT, 0.3, 1.0, (0.05, TOE_Z + 0.18 * a)),
            (LEFT, 1.3, 2.0, (hl[0] + 0.02, TOE_Z - 0.14 * a)),
            (RIGHT, 2.3, 3.0, hr),
            (LEFT, 3.3, 4.0, hl),
        ],
    )

    def ch(u):
        out = _groove(u, p, 0.03)
        out["pyaw"] = 0.15 * a * keys(u, [(0, 0.0), (1.0, 1.0), (2.0, 0.3), (3.0, -0.4)], 4.0, p.k)
        out["sy"] = -0.8 * out["pyaw"]
        out.update(_arm_swing(u, p, 2.0, 0.1))
        return out

    return MoveClip("jazz_box", "step", 4, steps, ch)


def v_step(p: MoveParams) -> MoveClip:
    a = p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (RIGHT, 0.3, 1.0, (hr[0] - 0.15 * a, hr[1] + 0.22 * a)),
            (LEFT, 1.3, 2.0, (hl[0] + 0.15 * a, hl[1] + 0.22 * a)),
            (RIGHT, 2.3, 3.0, hr),
            (LEFT, 3.3, 4.0, hl),
        ],
    )

    def ch(u):
        out_ = keys(u, [(0, 0.0), (1.0, 0.5), (2.0, 1.0), (3.0, 0.5)], 4.0, p.k)
        out = _groove(u, p, 0.03)
        out["surge"] = 0.08 * a * out_
        r = np.clip(keys(u, [(0, 0.0), (1.0, 1.0), (3.0, 0.0)], 4.0, p.k), 0, 1)
        l_ = np.clip(keys(u, [(0, 0.0), (1.0, 0.0), (2.0, 1.0), (4.0 - 1e-3, 0.0)], 4.0, p.k), 0, 1)
        out.update(_hands(u, HAND_DOWN, HAND_DOWN))
        out["rh"] += np.outer(r, (HAND_UP + [0.15, 0, 0.15]) - HAND_DOWN) * min(a, 1.0)
        out["lh"] += np.outer(l_, (HAND_UP + [0.15, 0, 0.15]) - HAND_DOWN) * min(a, 1.0)
        return out

    return MoveClip("v_step", "step", 4, steps, ch)


def cha_cha(p: MoveParams) -> MoveClip:
    d = 0.22 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = (
        Step(LEFT, 0.35, 1.0, (hl[0], hl[1] + d), lift=0.05),
        Step(LEFT, 1.35, 2.0, hl, lift=0.05),
        Step(RIGHT, 2.1, 2.5, (hr[0] + 0.02, hr[1]), lift=0.04),
        Step(LEFT, 2.6, 3.0, (hl[0] - 0.02, hl[1]), lift=0.04),
        Step(RIGHT, 3.1, 3.5, hr, lift=0.04),
        Step(LEFT, 3.6, 4.0, hl, lift=0.03),
    )

    def ch(u):
        out = _groove(u, p, 0.025)
        out["pyaw"] = 0.12 * p.amp * wave(u, 1.0, p.k)
        out["sy"] = -out["pyaw"]
        out["surge"] = 0.05 * p.amp * keys(u, [(0, 0.0), (1.0, 1.0), (2.0, 0.0)], 4.0, p.k)
        out.update(_hands(u, HAND_CHEST + [0.25, 0.0, -0.05], HAND_CHEST + [0.25, 0.0, -0.05]))
        return out

    return MoveClip("cha_cha", "step", 4, steps, ch)


def kick_ball_change(p: MoveParams) -> MoveClip:
    a = p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    ball = 0.12
    steps = (
        Step(RIGHT, 0.2, 1.0, (hr[0], hr[1] - ball), via=(hr[0], 0.25 * a, 0.45 * a)),
        Step(LEFT, 1.05, 1.5, hl, lift=0.03),
        Step(RIGHT, 1.55, 2.0, hr, lift=0.03),
        Step(LEFT, 2.2, 3.0, (hl[0], hl[1] - ball), via=(hl[0], 0.25 * a, 0.45 * a)),
        Step(RIGHT, 3.05, 3.5, hr, lift=0.03),
        Step(LEFT, 3.55, 4.0, hl, lift=0.03),
    )

    def ch(u):
        out = _groove(u, p, 0.03)
        kick = keys(
            u, [(0, 0.0), (0.6, 1.0), (1.2, 0.0), (2.0, 0.0), (2.6, 1.0), (3.2, 0.0)], 4.0, p.k
        )
        out["sp"] = out["sp"] - 0.12 * a * kick
        out.update(_arm_swing(u, p, 2.0, 0.12))
        return out

    return MoveClip("kick_ball_change", "kick", 4, steps, ch)


def heel_toe(p: MoveParams) -> MoveClip:
    """Toe taps crossing in front, alternate sides (a club 'cross tap')."""
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (RIGHT, 0.4, 1.0, (0.02, TOE_Z + 0.15)),
            (RIGHT, 1.4, 2.0, hr),
            (LEFT, 2.4, 3.0, (-0.02, TOE_Z + 0.15)),
            (LEFT, 3.4, 4.0, hl),
        ],
        lift=0.05,
    )

    def ch(u):
        out = _groove(u, p, 0.035)
        r = keys(u, [(0, 0.0), (1.0, 1.0), (2.0, 0.0)], 4.0, p.k)
        l_ = keys(u, [(0, 0.0), (2.0, 0.0), (3.0, 1.0)], 4.0, p.k)
        out["heel_r"], out["heel_l"] = 0.4 * r, 0.4 * l_
        out["shift"] = 0.3 * keys(u, [(0, 0.0), (0.5, -1.0), (2.0, -1.0), (2.5, 1.0)], 4.0, p.k)
        out["pyaw"] = 0.2 * p.amp * (l_ - r)
        out["sy"] = -0.5 * out["pyaw"]
        out.update(_arm_swing(u, p, 4.0, 0.12))
        return out

    return MoveClip("heel_toe", "step", 4, steps, ch)
