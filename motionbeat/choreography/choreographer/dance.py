"""The choreographer's top level: a song in, a :class:`Dance` out (:func:`choreograph`).

Runs the stages in turn: listen (or take a :class:`SongInfo`), halve fast beats
(:func:`half_time`), plan, perform, solve.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motionbeat.choreography import dance_genres as dg
from motionbeat.choreography.choreographer.listening import SongInfo, analyse_song
from motionbeat.choreography.choreographer.performing import perform
from motionbeat.choreography.choreographer.planning import Plan, plan_dance
from motionbeat.choreography.choreographer.solving import solve_pose
from motionbeat.choreography.choreographer.style import DancerStyle
from motionbeat.core import contract
from motionbeat.core.motion import Motion


@dataclass(frozen=True)
class Dance:
    """A choreographed dance with what it was made of."""

    motion: Motion
    plan: Plan
    style: DancerStyle
    planted: np.ndarray  # (T, 2) bool, left / right foot planted
    usage: dict[str, int] = field(default_factory=dict)


MAX_DANCE_BPM: float = 170.0
"""Above this beat rate the dancer steps on every second beat (half time)."""


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
