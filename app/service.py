"""The web app's library: check a request, make the dance, render it, score it, clean up.

Nothing here imports gradio; :mod:`app.ui` wraps :class:`DanceService` in a page and an API.

One request, :meth:`DanceService.generate`:

1. :func:`check_song` - the file is there, of a supported type, not over the upload limit, and
   decodes to usable audio (``motionbeat.audio.load_audio``: empty, too short, silent and
   corrupt files raise :class:`~motionbeat.audio.AudioError` with a message for people).
2. :func:`check_settings` and :func:`dance_span` - seed, guidance, steps and body are in range;
   the start lies inside the song and the dance is no longer than :attr:`Limits.max_seconds`.
3. The generator (one model, loaded once, shared by all requests) makes the motion.
4. ``render.render_video`` draws it with the song; ``render.export_motion`` writes ``.npz``,
   ``.pkl`` and ``.bvh``; ``motionbeat.metrics.scoring.score_dance`` gives BAS and PFC and
   :func:`app.plot.beat_figure` the beat plot.

Every problem a person can fix raises :class:`InputError` (or an ``AudioError``); both carry a
message meant to be shown as is. Each request writes into its own folder under the service's
work folder; :func:`purge_old_requests` removes folders older than :attr:`Limits.keep_minutes`.

Concurrency: requests may run in parallel threads. Sampling and rendering each hold a lock, so
two requests overlap as a pipeline (one renders while the next samples) instead of fighting
over the same cores, and a seed gives the same dance whatever else is running.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from app.plot import beat_figure
from motionbeat.audio import SAMPLE_RATE, Audio, Rhythm, analyse_rhythm, audio_from_array, load_audio
from motionbeat.core.motion import Motion
from motionbeat.metrics.scoring import DanceScore, score_dance
from render import export_motion, render_video
from render.bodies import BODY_NAMES, BodyError, find_smpl_model

log = logging.getLogger(__name__)

# --- limits and defaults ----------------------------------------------------------------------
DEFAULT_MAX_UPLOAD_MB: float = 50.0
"""Largest song file accepted, MB: about 50 minutes of mp3 or 5 minutes of CD-quality wav."""
DEFAULT_MAX_SECONDS: float = 30.0
"""Longest dance made per request, seconds (the bundled examples are shorter)."""
DEFAULT_KEEP_MINUTES: float = 60.0
"""Request folders (videos, motion files) are deleted this many minutes after they were made."""
DEFAULT_VIDEO_SIZE: int = 512
"""Video width and height, pixels (``render.render_video``'s default)."""
MAX_STEPS: int = 200
"""Most sampling steps one request may ask for (the cost grows linearly with them)."""
MAX_GUIDANCE: float = 10.0
"""Largest classifier-free guidance weight accepted (EDGE uses 2)."""
MAX_SEED: int = 2**32 - 1
MIN_DANCE_SECONDS: float = 1.0
"""Shortest dance made: the audio front end's shortest song (MIN_AUDIO_SECONDS)."""
END_TOLERANCE_S: float = 0.05
"""A requested end this close past the song's end is read as the end (rounding in the UI)."""
BYTES_PER_MB: int = 1024 * 1024
WARM_UP_SECONDS: float = 4.0
"""Length of the click track :meth:`DanceService.warm_up` analyses and dances to."""
WARM_UP_BPM: float = 120.0
WARM_UP_CLICK_S: float = 0.03

SUPPORTED_SUFFIXES: tuple[str, ...] = (
    ".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff",  # libsndfile
    ".m4a", ".mp4", ".aac", ".opus", ".webm",  # ffmpeg
)
"""Song file types accepted (what ``motionbeat.audio.load_audio`` decodes)."""
EXPORT_SUFFIXES: tuple[str, ...] = (".npz", ".pkl", ".bvh")
"""Motion files offered for download, in this order (``render.export_motion``)."""
SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
MAX_NAME_CHARS: int = 40

# --- progress: share of the bar each stage fills ----------------------------------------------
PROGRESS_CHECK = (0.0, 0.05)
PROGRESS_GENERATOR: dict[str, tuple[float, float]] = {"features": (0.05, 0.20), "sampling": (0.20, 0.60)}
"""Spans of the generator's stages (``generator.sampling.pipeline``: "features" then "sampling")."""
PROGRESS_RENDER = (0.60, 0.95)
PROGRESS_FINISH = (0.95, 1.0)
STAGE_TEXT: dict[str, str] = {
    "features": "listening to the music",
    "sampling": "dancing (diffusion sampling)",
}

Progress = Callable[[float, str], None]
"""progress(fraction of the whole request in [0, 1], what is happening)."""


class InputError(ValueError):
    """A request that cannot be served as asked; the message is meant for the person asking."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; the command line sets them."""

    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    max_seconds: float = DEFAULT_MAX_SECONDS
    keep_minutes: float = DEFAULT_KEEP_MINUTES

    def __post_init__(self):
        for name in ("max_upload_mb", "max_seconds", "keep_minutes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.max_seconds < MIN_DANCE_SECONDS:
            raise ValueError(f"max_seconds must be at least {MIN_DANCE_SECONDS:g}")


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
    """

    start: float = 0.0
    duration: float = 0.0
    seed: int = 0
    guidance: float | None = None
    steps: int | None = None
    body: str = "mannequin"
    foot_lock: bool = True


@dataclass(frozen=True)
class DanceResult:
    """What one request made; every file lies in ``folder``."""

    video: Path
    files: tuple[Path, ...]  # .npz, .pkl, .bvh
    motion: Motion
    rhythm: Rhythm
    score: DanceScore
    figure: Figure
    folder: Path
    timings: dict[str, float] = field(default_factory=dict)

    def scores(self) -> dict[str, Any]:
        """The numbers shown with the dance (JSON-ready; NaN becomes None)."""

        def num(x: float, digits: int = 4) -> float | None:
            return None if not math.isfinite(x) else round(float(x), digits)

        return {
            "BAS": num(self.score.bas),
            "BAS_motion": num(self.score.bas_motion),
            "PFC": num(self.score.pfc),
            "music_beats": self.score.n_music_beats,
            "motion_beats": self.score.n_motion_beats,
            "tempo_bpm": num(self.rhythm.tempo_bpm, 1),
            "meter": f"{self.rhythm.beats_per_bar}/4",
            "start_s": num(self.motion.start_offset, 3),
            "duration_s": num(self.motion.duration, 3),
            "seed": self.motion.meta.get("app", {}).get("seed"),
        }


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
    return DanceSettings(start, duration, int(seed), guidance, None if steps is None else int(steps), body,
                         bool(foot_lock))


def dance_span(
    song_seconds: float, settings: DanceSettings, limits: Limits, name: str
) -> tuple[float, float]:
    """(start, duration) in seconds of the dance inside a song of ``song_seconds``, or InputError."""
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
    if duration > limits.max_seconds + END_TOLERANCE_S:
        whole = " (the rest of the song)" if settings.duration == 0 else ""
        raise InputError(
            f"{name}: the dance would last {duration:.1f} s{whole}; this server makes dances of up to "
            f"{limits.max_seconds:g} s. Set a duration of at most {limits.max_seconds:g} s, and a "
            "start to choose the part of the song."
        )
    return start, min(duration, limits.max_seconds)


def safe_stem(name: str) -> str:
    """A file-name stem made of letters, digits, '_' and '-' only (never empty)."""
    stem = SAFE_NAME.sub("_", Path(name).stem).strip("_-")[:MAX_NAME_CHARS]
    return stem or "song"


def purge_old_requests(work_dir: Path, max_age_s: float, now: float | None = None) -> int:
    """Delete request folders in ``work_dir`` last changed more than ``max_age_s`` ago; returns how many."""
    now = time.time() if now is None else now
    removed = 0
    for folder in work_dir.glob("req-*"):
        try:
            if now - folder.stat().st_mtime > max_age_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except FileNotFoundError:  # another thread removed it first
            continue
    return removed


def available_bodies() -> tuple[str, ...]:
    """Bodies this server can draw: the mannequin, SMPL when its licensed files are found, the skeleton."""
    bodies = []
    for name in BODY_NAMES:
        if name == "smpl":
            try:
                find_smpl_model()
            except BodyError:
                continue
        bodies.append(name)
    return tuple(bodies)


def _stage(progress: Progress | None, span: tuple[float, float]) -> Callable[[float, str], None]:
    """progress callback for one stage: its own 0..1 mapped into ``span`` of the whole bar."""
    lo, hi = span

    def report(fraction: float, desc: str) -> None:
        if progress is not None:
            progress(lo + (hi - lo) * min(max(float(fraction), 0.0), 1.0), desc)

    return report


# --- the service ------------------------------------------------------------------------------
class DanceService:
    """One loaded generator serving dance requests; thread-safe.

    Args:
        generator: an object with ``generate(audio, seed=, steps=, guidance=, start=, duration=,
            progress=, foot_lock=)`` taking a path or a decoded ``motionbeat.audio.Audio`` and returning a
            :class:`Motion` (``generator.sampling.pipeline.DanceGenerator``).
        work_dir: folder for the request folders; a fresh temporary one when None (removed by
            :meth:`close`).
        limits: what one request may ask for.
        video_size: video width and height, pixels.
        bodies: bodies offered; :func:`available_bodies` when None.
    """

    def __init__(
        self,
        generator: Any,
        work_dir: str | os.PathLike | None = None,
        limits: Limits | None = None,
        video_size: int = DEFAULT_VIDEO_SIZE,
        bodies: tuple[str, ...] | None = None,
    ):
        self.generator = generator
        self.limits = limits or Limits()
        self.video_size = int(video_size)
        self.bodies = tuple(bodies) if bodies is not None else available_bodies()
        if not self.bodies:
            raise ValueError("no body to draw dances with")
        self._own_work_dir = work_dir is None
        if work_dir is None:
            work_dir = tempfile.mkdtemp(prefix="motionbeat-app-")
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        purge_old_requests(self.work_dir, self.limits.keep_minutes * 60)  # left by an earlier run
        self._generate_lock = threading.Lock()
        self._render_lock = threading.Lock()

    @classmethod
    def from_checkpoint(
        cls, checkpoint: str | os.PathLike, device: str | None = None, **kwargs
    ) -> DanceService:
        """Load ``<checkpoint>.safetensors`` + ``.json`` once and serve it."""
        from generator.sampling.pipeline import DanceGenerator

        return cls(DanceGenerator.load(checkpoint, device=device), **kwargs)

    def default(self, name: str) -> Any:
        """The generator config's default for "steps" or "guidance", or None if it has none."""
        field_name = {"steps": "sample_steps", "guidance": "guidance_weight"}[name]
        return getattr(getattr(self.generator, "config", None), field_name, None)

    def warm_up(self) -> float:
        """Analyse and dance to a short click track once; returns the seconds it took.

        The first beat analysis and feature extraction of a process compile librosa's numba
        code (a few seconds); doing it at start spares the first visitor the wait.
        """
        clock = time.perf_counter()
        t = np.arange(int(WARM_UP_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE  # (N,) s
        since_beat = np.mod(t, 60.0 / WARM_UP_BPM)
        clicks = np.where(since_beat < WARM_UP_CLICK_S, np.sin(2 * np.pi * 1000.0 * t), 0.0)
        audio = audio_from_array(0.5 * clicks.astype(np.float32), SAMPLE_RATE, name="warm-up clicks")
        analyse_rhythm(audio)
        with self._generate_lock:
            self.generator.generate(audio, seed=0, steps=1, duration=MIN_DANCE_SECONDS)
        return time.perf_counter() - clock

    def close(self) -> None:
        """Remove the work folder if this service made it."""
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def _new_request_dir(self) -> Path:
        purge_old_requests(self.work_dir, self.limits.keep_minutes * 60)
        return Path(tempfile.mkdtemp(prefix="req-", dir=self.work_dir))

    def generate(
        self,
        song: str | os.PathLike | None,
        settings: DanceSettings | None = None,
        progress: Progress | None = None,
    ) -> DanceResult:
        """Make, render, export and score one dance; raises InputError / AudioError for bad requests."""
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        check = _stage(progress, PROGRESS_CHECK)
        check(0.0, "reading the song")
        settings = check_settings(settings or DanceSettings(), self.bodies)
        audio = check_song(song, self.limits)
        song = Path(song)
        start, duration = dance_span(audio.duration, settings, self.limits, song.name)
        check(0.5, "finding the beats")
        rhythm = analyse_rhythm(audio)
        timings["check_s"] = time.perf_counter() - clock

        stages = {name: _stage(progress, span) for name, span in PROGRESS_GENERATOR.items()}
        unknown_stage = _stage(progress, (PROGRESS_CHECK[1], PROGRESS_RENDER[0]))

        def sample(stage: str, fraction: float) -> None:
            report = stages.get(stage, unknown_stage)
            report(fraction, STAGE_TEXT.get(stage, str(stage)))

        unknown_stage(0.0, "waiting for the generator")
        clock = time.perf_counter()
        with self._generate_lock:
            motion = self.generator.generate(
                audio,  # the decoded song: the generator takes a path or an Audio
                seed=settings.seed,
                steps=settings.steps,
                guidance=settings.guidance,
                start=start,
                duration=duration,
                progress=sample,
                foot_lock=settings.foot_lock,
            )
        timings["generate_s"] = time.perf_counter() - clock
        motion = replace(
            motion,
            source_song=song.name,  # never the server's temporary path
            meta={**motion.meta, "app": {"seed": settings.seed, "steps": settings.steps,
                                         "guidance": settings.guidance, "body": settings.body,
                                         "foot_lock": settings.foot_lock}},
        )

        folder = self._new_request_dir()
        stem = f"{safe_stem(song.name)}_dance_seed{settings.seed}"
        draw = _stage(progress, PROGRESS_RENDER)
        draw(0.0, "waiting for the renderer")
        clock = time.perf_counter()
        with self._render_lock:
            video = render_video(
                motion,
                song,
                folder / f"{stem}.mp4",
                body=settings.body,
                size=self.video_size,
                progress=lambda done, total: draw(done / max(total, 1), "rendering the video"),
                beats=rhythm.beat_times,
                workers=1,
            )
        timings["render_s"] = time.perf_counter() - clock

        finish = _stage(progress, PROGRESS_FINISH)
        finish(0.0, "scoring and writing the motion files")
        clock = time.perf_counter()
        files = tuple(export_motion(motion, folder / f"{stem}{suffix}") for suffix in EXPORT_SUFFIXES)
        score = score_dance(motion, rhythm, name=song.name)
        figure = beat_figure(motion, rhythm, score)
        timings["finish_s"] = time.perf_counter() - clock
        finish(1.0, "done")
        log.info("%s: %.1f s of dance, seed %d, %s", song.name, motion.duration, settings.seed,
                 ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
        return DanceResult(video, files, motion, rhythm, score, figure, folder, timings)
