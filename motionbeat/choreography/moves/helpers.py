"""Helpers shared by the move families.

Hand and groove channels, step lists and the walking arm swing; and the turn helpers
(``_rot``, ``_step_turn``) used by the turn, jump and 3/4 families.
"""

from __future__ import annotations

import math

import numpy as np

from motionbeat.choreography.moves.body import HAND_DOWN, LEFT, RIGHT
from motionbeat.choreography.moves.clip import MoveClip, MoveParams, Step
from motionbeat.choreography.moves.shapes import pulse, ramp, wave

# ---------------------------------------------------------------------- channel helpers


def _hands(u: np.ndarray, lh: np.ndarray, rh: np.ndarray) -> dict[str, np.ndarray]:
    n = len(u)
    return {"lh": np.broadcast_to(lh, (n, 3)).copy(), "rh": np.broadcast_to(rh, (n, 3)).copy()}


def _groove(u: np.ndarray, p: MoveParams, depth: float = 0.03) -> dict[str, np.ndarray]:
    """A soft down-on-the-beat knee groove with a little chest and head answer."""
    down = pulse(u, p.k)
    return {"bounce": -depth * p.amp * down, "sp": 0.04 * p.amp * down, "hp": -0.03 * p.amp * down}


def _stepper(p: MoveParams, seq: list[tuple[int, float, float, tuple[float, float]]], lift=0.06):
    return tuple(Step(f, s, e, to, lift=lift * p.amp) for f, s, e, to in seq)


def _arm_swing(u: np.ndarray, p: MoveParams, period: float = 2.0, size: float = 0.12):
    """Walking arm swing: each hand forward while the opposite foot steps."""
    sw = wave(u, period, p.k) * size * p.amp
    lh = HAND_DOWN + np.outer(sw, [0.0, 0.3, 1.0])
    rh = HAND_DOWN + np.outer(-sw, [0.0, 0.3, 1.0])
    return {"lh": lh, "rh": rh}


# ------------------------------------------------------------------------ turn helpers


def _rot(x: float, z: float, ang: float, dz: float = 0.0) -> tuple[float, float]:
    """(x, z) rotated by ``ang`` about +y (positive turns the dancer to its left), then moved dz."""
    c, s = math.cos(ang), math.sin(ang)
    return (c * x + s * z, -s * x + c * z + dz)


def _step_turn(
    p: MoveParams,
    name: str,
    beats: int,
    turn: float,
    n_steps: int,
    arms,
    dz: float = 0.0,
    start: float = 0.0,
) -> MoveClip:
    """Turn about the body centre in ``n_steps`` alternating steps landing on the beats.

    Step i (0-based) puts its foot on its home position rotated by turn * min(i+1, n-1)/(n-1),
    so the last step closes the trailing foot; the facing follows the mean foot yaw. ``dz``
    moves the turn centre forward; ``start`` delays the turn (earlier steps are the caller's).
    """
    steps = []
    order = (RIGHT, LEFT) if turn < 0 else (LEFT, RIGHT)
    per = (beats - start) / n_steps
    yaw = [0.0, 0.0]
    facing_keys = []
    for i in range(n_steps):
        ang = turn * min(i + 1, n_steps - 1) / (n_steps - 1)
        f = order[i % 2]
        t0, t1 = start + i * per + 0.3 * per, start + (i + 1) * per
        steps.append(Step(f, t0, t1, _rot(*p.home(f), ang, dz), yaw=ang, lift=0.04))
        before = (yaw[0] + yaw[1]) / 2
        yaw[f] = ang
        facing_keys.append((t0 - 0.1 * per, t1, (yaw[0] + yaw[1]) / 2 - before))

    def ch(u):
        facing = np.zeros_like(u, dtype=np.float64)
        for t0, t1, d in facing_keys:
            facing += d * ramp(u, t0, t1, p.k)
        out = {"facing": facing, **_groove(u, p, 0.02)}
        out.update(arms(u))
        return out

    return MoveClip(name, "turn", beats, tuple(steps), ch, travel=(0.0, dz), turn=turn)
