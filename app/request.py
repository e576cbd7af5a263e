"""One request's side of the app: what it may ask for and the checks that say why not.

:class:`Limits` (what one request may ask for; the command line sets them), :class:`DanceSettings`
(the settings of one request) and the checks :meth:`app.service.DanceService.generate` runs first:

1. :func:`check_song` - the file is there, of a supported type, not over the upload limit, and
   decodes to usable audio (``motionbeat.audio.load_audio``: empty, too short, silent and
   corrupt files raise :class:`~motionbeat.audio.AudioError` with a message for people).
2. :func:`check_settings` and :func:`dance_span` - seed, guidance, steps, body, beat lock,
   tempo, style spread and beat timing are in range;
   the start lies inside the song. Duration 0 is the rest of the song; a dance longer than
   :attr:`Limits.max_duration` is cut to it, and :attr:`DanceSpan.notice` says so (a person who
   brings a whole 12-minute song gets its first 10 minutes, not a refusal).

Every problem a person can fix raises :class:`InputError` (or an ``AudioError``); both carry a
message meant to be shown as is.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generator.cleanup.beat_warp import MAX_SHIFT_LIMIT
from motionbeat.audio import MAX_BPM, MIN_BPM, Audio, load_audio

# --- limits and defaults ----------------------------------------------------------------------
DEFAULT_MAX_UPLOAD_MB: float = 50.0
"""Largest song file accepted, MB: about 50 minutes of mp3 or 5 minutes of CD-quality wav."""
DEFAULT_MAX_DURATION: float = 600.0
"""Longest dance made per request, seconds: 10 minutes, longer than nearly every song people bring."""
SECONDS_PER_MINUTE: int = 60
DEFAULT_KEEP_MINUTES: float = 60.0
"""Request folders (videos, motion files) are deleted this many minutes after they were made."""
MAX_STEPS: int = 200
"""Most sampling steps one request may ask for (the cost grows linearly with them)."""
MAX_GUIDANCE: float = 10.0
"""Largest classifier-free guidance weight accepted (EDGE uses 2)."""
MAX_BEAT_GUIDANCE: float = 0.1
"""Largest beat guidance accepted (:mod:`generator.sampling.beat_guidance`): on the validation
songs 0.02 raised the own-song R gap from 0.06 to 0.19 for 2.4 points of FID, 0.1 cost 56 points
and 0.2 cost 200 (docs/generator.md)."""
MAX_STYLE_SCALE: float = 4.0
"""Widest style draw accepted, in the training dances' spreads (``generator.model.style``): the
shipped generators draw at 2, the widest the validation rounds measured was 3
(docs/generator.md); at 4 a dance's style lies far outside any training dance's."""
MAX_BEAT_WARP: float = MAX_SHIFT_LIMIT
"""Largest beat warp accepted, in beats: half a beat reaches every phase."""
MAX_SEED: int = 2**32 - 1
MIN_DANCE_SECONDS: float = 1.0
"""Shortest dance made: the audio front end's shortest song (MIN_AUDIO_SECONDS)."""
END_TOLERANCE_S: float = 0.05
"""A requested end this close past the song's end is read as the end (rounding in the UI)."""
BYTES_PER_MB: int = 1024 * 1024

SUPPORTED_SUFFIXES: tuple[str, ...] = (
    ".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff",  # libsndfile
    ".m4a", ".mp4", ".aac", ".opus", ".webm",  # ffmpeg
)
"""Song file types accepted (what ``motionbeat.audio.load_audio`` decodes)."""


