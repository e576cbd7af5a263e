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

The package: :mod:`.body` (body numbers, channel names, hand poses), :mod:`.shapes` (easing
curves), :mod:`.clip` (Step, MoveClip, MoveParams, MoveSpec), :mod:`.helpers` (channel and turn
helpers shared by the families), one module per family (:mod:`.groove`, :mod:`.stepping`,
:mod:`.travelling`, :mod:`.kicks`, :mod:`.jumps`, :mod:`.turns`, :mod:`.arms`, :mod:`.waltz`)
and :mod:`.vocabulary` (the catalogue and :func:`build_move`).
"""

from motionbeat.choreography.moves.body import (
    ARM_LEN,
    CLOSE,
    GRAVITY,
    HAND_CHEST,
    HAND_DOWN,
    HAND_FRONT,
    HAND_HIP,
    HAND_SIDE,
    HAND_UP,
    LEFT,
    LOWER_CHANNELS,
    REST_TOE_HALF_WIDTH,
    RIGHT,
    SHOULDER_OUT,
    SIDE_SIGN,
    TOE_Z,
    UPPER_CHANNELS,
    VECTOR_CHANNELS,
)
from motionbeat.choreography.moves.clip import ChannelFn, MoveClip, MoveParams, MoveSpec, Step
from motionbeat.choreography.moves.shapes import ease, keys, pulse, ramp, wave
from motionbeat.choreography.moves.vocabulary import FAMILIES, VOCABULARY, build_move

__all__ = [
    "TOE_Z",
    "REST_TOE_HALF_WIDTH",
    "GRAVITY",
    "ARM_LEN",
    "CLOSE",
    "LEFT",
    "RIGHT",
    "SIDE_SIGN",
    "LOWER_CHANNELS",
    "UPPER_CHANNELS",
    "VECTOR_CHANNELS",
    "SHOULDER_OUT",
    "HAND_DOWN",
    "HAND_HIP",
    "HAND_CHEST",
    "HAND_UP",
    "HAND_SIDE",
    "HAND_FRONT",
    "ease",
    "keys",
    "wave",
    "pulse",
    "ramp",
    "Step",
    "ChannelFn",
    "MoveClip",
    "MoveParams",
    "MoveSpec",
    "VOCABULARY",
    "FAMILIES",
    "build_move",
]
