"""The options of one sampling run (:class:`~generator.sampling.pipeline.DanceGenerator`):
checked, each bad one a ValueError naming it, and the checkpoint config's defaults filled in."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from generator.cleanup.beat_warp import MAX_SHIFT_LIMIT
from generator.model.config import SAMPLERS, GeneratorConfig
from motionbeat import audio as au


def check_number(name: str, value, *, minimum: float, allow_equal: bool = True) -> float:
    """``value`` as a finite float >= ``minimum`` (> with ``allow_equal`` False), or a
    ValueError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < minimum or (not allow_equal and number == minimum):
        relation = ">=" if allow_equal else ">"
        raise ValueError(f"{name} must be a finite number {relation} {minimum:g}, got {value!r}")
    return number


@dataclass(frozen=True)
class SamplingOptions:
    """One sampling run's options, checked (:func:`sampling_options`)."""

    seed: int
    steps: int
    guidance: float
    start: float
    duration: float | None
    sampler: str = ""
    beat_guidance: float = 0.0
    bpm: float | None = None
    halftime_above_bpm: float = 0.0
    style_scale: float = 1.0
    beat_warp: float = 0.0


def sampling_options(
    config: GeneratorConfig, seed, steps, guidance, start, duration, sampler=None,
    beat_guidance=None, bpm=None, halftime_above_bpm=None, style_scale=None, beat_warp=None,
) -> SamplingOptions:
    """The options of one sampling run, checked (ValueError naming the option) and with the
    config's defaults where None."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if steps is None:
        steps = config.sample_steps
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if guidance is None:
        guidance = config.guidance_weight
    guidance = check_number("guidance", guidance, minimum=0.0)
    start = check_number("start", start, minimum=0.0)
    if duration is not None:
        duration = check_number("duration", duration, minimum=0.0, allow_equal=False)
    sampler = config.sampler if sampler is None else sampler
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if beat_guidance is None:
        beat_guidance = config.beat_guidance
    beat_guidance = check_number("beat_guidance", beat_guidance, minimum=0.0)
    if bpm is not None:
        bpm = check_number("bpm", bpm, minimum=0.0, allow_equal=False)
        if not au.MIN_BPM <= bpm <= au.MAX_BPM:
            raise ValueError(f"bpm must be from {au.MIN_BPM:g} to {au.MAX_BPM:g}, got {bpm:g}")
    if halftime_above_bpm is None:
        halftime_above_bpm = config.halftime_above_bpm
    halftime_above_bpm = check_number("halftime_above_bpm", halftime_above_bpm, minimum=0.0)
    if style_scale is not None and not config.style_dim:
        raise ValueError("style_scale: this generator has no style input (its config's style_dim "
                         "is 0)")
    style_scale = check_number("style_scale", config.style_scale if style_scale is None
                               else style_scale, minimum=0.0)
    beat_warp = check_number("beat_warp", config.beat_warp if beat_warp is None else beat_warp,
                             minimum=0.0)
    if beat_warp > MAX_SHIFT_LIMIT:
        raise ValueError(f"beat_warp must be from 0 to {MAX_SHIFT_LIMIT:g} beats, got {beat_warp:g}")
    return SamplingOptions(int(seed), int(steps), guidance, start, duration, sampler,
                           beat_guidance, bpm, halftime_above_bpm, style_scale, beat_warp)


def dance_rhythm(audio: au.Audio, opts: SamplingOptions) -> au.Rhythm | None:
    """The beats the model dances to, or None for the conditioner's own ``analyse_rhythm``.

    A user's tempo (``opts.bpm``) places them (``analyse_rhythm``'s ``tempo_hint``); else, with
    ``opts.halftime_above_bpm`` > 0, a song tracked faster than it (with a clear pulse) gets every
    other beat, the stronger set: ``tempo_hint`` = half its tempo (docs/generator.md, "Half
    time")."""
    if opts.bpm is not None:
        return au.analyse_rhythm(audio, tempo_hint=opts.bpm)
    if opts.halftime_above_bpm <= 0:
        return None
    tracked = au.analyse_rhythm(audio)
    half = tracked.tempo_bpm / 2
    if tracked.reliable and tracked.tempo_bpm > opts.halftime_above_bpm and half >= au.MIN_BPM:
        return au.analyse_rhythm(audio, tempo_hint=half)
    return tracked
