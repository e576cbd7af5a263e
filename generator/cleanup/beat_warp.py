"""Beat warp: the dance's own accents moved in time onto the song's beats.

The generator's motion has accents (the moments the body comes to rest, the "motion beats"
of Bailando, Li et al. ICCV 2021: local minima of the joints' mean speed, smoothed) but they
drift against the music's beats: their beat phase is spread almost evenly (the own-song R gap
of ``docs/metrics.md`` is a fifth of the recorded dancers'). The recorded dancers put theirs
at one phase per dance, most often on the beat (pooled over 40 training songs' dances the
phases' circular mean is 0.99 of a beat, a second mode on the half beat). Where beat guidance
(:mod:`generator.sampling.beat_guidance`) changes the poses so the body rests on the beats, the
warp changes only *when* each pose plays, as an animator retimes a take:

    m_n     the dance's motion beats (s), phi_n their beat phase (``alignment.beat_phase``)
    phi*    = 0, on the beat (``target_phase``; None: arg mean_n exp(2 pi i phi_n), the
              phase the dance itself prefers)
    d_n     = wrap(phi* - phi_n) in [-1/2, 1/2)     how far each accent is off it, in beats
    anchors (m_n -> m_n + d_n P_n) for |d_n| <= S   P_n the beat period at m_n, S = max_shift

plus (0 -> 0) and (end -> end), so the dance starts and ends with the song. The output frame
at time t shows the input at time w^-1(t), w^-1 the monotone cubic (PCHIP; Fritsch & Carlson,
SIAM J. Numer. Anal. 1980) through the anchors, so the speed changes smoothly (a piecewise
linear map jolts it at every anchor and moves the accents the detector finds). An anchor whose
segment would play faster than ``max_rate`` or slower than 1 / ``max_rate`` times the model's
speed is dropped (greedily, in time order), so no move is rushed or dragged far beyond that
(the cubic can exceed the rate a little inside a segment). The whole is repeated
:data:`PASSES` times. Poses are read between frames by slerp
(``kinematics.interpolate_frames``; the passes' maps are composed, so the motion is read between
its frames once); the frame count and the frame rate are unchanged. In the pipeline the warp
acts on the model's output before the foot clean-up (:func:`warp_dance` carries the contact
channels along), so the clean-up holds the retimed feet exactly; turns and steps get at most
``max_rate`` times faster.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from scipy.interpolate import PchipInterpolator

from motionbeat.core.kinematics import axis_angle_to_matrix, forward_kinematics, interpolate_frames
from motionbeat.core.motion import Motion
from motionbeat.metrics.alignment import beat_phase
from motionbeat.metrics.beats import motion_beats

MAX_RATE: float = 1.5
"""Fastest (and, inverted, slowest) a warped segment plays against the model's timing: half as
fast again, the step from 100 to 150 BPM. On the test songs the generators' fastest turn rose
from 18.1 to 30.5 degrees a frame with the warp (librosa, raw), under the corpus' 42.5."""
PASSES: int = 3
"""Warps in a row: a warped dance's accents, found again, sit near but not at their targets
(the retiming changes the speed the detector reads), so the warp is repeated. On 24 training
songs (shipped generator, seed 100, ``max_shift`` 0.5) the own-song R rose from 0.168 to 0.275
after one pass and 0.325 after three, the other songs' staying at 0.07-0.08 (a throw-away
script, ``docs/generator.md``)."""
ON_BEAT: float = 0.0
"""The accents' target phase: on the beat. On the pilot's 24 training songs (0.5 beats, three
passes) it locks them as tightly as the dance's own preferred phase (own-song R 0.323 against
0.325) and puts them on the beats (BAS 0.443 -> 0.621, against 0.225 with the preferred phase,
which takes many accents off the beat); the thirteenth round measured the preferred phase
(docs/generator.md)."""
MAX_SHIFT_LIMIT: float = 0.5
"""Largest ``max_shift`` accepted, in beats: half a beat reaches every phase."""


def wrap_phase(x: np.ndarray) -> np.ndarray:
    """Phase differences wrapped into [-1/2, 1/2)."""
    return np.mod(np.asarray(x, np.float64) + 0.5, 1.0) - 0.5


def check_warp(max_shift: float, max_rate: float) -> None:
    """ValueError unless 0 <= ``max_shift`` <= :data:`MAX_SHIFT_LIMIT` and ``max_rate`` >= 1."""
    if not 0 <= max_shift <= MAX_SHIFT_LIMIT:
        raise ValueError(f"max_shift must be from 0 to {MAX_SHIFT_LIMIT:g} beats, got {max_shift!r}")
    if max_rate < 1:
        raise ValueError(f"max_rate must be at least 1, got {max_rate!r}")


