"""The groove family: weight and body moves with no steps (bounce, sway, body roll, ...)."""

from __future__ import annotations

import numpy as np

from motionbeat.choreography.moves.body import HAND_CHEST, HAND_DOWN, HAND_HIP
from motionbeat.choreography.moves.clip import MoveClip, MoveParams
from motionbeat.choreography.moves.helpers import _arm_swing, _groove, _hands
from motionbeat.choreography.moves.shapes import keys, pulse, wave

# ================================================================== groove family (no steps)


def bounce(p: MoveParams) -> MoveClip:
    def ch(u):
        out = _groove(u, p, 0.04)
        out.update(_hands(u, HAND_DOWN + [0.0, 0.03, 0.05], HAND_DOWN + [0.0, 0.03, 0.05]))
        out["lh"][:, 1] += 0.03 * p.amp * pulse(u, p.k)
        out["rh"][:, 1] += 0.03 * p.amp * pulse(u, p.k)
        return out

    return MoveClip("bounce", "groove", 2 * p.bpb, channels=ch)


def rise_bounce(p: MoveParams) -> MoveClip:
    def ch(u):
        up = pulse(u, p.k)
        return {
            "bounce": 0.025 * p.amp * up,
            "heel_l": 0.25 * p.amp * up,
            "heel_r": 0.25 * p.amp * up,
            "sp": -0.03 * p.amp * up,
            **_hands(u, HAND_DOWN, HAND_DOWN),
        }

    return MoveClip("rise_bounce", "groove", 2 * p.bpb, channels=ch)


def sway(p: MoveParams) -> MoveClip:
    def ch(u):
        w = wave(u, 2.0, p.k)
        hands = _hands(u, HAND_DOWN + [0.05, 0.05, 0.05], HAND_DOWN + [0.05, 0.05, 0.05])
        hands["lh"][:, 0] += 0.06 * p.amp * w
        hands["rh"][:, 0] -= 0.06 * p.amp * w
        return {
            "shift": 0.45 * w,
            "proll": 0.05 * p.amp * w,
            "sr": -0.06 * p.amp * w,
            "hr": 0.03 * p.amp * w,
            "bounce": -0.02 * p.amp * pulse(u, p.k),
            **hands,
        }

    return MoveClip("sway", "groove", 2 * p.bpb, channels=ch)


def hip_sway(p: MoveParams) -> MoveClip:
    def ch(u):
        w = wave(u, 2.0, p.k)
        return {
            "sway": 0.05 * p.amp * w,
            "shift": 0.3 * w,
            "proll": 0.1 * p.amp * w,
            "sr": -0.12 * p.amp * w,
            "hr": 0.05 * p.amp * w,
            "bounce": -0.02 * p.amp * pulse(u, p.k),
            **_hands(u, HAND_HIP, HAND_HIP),
        }

    return MoveClip("hip_sway", "groove", 2 * p.bpb, channels=ch)


def body_roll(p: MoveParams) -> MoveClip:
    def ch(u):
        chest = keys(u, [(0, 0.0), (0.5, 0.22), (1.0, 0.05), (1.5, -0.12)], 2.0, p.k)
        hips = keys(u, [(0, 0.0), (0.5, -0.04), (1.0, 0.05), (1.5, 0.02)], 2.0, p.k)
        return {
            "sp": p.amp * chest,
            "ppitch": p.amp * 0.6 * hips,
            "surge": 0.6 * p.amp * hips,
            "bounce": -0.04 * p.amp * keys(u, [(0, 0.0), (1.0, 1.0)], 2.0, p.k),
            "hp": -0.6 * p.amp * chest,
            **_hands(u, HAND_DOWN + [0.05, 0.05, 0.1], HAND_DOWN + [0.05, 0.05, 0.1]),
        }

    return MoveClip("body_roll", "groove", 2 * p.bpb, channels=ch)


def chest_pop(p: MoveParams) -> MoveClip:
    k = max(p.k, 3.5)

    def ch(u):
        pop = pulse(u, k, width=0.3)
        hands = _hands(u, HAND_DOWN + [0.08, 0.08, -0.05], HAND_DOWN + [0.08, 0.08, -0.05])
        hands["lh"][:, 2] -= 0.05 * p.amp * pop
        hands["rh"][:, 2] -= 0.05 * p.amp * pop
        return {
            "sp": -0.12 * p.amp * pop,
            "surge": 0.02 * p.amp * pop,
            "hp": 0.08 * p.amp * pop,
            "bounce": -0.015 * p.amp * pop,
            **hands,
        }

    return MoveClip("chest_pop", "groove", 2 * p.bpb, channels=ch)


