"""The web app's library: check a request, make the dance, render it, score it, clean up.

Nothing here imports gradio; :mod:`app.ui` wraps :class:`DanceService` in a page and an API.

One request, :meth:`DanceService.generate`:

1. The checks of :mod:`app.request`: :func:`~app.request.check_song` decodes the song;
   :func:`~app.request.check_settings` and :func:`~app.request.dance_span` put the settings and
   the dance's span in range, or raise :class:`~app.request.InputError` saying why not.
2. The generator (one model, loaded once, shared by all requests) makes the motion.
3. ``render.render_video`` draws it with the song; ``render.export_motion`` writes ``.npz``,
   ``.pkl`` and ``.bvh``; ``motionbeat.metrics.scoring.score_dance`` gives BAS and PFC and
   :func:`app.plot.beat_figure` the beat plot.

Each request writes into its own folder under the service's work folder;
:func:`purge_old_requests` removes folders older than :attr:`Limits.keep_minutes`.

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
from app.request import (
    MIN_DANCE_SECONDS,
    DanceSettings,
    Limits,
    check_settings,
    check_song,
    dance_span,
)
from motionbeat.audio import SAMPLE_RATE, Rhythm, analyse_rhythm, audio_from_array
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