def warp_anchors(
    accents: np.ndarray, beat_times: np.ndarray, duration: float, max_shift: float,
    max_rate: float = MAX_RATE, target_phase: float | None = ON_BEAT,
) -> tuple[np.ndarray, np.ndarray]:
    """(source times, output times) of the warp's knots, both (K,) increasing (module docstring).

    Args:
        accents: (N,) the dance's motion beats, s from its first frame.
        beat_times: (B,) the song's beats on the same clock.
        duration: the dance's last frame time, s (the last knot maps it to itself).
        max_shift: S, the largest move of an accent, in beats (0: no warp).
        target_phase: phi*, the beat phase the accents move to; None: the dance's own.
    """
    check_warp(max_shift, max_rate)
    src, out = [0.0], [0.0]
    accents = np.asarray(accents, np.float64).reshape(-1)  # (N,)
    beats = np.sort(np.asarray(beat_times, np.float64).reshape(-1))  # (B,)
    phase = beat_phase(accents, beats)  # (N,)
    if max_shift > 0 and accents.size and np.isfinite(phase).all():
        preferred = (np.angle(np.mean(np.exp(2j * np.pi * phase))) / (2 * np.pi)
                     if target_phase is None else target_phase)
        k = np.clip(np.searchsorted(beats, accents, side="right") - 1, 0, beats.size - 2)  # (N,)
        period = beats[k + 1] - beats[k]  # (N,) s
        offset = wrap_phase(preferred - phase)  # (N,) beats
        for m, d, p in zip(accents, offset, period, strict=True):
            target = m + d * p
            if abs(d) > max_shift or not 0 < m < duration or not 0 < target < duration:
                continue
            if _rate_ok(src[-1], out[-1], m, target, max_rate):
                src.append(float(m))
                out.append(float(target))
    src.append(duration)
    out.append(duration)
    while len(src) > 2 and not _rate_ok(src[-2], out[-2], src[-1], out[-1], max_rate):
        del src[-2], out[-2]  # the last anchor cannot reach the end in time: drop it
    return np.array(src), np.array(out)


def _rate_ok(s0: float, o0: float, s1: float, o1: float, max_rate: float) -> bool:
    """Whether source span s0..s1 played over o0..o1 stays within [1 / max_rate, max_rate]."""
    if s1 <= s0 or o1 <= o0:
        return False
    rate = (s1 - s0) / (o1 - o0)
    return 1.0 / max_rate <= rate <= max_rate


def warp_positions(
    poses: np.ndarray, trans: np.ndarray, fps: float, beat_times: np.ndarray, max_shift: float,
    max_rate: float = MAX_RATE, passes: int = PASSES, target_phase: float | None = ON_BEAT,
) -> np.ndarray:
    """(T,) the fractional input frame each output frame shows (module docstring).

    Args:
        poses: (T, 24, 3) axis-angle; trans: (T, 3) metres; fps: their frame rate.
        beat_times: (B,) the song's beats, s from the dance's first frame.
        max_shift: largest move of an accent, in beats; 0 gives 0, 1, ..., T-1.
        passes: times the accents are found again and the warp repeated; the passes' maps are
            composed, so the motion is read between its frames once.
        target_phase: the beat phase the accents move to (:func:`warp_anchors`).
    """
    check_warp(max_shift, max_rate)
    poses = torch.from_numpy(np.asarray(poses, np.float32))
    trans = torch.from_numpy(np.asarray(trans, np.float32))
    frames = poses.shape[0]
    total = np.arange(frames, dtype=np.float64)  # (T,) identity
    if max_shift == 0 or frames < 3 or np.asarray(beat_times).size < 2:
        return total
    duration = (frames - 1) / fps
    times = np.arange(frames) / fps  # (T,) output frame times
    warped_poses, warped_trans = poses, trans
    for done in range(1, passes + 1):
        with torch.no_grad():
            joints = forward_kinematics(axis_angle_to_matrix(warped_poses),
                                        warped_trans).numpy()  # (T, 24, 3)
        src, out = warp_anchors(motion_beats(joints, fps), beat_times, duration, max_shift, max_rate,
                                target_phase)
        step = PchipInterpolator(out, src)(times) * fps  # (T,) frames of the last pass's motion
        total = np.interp(step, np.arange(frames), total)  # composed with the passes before
        if done < passes:  # the next pass reads the accents of the motion retimed so far
            with torch.no_grad():
                warped_poses, warped_trans = interpolate_frames(poses, trans, torch.from_numpy(total))
    return total


def warp_to_beats(
    poses: np.ndarray, trans: np.ndarray, fps: float, beat_times: np.ndarray, max_shift: float,
    **options,
) -> tuple[np.ndarray, np.ndarray]:
    """(T, 24, 3) poses and (T, 3) translation retimed so the accents fall on the beats
    (:func:`warp_positions`, whose ``options`` it takes); ``max_shift`` 0 returns copies."""
    positions = warp_positions(poses, trans, fps, beat_times, max_shift, **options)  # (T,)
    if max_shift == 0:
        return np.array(poses, np.float32), np.array(trans, np.float32)
    with torch.no_grad():
        new_poses, new_trans = interpolate_frames(torch.from_numpy(np.asarray(poses, np.float32)),
                                                  torch.from_numpy(np.asarray(trans, np.float32)),
                                                  torch.from_numpy(positions))
    return new_poses.numpy(), new_trans.numpy()


def warp_dance(
    motion: Motion, frames: np.ndarray, beat_times: np.ndarray, max_shift: float,
) -> tuple[Motion, np.ndarray]:
    """``motion`` retimed by :func:`warp_positions` (``beat_times``, s, on its song's clock: the
    motion's ``start_offset`` is subtracted), and the model's (T, D) ``frames`` it came from
    read at the same positions, linearly (their contact channels are what the foot clean-up,
    which runs after the warp so the held feet stay exact, needs). Unchanged when ``max_shift``
    is 0."""
    if max_shift == 0:
        return motion, frames
    beats = np.asarray(beat_times, np.float64) - motion.start_offset  # (B,) s from frame 0
    positions = warp_positions(motion.poses, motion.trans, motion.fps, beats, max_shift)  # (T,)
    with torch.no_grad():
        poses, trans = interpolate_frames(torch.from_numpy(motion.poses), torch.from_numpy(motion.trans),
                                          torch.from_numpy(positions))
    index = np.arange(frames.shape[0])
    warped = np.stack([np.interp(positions, index, channel) for channel in np.asarray(frames).T], axis=1)
    return dataclasses.replace(motion, poses=poses.numpy(), trans=trans.numpy()), warped.astype(np.float32)
