"""The move vocabulary of the procedural choreographer.

A move is a parameterised function of *beat phase* ``u`` (beats since the move started,
a float array). It returns a :class:`MoveClip`:

* ``steps``: the foot events. Each :class:`Step` lifts one foot at beat ``start`` and plants
  it at beat ``end`` on a target toe position in the move's *start frame* (x toward the
  dancer's left, z forward, metres, origin at the dancer's anchor). Between steps a foot is
  planted and does not move, which is what makes the choreographer's feet slide-free: the
  rig solves the legs by inverse kinematics onto these fixed toe positions.
* ``channels(u)``: continuous body channels (pelvis bounce, sway, spine and head angles,
  hand targets, heel raises, ...); see :data:`LOWER_CHANNELS` and :data:`UPPER_CHANNELS`.
* ``travel`` / ``turn``: where the anchor frame ends up, so every move ends with both
  feet at their home position of the end frame and moves chain without foot sliding.

Timing: keyframes sit on the beat grid (beats and half-beats) and are joined by an easing
``ease_k(s) = s^k / (s^k + (1 - s)^k)``, so every joint decelerates into a keyframe. The
kinematic envelope then has its minima on the musical beats, which is exactly what the beat
alignment score measures (Li et al., "AI Choreographer", ICCV 2021; Siyao et al., Bailando,
CVPR 2022). ``k = 2`` is smooth (close to smoothstep), ``k = 4`` sharp (snap and hold).

Moves are authored for the dancer's left side; :meth:`MoveClip.mirrored` gives the right.
Sources for the step patterns: standard social-dance and aerobics vocabulary (step touch,
grapevine, jazz box, mambo, cha-cha, kick-ball-change, waltz box and balance).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from motionbeat.core import contract

# ----------------------------------------------------------------------------- body numbers
_LEFT_TOE_REST = (
    contract.REST_OFFSETS[contract.JOINT_INDEX["L_Hip"]]
    + contract.REST_OFFSETS[contract.JOINT_INDEX["L_Knee"]]
    + contract.REST_OFFSETS[contract.JOINT_INDEX["L_Ankle"]]
    + contract.REST_OFFSETS[contract.L_TOE]
)
TOE_Z: float = float(_LEFT_TOE_REST[2])
"""Forward offset of the toe joint from the pelvis in the rest pose (about 7.5 cm)."""
REST_TOE_HALF_WIDTH: float = float(_LEFT_TOE_REST[0])
"""Half distance between the toe joints in the rest pose (about 12.8 cm)."""
GRAVITY: float = 9.81
"""m/s^2, for physically timed jumps: apex height h = g T^2 / 8 for an airtime T."""
ARM_LEN: float = float(
    np.linalg.norm(contract.REST_OFFSETS[contract.JOINT_INDEX["L_Elbow"]])
    + np.linalg.norm(contract.REST_OFFSETS[contract.JOINT_INDEX["L_Wrist"]])
)
"""Shoulder to wrist length of the neutral SMPL arm (about 0.52 m)."""

CLOSE: float = 0.15
"""Distance between the toes when the feet are brought together, m."""

LEFT, RIGHT = 0, 1
SIDE_SIGN = (1.0, -1.0)
"""x sign of each side: the dancer's left is +x in SMPL's frame."""

LOWER_CHANNELS: tuple[str, ...] = (
    "bounce",  # pelvis height offset, m (+ up)
    "sway",  # pelvis sideways offset in the anchor frame, m (+ toward the dancer's left)
    "surge",  # pelvis forward offset, m
    "pyaw",
    "proll",
    "ppitch",  # pelvis rotation offsets, rad
    "heel_l",
    "heel_r",  # heel raise of a planted foot (pivot about the toe), rad
    "shift",  # weight shift added to the automatic support weight, -0.5 (left) .. 0.5 (right)
    "facing",  # yaw of the body frame relative to the move's start frame, rad (turns)
)
UPPER_CHANNELS: tuple[str, ...] = (
    "sp",
    "sr",
    "sy",  # spine pitch (+ forward bend), roll (+ lean to the dancer's right), yaw
    "hp",
    "hr",
    "hy",  # head pitch, roll, yaw
    "lh",
    "rh",  # (N, 3) wrist target from the shoulder, chest frame, (outward, up, forward) m
    "shrug_l",
    "shrug_r",  # collar raise, rad
)
VECTOR_CHANNELS: frozenset[str] = frozenset({"lh", "rh"})
_NEGATED_ON_MIRROR = frozenset({"sway", "pyaw", "proll", "sr", "sy", "hr", "hy", "facing", "shift"})
_SWAPPED_ON_MIRROR = {
    "heel_l": "heel_r",
    "heel_r": "heel_l",
    "lh": "rh",
    "rh": "lh",
    "shrug_l": "shrug_r",
    "shrug_r": "shrug_l",
}

# Hand targets (outward, up, forward) from the shoulder, metres. The torso midline lies at
# outward = -SHOULDER_OUT.
SHOULDER_OUT: float = 0.19
"""Distance of the shoulder joint from the body's midline (neutral SMPL, about 19 cm)."""
HAND_DOWN = np.array([0.07, -0.48, 0.08])
"""Arms hanging relaxed, elbows soft."""
HAND_HIP = np.array([0.02, -0.36, -0.02])
"""Hand resting on the hip, elbow out."""
HAND_CHEST = np.array([-0.12, -0.2, 0.3])
"""Hand in front of the chest."""
HAND_UP = np.array([0.08, 0.5, 0.06])
"""Arm raised overhead."""
HAND_SIDE = np.array([0.5, 0.0, 0.05])
"""Arm out to the side at shoulder height."""
HAND_FRONT = np.array([-0.06, -0.02, 0.5])
"""Arm reaching forward at shoulder height."""


