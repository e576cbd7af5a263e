"""The turn family: spin, half and quarter turns and the pivot turn."""

from __future__ import annotations

import math
from dataclasses import replace

from motionbeat.choreography.moves.body import HAND_CHEST, LEFT, RIGHT
from motionbeat.choreography.moves.clip import MoveClip, MoveParams, Step
from motionbeat.choreography.moves.helpers import _arm_swing, _hands, _step_turn

# ========================================================================== turn family


def spin(p: MoveParams) -> MoveClip:
    return _step_turn(
        p,
        "spin",
        4,
        2 * math.pi,
        4,
        lambda u: _hands(u, HAND_CHEST + [0.2, 0.05, -0.05], HAND_CHEST + [0.2, 0.05, -0.05]),
    )


def half_turn(p: MoveParams) -> MoveClip:
    return _step_turn(p, "half_turn", 4, math.pi, 4, lambda u: _arm_swing(u, p, 2.0, 0.1))


def quarter_turn(p: MoveParams) -> MoveClip:
    return _step_turn(p, "quarter_turn", 2, math.pi / 2, 2, lambda u: _arm_swing(u, p, 2.0, 0.08))


def pivot_turn(p: MoveParams) -> MoveClip:
    """Walk forward two steps, then turn half round on the spot in two steps: faces back after."""
    hl, hr = p.home(LEFT), p.home(RIGHT)
    d = 0.22 * p.amp
    clip = _step_turn(
        p, "pivot_turn", 4, math.pi, 2, lambda u: _arm_swing(u, p, 2.0, 0.1), dz=d, start=2.0
    )
    walk = (
        Step(RIGHT, 0.3, 1.0, (hr[0], hr[1] + d), lift=0.05),
        Step(LEFT, 1.3, 2.0, (hl[0], hl[1] + d), lift=0.05),
    )
    return replace(clip, steps=walk + clip.steps)
