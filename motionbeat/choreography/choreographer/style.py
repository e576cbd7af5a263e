"""The dancer: who is dancing (:class:`DancerStyle`), drawn per dance from the genre's priors."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from motionbeat.choreography import dance_genres as dg
from motionbeat.choreography import moves as mv

CONTOUR_RANGE: tuple[float, float] = (0.4, 1.0)
"""Range of ``DancerStyle.contour`` a sampled dancer draws from: every dancer shows the
melody somewhat (dance teachers call it "musicality"), some only faintly."""


@dataclass(frozen=True)
class DancerStyle:
    """Who is dancing: one draw of :meth:`sample` per dance.

    Attributes:
        amplitude: overall size of the moves (0.7 subtle .. 1.35 big).
        sharpness: easing exponent k of the moves (1.8 smooth .. 4 sharp, "hits").
        crouch: knee bend of the base posture, m the pelvis sits below standing height.
        lean: forward lean of the spine, rad.
        stance: half distance between the toes at home, m.
        feel: timing offset, s (+ behind the beat, laid back; - ahead, pushing).
        jitter: std of the per-beat timing noise, s (human imprecision).
        lead_right: probability that a phrase starts on the right side.
        arm_activity: probability of layering an arm move on a stepping move.
        travel: liking for travelling steps and turns (0 .. 1).
        blend: cross-fade between moves, beats.
        noise: size of the slow postural drift, rad.
        repeat: probability that a phrase is repeated mirrored.
        hit_rate: share of the music's accents the dancer hits (:func:`accent_hits`).
        hit_kind: how an accent is hit, one of ``dance_genres.HIT_KINDS``.
        contour: how much the dancer shows the melodic contour (0 .. 1,
            :func:`contour_follow`).
    """

    amplitude: float = 1.0
    sharpness: float = 2.4
    crouch: float = 0.035
    lean: float = 0.05
    stance: float = mv.REST_TOE_HALF_WIDTH
    feel: float = 0.0
    jitter: float = 0.012
    lead_right: float = 0.5
    arm_activity: float = 0.5
    travel: float = 0.5
    blend: float = 0.5
    noise: float = 0.03
    repeat: float = 0.5
    hit_rate: float = 0.0
    hit_kind: str = "head"
    contour: float = 0.0

    @classmethod
    def sample(cls, rng: np.random.Generator, genre: str | None = None) -> DancerStyle:
        """A random dancer of ``genre`` (a ``dance_genres.GENRES`` key; any genre when None).

        Amplitude, sharpness, arm activity, travel, feel and the hits follow the genre's
        priors; the other ranges are the attributes' documented ranges.
        """
        g = dg.get_genre(genre) if genre is not None else dg.DanceGenre("any")
        return cls(
            amplitude=float(rng.uniform(*g.amplitude)),
            sharpness=float(rng.uniform(*g.sharpness)),
            crouch=float(rng.uniform(0.015, 0.07)),
            lean=float(rng.uniform(-0.02, 0.14)),
            stance=float(rng.uniform(0.09, 0.17)),
            feel=g.feel + float(rng.normal(0.0, 0.015)),
            jitter=float(rng.uniform(0.005, 0.022)),
            lead_right=float(rng.uniform(0.3, 0.7)),
            arm_activity=float(rng.uniform(*g.arm_activity)),
            travel=float(rng.uniform(*g.travel)),
            blend=float(rng.uniform(0.35, 0.8)),
            noise=float(rng.uniform(0.015, 0.05)),
            repeat=float(rng.uniform(0.3, 0.7)),
            hit_rate=float(rng.uniform(*g.hit_rate)),
            hit_kind=str(g.hits[int(rng.integers(len(g.hits)))]),
            contour=float(rng.uniform(*CONTOUR_RANGE)),
        )

    def to_dict(self) -> dict[str, float | str]:
        return {k: v if isinstance(v, str) else round(float(v), 4) for k, v in asdict(self).items()}

