"""The kick family: front and side kicks, knee lifts and back flicks."""

from __future__ import annotations

import numpy as np

from motionbeat.choreography.moves.body import HAND_CHEST, HAND_HIP, LEFT, RIGHT
from motionbeat.choreography.moves.clip import MoveClip, MoveParams, Step
from motionbeat.choreography.moves.helpers import _arm_swing, _groove, _hands
from motionbeat.choreography.moves.shapes import keys

# ========================================================================== kick family


def kick_front(p: MoveParams) -> MoveClip:
    a = p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = (
        Step(RIGHT, 0.15, 1.0, hr, via=(hr[0], 0.3 * a, 0.5 * a)),
        Step(LEFT, 1.15, 2.0, hl, via=(hl[0], 0.3 * a, 0.5 * a)),
        Step(RIGHT, 2.15, 3.0, hr, via=(hr[0], 0.3 * a, 0.5 * a)),
        Step(LEFT, 3.15, 4.0, hl, via=(hl[0], 0.3 * a, 0.5 * a)),
    )

    def ch(u):
        kick = keys(u, [(0, 0.0), (0.55, 1.0), (1.0, 0.0)], 1.0, p.k)
        out = _groove(u, p, 0.03)
        out["sp"] = out["sp"] - 0.12 * a * kick
        out["heel_l"] = 0.15 * kick
        out["heel_r"] = 0.15 * kick
        out.update(_arm_swing(u, p, 2.0, 0.16))
        return out

    return MoveClip("kick_front", "kick", 4, steps, ch)


def side_kick(p: MoveParams) -> MoveClip:
    a = p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = (
        Step(RIGHT, 0.2, 1.0, hr, via=(hr[0] - 0.4 * a, 0.25 * a, 0.05)),
        Step(LEFT, 2.2, 3.0, hl, via=(hl[0] + 0.4 * a, 0.25 * a, 0.05)),
    )

    def ch(u):
        kr = keys(u, [(0, 0.0), (0.6, 1.0), (1.0, 0.0)], 2.0, p.k)
        side = np.where(np.mod(u, 4.0) < 2.0, 1.0, -1.0)
        out = _groove(u, p, 0.03)
        out["sr"] = -0.15 * a * kr * side
        out["shift"] = -0.4 * side * keys(u, [(0, 0.0), (0.3, 1.0), (1.4, 1.0)], 2.0, p.k)
        out.update(_hands(u, HAND_HIP, HAND_HIP))
        return out

    return MoveClip("side_kick", "kick", 4, steps, ch)


def knee_lift(p: MoveParams) -> MoveClip:
    a = p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = (
        Step(LEFT, 0.2, 1.0, hl, via=(hl[0] - 0.03, 0.35 * a, 0.22)),
        Step(RIGHT, 1.2, 2.0, hr, via=(hr[0] + 0.03, 0.35 * a, 0.22)),
        Step(LEFT, 2.2, 3.0, hl, via=(hl[0] - 0.03, 0.35 * a, 0.22)),
        Step(RIGHT, 3.2, 4.0, hr, via=(hr[0] + 0.03, 0.35 * a, 0.22)),
    )

    def ch(u):
        out = _groove(u, p, 0.03)
        lift = keys(u, [(0, 0.0), (0.6, 1.0), (1.0, 0.0)], 1.0, p.k)
        out["sp"] = out["sp"] + 0.12 * a * lift
        side = np.where(np.mod(u, 2.0) < 1.0, 1.0, -1.0)
        out["sy"] = 0.25 * a * lift * side
        elbow = HAND_CHEST + [0.1, -0.05, -0.1]
        out.update(_hands(u, elbow, elbow))
        out["lh"][:, 1] -= 0.1 * lift * (side < 0)
        out["rh"][:, 1] -= 0.1 * lift * (side > 0)
        return out

    return MoveClip("knee_lift", "kick", 4, steps, ch)


def flick_back(p: MoveParams) -> MoveClip:
    a = p.amp
    hl, hr = p.home(LEFT), p.home(RIGHT)
    steps = (
        Step(LEFT, 0.25, 1.0, hl, via=(hl[0], 0.3 * a, -0.3 * a)),
        Step(RIGHT, 1.25, 2.0, hr, via=(hr[0], 0.3 * a, -0.3 * a)),
        Step(LEFT, 2.25, 3.0, hl, via=(hl[0], 0.3 * a, -0.3 * a)),
        Step(RIGHT, 3.25, 4.0, hr, via=(hr[0], 0.3 * a, -0.3 * a)),
    )

    def ch(u):
        out = _groove(u, p, 0.04)
        out["sp"] = out["sp"] + 0.1 * a * keys(u, [(0, 0.0), (0.6, 1.0)], 1.0, p.k)
        out.update(_arm_swing(u + 1.0, p, 2.0, 0.2))
        return out

    return MoveClip("flick_back", "kick", 4, steps, ch)
