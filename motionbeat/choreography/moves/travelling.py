"""The travelling family: steps that move the dancer across the floor.

Grapevine, side chasse, walks forward and back, diagonal slide.
"""

from __future__ import annotations

import numpy as np

from motionbeat.choreography.moves.body import CLOSE, HAND_CHEST, HAND_DOWN, HAND_SIDE, LEFT, RIGHT
from motionbeat.choreography.moves.clip import MoveClip, MoveParams, Step
from motionbeat.choreography.moves.helpers import _arm_swing, _groove, _hands, _stepper
from motionbeat.choreography.moves.shapes import keys, pulse, wave

# ======================================================================= travelling family


def grapevine(p: MoveParams) -> MoveClip:
    w = 0.26 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (RIGHT, 0.3, 1.0, (hr[0] - w, hr[1])),
            (LEFT, 1.3, 2.0, (hr[0] - w + 0.02, hr[1] - 0.15)),
            (RIGHT, 2.3, 3.0, (hr[0] - 2 * w, hr[1])),
            (LEFT, 3.3, 4.0, (hl[0] - 2 * w, hl[1])),
        ],
    )

    def ch(u):
        out = _groove(u, p, 0.03)
        out["sy"] = 0.12 * p.amp * keys(u, [(0, 0.0), (2.0, 1.0)], 4.0, p.k)
        out.update(_arm_swing(u, p, 2.0, 0.1))
        clap = pulse(u - 3.0, 3.0, period=4.0, width=0.4)
        out["lh"] += np.outer(clap, HAND_CHEST - HAND_DOWN + [0.16, 0, 0])
        out["rh"] += np.outer(clap, HAND_CHEST - HAND_DOWN + [0.16, 0, 0])
        return out

    return MoveClip("grapevine", "travel", 4, steps, ch, travel=(-2 * w, 0.0))


def side_chasse(p: MoveParams) -> MoveClip:
    w = 0.25 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = (
        Step(RIGHT, 0.3, 1.0, (hr[0] - w, hr[1]), lift=0.05),
        Step(LEFT, 1.1, 1.5, (hr[0] - w + CLOSE, hl[1]), lift=0.04),
        Step(RIGHT, 1.55, 2.0, (hr[0] - 2 * w, hr[1]), lift=0.05),
        Step(LEFT, 2.3, 3.0, (hl[0] - 2 * w, hl[1]), lift=0.05),
    )

    def ch(u):
        out = _groove(u, p, 0.03)
        out.update(
            _hands(
                u,
                HAND_SIDE * [0.9, 1, 1] + [0, -0.1, 0.1],
                HAND_SIDE * [0.9, 1, 1] + [0, -0.1, 0.1],
            )
        )
        out["lh"][:, 1] += 0.05 * wave(u, 1.0, p.k)
        out["rh"][:, 1] += 0.05 * wave(u, 1.0, p.k)
        return out

    return MoveClip("side_chasse", "travel", 4, steps, ch, travel=(-2 * w, 0.0))


def _walk(p: MoveParams, direction: float, name: str) -> MoveClip:
    d = 0.28 * p.amp * direction
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = _stepper(
        p,
        [
            (LEFT, 0.3, 1.0, (hl[0], hl[1] + d)),
            (RIGHT, 1.3, 2.0, (hr[0], hr[1] + 2 * d)),
            (LEFT, 2.3, 3.0, (hl[0], hl[1] + 3 * d)),
            (RIGHT, 3.3, 4.0, (hr[0], hr[1] + 3 * d)),
        ],
        lift=0.07,
    )

    def ch(u):
        out = _groove(u, p, 0.025)
        out["pyaw"] = 0.08 * p.amp * wave(u, 2.0, p.k, 1.0)
        out.update(_arm_swing(u + 1.0, p, 2.0, 0.16))
        return out

    return MoveClip(name, "travel", 4, steps, ch, travel=(0.0, 3 * d))


def walk_forward(p: MoveParams) -> MoveClip:
    return _walk(p, 1.0, "walk_forward")


def walk_back(p: MoveParams) -> MoveClip:
    return _walk(p, -0.8, "walk_back")


def diagonal_slide(p: MoveParams) -> MoveClip:
    """Step out on the diagonal and drag the other foot in (a 'slide'), twice."""
    d = 0.3 * p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    dx, dz = -d * 0.8, d * 0.6
    steps = _stepper(
        p,
        [
            (RIGHT, 0.3, 1.0, (hr[0] + dx, hr[1] + dz)),
            (LEFT, 1.2, 2.0, (hl[0] + dx, hl[1] + dz)),
            (RIGHT, 2.3, 3.0, (hr[0] + 2 * dx, hr[1] + 2 * dz)),
            (LEFT, 3.2, 4.0, (hl[0] + 2 * dx, hl[1] + 2 * dz)),
        ],
        lift=0.03,
    )

    def ch(u):
        out = _groove(u, p, 0.04)
        out["sr"] = -0.08 * p.amp * pulse(u, p.k, 2.0)
        out.update(_hands(u, HAND_DOWN + [0.15, 0.15, 0.1], HAND_DOWN + [0.15, 0.15, 0.1]))
        return out

    return MoveClip("diagonal_slide", "travel", 4, steps, ch, travel=(2 * dx, 2 * dz))
