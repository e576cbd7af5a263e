"""Dance genres: what kind of dancing a kind of music calls for.

Real dancers do not pick moves at random given the beat: a cha-cha calls for mambo and cha-cha
steps, funk for chest pops and hits, a ballad for sways and arm waves, rock for bounces, head
nods and jumps. AIST++ is built the same way: each of its ten music genres is danced in the
matching dance genre (Li et al., ICCV 2021). The choreographer therefore chooses a
:class:`DanceGenre` for each song (:func:`genre_for_song`) and lets it

* re-weight the move vocabulary (family and move multipliers on the selection weights of
  :mod:`motionbeat.choreography.choreographer`), and
* set the priors of the dancers' styles (sharpness, amplitude, arm activity, travel, timing
  feel) and how they answer the music's accents (:attr:`DanceGenre.hits`: which body part hits
  an accent and how often).

The multipliers below are our choice (there is no published table): a preferred move gets 2-4x
the weight, a move foreign to the genre 0.1-0.5x, so every genre keeps some variety.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HIT_KINDS: tuple[str, ...] = ("head", "chest", "shoulders", "arms", "dip")
"""Ways to answer an accent: a head nod, a chest pop, a shoulder shrug, a downward arm hit, a
knee dip (see ``choreographer.HIT_CHANNELS``)."""


@dataclass(frozen=True)
class DanceGenre:
    """One dance genre.

    Attributes:
        name: the genre (the mma groove families of ``motionbeat.music.groove_families.GROOVE_FAMILY_RULES``).
        families: selection-weight multiplier per move family (1 when absent).
        moves: selection-weight multiplier per move name (1 when absent), on top of ``families``.
        sharpness, amplitude, arm_activity, travel: uniform ranges of the dancer's style.
        feel: added to the dancer's timing offset, s (+ laid back).
        hits: hit kinds the genre's dancers use, one drawn per dancer.
        hit_rate: (low, high) share of the song's accents a dancer hits.
    """

    name: str
    families: dict[str, float] = field(default_factory=dict)
    moves: dict[str, float] = field(default_factory=dict)
    sharpness: tuple[float, float] = (1.8, 4.0)
    amplitude: tuple[float, float] = (0.75, 1.3)
    arm_activity: tuple[float, float] = (0.25, 0.85)
    travel: tuple[float, float] = (0.1, 0.9)
    feel: float = 0.0
    hits: tuple[str, ...] = HIT_KINDS
    hit_rate: tuple[float, float] = (0.4, 0.8)

    def weight(self, family: str, move: str) -> float:
        """Selection-weight multiplier of ``move`` (of ``family``)."""
        return self.families.get(family, 1.0) * self.moves.get(move, 1.0)


GENRES: dict[str, DanceGenre] = {
    g.name: g
    for g in (
        DanceGenre(
            "rock_pop",
            families={"jump": 2.5, "groove": 1.2, "step": 0.8, "travel": 0.6, "turn": 0.7},
            moves={"bounce": 3, "head_nod": 3, "rise_bounce": 2, "march": 2, "jump_in_place": 2,
                   "side_hops": 2, "raise_roof": 3, "punch": 3, "clap_every": 2,
                   "hip_sway": 0.3, "body_roll": 0.3, "mambo": 0.2, "cha_cha": 0.2},
            sharpness=(2.6, 4.0), amplitude=(0.95, 1.35), arm_activity=(0.5, 0.9),
            hits=("head", "arms", "dip"), hit_rate=(0.6, 0.9),
        ),
        DanceGenre(
            "funk_soul",
            families={"groove": 1.5, "step": 1.2, "kick": 0.8, "jump": 0.3},
            moves={"chest_pop": 4, "body_roll": 3, "groove_down": 3, "groove_up": 3, "twist": 2,
                   "rock_step": 2, "side_tap": 2, "shoulder_roll": 3, "disco_point": 3,
                   "punch": 2, "bounce": 0.5, "sway": 0.3},
            sharpness=(2.8, 4.0), amplitude=(0.85, 1.25), arm_activity=(0.5, 0.9),
            hits=("chest", "shoulders", "arms"), hit_rate=(0.7, 0.95),
        ),
        DanceGenre(
            "latin",
            families={"step": 2.0, "groove": 1.2, "travel": 1.0, "kick": 0.4, "jump": 0.1},
            moves={"mambo": 4, "cha_cha": 4, "rock_step": 3, "hip_sway": 4, "shimmy": 3,
                   "side_chasse": 2, "twist": 2, "big_swing": 2, "shoulder_roll": 2,
                   "hands_on_hips": 2, "bounce": 0.3, "march": 0.3, "head_nod": 0.3},
            sharpness=(1.8, 2.6), amplitude=(0.8, 1.15), travel=(0.3, 0.9),
            hits=("shoulders", "chest"), hit_rate=(0.3, 0.6),
        ),
        DanceGenre(
            "jazz_swing",
            families={"kick": 2.5, "step": 1.2, "turn": 1.5, "jump": 0.5},
            moves={"kick_ball_change": 4, "jazz_box": 4, "flick_back": 3, "kick_front": 2,
                   "spin": 2, "pivot_turn": 2, "skip": 2, "bounce": 1.5, "disco_point": 2,
                   "clap": 3, "big_swing": 2},
            sharpness=(2.2, 3.2), feel=0.02, hits=("arms", "head"), hit_rate=(0.4, 0.7),
        ),
        DanceGenre(
            "blues",
            families={"groove": 2.0, "kick": 0.4, "jump": 0.05, "travel": 0.5},
            moves={"rock_fb": 4, "groove_down": 3, "body_roll": 2, "hip_sway": 2, "head_nod": 2,
                   "step_touch": 3, "shoulder_roll": 3, "clap": 2},
            sharpness=(1.8, 2.4), amplitude=(0.75, 1.05), feel=0.03,
            hits=("head", "shoulders"), hit_rate=(0.3, 0.6),
        ),
        DanceGenre(
            "country",
            families={"step": 2.0, "travel": 2.0, "kick": 1.5, "jump": 0.3},
            moves={"heel_toe": 4, "grapevine": 4, "side_tap": 3, "toe_tap": 3, "kick_front": 2,
                   "walk_forward": 2, "walk_back": 2, "hands_on_hips": 4, "clap": 3,
                   "wave_hello": 2},
            sharpness=(2.0, 3.0), travel=(0.5, 0.9), hits=("arms", "dip"), hit_rate=(0.3, 0.6),
        ),
        DanceGenre(
            "folk_march",
            families={"step": 2.0, "jump": 1.5, "travel": 1.5},
            moves={"march": 4, "skip": 3, "knee_lift": 3, "pony": 3, "side_hops": 2,
                   "clap_every": 4, "hands_on_hips": 2},
            sharpness=(2.4, 3.6), hits=("arms", "dip"), hit_rate=(0.4, 0.7),
        ),
        DanceGenre(
            "ballad",
            families={"groove": 3.0, "step": 0.6, "travel": 0.6, "turn": 0.5, "kick": 0.1,
                      "jump": 0.02},
            moves={"sway": 4, "hip_sway": 3, "body_roll": 2, "step_touch": 2, "arm_wave": 4,
                   "overhead_sway": 3, "punch": 0.1, "raise_roof": 0.1},
            sharpness=(1.6, 2.1), amplitude=(0.7, 1.0), arm_activity=(0.4, 0.9),
            travel=(0.1, 0.5), hits=("head", "chest"), hit_rate=(0.1, 0.3),
        ),
        DanceGenre(
            "waltz",
            families={"waltz": 3.0, "jump": 0.02},
            moves={"arm_wave": 3, "overhead_sway": 2, "big_swing": 2, "punch": 0.1},
            sharpness=(1.6, 2.2), amplitude=(0.75, 1.1), hits=("head", "chest"),
            hit_rate=(0.1, 0.3),
        ),
    )
}
DEFAULT_GENRE: str = "rock_pop"


def get_genre(name: str) -> DanceGenre:
    """The genre called ``name``; a ValueError naming the choices when there is none."""
    if name not in GENRES:
        raise ValueError(f"unknown dance genre {name!r}; choose from {sorted(GENRES)}")
    return GENRES[name]

SLOW_BPM: float = 92.0
"""Below this tempo, unlabelled music is danced as a ballad (quiet) or blues (loud)."""
QUIET_ENERGY: float = 0.45
"""Mean per-beat energy (``SongInfo.energy``) below which slow music counts as quiet."""
BUSY_DENSITY: float = 1.6
"""Onsets per beat above which mid-tempo unlabelled music is danced as funk."""
FAST_BPM: float = 135.0
"""At or above this tempo, busy unlabelled music is danced as rock rather than funk."""


def genre_for_song(
    groove_family: str, tempo_bpm: float, beats_per_bar: int, energy: float, density: float
) -> str:
    """The dance genre for a song.

    A known groove family (mma songs) is danced in its own genre. Music without a label
    (recorded songs, a user's upload) is judged as a dancer would by ear: 3/4 -> waltz; slower
    than SLOW_BPM -> ballad when quiet, blues when not; busy mid-tempo music -> funk; the rest
    -> rock / pop.

    Args:
        groove_family: ``motionbeat.music.groove_families.groove_family`` of the song's style, ``""`` if none.
        tempo_bpm: the tempo.
        beats_per_bar: the meter.
        energy: mean per-beat energy in [0, 1].
        density: mean onsets per beat.
    """
    if groove_family in GENRES:
        return groove_family
    if beats_per_bar == 3:
        return "waltz"
    if tempo_bpm < SLOW_BPM:
        return "ballad" if energy < QUIET_ENERGY else "blues"
    if density >= BUSY_DENSITY and tempo_bpm < FAST_BPM:
        return "funk_soul"
    return DEFAULT_GENRE