class InputError(ValueError):
    """A request that cannot be served as asked; the message is meant for the person asking."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; the command line sets them."""

    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    max_duration: float = DEFAULT_MAX_DURATION
    keep_minutes: float = DEFAULT_KEEP_MINUTES

    def __post_init__(self):
        for name in ("max_upload_mb", "max_duration", "keep_minutes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.max_duration < MIN_DANCE_SECONDS:
            raise ValueError(f"max_duration must be at least {MIN_DANCE_SECONDS:g}")


@dataclass(frozen=True)
class DanceSpan:
    """The part of the song that is danced, seconds; ``notice`` says why it is shorter than asked."""

    start: float
    duration: float
    notice: str = ""
    """Empty when the dance is what was asked; else one sentence for the person (cut to the limit)."""


def format_seconds(seconds: float) -> str:
    """'8.5 s', '3 min 5 s', '10 min': a length of time as people read it (tenths under a minute)."""
    seconds = max(float(seconds), 0.0)
    if seconds < SECONDS_PER_MINUTE:
        return f"{round(seconds, 1):g} s"
    minutes, rest = divmod(round(seconds), SECONDS_PER_MINUTE)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


@dataclass(frozen=True)
class DanceSettings:
    """The settings of one request.

    Attributes:
        start: seconds into the song where the dance starts.
        duration: seconds of dance; 0 dances to the end of the song.
        seed: random seed of the sampler (same song, settings and seed: same dance).
        guidance: classifier-free guidance weight; None uses the checkpoint's default.
        steps: sampling steps; None uses the checkpoint's default.
        body: "mannequin", "smpl" (when the SMPL files are installed) or "skeleton".
        foot_lock: hold planted feet still (``generator.cleanup.footlock``); False keeps the model's
            raw output.
        beat_guidance: how hard the upper body is nudged to come to rest on the beats
            (``generator.sampling.beat_guidance``); None uses the checkpoint's default, 0 is off.
        bpm: the song's tempo as the user hears it, for a song the beat tracker takes at half
            or double speed (``analyse_rhythm``'s ``tempo_hint``); None (or 0 from the form):
            the tracker decides.
        style_scale: how far the dance's style (how fast it travels and bounces, and moves its
            torso, arms and legs) may stray from what the song's music suggests, in the training
            dances' spreads: 0 gives the music's typical style; None uses the checkpoint's
            default. Only for a generator with a style input.
        beat_warp: retime the finished dance so its accents (the moments the body comes to
            rest) fall on the beats, each moved at most this many beats
            (``generator.cleanup.beat_warp``); None uses the checkpoint's default, 0 is off.
    """

    start: float = 0.0
    duration: float = 0.0
    seed: int = 0
    guidance: float | None = None
    steps: int | None = None
    body: str = "mannequin"
    foot_lock: bool = True
    beat_guidance: float | None = None
    bpm: float | None = None
    style_scale: float | None = None
    beat_warp: float | None = None


# --- checks -----------------------------------------------------------------------------------
def check_song(path: str | os.PathLike | None, limits: Limits) -> Audio:
    """Decode the song at ``path`` or raise :class:`InputError` / ``AudioError`` saying why not."""
    if path is None or str(path).strip() == "":
        raise InputError("No song given: upload or record one, or pick an example.")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path.name}: the file did not arrive; please upload it again.")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kind = f"{suffix} files" if suffix else "files without an extension"
        raise InputError(
            f"{path.name}: {kind} are not supported; use one of "
            + ", ".join(s.lstrip(".") for s in SUPPORTED_SUFFIXES) + "."
        )
    size_mb = path.stat().st_size / BYTES_PER_MB
    if size_mb > limits.max_upload_mb:
        raise InputError(
            f"{path.name}: the file is {size_mb:.1f} MB; this server takes songs up to "
            f"{limits.max_upload_mb:g} MB."
        )
    return load_audio(path)


