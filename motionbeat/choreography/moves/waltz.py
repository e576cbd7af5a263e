"""The 3/4 family: waltz box, balance, waltz sway, waltz turn and hesitation."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from motionbeat.choreography.moves.body import HAND_DOWN, HAND_SIDE, HAND_UP, LEFT, RIGHT
from motionbeat.choreography.moves.clip import MoveClip, MoveParams, Step
from motionbeat.choreography.moves.helpers import _hands, _step_turn, _stepper
from motionbeat.choreography.moves.shapes import keys, pulse, wave

# ========================================================================== 3/4 family


def waltz_box(p: MoveParams) -> MoveClip:
    a = p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    d = 0.25 * a
    steps = _stepper(
        p,
        [
            (LEFT, 0.3, 1.0, (hl[0], hl[1] + d)),
            (RIGHT, 1.3, 2.0, (hr[0] - 0.15 * a, hr[1] + d)),
            (LEFT, 2.3, 3.0, (hl[0] - 0.15 * a, hl[1] + d)),
            (RIGHT, 3.3, 4.0, (hr[0] - 0.15 * a, hr[1])),
            (LEFT, 4.3, 5.0, hl),
            (RIGHT, 5.3, 6.0, hr),
        ],
        lift=0.04,
    )

    def ch(u):
        rise = keys(u, [(0, 0.0), (1.0, 1.0), (2.0, 1.0)], 3.0, p.k)
        out = {
            "bounce": -0.04 * a + 0.05 * a * rise,
            "heel_l": 0.2 * rise,
            "heel_r": 0.2 * rise,
            "sr": 0.05 * a * wave(u, 6.0, 2.0),
            "hr": 0.04 * wave(u, 6.0, 2.0),
        }
        frame = HAND_SIDE * [0.8, 1, 1] + [0.0, -0.05, 0.15]
        out.update(_hands(u, frame, frame * [0.6, 1, 1] + [0, -0.05, 0.12]))
        return out

    return MoveClip("waltz_box", "waltz", 6, steps, ch)


def balance(p: MoveParams) -> MoveClip:
    a = p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    d = 0.22 * a
    steps = (
        Step(LEFT, 0.3, 1.0, (hl[0] + 0.12 * a, hl[1]), lift=0.04),
        Step(RIGHT, 1.3, 2.0, (hr[0] + 0.12 * a + 0.05, hr[1]), lift=0.03),
        Step(LEFT, 2.3, 3.0, (hl[0] + 0.12 * a, hl[1]), lift=0.02),
        Step(RIGHT, 3.3, 4.0, (hr[0] - d, hr[1]), lift=0.04),
        Step(LEFT, 4.3, 5.0, (hl[0] - d + 0.05, hl[1]), lift=0.03),
        Step(RIGHT, 5.05, 5.5, hr, lift=0.02),
        Step(LEFT, 5.55, 6.0, hl, lift=0.02),
    )

    def ch(u):
        rise = keys(u, [(0, 0.0), (1.0, 1.0), (2.0, 0.6)], 3.0, p.k)
        side = wave(u, 6.0, p.k, 1.5)
        out = {
            "bounce": -0.03 * a + 0.04 * a * rise,
            "heel_l": 0.25 * rise,
            "heel_r": 0.25 * rise,
            "sr": -0.06 * a * side,
        }
        out.update(_hands(u, HAND_DOWN + [0.15, 0.1, 0.1], HAND_DOWN + [0.15, 0.1, 0.1]))
        out["lh"][:, 1] += 0.12 * a * np.clip(side, 0, None)
        out["rh"][:, 1] += 0.12 * a * np.clip(-side, 0, None)
        return out

    return MoveClip("balance", "waltz", 6, steps, ch)


def waltz_sway(p: MoveParams) -> MoveClip:
    def ch(u):
        w = wave(u, 6.0, p.k)
        down = pulse(u, p.k, period=3.0, width=0.35)
        base = HAND_UP + [0.15, -0.08, 0.1]
        out = {
            "shift": 0.45 * w,
            "proll": 0.05 * p.amp * w,
            "sr": -0.12 * p.amp * w,
            "bounce": -0.03 * p.amp * down,
            **_hands(u, base, base),
        }
        out["lh"][:, 0] += 0.12 * w
        out["rh"][:, 0] -= 0.12 * w
        return out

    return MoveClip("waltz_sway", "waltz", 6, channels=ch)


def waltz_turn(p: MoveParams) -> MoveClip:
    frame = HAND_SIDE * [0.8, 1, 1] + [0.0, -0.05, 0.15]
    clip = _step_turn(p, "waltz_turn", 6, math.pi, 3, lambda u: _hands(u, frame, frame))
    return replace(clip, family="waltz")


def hesitation(p: MoveParams) -> MoveClip:
    """Step to the side on 1 and hold through 2 and 3, drawing the other foot in; then back."""
    a = p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    w = 0.22 * a
    steps = (
        Step(LEFT, 0.3, 1.0, (hl[0] + w, hl[1]), lift=0.04),
        Step(RIGHT, 2.0, 3.0, (hr[0] + w - 0.08, hr[1]), lift=0.02),
        Step(RIGHT, 3.3, 4.0, (hr[0] - 0.0, hr[1]), lift=0.04),
        Step(LEFT, 5.0, 6.0, hl, lift=0.02),
    )

    def ch(u):
        side = keys(u, [(0, 0.0), (1.0, 1.0), (3.0, 1.0), (4.0, -1.0)], 6.0, p.k)
        out = {"sr": -0.1 * a * side, "hr": 0.05 * side, "bounce": -0.03 * pulse(u, p.k, 3.0, 0.4)}
        out.update(
            _hands(u, HAND_SIDE * [0.7, 1, 1] + [0, -0.15, 0.1], HAND_DOWN + [0.1, 0.05, 0.1])
        )
        out["lh"][:, 1] += 0.1 * np.clip(side, 0, None)
        return out

    return MoveClip("hesitation", "waltz", 6, steps, ch)