# ------------------------------------------------------------------------------- shapes


def ease(s: np.ndarray, k: float) -> np.ndarray:
    """Symmetric easing ``s^k / (s^k + (1-s)^k)`` on [0, 1]; zero slope at both ends for k > 1."""
    s = np.clip(s, 0.0, 1.0)
    a = s**k
    return a / (a + (1.0 - s) ** k)


def keys(u: np.ndarray, pts: list[tuple[float, object]], period: float, k: float) -> np.ndarray:
    """Periodic keyframe curve: values ``pts = [(beat, value), ...]`` (first beat 0), eased.

    Returns (N,) for scalar values or (N, D) for vector values.
    """
    beats = np.array([p[0] for p in pts] + [period], dtype=np.float64)
    vals = np.array([np.asarray(p[1], dtype=np.float64) for p in pts] + [np.asarray(pts[0][1])])
    x = np.mod(np.asarray(u, dtype=np.float64), period)
    idx = np.clip(np.searchsorted(beats, x, side="right") - 1, 0, len(beats) - 2)
    s = ease((x - beats[idx]) / (beats[idx + 1] - beats[idx]), k)
    if vals.ndim > 1:
        s = s[:, None]
    return vals[idx] + (vals[idx + 1] - vals[idx]) * s


def wave(u: np.ndarray, period: float, k: float, phase: float = 0.0) -> np.ndarray:
    """Eased triangle wave in [-1, 1]: -1 at ``u = phase`` (mod period), +1 half a period later."""
    return keys(np.asarray(u) - phase, [(0.0, -1.0), (period / 2, 1.0)], period, k)


def pulse(u: np.ndarray, k: float, period: float = 1.0, width: float = 0.5) -> np.ndarray:
    """1 on the beat (u = 0 mod period), 0 ``width`` beats later, back to 1 at the next beat."""
    return keys(u, [(0.0, 1.0), (width * period, 0.0)], period, k)


def ramp(u: np.ndarray, start: float, end: float, k: float) -> np.ndarray:
    """Non-periodic eased ramp from 0 (before ``start``) to 1 (after ``end``)."""
    return ease((np.asarray(u, dtype=np.float64) - start) / (end - start), k)


