"""The procedural choreographer: a song in, a slide-free SMPL dance on its beats out.

``choreograph(song)`` is the project's rule-based baseline and the engine of the synthetic
corpus (``motionbeat.choreography.build``). It works in four stages:

1. **Listen** (:func:`analyse_song`): beats, downbeats and meter from ``motionbeat.audio``
   (or exact ones the caller knows, as for synthesized songs), per-beat energy (loudness of
   the log-mel frames) and onset density, sections (given, or found where the bar-level
   spectrum changes), the accents (loud beats and half-beats), the melodic contour (how
   high the music sounds, frame by frame) and the dance genre
   (:mod:`motionbeat.choreography.dance_genres`: the groove family when known, else judged by ear).
2. **Plan** (:func:`plan_dance`): phrases of two bars; each section picks a primary move family
   and a small palette of moves from :mod:`motionbeat.choreography.moves` whose energy and step density
   fit the music, weighted by the genre; phrases repeat mirrored (A A') as dancers build
   eight-counts; arm moves are layered on stepping moves; travel and turns are steered back
   toward the front and the centre of the floor.
3. **Perform** (:func:`perform`): beats are warped by the dancer's timing feel and a small
   per-beat jitter; the moves' channels are evaluated on the warped beat phase and cross-faded
   over ``style.blend`` beats at each boundary; the dancer hits a share of the accents
   (:func:`accent_hits`) and shows the melody with arms, chest and head
   (:func:`contour_follow`); the feet follow the steps (planted = fixed).
4. **Solve** (:func:`solve_pose`): the pelvis is placed over the feet by the support weight;
   legs and arms are solved by analytic two-bone inverse kinematics (the knee / elbow angle by
   the law of cosines, the hip / shoulder by aligning the limb's plane with a pole vector),
   the ankle so the foot lies flat (or on its toe); spine, neck and head from the channels.

Guarantees, tested in ``tests/choreography/test_choreographer.py``: a planted toe does not move (to
floating point), the lowest foot joint of a planted foot is on the floor (y = 0), knees and
elbows bend only forward within their range, hands stay outside the torso.

The stages live in one module each: :mod:`.style` (the dancer), :mod:`.listening`,
:mod:`.planning`, :mod:`.performing`, :mod:`.solving`, and :mod:`.dance` (the top level that
runs them); this package re-exports their public names.
"""

from .dance import (
    MAX_DANCE_BPM,
    Dance,
    choreograph,
    choreograph_info,
    half_time,
)
from .listening import (
    ABS_DB_RANGE,
    ACCENT_CONTEXT,
    ACCENT_FULL_RATIO,
    ACCENT_RATIO,
    ACCENT_WINDOW_S,
    CONTOUR_SMOOTH_S,
    CONTOUR_SPREAD,
    ENERGY_ABS_WEIGHT,
    NOVELTY_BLOCK_BARS,
    SECTION_MIN_BARS,
    SongInfo,
    analyse_song,
    find_accents,
    melodic_contour,
    song_info_from_beats,
)
from .performing import (
    CONTOUR_CHANNELS,
    HIT_ATTACK_S,
    HIT_CHANNELS,
    HIT_RELEASE_S,
    SWING_TOE_PITCH,
    accent_hits,
    channel_offsets,
    contour_at,
    contour_follow,
    perform,
)
from .planning import (
    ACCENT_FAMILIES,
    DENSITY_WIDTH,
    DENSITY_WIDTH_BELOW,
    EDGE_BEATS,
    ENERGY_WIDTH,
    FAMILY_BOOST,
    FLOOR_RADIUS,
    JUMP_MIN_ENERGY,
    JUMP_RARITY,
    USAGE_DECAY,
    Instance,
    Plan,
    plan_dance,
)
from .solving import (
    ELBOW_MAX,
    HEAD_PITCH_RANGE,
    HEAD_RADIUS,
    HEAD_ROLL_MAX,
    HEAD_STABILISE,
    HEAD_TOP,
    HEAD_YAW_MAX,
    HEIGHT_SOFTMIN_M,
    KNEE_MAX,
    MAX_HEEL,
    NECK_SHARE,
    POLE_FRONT,
    POLE_HIGH,
    POLE_LOW,
    REACH_MARGIN,
    SPINE_PITCH_RANGE,
    SPINE_ROLL_MAX,
    SPINE_SPLIT,
    SPINE_YAW_MAX,
    STAND_HEIGHT,
    TORSO_BOTTOM,
    TORSO_CENTRE_Z,
    TORSO_HALF_DEPTH,
    TORSO_HALF_WIDTH,
    TORSO_TOP,
    WEIGHT_GAIN,
    WEIGHT_SMOOTH_S,
    solve_pose,
    two_bone_ik,
)
from .style import (
    CONTOUR_RANGE,
    DancerStyle,
)

__all__ = [
    "ABS_DB_RANGE",
    "ACCENT_CONTEXT",
    "ACCENT_FAMILIES",
    "ACCENT_FULL_RATIO",
    "ACCENT_RATIO",
    "ACCENT_WINDOW_S",
    "CONTOUR_CHANNELS",
    "CONTOUR_RANGE",
    "CONTOUR_SMOOTH_S",
    "CONTOUR_SPREAD",
    "DENSITY_WIDTH",
    "DENSITY_WIDTH_BELOW",
    "Dance",
    "DancerStyle",
    "EDGE_BEATS",
    "ELBOW_MAX",
    "ENERGY_ABS_WEIGHT",
    "ENERGY_WIDTH",
    "FAMILY_BOOST",
    "FLOOR_RADIUS",
    "HEAD_PITCH_RANGE",
    "HEAD_RADIUS",
    "HEAD_ROLL_MAX",
    "HEAD_STABILISE",
    "HEAD_TOP",
    "HEAD_YAW_MAX",
    "HEIGHT_SOFTMIN_M",
    "HIT_ATTACK_S",
    "HIT_CHANNELS",
    "HIT_RELEASE_S",
    "Instance",
    "JUMP_MIN_ENERGY",
    "JUMP_RARITY",
    "KNEE_MAX",
    "MAX_DANCE_BPM",
    "MAX_HEEL",
    "NECK_SHARE",
    "NOVELTY_BLOCK_BARS",
    "POLE_FRONT",
    "POLE_HIGH",
    "POLE_LOW",
    "Plan",
    "REACH_MARGIN",
    "SECTION_MIN_BARS",
    "SPINE_PITCH_RANGE",
    "SPINE_ROLL_MAX",
    "SPINE_SPLIT",
    "SPINE_YAW_MAX",
    "STAND_HEIGHT",
    "SWING_TOE_PITCH",
    "SongInfo",
    "TORSO_BOTTOM",
    "TORSO_CENTRE_Z",
    "TORSO_HALF_DEPTH",
    "TORSO_HALF_WIDTH",
    "TORSO_TOP",
    "USAGE_DECAY",
    "WEIGHT_GAIN",
    "WEIGHT_SMOOTH_S",
    "accent_hits",
    "analyse_song",
    "channel_offsets",
    "choreograph",
    "choreograph_info",
    "contour_at",
    "contour_follow",
    "find_accents",
    "half_time",
    "melodic_contour",
    "perform",
    "plan_dance",
    "solve_pose",
    "song_info_from_beats",
    "two_bone_ik",
]
