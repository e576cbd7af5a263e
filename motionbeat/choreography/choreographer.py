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

Guarantees, tested in ``tests/data/test_choreographer.py``: a planted toe does not move (to
floating point), the lowest foot joint of a planted foot is on the floor (y = 0), knees and
elbows bend only forward within their range, hands stay outside the torso.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from motionbeat.choreography import dance_genres as dg
from motionbeat.choreography import moves as mv
from motionbeat.core import contract, kinematics
from motionbeat.core.motion import Motion

J = contract.JOINT_INDEX
OFF = contract.REST_OFFSETS.astype(np.float64)

# ------------------------------------------------------------------------------ constants
STAND_HEIGHT: float = float(
    -(OFF[J["L_Hip"]] + OFF[J["L_Knee"]] + OFF[J["L_Ankle"]] + OFF[J["L_Foot"]])[1]
)
"""Pelvis height with straight legs and the toe joint on the floor (about 0.956 m)."""
REACH_MARGIN: float = 0.985
"""Legs extend to at most this share of their full length (a straight knee looks locked)."""
WEIGHT_GAIN: float = 0.75
"""How far the pelvis travels toward the supporting foot (1 = right over its toe)."""
WEIGHT_SMOOTH_S: float = 0.09
"""Gaussian smoothing of the support weight, seconds: the body shifts just before a lift."""
SWING_TOE_PITCH: float = 0.35
"""Toe-down pitch of a foot at mid-swing, rad."""
MAX_HEEL: float = 0.6
"""Largest heel raise of a planted foot, rad."""
KNEE_MAX: float = math.radians(150.0)
ELBOW_MAX: float = math.radians(145.0)
HEIGHT_SOFTMIN_M: float = 0.01
"""Softness of the reach limit on pelvis height, m."""
EDGE_BEATS: int = 2
"""Beats added to the grid beyond both ends of the song so every frame has a phase."""

# Torso as an elliptic cylinder around the spine, in the chest frame and relative to the
# shoulder (outward from the midline, up, forward), used to keep the hands out of the body.
TORSO_HALF_WIDTH: float = 0.2
TORSO_HALF_DEPTH: float = 0.16
TORSO_CENTRE_Z: float = 0.03
TORSO_TOP: float = 0.02
TORSO_BOTTOM: float = -0.7
HEAD_RADIUS: float = 0.14
HEAD_TOP: float = 0.4

POLE_LOW = np.array([0.35, -0.3, -1.0])
"""Elbow direction (outward, up, forward) for hanging arms: back and a little out."""
POLE_FRONT = np.array([1.0, -0.6, -0.15])
"""Elbow direction for hands in front of the body: out and down."""
POLE_HIGH = np.array([1.0, 0.0, -0.3])
"""Elbow direction for raised arms: out to the side."""

SPINE_SPLIT: tuple[float, float, float] = (0.35, 0.35, 0.3)
"""Share of the spine channels taken by Spine1, Spine2, Spine3."""
NECK_SHARE: float = 0.4
"""Share of the head channels taken by the neck (the rest by the head joint)."""
HEAD_STABILISE: float = 0.6
"""Share of the torso's pitch and roll that the neck undoes to keep the gaze level."""

# Joint ranges for the channels, rad.
SPINE_PITCH_RANGE = (-0.45, 0.7)
SPINE_ROLL_MAX = 0.4
SPINE_YAW_MAX = 0.7
HEAD_PITCH_RANGE = (-0.5, 0.55)
HEAD_ROLL_MAX = 0.4
HEAD_YAW_MAX = 0.8


# ------------------------------------------------------------------------------ the dancer

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


# ------------------------------------------------------------------------- listening


@dataclass(frozen=True, eq=False)
class SongInfo:
    """What the choreographer hears.

    Attributes:
        beat_times: (K,) seconds. downbeat_times: (B,) seconds.
        beats_per_bar: meter.
        duration: seconds.
        energy: (K,) loudness per beat in [0, 1] (mostly relative to the song itself).
        density: (K,) onsets per beat (0 .. about 4).
        section_starts: (S,) beat indices where sections begin (the first is 0).
        genre: the dance genre (a ``dance_genres.GENRES`` key, :func:`dance_genres.genre_for_song`).
        accent_times: (A,) seconds of the music's accents (:func:`find_accents`).
        accent_strength: (A,) their strength in (0, 1].
        contour: (F,) the melodic contour in (-1, 1) at ``contour_fps`` frames per second from
            time 0 (:func:`melodic_contour`); empty when unknown (the dancer then shows none).
        contour_fps: its frame rate.
    """

    beat_times: np.ndarray
    downbeat_times: np.ndarray
    beats_per_bar: int
    duration: float
    energy: np.ndarray
    density: np.ndarray
    section_starts: np.ndarray
    genre: str = dg.DEFAULT_GENRE
    accent_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    accent_strength: np.ndarray = field(default_factory=lambda: np.zeros(0))
    contour: np.ndarray = field(default_factory=lambda: np.zeros(0))
    contour_fps: float = float(contract.FPS)


ENERGY_ABS_WEIGHT: float = 0.3
"""Share of absolute loudness (vs the song's own range) in the per-beat energy."""
ABS_DB_RANGE: tuple[float, float] = (-45.0, -15.0)
"""Mean log-mel level (dB) mapped to absolute energy 0 and 1."""
SECTION_MIN_BARS: int = 8
NOVELTY_BLOCK_BARS: int = 4