# ----------------------------------------------------------------------------- the clip


@dataclass(frozen=True)
class Step:
    """One foot event of a move.

    Attributes:
        foot: LEFT or RIGHT.
        start, end: lift-off and landing, in beats from the move start (landings on the grid).
        to: landing toe position (x, z) in the move's start frame, metres.
        yaw: landing foot yaw relative to the move's start facing, rad.
        lift: apex toe height of the swing, m.
        via: optional apex point (x, y, z) in the start frame (kicks, knee lifts); the swing
            is then a quadratic Bezier curve through it.
        ballistic: a jump: parabolic height and linear horizontal travel.
    """

    foot: int
    start: float
    end: float
    to: tuple[float, float]
    yaw: float = 0.0
    lift: float = 0.06
    via: tuple[float, float, float] | None = None
    ballistic: bool = False

    def mirrored(self) -> Step:
        via = None if self.via is None else (-self.via[0], self.via[1], self.via[2])
        return replace(
            self, foot=1 - self.foot, to=(-self.to[0], self.to[1]), yaw=-self.yaw, via=via
        )

    def shifted(self, beats: float) -> Step:
        return replace(self, start=self.start + beats, end=self.end + beats)


ChannelFn = Callable[[np.ndarray], dict[str, np.ndarray]]


@dataclass(frozen=True)
class MoveClip:
    """A move instance: steps, continuous channels and the anchor's travel over ``beats``."""

    name: str
    family: str
    beats: int
    steps: tuple[Step, ...] = ()
    channels: ChannelFn = field(default=lambda u: {})
    travel: tuple[float, float] = (0.0, 0.0)
    turn: float = 0.0
    upper_only: bool = False
    mirror: bool = False

    def mirrored(self) -> MoveClip:
        """The same move led by the other side."""
        inner = self.channels

        def channels(u: np.ndarray) -> dict[str, np.ndarray]:
            out = {}
            for key, val in inner(u).items():
                key = _SWAPPED_ON_MIRROR.get(key, key)
                out[key] = -val if key in _NEGATED_ON_MIRROR else val
            return out

        return replace(
            self,
            steps=tuple(s.mirrored() for s in self.steps),
            channels=channels,
            travel=(-self.travel[0], self.travel[1]),
            turn=-self.turn,
            mirror=not self.mirror,
        )

    def with_upper(self, arms: MoveClip) -> MoveClip:
        """This move with its upper-body channels replaced by those of an arm move."""
        lower = self.channels

        def channels(u: np.ndarray) -> dict[str, np.ndarray]:
            out = {k: v for k, v in lower(u).items() if k in LOWER_CHANNELS}
            out.update({k: v for k, v in arms.channels(u).items() if k in UPPER_CHANNELS})
            return out

        return replace(self, name=f"{self.name}+{arms.name}", channels=channels)


@dataclass(frozen=True)
class MoveParams:
    """What a move instance is built from.

    Attributes:
        amp: amplitude scale, about 0.5 (subtle) to 1.5 (big); energy and style set it.
        k: easing exponent, 1.7 smooth .. 4 sharp.
        stance: half distance between the toes at home, m.
        beat_s: seconds per beat (jump airtimes follow physics through it).
        bpb: beats per bar.
        rng: random generator for small per-instance variation.
    """

    amp: float = 1.0
    k: float = 2.2
    stance: float = REST_TOE_HALF_WIDTH
    beat_s: float = 0.5
    bpb: int = 4
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def home(self, foot: int, dx: float = 0.0, dz: float = 0.0) -> tuple[float, float]:
        """Home toe position of ``foot`` in a frame displaced by (dx, dz)."""
        return (SIDE_SIGN[foot] * self.stance + dx, TOE_Z + dz)

    def jitter(self, scale: float = 0.15) -> float:
        """A factor near 1 for per-instance variety."""
        return float(1.0 + scale * self.rng.uniform(-1.0, 1.0))


