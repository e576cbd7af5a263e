"""The beat plot of one dance: music beats and motion beats over song time.

The figure is built with matplotlib's object API (``Figure`` without ``pyplot``), so requests
running in parallel threads never share pyplot's global state.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from motionbeat import metrics
from motionbeat.audio import Rhythm
from motionbeat.core.motion import Motion
from motionbeat.metrics.scoring import DanceScore, music_beats_in_motion

FIGURE_SIZE_IN: tuple[float, float] = (9.0, 3.2)
"""Width and height of the beat plot, inches (about 900 x 320 pixels at the default dpi)."""
FIGURE_DPI: int = 100
MUSIC_BEAT_COLOR = "#d9822b"
DOWNBEAT_COLOR = "#a34f0b"
ENVELOPE_COLOR = "#4a6fa5"
MOTION_BEAT_COLOR = "#1f3d6b"


def beat_figure(motion: Motion, rhythm: Rhythm, score: DanceScore | None = None) -> Figure:
    """Motion speed over song time with its motion beats (dots) and the song's beats (lines).

    The curve is Bailando's motion envelope (mean joint speed, Gaussian-smoothed), normalised to
    its peak; its local minima are the motion beats that BAS aligns with the music beats (the
    vertical lines; downbeats are darker). ``score`` adds BAS and PFC to the title.
    """
    fps = motion.fps
    joints = motion.joints()  # (T, 24, 3)
    envelope = metrics.bailando_envelope(joints, fps) * fps  # (T-1,) mean joint speed, m/s
    env_times = motion.start_offset + (np.arange(envelope.size) + 0.5) / fps  # (T-1,) s
    peak = float(envelope.max()) if envelope.size else 0.0
    env_norm = envelope / peak if peak > 0 else envelope
    motion_beats = metrics.motion_beats(joints, fps)  # (M,) s from the first frame
    music_beats = music_beats_in_motion(motion, rhythm) + motion.start_offset  # (K,) song s
    downbeats = set(np.round(rhythm.downbeat_times, 6))
    labelled: set[bool] = set()

    fig = Figure(figsize=FIGURE_SIZE_IN, dpi=FIGURE_DPI, layout="constrained")
    ax = fig.add_subplot()
    for t in music_beats:
        is_down = round(float(t), 6) in downbeats
        ax.axvline(
            t,
            color=DOWNBEAT_COLOR if is_down else MUSIC_BEAT_COLOR,
            linewidth=1.6 if is_down else 0.9,
            alpha=0.8,
            label=None if is_down in labelled else ("downbeat" if is_down else "music beat"),
        )
        labelled.add(is_down)
    ax.plot(env_times, env_norm, color=ENVELOPE_COLOR, linewidth=1.4, label="motion speed")
    if motion_beats.size and envelope.size:
        beat_song_times = motion.start_offset + motion_beats
        beat_heights = np.interp(beat_song_times, env_times, env_norm)
        ax.plot(
            beat_song_times, beat_heights, "o", color=MOTION_BEAT_COLOR, markersize=5, label="motion beat"
        )
    ax.set_xlim(motion.start_offset, motion.start_offset + motion.duration)
    ax.set_ylim(0.0, 1.08)
    ax.set_xlabel("song time (s)")
    ax.set_ylabel("motion speed (relative)")
    ax.set_yticks([])
    title = f"Music beats ({rhythm.tempo_bpm:.0f} BPM, {rhythm.beats_per_bar} beats a bar) and motion beats"
    if score is not None:
        title += f"  -  BAS {score.bas:.3f}, PFC {score.pfc:.3f}"
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8, ncols=4, framealpha=0.85)
    return fig