def shimmy(p: MoveParams) -> MoveClip:
    def ch(u):
        w = wave(u, 1.0, p.k)
        hands = _hands(u, HAND_CHEST + [0.15, -0.1, -0.05], HAND_CHEST + [0.15, -0.1, -0.05])
        hands["lh"][:, 2] += 0.06 * p.amp * w
        hands["rh"][:, 2] -= 0.06 * p.amp * w
        return {
            "sy": 0.15 * p.amp * w,
            "shrug_l": 0.1 * p.amp * (w > 0) * w,
            "shrug_r": -0.1 * p.amp * (w < 0) * w,
            "bounce": -0.03 * p.amp * pulse(u, p.k),
            "sp": np.full(len(u), 0.1),
            **hands,
        }

    return MoveClip("shimmy", "groove", 2 * p.bpb, channels=ch)


def head_nod(p: MoveParams) -> MoveClip:
    def ch(u):
        down = pulse(u, p.k)
        return {
            "hp": 0.18 * p.amp * down,
            "bounce": -0.03 * p.amp * down,
            "sp": 0.06 * p.amp * down,
            **_hands(u, HAND_DOWN + [0.05, 0.1, 0.12], HAND_DOWN + [0.05, 0.1, 0.12]),
        }

    return MoveClip("head_nod", "groove", 2 * p.bpb, channels=ch)


def twist(p: MoveParams) -> MoveClip:
    def ch(u):
        w = wave(u, 2.0, p.k)
        hands = _hands(u, HAND_CHEST + [0.22, -0.08, -0.08], HAND_CHEST + [0.22, -0.08, -0.08])
        hands["lh"][:, 2] += 0.08 * p.amp * w
        hands["rh"][:, 2] -= 0.08 * p.amp * w
        return {
            "pyaw": 0.35 * p.amp * w,
            "sy": -0.4 * p.amp * w,
            "hy": -0.1 * p.amp * w,
            "heel_l": 0.2 * (w > 0) * w,
            "heel_r": -0.2 * (w < 0) * w,
            "bounce": -0.04 * p.amp * pulse(u, p.k),
            **hands,
        }

    return MoveClip("twist", "groove", 2 * p.bpb, channels=ch)


def rock_fb(p: MoveParams) -> MoveClip:
    def ch(u):
        w = wave(u, 2.0, p.k)
        fwd = np.clip(w, 0, None)
        return {
            "surge": 0.04 * p.amp * w,
            "sp": 0.08 * p.amp * w,
            "heel_l": 0.3 * fwd,
            "heel_r": 0.3 * fwd,
            "hp": -0.05 * p.amp * w,
            **_arm_swing(u, p, 2.0, 0.08),
        }

    return MoveClip("rock_fb", "groove", 2 * p.bpb, channels=ch)


def groove_down(p: MoveParams) -> MoveClip:
    def ch(u):
        down = pulse(u, p.k, width=0.5)
        hands = _hands(u, HAND_DOWN + [0.1, 0.12, 0.12], HAND_DOWN + [0.1, 0.12, 0.12])
        for key in ("lh", "rh"):
            hands[key][:, 1] -= 0.06 * p.amp * down
        return {
            "bounce": -0.06 * p.amp * down,
            "sp": 0.16 * p.amp * down,
            "hp": -0.08 * p.amp * down,
            "ppitch": 0.05 * p.amp * down,
            **hands,
        }

    return MoveClip("groove_down", "groove", 2 * p.bpb, channels=ch)


def groove_up(p: MoveParams) -> MoveClip:
    def ch(u):
        up = pulse(u, p.k, width=0.5)
        return {
            "bounce": -0.04 * p.amp * (1 - up),
            "sp": -0.08 * p.amp * up,
            "hp": 0.1 * p.amp * up,
            "heel_l": 0.15 * up,
            "heel_r": 0.15 * up,
            **_arm_swing(u, p, 2.0, 0.06),
        }

    return MoveClip("groove_up", "groove", 2 * p.bpb, channels=ch)