@dataclass(frozen=True)
class MoveSpec:
    """A vocabulary entry: how to build the move and where the choreographer may use it.

    Attributes:
        energy: the music energy (0..1) the move suits best.
        density: foot events per beat, the onset density it suits.
        meters: beats-per-bar values it fits.
        weight: selection weight; accents (hop turns, spins) are rarer than staple steps.
    """

    name: str
    family: str
    build: Callable[[MoveParams], MoveClip]
    energy: float
    density: float
    meters: tuple[int, ...] = (4,)
    weight: float = 1.0  # how often the move is picked relative to others that fit as well


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


# ========================================================================== turn family


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


# ============================================================================ vocabulary

VOCABULARY: dict[str, MoveSpec] = {
    s.name: s
    for s in [
        # groove family: weight and body, no steps (any meter)
        MoveSpec("bounce", "groove", bounce, 0.3, 0.0, (3, 4)),
        MoveSpec("rise_bounce", "groove", rise_bounce, 0.4, 0.0, (3, 4)),
        MoveSpec("sway", "groove", sway, 0.15, 0.0, (3, 4)),
        MoveSpec("hip_sway", "groove", hip_sway, 0.3, 0.0, (3, 4)),
        MoveSpec("body_roll", "groove", body_roll, 0.45, 0.0, (4,)),
        MoveSpec("chest_pop", "groove", chest_pop, 0.6, 0.0, (4,)),
        MoveSpec("shimmy", "groove", shimmy, 0.55, 0.0, (4,)),
        MoveSpec("head_nod", "groove", head_nod, 0.3, 0.0, (3, 4)),
        MoveSpec("twist", "groove", twist, 0.55, 0.0, (4,)),
        MoveSpec("rock_fb", "groove", rock_fb, 0.35, 0.0, (4,)),
        MoveSpec("groove_down", "groove", groove_down, 0.5, 0.0, (4,)),
        MoveSpec("groove_up", "groove", groove_up, 0.5, 0.0, (4,)),
        # stepping family
        MoveSpec("step_touch", "step", step_touch, 0.35, 1.0),
        MoveSpec("double_step_touch", "step", double_step_touch, 0.4, 1.0),
        MoveSpec("march", "step", march, 0.5, 1.0),
        MoveSpec("toe_tap", "step", toe_tap, 0.4, 1.0),
        MoveSpec("side_tap", "step", side_tap, 0.45, 1.0),
        MoveSpec("rock_step", "step", rock_step, 0.45, 1.0),
        MoveSpec("mambo", "step", mambo, 0.55, 1.0),
        MoveSpec("jazz_box", "step", jazz_box, 0.45, 1.0),
        MoveSpec("v_step", "step", v_step, 0.6, 1.0),
        MoveSpec("cha_cha", "step", cha_cha, 0.6, 1.5),
        MoveSpec("heel_toe", "step", heel_toe, 0.5, 1.0),
        # travelling steps
        MoveSpec("grapevine", "travel", grapevine, 0.55, 1.0),
        MoveSpec("side_chasse", "travel", side_chasse, 0.6, 1.0),
        MoveSpec("walk_forward", "travel", walk_forward, 0.4, 1.0),
        MoveSpec("walk_back", "travel", walk_back, 0.4, 1.0),
        MoveSpec("diagonal_slide", "travel", diagonal_slide, 0.5, 1.0),
        # kicks
        MoveSpec("kick_ball_change", "kick", kick_ball_change, 0.7, 1.75, weight=0.6),
        MoveSpec("kick_front", "kick", kick_front, 0.75, 1.0),
        MoveSpec("side_kick", "kick", side_kick, 0.65, 0.5),
        MoveSpec("knee_lift", "kick", knee_lift, 0.6, 1.0),
        MoveSpec("flick_back", "kick", flick_back, 0.65, 1.0),
        # jumps
        MoveSpec("jump_in_place", "jump", jump_in_place, 0.85, 1.0, weight=0.6),
        MoveSpec("jumping_jack", "jump", jumping_jack, 0.9, 2.0, weight=0.6),
        MoveSpec("hop_turn", "turn", hop_turn, 0.8, 1.0, (3, 4), weight=0.2),
        MoveSpec("pony", "jump", pony, 0.8, 1.75, weight=0.7),
        MoveSpec("scissors", "jump", scissors, 0.9, 1.0, weight=0.5),
        MoveSpec("side_hops", "jump", side_hops, 0.8, 1.0, weight=0.6),
        MoveSpec("skip", "travel", skip, 0.75, 1.5, weight=0.7),
        # turns and floor-facing changes
        MoveSpec("spin", "turn", spin, 0.6, 1.0, weight=0.6),
        MoveSpec("half_turn", "turn", half_turn, 0.5, 0.5, weight=0.5),
        MoveSpec("quarter_turn", "turn", quarter_turn, 0.4, 1.0, weight=0.5),
        MoveSpec("pivot_turn", "turn", pivot_turn, 0.55, 1.0, weight=0.6),
        # arm overlays (combined with a lower-body move)
        MoveSpec("arm_wave", "arms", _arm_move("arm_wave", _arm_wave), 0.45, 0.0, (3, 4)),
        MoveSpec("clap", "arms", _arm_move("clap", _clap), 0.5, 0.0, (4,)),
        MoveSpec("clap_every", "arms", _arm_move("clap_every", _clap_every), 0.65, 0.0, (3, 4)),
        MoveSpec("punch", "arms", _arm_move("punch", _punch), 0.75, 0.0, (4,)),
        MoveSpec("raise_roof", "arms", _arm_move("raise_roof", _raise_roof), 0.8, 0.0, (3, 4)),
        MoveSpec("disco_point", "arms", _arm_move("disco_point", _disco_point), 0.6, 0.0, (4,)),
        MoveSpec("big_swing", "arms", _arm_move("big_swing", _big_swing), 0.55, 0.0, (4,)),
        MoveSpec("windmill", "arms", _arm_move("windmill", _windmill), 0.7, 0.0, (4,), weight=0.6),
        MoveSpec(
            "overhead_sway", "arms", _arm_move("overhead_sway", _overhead_sway), 0.6, 0.0, (4,)
        ),
        MoveSpec(
            "hands_on_hips", "arms", _arm_move("hands_on_hips", _hands_on_hips), 0.3, 0.0, (3, 4)
        ),
        MoveSpec(
            "shoulder_roll", "arms", _arm_move("shoulder_roll", _shoulder_roll), 0.35, 0.0, (4,)
        ),
        MoveSpec("wave_hello", "arms", _arm_move("wave_hello", _wave_hello), 0.3, 0.0, (3, 4)),
        MoveSpec("arms_cross", "arms", _arm_move("arms_cross", _arms_cross), 0.6, 0.0, (4,)),
        # 3/4
        MoveSpec("waltz_box", "waltz", waltz_box, 0.4, 1.0, (3,)),
        MoveSpec("balance", "waltz", balance, 0.45, 1.0, (3,)),
        MoveSpec("waltz_sway", "waltz", waltz_sway, 0.25, 0.0, (3,)),
        MoveSpec("waltz_turn", "waltz", waltz_turn, 0.5, 0.5, (3,)),
        MoveSpec("hesitation", "waltz", hesitation, 0.3, 0.5, (3,)),
    ]
}
"""Every move by name. Families: groove, step, travel, kick, jump, turn, arms, waltz."""

FAMILIES: tuple[str, ...] = ("groove", "step", "travel", "kick", "jump", "turn", "arms", "waltz")


def build_move(name: str, params: MoveParams, mirror: bool = False) -> MoveClip:
    """Instantiate a vocabulary move; ``mirror`` leads with the other side."""
    clip = VOCABULARY[name].build(params)
    return clip.mirrored() if mirror else clip
