"""The web app's library: check a request, make the dance, render it, score it, clean up.

Nothing here imports gradio; :mod:`app.ui` wraps :class:`DanceService` in a page and an API.

One request, :meth:`DanceService.generate`:

1. The checks of :mod:`app.request`: :func:`~app.request.check_song` decodes the song;
   :func:`~app.request.check_settings` and :func:`~app.request.dance_span` put the settings and
   the dance's span in range (a dance longer than the server's limit is cut to it, with a
   notice), or raise :class:`~app.request.InputError` saying why not.
2. The generator (one model, loaded once, shared by all requests) makes the motion.
3. ``render.render_video`` draws it with the song; ``render.export_motion`` writes ``.npz``,
   ``.pkl`` and ``.bvh``; ``motionbeat.metrics.scoring.score_dance`` gives BAS and PFC and
   :func:`app.plot.beat_figure` the beat plot.

Each request writes into its own folder under the service's work folder;
:func:`purge_old_requests` removes folders older than :attr:`Limits.keep_minutes`, and a request
that fails or is stopped removes its folder at once.

Concurrency: requests may run in parallel threads. Sampling and rendering are each one request's
turn at a time (:class:`app.turns.TurnLock`), so two requests overlap as a pipeline (one renders
while the next samples) instead of fighting over the same cores, and a seed gives the same dance
whatever else is running. A long request passes its turn after every denoising step and every
second of video when another request waits, so it never holds a short one up for all its length.

Progress and stopping (:mod:`app.progress`): every stage reports how far it is and the time
left, and a request whose :class:`~app.turns.CancelFlag` is set stops at its next report (a
denoising step, a frame) with :class:`~app.turns.Cancelled`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
from matplotlib.figure import Figure

from app.plot import beat_figure
from app.progress import SPANS, Progress, RequestProgress, StageCosts
from app.request import (
    MIN_DANCE_SECONDS,
    DanceSettings,
    InputError,
    Limits,
    check_settings,
    check_song,
    dance_span,
)
from app.turns import CancelFlag, TurnLock
from motionbeat.audio import SAMPLE_RATE, Rhythm, analyse_rhythm
from motionbeat.core import contract
from motionbeat.core.motion import Motion
from motionbeat.metrics.scoring import DanceScore, score_dance
from render import export_motion, render_video
from render.bodies import BODY_NAMES, BodyError, find_smpl_model

log = logging.getLogger(__name__)

# --- defaults --------------------------------------------------------------------------------
DEFAULT_VIDEO_SIZE: int = 512
"""Video width and height, pixels (``render.render_video``'s default)."""
WARM_UP_SECONDS: float = 4.0
"""Length of the click track :meth:`DanceService.warm_up` analyses and dances to."""
WARM_UP_BPM: float = 120.0
WARM_UP_CLICK_S: float = 0.03
WARM_UP_TONE_HZ: float = 1000.0
WARM_UP_LEVEL: float = 0.5
RENDER_TURN_FRAMES: int = contract.FPS
"""Frames a request renders between chances for a waiting request to take its turn (1 s of video)."""

EXPORT_SUFFIXES: tuple[str, ...] = (".npz", ".pkl", ".bvh")
"""Motion files offered for download, in this order (``render.export_motion``)."""
SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
MAX_NAME_CHARS: int = 40

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
    notice: str = ""
    """Why the dance is shorter than asked (cut to the server's limit), or empty."""

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
            **({"notice": self.notice} if self.notice else {}),
        }


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
        self._generate_turns = TurnLock()
        self._render_turns = TurnLock()
        self.costs = StageCosts()
        """Seconds per second of dance of each stage on the requests made (the time-left estimates)."""
        self._active_lock = threading.Lock()
        self._active = 0

    @classmethod
    def from_checkpoint(
        cls, checkpoint: str | os.PathLike, device: str | None = None, **kwargs
    ) -> DanceService:
        """Load ``<checkpoint>.safetensors`` + ``.json`` once and serve it."""
        from generator.sampling.pipeline import DanceGenerator

        return cls(DanceGenerator.load(checkpoint, device=device), **kwargs)

    def default(self, name: str) -> Any:
        """The generator config's default for "steps", "guidance", "beat_guidance", "beat_warp" or
        "style_scale", or None if it has none (a generator without a style input has no
        "style_scale")."""
        field_name = {"steps": "sample_steps", "guidance": "guidance_weight",
                      "beat_guidance": "beat_guidance", "style_scale": "style_scale",
                      "beat_warp": "beat_warp"}[name]
        config = getattr(self.generator, "config", None)
        if name == "style_scale" and not getattr(config, "style_dim", 0):
            return None
        return getattr(config, field_name, None)

    def warm_up(self) -> float:
        """Make one whole request on a short click track; returns the seconds it took.

        The first beat analysis and feature extraction of a process compile librosa's numba
        code (a few seconds), and the first video, score and plot load what they need; doing it
        all at start spares the first visitor the wait. Its files are removed, and its stage
        times are not kept for the time-left estimates (a 1 s dance is mostly fixed costs).
        """
        clock = time.perf_counter()
        t = np.arange(int(WARM_UP_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE  # (N,) s
        since_beat = np.mod(t, 60.0 / WARM_UP_BPM)
        clicks = np.where(since_beat < WARM_UP_CLICK_S, np.sin(2 * np.pi * WARM_UP_TONE_HZ * t), 0.0)
        folder = Path(tempfile.mkdtemp(prefix="warm-up-", dir=self.work_dir))
        try:
            song = folder / "warm-up clicks.wav"
            soundfile.write(song, (WARM_UP_LEVEL * clicks).astype(np.float32), SAMPLE_RATE)
            result = self.generate(song, DanceSettings(duration=MIN_DANCE_SECONDS, steps=1))
            shutil.rmtree(result.folder, ignore_errors=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self.costs = StageCosts()
        return time.perf_counter() - clock

    def close(self) -> None:
        """Remove the work folder if this service made it."""
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def active_requests(self) -> int:
        """Requests being worked on now (a stopped request counts until its work has stopped)."""
        with self._active_lock:
            return self._active

    @contextlib.contextmanager
    def _counted(self) -> Iterator[None]:
        with self._active_lock:
            self._active += 1
        try:
            yield
        finally:
            with self._active_lock:
                self._active -= 1

    def _new_request_dir(self) -> Path:
        purge_old_requests(self.work_dir, self.limits.keep_minutes * 60)
        return Path(tempfile.mkdtemp(prefix="req-", dir=self.work_dir))

    def generate(
        self,
        song: str | os.PathLike | None,
        settings: DanceSettings | None = None,
        progress: Progress | None = None,
        cancel: CancelFlag | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> DanceResult:
        """Make, render, export and score one dance.

        Args:
            song: the song file.
            settings: the request's settings (defaults: the whole song, up to the limit).
            progress: ``progress(fraction, text)``; the text names the stage and the time left.
            cancel: set it (from any thread) to stop the request at its next step or frame.
            notify: called at once with the notice when the dance is cut to the server's limit.
        Raises:
            InputError, AudioError: a request that cannot be served, with a message for people.
            app.turns.Cancelled: ``cancel`` was set; the work stopped and the request's folder is gone.
        """
        flag = cancel or CancelFlag()
        track = RequestProgress(progress, self.costs, flag)
        with self._counted():
            folder = self._new_request_dir()
            try:
                return self._make(song, settings or DanceSettings(), track, flag, notify, folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)  # nothing of a failed or stopped request stays
                raise

    def _make(
        self,
        song: str | os.PathLike | None,
        settings: DanceSettings,
        track: RequestProgress,
        flag: CancelFlag,
        notify: Callable[[str], None] | None,
        folder: Path,
    ) -> DanceResult:
        track.stage("check")
        settings = check_settings(settings, self.bodies)
        if settings.style_scale is not None and self.default("style_scale") is None:
            raise InputError("This server's generator has no style input, so the style spread "
                             "cannot be set; leave it empty.")
        audio = check_song(song, self.limits)
        song = Path(song)
        span = dance_span(audio.duration, settings, self.limits, song.name)
        track.dance_seconds = span.duration
        if span.notice:
            log.info("%s", span.notice)
            if notify is not None:
                notify(span.notice)
        track.report(0.5, "finding the beats")
        rhythm = analyse_rhythm(audio, tempo_hint=settings.bpm)

        steps = settings.steps or self.default("steps")
        if self._generate_turns.busy():
            track.note(SPANS["features"][0], "waiting for the generator (another request is using it)")
        with self._generate_turns.turn(flag) as turn:
            track.stage("features")

            def sampled(stage: str, fraction: float) -> None:
                if stage == "sampling":
                    if track.current != "sampling":
                        track.stage("sampling")
                    done = round(fraction * steps) if steps else 0
                    track.report(fraction, f"step {done} of {steps}" if steps else "")
                    turn.pass_turn()
                else:
                    track.report(fraction)

            motion = self.generator.generate(
                audio,  # the decoded song: the generator takes a path or an Audio
                seed=settings.seed,
                steps=settings.steps,
                guidance=settings.guidance,
                start=span.start,
                duration=span.duration,
                progress=sampled,
                foot_lock=settings.foot_lock,
                beat_guidance=settings.beat_guidance,
                bpm=settings.bpm,
                style_scale=settings.style_scale,
                beat_warp=settings.beat_warp,
            )
        motion = replace(
            motion,
            source_song=song.name,  # never the server's temporary path
            meta={**motion.meta, "app": {"seed": settings.seed, "steps": settings.steps,
                                         "guidance": settings.guidance, "body": settings.body,
                                         "foot_lock": settings.foot_lock,
                                         "beat_guidance": settings.beat_guidance,
                                         "bpm": settings.bpm, "style_scale": settings.style_scale,
                                         "beat_warp": settings.beat_warp}},
        )

        stem = f"{safe_stem(song.name)}_dance_seed{settings.seed}"
        if self._render_turns.busy():
            track.note(SPANS["render"][0], "waiting for the renderer (another request is using it)")
        with self._render_turns.turn(flag) as turn:
            track.stage("render")

            def drawn(done: int, total: int) -> None:
                track.report(done / max(total, 1), f"frame {done} of {total}")
                if done % RENDER_TURN_FRAMES == 0:
                    turn.pass_turn()

            video = render_video(
                motion,
                song,
                folder / f"{stem}.mp4",
                body=settings.body,
                size=self.video_size,
                progress=drawn,
                beats=rhythm.beat_times,
                workers=1,
            )

        track.stage("finish")
        files = tuple(export_motion(motion, folder / f"{stem}{suffix}") for suffix in EXPORT_SUFFIXES)
        score = score_dance(motion, rhythm, name=song.name)
        figure = beat_figure(motion, rhythm, score)
        track.done()
        seconds = track.seconds
        timings = {
            "check_s": seconds.get("check", 0.0),
            "generate_s": seconds.get("features", 0.0) + seconds.get("sampling", 0.0),
            "render_s": seconds.get("render", 0.0),
            "finish_s": seconds.get("finish", 0.0),
        }
        log.info("%s: %.1f s of dance, seed %d, %s", song.name, motion.duration, settings.seed,
                 ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
        return DanceResult(video, files, motion, rhythm, score, figure, folder, timings, span.notice)