def analyse_song(
    audio, rhythm=None, section_times: list[float] | None = None, groove_family: str = ""
) -> SongInfo:
    """Per-beat energy and density, accents, sections and dance genre of ``audio`` (a
    ``motionbeat.audio.Audio``).

    Energy: frame loudness L_t = 10 log10(mean_b 10^(mel_tb / 10)) averaged per beat, scaled
    to the song's 5th-95th percentile range, mixed with ENERGY_ABS_WEIGHT of absolute level.
    Density: onset peaks (librosa.util.peak_pick on the frame onset strength) per beat.
    Sections (when not given): Foote-style novelty between the mean log-mel of the
    NOVELTY_BLOCK_BARS bars before and after each 4-bar boundary; peaks above mean + 0.5 std,
    at least SECTION_MIN_BARS apart, start new sections (Foote, ICME 2000).
    Accents: :func:`find_accents` on the frame onset strength. Contour: :func:`melodic_contour`
    of the log-mel frames. Genre:
    :func:`dance_genres.genre_for_song` from ``groove_family`` (mma songs) or by ear.
    """
    import librosa

    from motionbeat import audio as au

    rhythm = rhythm if rhythm is not None else au.analyse_rhythm(audio)
    feats = au.frame_features(audio)
    fps = feats.fps
    beats = np.asarray(rhythm.beat_times, dtype=np.float64)
    mel = feats.mel.astype(np.float64)  # (T, n_mels) dB
    loud = 10.0 * np.log10(np.mean(10.0 ** (mel / 10.0), axis=1) + 1e-12)  # (T,)
    edges = np.clip(
        np.round(np.r_[beats, beats[-1] + 60.0 / max(rhythm.tempo_bpm, 1.0)] * fps), 0, len(loud)
    ).astype(int)  # (K + 1,) frame edges of the beats
    per_beat = np.array(
        [
            loud[a:b].mean() if b > a else loud[min(a, len(loud) - 1)]
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    )  # (K,)
    lo, hi = np.percentile(per_beat, [5, 95])
    rel = np.clip((per_beat - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
    absolute = np.clip(
        (per_beat.mean() - ABS_DB_RANGE[0]) / (ABS_DB_RANGE[1] - ABS_DB_RANGE[0]), 0, 1
    )
    energy = gaussian_filter1d((1 - ENERGY_ABS_WEIGHT) * rel + ENERGY_ABS_WEIGHT * absolute, 2.0)
    peaks = librosa.util.peak_pick(
        feats.onset,
        pre_max=2,
        post_max=2,
        pre_avg=5,
        post_avg=5,
        delta=float(np.std(feats.onset)) * 0.3,
        wait=3,
    )
    density = np.histogram(peaks / fps, bins=np.r_[beats, beats[-1] + 1.0])[0].astype(np.float64)
    density = gaussian_filter1d(density, 2.0)
    if section_times is not None:
        starts = np.unique(np.searchsorted(beats, np.asarray(section_times, dtype=np.float64)))
    else:
        starts = _novelty_sections(mel, beats, rhythm, fps)
    starts = np.unique(np.r_[0, starts[starts < len(beats)]]).astype(np.int64)
    accent_times, accent_strength = find_accents(feats.onset, fps, beats)
    genre = dg.genre_for_song(
        groove_family, float(rhythm.tempo_bpm), int(rhythm.beats_per_bar),
        float(np.mean(energy)) if len(energy) else 0.5,
        float(np.mean(density)) if len(density) else 1.0,
    )
    return SongInfo(
        beats,
        np.asarray(rhythm.downbeat_times, dtype=np.float64),
        int(rhythm.beats_per_bar),
        float(audio.duration),
        energy,
        density,
        starts,
        genre,
        accent_times,
        accent_strength,
        melodic_contour(mel, fps),
        float(fps),
    )


CONTOUR_SMOOTH_S: float = 0.15
"""Gaussian sigma (s) of the contour: long enough to average a drum hit's spectrum away
(a kick lowers the centroid, a hi-hat raises it, both within ~50 ms), short enough to follow a
melody note by note at dance tempi (a sixteenth at 120 BPM is 125 ms)."""
CONTOUR_SPREAD: float = 2.0
"""The contour is tanh((c - median) / (CONTOUR_SPREAD * robust std)): about +-0.46 at one
robust standard deviation, saturating only on the song's extremes."""


def melodic_contour(mel: np.ndarray, fps: float) -> np.ndarray:
    """How high the music sounds, frame by frame, in (-1, 1) relative to the song itself.

    The spectral centroid on the mel axis, c_t = sum_k k p_tk / sum_k p_tk with p_tk =
    10^(mel_tk / 10) the mel power of band k, smoothed by a Gaussian of CONTOUR_SMOOTH_S,
    centred on its median and scaled by its robust standard deviation (IQR / 1.349), then
    squashed by tanh (CONTOUR_SPREAD). The centroid of a mixture rises with the pitch and
    brightness of its lead voice; this is the "melodic contour" a dancer shows with the
    height of the arms (a proxy: a melody transcription, e.g. pYIN, would cost seconds per song
    and fail on chords).

    Args:
        mel: (T, n_mels) log-mel frames in dB. fps: their frame rate.
    Returns:
        (T,) contour; zeros when the song is flat (no variation to follow).
    """
    mel = np.asarray(mel, dtype=np.float64)
    if mel.ndim != 2 or len(mel) == 0:
        return np.zeros(len(mel))
    power = 10.0 ** (mel / 10.0)  # (T, n_mels)
    bands = np.arange(mel.shape[1], dtype=np.float64)
    centroid = power @ bands / np.maximum(power.sum(axis=1), 1e-12)  # (T,)
    centroid = gaussian_filter1d(centroid, CONTOUR_SMOOTH_S * fps)
    q25, q50, q75 = np.percentile(centroid, [25, 50, 75])
    scale = (q75 - q25) / 1.349  # robust std of a normal
    if scale < 1e-6:
        return np.zeros(len(centroid))
    return np.tanh((centroid - q50) / (CONTOUR_SPREAD * scale))


ACCENT_WINDOW_S: float = 0.05
"""An accent's onset peak may lie this far from its beat or half-beat (2 frames at 30 fps)."""
ACCENT_CONTEXT: int = 16
"""Beat and half-beat positions (two 4/4 bars) in the running median an accent stands out from."""
ACCENT_RATIO: float = 1.5
"""A position is an accent when its onset peak is this many times the running median."""
ACCENT_FULL_RATIO: float = 3.0
"""... and at full strength (1) from this ratio on."""


def find_accents(onset: np.ndarray, fps: float, beats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The music's accents: beats and half-beats whose onset is loud for their neighbourhood.

    At every beat and half-beat position p the peak onset strength s_p within
    +-ACCENT_WINDOW_S is compared with the running median m_p over ACCENT_CONTEXT positions;
    p is an accent when r_p = s_p / m_p >= ACCENT_RATIO, of strength
    min(1, (r_p - 1) / (ACCENT_FULL_RATIO - 1)). Dancers "hit" such accents (a kick-and-crash,
    a stab, a drum fill) rather than every beat.

    Args:
        onset: (T,) onset strength at ``fps`` frames per second.
        fps: its frame rate.
        beats: (K,) beat times, s.
    Returns:
        accent times (A,) in seconds and strengths (A,) in (0, 1].
    """
    from scipy.ndimage import median_filter

    beats = np.asarray(beats, dtype=np.float64)
    if len(beats) < 2 or len(onset) == 0:
        return np.zeros(0), np.zeros(0)
    pos = np.sort(np.r_[beats, 0.5 * (beats[:-1] + beats[1:])])  # (2K - 1,) seconds
    half = max(int(round(ACCENT_WINDOW_S * fps)), 1)
    frames = np.clip(np.round(pos * fps).astype(int), 0, len(onset) - 1)
    peak = np.array([onset[max(f - half, 0) : f + half + 1].max() for f in frames])  # (P,)
    context = median_filter(peak, size=ACCENT_CONTEXT, mode="nearest")  # (P,)
    ratio = peak / np.maximum(context, 1e-6 + 1e-3 * float(np.max(peak)))
    keep = ratio >= ACCENT_RATIO
    strength = np.minimum(1.0, (ratio[keep] - 1.0) / (ACCENT_FULL_RATIO - 1.0))
    return pos[keep], strength


def _novelty_sections(mel: np.ndarray, beats: np.ndarray, rhythm, fps: float) -> np.ndarray:
    downs = np.asarray(rhythm.downbeat_times, dtype=np.float64)
    if len(downs) < 2 * NOVELTY_BLOCK_BARS + 1:
        return np.zeros(1, dtype=np.int64)
    frames = np.clip(np.round(downs * fps).astype(int), 0, len(mel) - 1)
    bars = np.stack(
        [mel[a : max(b, a + 1)].mean(0) for a, b in zip(frames[:-1], frames[1:], strict=True)]
    )  # (B-1, M)
    bars = (bars - bars.mean(0)) / (bars.std(0) + 1e-6)
    n = NOVELTY_BLOCK_BARS
    cand = np.arange(n, len(bars) - n + 1, n)
    nov = np.array(
        [np.linalg.norm(bars[i - n : i].mean(0) - bars[i : i + n].mean(0)) for i in cand]
    )
    if nov.size == 0:
        return np.zeros(1, dtype=np.int64)
    thr = nov.mean() + 0.5 * nov.std()
    chosen: list[int] = []
    for i, v in sorted(zip(cand, nov, strict=True), key=lambda x: -x[1]):
        if v >= thr and all(abs(i - c) >= SECTION_MIN_BARS for c in chosen):
            chosen.append(i)
    bar_beats = np.searchsorted(beats, downs[np.sort(np.asarray(chosen, dtype=int))] - 1e-6)
    return np.asarray(bar_beats, dtype=np.int64)


def song_info_from_beats(
    beat_times: np.ndarray,
    downbeat_times: np.ndarray,
    beats_per_bar: int,
    duration: float,
    energy: np.ndarray | None = None,
    density: np.ndarray | None = None,
    section_starts: np.ndarray | None = None,
    genre: str = dg.DEFAULT_GENRE,
) -> SongInfo:
    """A :class:`SongInfo` from known beats (no audio): flat energy and density, no accents
    by default."""
    beat_times = np.asarray(beat_times, dtype=np.float64)
    k = len(beat_times)
    return SongInfo(
        beat_times,
        np.asarray(downbeat_times, dtype=np.float64),
        int(beats_per_bar),
        float(duration),
        np.full(k, 0.5) if energy is None else np.asarray(energy, dtype=np.float64),
        np.full(k, 1.0) if density is None else np.asarray(density, dtype=np.float64),
        np.zeros(1, dtype=np.int64)
        if section_starts is None
        else np.asarray(section_starts, dtype=np.int64),
        genre,
    )


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class Instance:
    """A move placed on the beat grid: beats [start, start + length) of the (extended) grid."""

    clip: mv.MoveClip
    start: float
    length: float
    anchor: tuple[float, float, float]  # x, z, yaw of the move's start frame in the world
    energy: float


@dataclass
class _Floor:
    x: float = 0.0
    z: float = 0.0
    yaw: float = 0.0

    def after(self, clip: mv.MoveClip) -> tuple[float, float, float]:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        dx, dz = clip.travel
        return (self.x + c * dx + s * dz, self.z - s * dx + c * dz, self.yaw + clip.turn)


USAGE_DECAY: float = 6.0
"""Uses of a move in the song after which its palette weight has halved."""
ACCENT_FAMILIES: frozenset[str] = frozenset({"turn", "jump"})
"""At most one move of these families per phrase."""
FAMILY_BOOST: float = 4.0
"""Weight multiplier of the section's primary family in move selection."""
ENERGY_WIDTH: float = 0.22
DENSITY_WIDTH: float = 0.8
"""Tolerance (foot events per beat) for moves busier than the music's onset density."""
DENSITY_WIDTH_BELOW: float = 1.6
"""Tolerance for moves calmer than the music: dancers groove half-time over busy songs."""
MAX_DANCE_BPM: float = 170.0
"""Above this beat rate the dancer steps on every second beat (half time)."""
JUMP_MIN_ENERGY: float = 0.5
"""Jumps only where the phrase energy exceeds this."""
JUMP_RARITY: float = 0.35
"""Jumps tire dancers: their selection weight is scaled by this."""
FLOOR_RADIUS: float = 0.7
"""Beyond this distance from the centre (m), travelling moves head back."""


def _wrap(a: float) -> float:
    return (a + math.pi) % (2 * math.pi) - math.pi


@dataclass(frozen=True)
class Plan:
    """A dance plan: the beat grid (extended past both song ends) and the move instances."""

    grid: np.ndarray  # (M,) seconds
    instances: tuple[Instance, ...]
    beats_per_bar: int
    first_downbeat: int  # grid index
    sections: tuple[tuple[int, str], ...]  # (grid index, primary family)
    accent_times: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (A,) seconds
    accent_strength: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (A,)
    contour: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (F,) in (-1, 1)
    contour_fps: float = float(contract.FPS)


def _extended_grid(info: SongInfo) -> tuple[np.ndarray, int]:
    beats = info.beat_times
    if len(beats) < 2:
        period = 0.5
        beats = np.arange(0.0, max(info.duration, 1.0), period)
    period = float(np.median(np.diff(beats)))
    n_before = int(math.ceil(beats[0] / period)) + EDGE_BEATS
    n_after = int(math.ceil(max(info.duration - beats[-1], 0.0) / period)) + EDGE_BEATS
    grid = np.r_[
        beats[0] - period * np.arange(n_before, 0, -1),
        beats,
        beats[-1] + period * np.arange(1, n_after + 1),
    ]
    return grid, n_before


def plan_dance(info: SongInfo, style: DancerStyle, rng: np.random.Generator) -> Plan:
    """Choose the moves: two-bar phrases, section palettes, mirrored repeats (module doc)."""
    grid, offset = _extended_grid(info)
    bpb = info.beats_per_bar if info.beats_per_bar in (3, 4) else 4
    meter_ok = 3 if bpb == 3 else 4
    beat_s = float(np.median(np.diff(grid)))
    k_song = len(info.beat_times)

    def beat_value(arr: np.ndarray, g: int, n: int) -> float:
        lo = min(max(g - offset, 0), k_song - 1)
        hi = min(max(g - offset + n, lo + 1), k_song)
        return float(np.mean(arr[lo:hi])) if k_song else 0.5

    if len(info.downbeat_times):
        first_db = int(np.argmin(np.abs(grid - info.downbeat_times[0])))
        first_db = first_db % bpb if first_db >= bpb else first_db
    else:
        first_db = 0
    section_grid = sorted({int(s) + offset for s in info.section_starts})
    phrase = 2 * bpb
    floor = _Floor()
    instances: list[Instance] = []
    sections: list[tuple[int, str]] = []
    specs = [s for s in mv.VOCABULARY.values() if meter_ok in s.meters]
    lower_specs = [s for s in specs if s.family != "arms"]
    arm_specs = [s for s in specs if s.family == "arms"]
    genre = dg.get_genre(info.genre)

    def params(e: float) -> mv.MoveParams:
        amp = style.amplitude * (0.6 + 0.7 * e) * float(rng.uniform(0.9, 1.1))
        k = style.sharpness * float(rng.uniform(0.9, 1.1))
        return mv.MoveParams(amp=amp, k=k, stance=style.stance, beat_s=beat_s, bpb=bpb, rng=rng)

    # pickup: idle groove until the first downbeat
    if first_db > 0:
        idle = mv.build_move("sway", params(0.2))
        instances.append(Instance(idle, 0.0, float(first_db), (0.0, 0.0, 0.0), 0.2))

    g = first_db
    section_id = -1
    palette: list[mv.MoveSpec] = []
    arm_palette: list[mv.MoveSpec] = []
    primary = "groove"
    previous: list[tuple[str, bool, str | None]] = []
    repeated = False
    used: dict[str, int] = {}
    while g < len(grid) - 1:
        sec = int(np.searchsorted(section_grid, g, side="right")) - 1
        e = beat_value(info.energy, g, phrase)
        d = beat_value(info.density, g, phrase)
        if sec != section_id:
            section_id = sec
            primary, palette, arm_palette = _section_palette(
                lower_specs, arm_specs, e, d, bpb, style, rng, used, genre
            )
            sections.append((g, primary))
            previous, repeated = [], False
        # a phrase: repeat the previous one mirrored, or choose anew
        if previous and not repeated and rng.random() < style.repeat:
            chosen = [(name, not mirror, arms) for name, mirror, arms in previous]
            repeated = True
        else:
            chosen = _choose_phrase(
                palette, arm_palette, phrase, e, d, style, rng, primary, genre
            )
            repeated = False
        previous = chosen
        done = 0
        for name, mirror, arms in chosen:
            if g + done >= len(grid) - 1:
                break
            spec = mv.VOCABULARY[name]
            clip = spec.build(params(e))
            mirror = _steer(clip, mirror, floor, style, rng)
            clip = clip.mirrored() if mirror else clip
            if arms is not None:
                arm_clip = mv.build_move(arms, params(e), mirror)
                clip = clip.with_upper(arm_clip)
            length = clip.beats if clip.steps else min(clip.beats, phrase - done)
            instances.append(
                Instance(clip, float(g + done), float(length), (floor.x, floor.z, floor.yaw), e)
            )
            used[name] = used.get(name, 0) + 1
            floor.x, floor.z, floor.yaw = floor.after(clip)
            done += length
        g += max(done, 1)
    return Plan(grid, tuple(instances), bpb, first_db, tuple(sections),
                info.accent_times, info.accent_strength, info.contour, info.contour_fps)


def _section_palette(lower, arms, e, d, bpb, style, rng, used, genre: dg.DanceGenre):
    """Primary family and a small palette of moves for one section.

    Families are weighted by the genre (``genre.families``) and by how well their moves fit the
    energy. Moves already used often in the song are less likely: weight / (1 + uses /
    USAGE_DECAY).
    """
    fams = sorted({s.family for s in lower})
    fam_w = []
    for fam in fams:
        members = [s for s in lower if s.family == fam]
        fit = max(math.exp(-((s.energy - e) ** 2) / (2 * ENERGY_WIDTH**2)) for s in members)
        if fam in ("travel", "turn"):
            fit *= 0.4 + style.travel
        if fam == "jump" and e < JUMP_MIN_ENERGY:
            fit *= 0.05
        fam_w.append(fit * genre.families.get(fam, 1.0))
    fam_w = np.asarray(fam_w) / np.sum(fam_w)
    primary = str(rng.choice(fams, p=fam_w))
    weights = np.array(
        [
            _fit(s, e, d, style, genre)
            * (FAMILY_BOOST if s.family == primary else 1.0)
            / (1.0 + used.get(s.name, 0) / USAGE_DECAY)
            for s in lower
        ]
    )
    n = min(len(lower), int(rng.integers(3, 6)))
    idx = rng.choice(len(lower), size=n, replace=False, p=weights / weights.sum())
    palette = [lower[i] for i in idx]
    # the palette always holds a move of the primary family and a groove to fill with
    if not any(s.family == primary for s in palette):
        members = [s for s in lower if s.family == primary]
        palette.append(members[int(rng.integers(len(members)))])
    if not any(s.family in ("groove", "waltz") and not _has_steps(s, bpb) for s in palette):
        grooves = [s for s in lower if s.family in ("groove", "waltz") and not _has_steps(s, bpb)]
        palette.append(grooves[int(rng.integers(len(grooves)))])
    aw = np.array([_fit(s, e, d, style, genre) for s in arms])
    arm_palette = [
        arms[i]
        for i in rng.choice(len(arms), size=min(3, len(arms)), replace=False, p=aw / aw.sum())
    ]
    return primary, palette, arm_palette


_STEPS_CACHE: dict[tuple[str, int], bool] = {}


def _has_steps(spec: mv.MoveSpec, bpb: int) -> bool:
    key = (spec.name, bpb)
    if key not in _STEPS_CACHE:
        _STEPS_CACHE[key] = bool(spec.build(mv.MoveParams(bpb=bpb)).steps)
    return _STEPS_CACHE[key]


def _fit(spec: mv.MoveSpec, e: float, d: float, style: DancerStyle,
         genre: dg.DanceGenre) -> float:
    """Selection weight of a move: its own weight, the genre's multiplier, and the fit of its
    energy and step density to the music's."""
    w = spec.weight * genre.weight(spec.family, spec.name)
    w *= math.exp(-((spec.energy - e) ** 2) / (2 * ENERGY_WIDTH**2))
    if spec.family != "arms":
        # busy moves over sparse music are penalised harder than half-time grooving over busy music
        width = DENSITY_WIDTH if spec.density > d else DENSITY_WIDTH_BELOW
        w *= math.exp(-((spec.density - d) ** 2) / (2 * width**2))
    if spec.family == "jump":
        w *= JUMP_RARITY * (1.0 if e >= JUMP_MIN_ENERGY else 0.05)
    if spec.family in ("travel", "turn"):
        w *= 0.3 + style.travel
    return max(w, 1e-4)


def _choose_phrase(palette, arm_palette, phrase, e, d, style, rng, primary, genre):
    """Moves filling one phrase: (name, mirror, arm overlay or None)."""
    chosen = []
    filled = 0
    lead_right = rng.random() < style.lead_right
    guard = 0
    while filled < phrase and guard < 10:
        guard += 1
        room = phrase - filled
        cands = []
        accent_done = any(mv.VOCABULARY[c[0]].family in ACCENT_FAMILIES for c in chosen)
        for s in palette:
            if accent_done and s.family in ACCENT_FAMILIES:
                continue
            clip_beats = _move_beats(s, phrase // 2)
            if clip_beats <= room or not _has_steps(s, phrase // 2):
                cands.append(s)
        if not cands:
            break
        w = np.array(
            [
                _fit(s, e, d, style, genre) * (FAMILY_BOOST if s.family == primary else 1.0)
                for s in cands
            ]
        )
        if chosen:  # avoid the same move twice in a row inside a phrase, mostly
            w = np.array(
                [
                    wi * (0.3 if s.name == chosen[-1][0] else 1.0)
                    for wi, s in zip(w, cands, strict=True)
                ]
            )
        spec = cands[int(rng.choice(len(cands), p=w / w.sum()))]
        arms = None
        if (
            spec.family not in ("jump",)
            and rng.random() < style.arm_activity * (0.4 + 0.6 * e)
            and arm_palette
        ):
            aw = np.array([_fit(a, e, d, style, genre) for a in arm_palette])
            arms = arm_palette[int(rng.choice(len(arm_palette), p=aw / aw.sum()))].name
        mirror = lead_right if len(chosen) % 2 == 0 else not lead_right
        chosen.append((spec.name, bool(mirror), arms))
        beats = _move_beats(spec, phrase // 2)
        filled += beats if _has_steps(spec, phrase // 2) else room
    return chosen


_BEATS_CACHE: dict[tuple[str, int], int] = {}


def _move_beats(spec: mv.MoveSpec, bpb: int) -> int:
    key = (spec.name, bpb)
    if key not in _BEATS_CACHE:
        _BEATS_CACHE[key] = spec.build(mv.MoveParams(bpb=bpb)).beats
    return _BEATS_CACHE[key]


def _steer(clip: mv.MoveClip, mirror: bool, floor: _Floor, style: DancerStyle, rng) -> bool:
    """Pick the mirror that brings a travelling or turning move back to centre and front."""
    if clip.turn != 0.0 and abs(abs(clip.turn) - 2 * math.pi) > 1e-6:
        after = [_wrap(floor.yaw + (-clip.turn if m else clip.turn)) for m in (False, True)]
        if abs(_wrap(floor.yaw)) > 1e-3:
            return bool(abs(after[1]) < abs(after[0]))
        return mirror
    if clip.travel != (0.0, 0.0) and math.hypot(floor.x, floor.z) > FLOOR_RADIUS * (
        1.5 - style.travel
    ):
        dist = []
        for m in (False, True):
            c = clip.mirrored() if m else clip
            x, z, _ = floor.after(c)
            dist.append(math.hypot(x, z))
        return bool(dist[1] < dist[0])
    return mirror


# ------------------------------------------------------------------------ performing


def _smooth_noise(rng, n: int, fps: float, scale: float, width_s: float = 0.6) -> np.ndarray:
    """Slow Gaussian noise of standard deviation ``scale``: white noise smoothed by a Gaussian
    of sigma = width_s * fps frames, whose std is 1 / sqrt(2 sqrt(pi) sigma) for unit noise."""
    sigma = width_s * fps
    x = gaussian_filter1d(rng.standard_normal(n), sigma, mode="nearest")
    return scale * x * math.sqrt(2.0 * math.sqrt(math.pi) * sigma)


@dataclass
class _FootTrack:
    toe: np.ndarray  # (T, 3) world toe joint position
    ground: np.ndarray  # (T, 2) (x, z) ground reference of the foot (no lift, no via)
    yaw: np.ndarray  # (T,)
    pitch: np.ndarray  # (T,) toe-down pitch from swinging
    planted: np.ndarray  # (T,) bool


def _to_world(anchor, x: float, z: float) -> tuple[float, float]:
    ax, az, yaw = anchor
    c, s = math.cos(yaw), math.sin(yaw)
    return (ax + c * x + s * z, az - s * x + c * z)


def _foot_tracks(plan: Plan, times: np.ndarray, beat_time, stance: float) -> list[_FootTrack]:
    n = len(times)
    tracks = []
    for foot in (mv.LEFT, mv.RIGHT):
        home = (mv.SIDE_SIGN[foot] * stance, mv.TOE_Z)
        pos = np.array(home, dtype=np.float64)
        yaw = 0.0
        toe = np.zeros((n, 3))
        ground = np.zeros((n, 2))
        yaws = np.zeros(n)
        pitch = np.zeros(n)
        planted = np.ones(n, dtype=bool)
        events = sorted(
            (
                (inst.start + st.start, inst.start + st.end, st, inst.anchor)
                for inst in plan.instances
                for st in inst.clip.steps
                if st.foot == foot
            ),
            key=lambda ev: ev[0],
        )
        cursor = 0
        for b0, b1, st, anchor in events:
            t0, t1 = float(beat_time(b0)), float(beat_time(b1))
            f0 = int(np.searchsorted(times, t0))
            f1 = int(np.searchsorted(times, t1))
            toe[cursor:f0, 0], toe[cursor:f0, 2] = pos[0], pos[1]
            ground[cursor:f0] = pos
            yaws[cursor:f0] = yaw
            target = np.array(_to_world(anchor, *st.to))
            yaw1 = anchor[2] + st.yaw
            if f1 > f0:
                tau = (times[f0:f1] - t0) / max(t1 - t0, 1e-6)  # (F,) in [0, 1)
                if st.ballistic:
                    s = tau
                    height = 4.0 * st.lift * tau * (1.0 - tau)
                else:
                    s = mv.ease(tau, 1.8)
                    height = st.lift * np.sin(np.pi * mv.ease(tau, 1.4))
                flat = pos[None, :] + (target - pos)[None, :] * s[:, None]  # (F, 2)
                if st.via is not None:
                    via_xz = np.array(_to_world(anchor, st.via[0], st.via[2]))
                    ctrl = 2.0 * via_xz - 0.5 * (pos + target)
                    sv = mv.ease(tau, 1.6)[:, None]
                    horiz = (1 - sv) ** 2 * pos + 2 * sv * (1 - sv) * ctrl + sv**2 * target
                    height = st.via[1] * np.sin(np.pi * sv[:, 0]) ** 1.2
                else:
                    horiz = flat
                toe[f0:f1, 0], toe[f0:f1, 2] = horiz[:, 0], horiz[:, 1]
                toe[f0:f1, 1] = height
                ground[f0:f1] = flat
                yaws[f0:f1] = yaw + (yaw1 - yaw) * s
                pitch[f0:f1] = (
                    SWING_TOE_PITCH * np.sin(np.pi * tau) * (1.5 if st.via is not None else 1.0)
                )
                planted[f0:f1] = False
            pos, yaw, cursor = target, yaw1, max(f1, cursor)
        toe[cursor:, 0], toe[cursor:, 2] = pos[0], pos[1]
        ground[cursor:] = pos
        yaws[cursor:] = yaw
        tracks.append(_FootTrack(toe, ground, yaws, pitch, planted))
    return tracks


def perform(
    plan: Plan,
    style: DancerStyle,
    duration: float,
    rng: np.random.Generator,
    fps: float = contract.FPS,
) -> dict[str, np.ndarray]:
    """Evaluate the plan on the frame times: blended channels, foot tracks, body frame.

    Returns a dict of per-frame arrays for :func:`solve_pose` (see there).
    """
    n = max(int(round(duration * fps)), 2)
    times = np.arange(n) / fps  # (T,)
    grid = plan.grid
    warped = grid + style.feel + rng.normal(0.0, style.jitter, size=len(grid))
    warped = np.maximum.accumulate(warped + 1e-4 * np.arange(len(grid)))  # keep it increasing
    idx = np.arange(len(grid), dtype=np.float64)
    beat_of = np.interp(times, warped, idx)  # (T,) continuous beat index
    # extrapolate linearly outside the grid
    period = float(np.median(np.diff(warped)))
    beat_of = np.where(times < warped[0], (times - warped[0]) / period, beat_of)
    beat_of = np.where(times > warped[-1], len(grid) - 1 + (times - warped[-1]) / period, beat_of)

    def beat_time(b: float) -> float:
        return float(
            np.interp(
                b,
                idx,
                warped,
                left=warped[0] + b * period,
                right=warped[-1] + (b - idx[-1]) * period,
            )
        )

    scalars = [c for c in mv.LOWER_CHANNELS + mv.UPPER_CHANNELS if c not in mv.VECTOR_CHANNELS]
    acc = {c: np.zeros(n) for c in scalars}
    acc["lh"] = np.zeros((n, 3))
    acc["rh"] = np.zeros((n, 3))
    acc["facing_world"] = np.zeros(n)
    wsum = np.zeros(n)
    half = style.blend / 2.0
    idle_hand = mv.HAND_DOWN
    usage: dict[str, int] = {}
    for inst in plan.instances:
        lo, hi = inst.start - half, inst.start + inst.length + half
        f = np.nonzero((beat_of >= lo) & (beat_of < hi))[0]
        if f.size == 0:
            continue
        usage[inst.clip.name] = usage.get(inst.clip.name, 0) + 1
        b = beat_of[f]
        w_in = mv.ease((b - inst.start + half) / max(style.blend, 1e-6), 2.0)
        w_out = 1.0 - mv.ease((b - inst.start - inst.length + half) / max(style.blend, 1e-6), 2.0)
        if inst is plan.instances[0]:
            w_in = np.ones_like(b)
        if inst is plan.instances[-1]:
            w_out = np.ones_like(b)
        w = w_in * w_out
        ch = inst.clip.channels(b - inst.start)
        for c in scalars:
            if c in ch:
                acc[c][f] += w * ch[c]
        for c in ("lh", "rh"):
            acc[c][f] += w[:, None] * (ch[c] if c in ch else idle_hand[None, :])
        acc["facing_world"][f] += w * (inst.anchor[2] + ch.get("facing", 0.0))
        wsum[f] += w
    wsum = np.maximum(wsum, 1e-9)
    out = {c: v / (wsum[:, None] if v.ndim == 2 else wsum) for c, v in acc.items()}
    # slow postural drift: a dancer is never a metronome
    for c, scale in (("sp", 1.0), ("sr", 0.7), ("sy", 1.0), ("hp", 1.2), ("hr", 0.8), ("hy", 1.5)):
        out[c] = out[c] + _smooth_noise(rng, n, fps, style.noise * scale)
    for c in ("lh", "rh"):
        out[c] = out[c] + np.stack([_smooth_noise(rng, n, fps, 0.015) for _ in range(3)], axis=1)
    for c, delta in accent_hits(times, plan.accent_times, plan.accent_strength, style, rng).items():
        out[c] = out[c] + delta
    contour = contour_at(times, plan.contour, plan.contour_fps)
    for c, delta in contour_follow(contour, style).items():
        out[c] = out[c] + delta
    out["feet"] = _foot_tracks(plan, times, beat_time, style.stance)
    out["beat_of"] = beat_of
    out["usage"] = usage
    return out


HIT_CHANNELS: dict[str, dict[str, object]] = {
    "head": {"hp": 0.3, "sp": 0.08},  # a nod from the upper back, rad
    "chest": {"sp": -0.18},  # the chest pops forward (spine extends), rad
    "shoulders": {"shrug_l": 0.2, "shrug_r": 0.2},  # both shoulders up, rad
    "arms": {"lh": np.array([0.0, -0.16, 0.08]), "rh": np.array([0.0, -0.16, 0.08])},  # m
    "dip": {"bounce": -0.06},  # a quick knee dip, m
}
"""Channel offsets of a full-strength hit of each kind (``dance_genres.HIT_KINDS``), scaled by
the accent's strength and the dancer's amplitude. Sizes chosen to read clearly on a stick figure
without leaving the joint ranges ``solve_pose`` clips to."""
HIT_ATTACK_S: float = 0.05
"""Rise time (Gaussian sigma, s) of a hit before the accent: a hit lands on the accent."""
HIT_RELEASE_S: float = 0.12
"""Release time (Gaussian sigma, s) after the accent."""


def accent_hits(
    times: np.ndarray,
    accent_times: np.ndarray,
    accent_strength: np.ndarray,
    style: DancerStyle,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Channel offsets of the dancer's hits on the music's accents.

    Each accent is hit with probability ``style.hit_rate``, at the accent time plus the
    dancer's feel and timing jitter, by the pulse g(dt) = exp(-dt^2 / (2 sigma^2)) with sigma
    HIT_ATTACK_S before and HIT_RELEASE_S after the hit time; overlapping hits take the larger
    pulse (a dancer does not hit twice as hard). The offsets are ``HIT_CHANNELS[style.hit_kind]``
    times strength * style.amplitude.

    Returns:
        per channel, (T,) offsets (or (T, 3) for hand targets).
    """
    pulse = np.zeros(len(times))  # (T,)
    hit = rng.random(len(accent_times)) < style.hit_rate
    shift = style.feel + rng.normal(0.0, style.jitter, size=len(accent_times))
    for t, a in zip((accent_times + shift)[hit], np.asarray(accent_strength)[hit], strict=True):
        lo, hi = np.searchsorted(times, [t - 4 * HIT_ATTACK_S, t + 4 * HIT_RELEASE_S])
        dt = times[lo:hi] - t
        sigma = np.where(dt < 0, HIT_ATTACK_S, HIT_RELEASE_S)
        pulse[lo:hi] = np.maximum(pulse[lo:hi], a * np.exp(-0.5 * (dt / sigma) ** 2))
    return channel_offsets(pulse * style.amplitude, HIT_CHANNELS.get(style.hit_kind, {}))


def channel_offsets(gain: np.ndarray, sizes: dict[str, object]) -> dict[str, np.ndarray]:
    """Per-channel offsets gain(t) * size_c: (T,) for scalar sizes, (T, 3) for hand targets.

    Args:
        gain: (T,) the time course. sizes: channel -> a float or a (3,) vector.
    """
    out = {}
    for c, size in sizes.items():
        size = np.asarray(size, dtype=np.float64)
        out[c] = gain[:, None] * size[None, :] if size.ndim else gain * float(size)
    return out


CONTOUR_CHANNELS: dict[str, object] = {
    "lh": np.array([0.0, 0.12, 0.04]),  # both hands rise (and come a little forward), m
    "rh": np.array([0.0, 0.12, 0.04]),
    "sp": -0.06,  # the chest lifts (the spine extends), rad
    "hp": -0.08,  # the eyes follow the melody up, rad
}
"""Channel offsets at contour +1 (the song's highest moments; the opposite at -1), scaled by
``style.contour * style.amplitude``. A dancer "shows the melody" with the height of the arms
and the lift of the chest; feet and pelvis are left to the steps, so nothing slides."""


def contour_at(times: np.ndarray, contour: np.ndarray, fps: float) -> np.ndarray:
    """The contour (frames from time 0 at ``fps``) at ``times`` (s): linear interpolation,
    held at the ends; zeros when there is no contour."""
    if len(contour) == 0:
        return np.zeros(len(times))
    return np.interp(times, np.arange(len(contour)) / fps, contour)


def contour_follow(contour: np.ndarray, style: DancerStyle) -> dict[str, np.ndarray]:
    """Channel offsets of a dancer showing the melodic contour (:func:`melodic_contour`).

    offset_c(t) = contour(t) * style.contour * style.amplitude * CONTOUR_CHANNELS[c].

    Args:
        contour: (T,) in (-1, 1) at the frame times.
    Returns:
        per channel, (T,) offsets (or (T, 3) for hand targets).
    """
    gain = np.asarray(contour, dtype=np.float64) * style.contour * style.amplitude  # (T,)
    return channel_offsets(gain, CONTOUR_CHANNELS)


# --------------------------------------------------------------------------- solving


def _axis_rot(axis: int, ang: np.ndarray) -> np.ndarray:
    """(N,) angles -> (N, 3, 3) rotations about x (0), y (1) or z (2)."""
    ang = np.asarray(ang, dtype=np.float64)
    c, s = np.cos(ang), np.sin(ang)
    r = np.zeros(ang.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    r[..., axis, axis] = 1.0
    r[..., i, i], r[..., j, j] = c, c
    r[..., i, j], r[..., j, i] = -s, s
    return r


def _rodrigues(h: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """Rotation by (N,) angles about the fixed unit axis h (3,) -> (N, 3, 3)."""
    k = np.array([[0, -h[2], h[1]], [h[2], 0, -h[0]], [-h[1], h[0], 0]])
    s, c = np.sin(ang)[:, None, None], np.cos(ang)[:, None, None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def two_bone_ik(
    v: np.ndarray,
    pole: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    hinge: np.ndarray,
    max_flex: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Analytic two-bone IK in the proximal joint's parent frame.

    The middle joint (knee, elbow) is a hinge: its rotation is ``Rot(hinge, theta)`` with
    theta >= 0 flexion. With a = middle-joint offset and b = end offset (rest), the end sits
    at w(theta) = a + Rot(hinge, theta) b from the proximal joint. By Rodrigues,
    a . Rot b = C cos(theta) + S sin(theta) + (a.h)(h.b) with C = a.b - (a.h)(h.b) and
    S = a.(h x b); so |w|^2 = d^2 gives theta = phi + arccos(K / r), phi = atan2(S, C),
    r = sqrt(C^2 + S^2), K = (d^2 - |a|^2 - |b|^2) / 2 - (a.h)(h.b). The proximal rotation
    then maps the frame (w, hinge) onto (v, pole x v), which puts the middle joint toward the
    pole.

    Args:
        v: (N, 3) target of the end joint relative to the proximal joint.
        pole: (N, 3) direction the middle joint should bulge toward.
        a, b, hinge: (3,) offsets and the unit hinge axis.
    Returns:
        proximal (N, 3, 3) and middle (N, 3, 3) local rotations.
    """
    ah, hb = float(a @ hinge), float(hinge @ b)
    c_ = float(a @ b) - ah * hb
    s_ = float(a @ np.cross(hinge, b))
    r = math.hypot(c_, s_)
    phi = math.atan2(s_, c_)
    base = float(a @ a + b @ b) + 2 * ah * hb
    d2_max, d2_min = base + 2 * r, base - 2 * r
    if phi < 0.0:  # the straightest reach would need hyperextension: the limit is theta = 0
        d2_max = float((a + b) @ (a + b))
    d2 = np.clip(np.sum(v * v, axis=-1), d2_min + 0.02 * (d2_max - d2_min), d2_max * 0.9999)
    k = (d2 - float(a @ a + b @ b)) / 2 - ah * hb
    theta = np.clip(phi + np.arccos(np.clip(k / r, -1.0, 1.0)), 0.0, max_flex)  # (N,)
    mid = _rodrigues(hinge, theta)  # (N, 3, 3)
    w = a[None, :] + mid @ b  # (N, 3)
    e1 = _unit(w)
    e2 = _unit(hinge[None, :] - np.sum(hinge[None, :] * e1, -1, keepdims=True) * e1)
    src = np.stack([e1, e2, np.cross(e1, e2)], axis=-1)  # (N, 3, 3) columns
    f1 = _unit(v)
    f2 = np.cross(pole, f1)
    f2 = _unit(f2 - np.sum(f2 * f1, -1, keepdims=True) * f1)
    dst = np.stack([f1, f2, np.cross(f1, f2)], axis=-1)
    return dst @ np.swapaxes(src, -1, -2), mid


def _push_out_of_torso(h: np.ndarray) -> np.ndarray:
    """(N, 3) hand targets (outward, up, forward) from the shoulder, moved out of the torso/head."""
    h = h.copy()
    x = h[:, 0] + mv.SHOULDER_OUT  # distance from the midline toward the hand's own side
    z = h[:, 2] - TORSO_CENTRE_Z
    in_band = (h[:, 1] < TORSO_TOP) & (h[:, 1] > TORSO_BOTTOM)
    rho = np.sqrt((x / TORSO_HALF_WIDTH) ** 2 + (z / TORSO_HALF_DEPTH) ** 2)
    inside = in_band & (rho < 1.0)
    # push out along the ellipse's radius, toward the front when the hand is in front of the midline
    scale = np.where(inside, 1.0 / np.maximum(rho, 0.3), 1.0)
    x_new = np.where(inside & (rho < 0.3), np.maximum(x, 0.0) + 0.3 * TORSO_HALF_WIDTH, x) * scale
    h[:, 0] = x_new - mv.SHOULDER_OUT
    h[:, 2] = z * scale + TORSO_CENTRE_Z
    x = h[:, 0] + mv.SHOULDER_OUT
    head = (h[:, 1] >= TORSO_TOP) & (h[:, 1] < HEAD_TOP)
    r_head = np.hypot(x, h[:, 2] - TORSO_CENTRE_Z)
    inside = head & (r_head < HEAD_RADIUS)
    s = np.where(inside, HEAD_RADIUS / np.maximum(r_head, 1e-3), 1.0)
    h[:, 0] = np.where(inside & (r_head < 1e-3), HEAD_RADIUS, x * s) - mv.SHOULDER_OUT
    h[:, 2] = (h[:, 2] - TORSO_CENTRE_Z) * s + TORSO_CENTRE_Z
    return h


def _softmin(a: np.ndarray, b: np.ndarray, s: float) -> np.ndarray:
    """Smooth min(a, b): b - s softplus((b - a) / s)."""
    return b - s * np.logaddexp(0.0, (b - a) / s)


def solve_pose(perf: dict, style: DancerStyle) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channels and foot tracks -> SMPL poses (T, 24, 3), trans (T, 3), planted (T, 2)."""
    left, right = perf["feet"]
    n = len(perf["bounce"])
    facing = perf["facing_world"]
    # --- pelvis orientation
    r_pelvis = (
        _axis_rot(1, facing + perf["pyaw"])
        @ _axis_rot(0, perf["ppitch"])
        @ _axis_rot(2, perf["proll"])
    )  # (T, 3, 3)
    # --- support weight (0 over the left foot, 1 over the right)
    target = np.where(
        left.planted & ~right.planted, 0.0, np.where(right.planted & ~left.planted, 1.0, 0.5)
    )
    weight = gaussian_filter1d(target, WEIGHT_SMOOTH_S * contract.FPS, mode="nearest")
    weight = np.clip(weight + perf["shift"], 0.0, 1.0)
    share = 0.5 + (weight - 0.5) * WEIGHT_GAIN
    mid = left.ground + (right.ground - left.ground) * share[:, None]  # (T, 2)
    c, s = np.cos(facing), np.sin(facing)
    lx, lz = perf["sway"], perf["surge"] - mv.TOE_Z
    pelvis = np.zeros((n, 3))
    pelvis[:, 0] = mid[:, 0] + c * lx + s * lz
    pelvis[:, 2] = mid[:, 1] - s * lx + c * lz
    pelvis[:, 1] = STAND_HEIGHT - style.crouch + perf["bounce"]
    # --- feet: world orientation and ankle targets
    feet = []
    for side, track, hip, toe_off, heel in (
        (0, left, J["L_Hip"], OFF[J["L_Foot"]], perf["heel_l"]),
        (1, right, J["R_Hip"], OFF[J["R_Foot"]], perf["heel_r"]),
    ):
        pitch = track.pitch + np.clip(heel, 0.0, MAX_HEEL)
        f_rot = _axis_rot(1, track.yaw) @ _axis_rot(0, pitch)  # (T, 3, 3)
        ankle = track.toe - f_rot @ toe_off  # (T, 3)
        feet.append((side, hip, f_rot, ankle))
    # --- reach: lower the pelvis where a straight leg could not reach its ankle target
    # straight-knee reach (theta = 0) of the shorter leg
    leg_len = REACH_MARGIN * min(
        np.linalg.norm(OFF[J["L_Knee"]] + OFF[J["L_Ankle"]]),
        np.linalg.norm(OFF[J["R_Knee"]] + OFF[J["R_Ankle"]]),
    )
    y_max = np.full(n, np.inf)
    for _, hip, _, ankle in feet:
        hip_w = r_pelvis @ OFF[hip]  # (T, 3)
        dh2 = (pelvis[:, 0] + hip_w[:, 0] - ankle[:, 0]) ** 2 + (
            pelvis[:, 2] + hip_w[:, 2] - ankle[:, 2]
        ) ** 2
        y_max = np.minimum(
            y_max, ankle[:, 1] + np.sqrt(np.maximum(leg_len**2 - dh2, 0.04)) - hip_w[:, 1]
        )
    pelvis[:, 1] = _softmin(pelvis[:, 1], y_max, HEIGHT_SOFTMIN_M)
    rot = np.tile(np.eye(3), (n, contract.NUM_JOINTS, 1, 1))  # (T, 24, 3, 3) local rotations
    rot[:, 0] = r_pelvis
    # --- legs
    hinge_knee = np.array([1.0, 0.0, 0.0])
    for side, hip, f_rot, ankle in feet:
        knee, ank = (J["L_Knee"], J["L_Ankle"]) if side == 0 else (J["R_Knee"], J["R_Ankle"])
        hip_w = pelvis + r_pelvis @ OFF[hip]
        r_t = np.swapaxes(r_pelvis, -1, -2)
        v = (r_t @ (ankle - hip_w)[..., None])[..., 0]
        fwd = f_rot[:, :, 2] * np.array([1.0, 0.0, 1.0]) + np.array([0.0, 0.5, 0.0])
        pole = (r_t @ fwd[..., None])[..., 0]
        r_hip, r_knee = two_bone_ik(v, pole, OFF[knee], OFF[ank], hinge_knee, KNEE_MAX)
        rot[:, hip], rot[:, knee] = r_hip, r_knee
        rot[:, ank] = np.swapaxes(r_pelvis @ r_hip @ r_knee, -1, -2) @ f_rot
    # --- spine, neck, head
    sp = np.clip(style.lean + perf["sp"], *SPINE_PITCH_RANGE)
    sr = np.clip(perf["sr"], -SPINE_ROLL_MAX, SPINE_ROLL_MAX)
    sy = np.clip(perf["sy"] - 0.5 * perf["pyaw"], -SPINE_YAW_MAX, SPINE_YAW_MAX)
    for joint, share_ in zip((J["Spine1"], J["Spine2"], J["Spine3"]), SPINE_SPLIT, strict=True):
        rot[:, joint] = (
            _axis_rot(1, share_ * sy) @ _axis_rot(0, share_ * sp) @ _axis_rot(2, -share_ * sr)
        )
    hp = np.clip(perf["hp"] - HEAD_STABILISE * (sp + perf["ppitch"]), *HEAD_PITCH_RANGE)
    hr = np.clip(perf["hr"] + HEAD_STABILISE * (sr - perf["proll"]), -HEAD_ROLL_MAX, HEAD_ROLL_MAX)
    hy = np.clip(perf["hy"] - 0.3 * sy, -HEAD_YAW_MAX, HEAD_YAW_MAX)
    for joint, share_ in ((J["Neck"], NECK_SHARE), (J["Head"], 1.0 - NECK_SHARE)):
        rot[:, joint] = (
            _axis_rot(1, share_ * hy) @ _axis_rot(0, share_ * hp) @ _axis_rot(2, -share_ * hr)
        )
    # --- arms: hand targets in the chest frame, relative to the shoulder
    for side, collar, shoulder, elbow, wrist, hand_key, shrug_key in (
        (0, J["L_Collar"], J["L_Shoulder"], J["L_Elbow"], J["L_Wrist"], "lh", "shrug_l"),
        (1, J["R_Collar"], J["R_Shoulder"], J["R_Elbow"], J["R_Wrist"], "rh", "shrug_r"),
    ):
        sign = mv.SIDE_SIGN[side]
        h = _push_out_of_torso(perf[hand_key])
        target = h * np.array([sign, 1.0, 1.0])  # outward -> x
        up = np.clip(h[:, 1] / 0.5, 0.0, 1.0)
        shrug = np.clip(perf[shrug_key] + 0.2 * up, -0.1, 0.35)
        r_collar = _axis_rot(2, sign * shrug)
        rot[:, collar] = r_collar
        v = (np.swapaxes(r_collar, -1, -2) @ target[..., None])[..., 0]
        # elbows point back when the hands hang, out when the hands are in front or up
        fwd = np.clip((h[:, 2] - 0.1) / 0.25, 0.0, 1.0) * (1.0 - up)
        low = (1.0 - up - fwd)[:, None]
        pole = (
            low * POLE_LOW * [sign, 1, 1]
            + fwd[:, None] * POLE_FRONT * [sign, 1, 1]
            + up[:, None] * POLE_HIGH * [sign, 1, 1]
        )
        pole = (np.swapaxes(r_collar, -1, -2) @ pole[..., None])[..., 0]
        hinge = np.array([0.0, -sign, 0.0])
        r_sh, r_el = two_bone_ik(v, pole, OFF[elbow], OFF[wrist], hinge, ELBOW_MAX)
        rot[:, shoulder], rot[:, elbow] = r_sh, r_el
        rot[:, wrist] = _axis_rot(2, np.full(n, -0.15 * sign))
    with torch.no_grad():
        poses = kinematics.matrix_to_axis_angle(torch.from_numpy(rot)).numpy()
    planted = np.stack([left.planted, right.planted], axis=1)
    return poses.astype(np.float32), pelvis.astype(np.float32), planted


# --------------------------------------------------------------------------- top level


@dataclass(frozen=True)
class Dance:
    """A choreographed dance with what it was made of."""

    motion: Motion
    plan: Plan
    style: DancerStyle
    planted: np.ndarray  # (T, 2) bool, left / right foot planted
    usage: dict[str, int] = field(default_factory=dict)


def half_time(info: SongInfo) -> SongInfo:
    """The song on every second beat when its beats are faster than MAX_DANCE_BPM, else as is.

    Energy is subsampled, onset density doubled (events per dance beat); the first downbeat
    stays a dance beat.
    """
    beats = info.beat_times
    if len(beats) < 4 or np.median(np.diff(beats)) >= 60.0 / MAX_DANCE_BPM:
        return info
    first = (
        int(np.argmin(np.abs(beats - info.downbeat_times[0]))) if len(info.downbeat_times) else 0
    )
    keep = np.arange(first % 2, len(beats), 2)  # (K/2,) beat indices kept
    starts = np.unique(np.searchsorted(keep, info.section_starts))
    return SongInfo(
        beats[keep],
        info.downbeat_times,
        info.beats_per_bar,
        info.duration,
        info.energy[keep],
        2.0 * info.density[keep],
        starts,
        info.genre,
        info.accent_times,
        info.accent_strength,
        info.contour,
        info.contour_fps,
    )


def choreograph_info(
    info: SongInfo, style: DancerStyle | None = None, seed: int = 0, source_song: str | None = None
) -> Dance:
    """Dance to a song described by :class:`SongInfo` (no audio needed)."""
    rng = np.random.default_rng(seed)
    style = style if style is not None else DancerStyle.sample(rng, info.genre)
    plan = plan_dance(half_time(info), style, rng)
    perf = perform(plan, style, info.duration, rng)
    poses, trans, planted = solve_pose(perf, style)
    meta = {
        "generator": "motionbeat.choreography.choreographer",
        "seed": int(seed),
        "style": style.to_dict(),
        "beats_per_bar": plan.beats_per_bar,
        "genre": info.genre,
        "moves": [inst.clip.name + ("~" if inst.clip.mirror else "") for inst in plan.instances],
        "sections": [[float(plan.grid[g]), fam] for g, fam in plan.sections],
    }
    motion = Motion(poses, trans, contract.FPS, source_song=source_song, meta=meta)
    return Dance(motion, plan, style, planted, perf["usage"])


def choreograph(
    song,
    rhythm=None,
    style: DancerStyle | None = None,
    seed: int = 0,
    section_times: list[float] | None = None,
    genre: str | None = None,
) -> Motion:
    """Dance to a song.

    Args:
        song: a path to an audio file or a ``motionbeat.audio.Audio``.
        rhythm: a ``motionbeat.audio.Rhythm`` (beats, downbeats, meter) to use instead of
            analysing the song, e.g. the exact beats of a synthesized song.
        style: the dancer; a random one from ``seed`` by default.
        seed: makes the dance reproducible.
        section_times: section starts in seconds, when known.
        genre: the dance genre (a ``dance_genres.GENRES`` key); judged from the music when None.
    Returns:
        a :class:`~motionbeat.core.motion.Motion` at ``contract.FPS`` covering the whole song, with
        the plan (moves, style, sections) in ``meta``.
    """
    from motionbeat import audio as au

    if isinstance(song, (str, os.PathLike)):
        song_path = Path(song)
        audio = au.load_audio(song_path)
        name = song_path.name
    else:
        audio, name = song, getattr(song, "name", None)
    if genre is not None:
        dg.get_genre(genre)  # a clear error before the audio is analysed
    info = analyse_song(audio, rhythm, section_times, groove_family=genre or "")
    return choreograph_info(info, style, seed, source_song=name).motion
