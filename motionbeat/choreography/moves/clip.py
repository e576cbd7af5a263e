"""The clip types of a move.

A foot event (:class:`Step`), a built move (:class:`MoveClip`), what a move is built from
(:class:`MoveParams`) and a vocabulary entry (:class:`MoveSpec`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from motionbeat.choreography.moves.body import (
    _NEGATED_ON_MIRROR,
    _SWAPPED_ON_MIRROR,
    LOWER_CHANNELS,
    REST_TOE_HALF_WIDTH,
    SIDE_SIGN,
    TOE_Z,
    UPPER_CHANNELS,
)

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