def _number(value: Any, what: str, default: float) -> float:
    """``value`` as a finite float (None: ``default``), or InputError naming ``what``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"The {what} must be a number, got {value!r}.") from None
    if not math.isfinite(number):
        raise InputError(f"The {what} must be a finite number, got {value!r}.")
    return number


def check_settings(settings: DanceSettings, bodies: tuple[str, ...]) -> DanceSettings:
    """Settings in range with defaults filled in, or :class:`InputError`."""
    start = _number(settings.start, "start", 0.0)
    if start < 0:
        raise InputError(f"The start must be 0 s or later, got {start:g} s.")
    duration = _number(settings.duration, "duration", 0.0)
    if duration < 0:
        raise InputError(
            f"The duration must be positive (or 0 for the rest of the song), got {duration:g} s."
        )
    seed = _number(settings.seed, "seed", 0)
    if seed != round(seed) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"The seed must be a whole number from 0 to {MAX_SEED}, got {seed:g}.")
    guidance = None if settings.guidance is None else _number(settings.guidance, "guidance", 0.0)
    if guidance is not None and not 0 <= guidance <= MAX_GUIDANCE:
        raise InputError(f"The guidance must be from 0 to {MAX_GUIDANCE:g}, got {guidance:g}.")
    steps = None if settings.steps is None else _number(settings.steps, "sampling steps", 0)
    if steps is not None and (steps != round(steps) or not 1 <= steps <= MAX_STEPS):
        raise InputError(f"The sampling steps must be a whole number from 1 to {MAX_STEPS}, got {steps:g}.")
    body = settings.body or bodies[0]
    if body not in bodies:
        raise InputError(f"Unknown body {body!r}: this server offers {', '.join(bodies)}.")
    foot_lock = True if settings.foot_lock is None else settings.foot_lock
    if not isinstance(foot_lock, bool | np.bool_):
        raise InputError(f"The foot lock switch must be true or false, got {foot_lock!r}.")
    beat = None if settings.beat_guidance is None else _number(settings.beat_guidance, "beat lock", 0.0)
    if beat is not None and not 0 <= beat <= MAX_BEAT_GUIDANCE:
        raise InputError(f"The beat lock must be from 0 to {MAX_BEAT_GUIDANCE:g}, got {beat:g}.")
    bpm = None if settings.bpm is None else _number(settings.bpm, "tempo", 0.0)
    if bpm == 0:
        bpm = None  # the form's "find it"
    if bpm is not None and not MIN_BPM <= bpm <= MAX_BPM:
        raise InputError(f"The tempo must be from {MIN_BPM:g} to {MAX_BPM:g} BPM (or 0 to find it), "
                         f"got {bpm:g}.")
    style = None if settings.style_scale is None else _number(settings.style_scale, "style spread", 0.0)
    if style is not None and not 0 <= style <= MAX_STYLE_SCALE:
        raise InputError(f"The style spread must be from 0 to {MAX_STYLE_SCALE:g}, got {style:g}.")
    warp = None if settings.beat_warp is None else _number(settings.beat_warp, "beat timing", 0.0)
    if warp is not None and not 0 <= warp <= MAX_BEAT_WARP:
        raise InputError(f"The beat timing must be from 0 to {MAX_BEAT_WARP:g} beats, got {warp:g}.")
    return DanceSettings(start, duration, int(seed), guidance, None if steps is None else int(steps), body,
                         bool(foot_lock), beat, bpm, style, warp)


def dance_span(song_seconds: float, settings: DanceSettings, limits: Limits, name: str) -> DanceSpan:
    """The part of a song of ``song_seconds`` that is danced, or InputError.

    Duration 0 is the rest of the song. A dance longer than ``limits.max_duration`` (the rest of a
    long song, or a longer duration asked for) is cut to the limit from the start, with a notice.
    """
    start = settings.start
    if start >= song_seconds:
        raise InputError(
            f"{name}: the start ({start:g} s) is beyond the end of the song, which lasts "
            f"{song_seconds:.1f} s; choose an earlier start."
        )
    if song_seconds - start < MIN_DANCE_SECONDS:
        raise InputError(
            f"{name}: from the start ({start:g} s) to the end of the song ({song_seconds:.1f} s) is less "
            f"than the {MIN_DANCE_SECONDS:g} s a dance needs; choose an earlier start."
        )
    if settings.duration == 0:
        duration = song_seconds - start
    else:
        duration = settings.duration
        if start + duration > song_seconds + END_TOLERANCE_S:
            raise InputError(
                f"{name}: the song ends at {song_seconds:.1f} s, before the requested end at "
                f"{start + duration:g} s (start {start:g} s + duration {duration:g} s); choose a "
                "shorter duration, or 0 to dance to the end."
            )
        duration = min(duration, song_seconds - start)
    if duration < MIN_DANCE_SECONDS:
        raise InputError(f"The dance must last at least {MIN_DANCE_SECONDS:g} s, got {duration:g} s.")
    if duration <= limits.max_duration + END_TOLERANCE_S:
        return DanceSpan(start, min(duration, limits.max_duration))
    limit = format_seconds(limits.max_duration)
    asked = (
        f"the song lasts {format_seconds(song_seconds)}" if settings.duration == 0
        else f"a dance of {format_seconds(duration)} was asked for"
    )
    notice = (
        f"{name}: {asked}, and this server makes dances of up to {limit}, so this dance covers "
        f"{format_seconds(start)} to {format_seconds(start + limits.max_duration)} of the song; "
        "set a start to dance another part."
    )
    return DanceSpan(start, limits.max_duration, notice)
