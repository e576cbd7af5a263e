"""The Gradio page and API around :class:`app.service.DanceService`.

:func:`build_app` lays out the page; its Generate button is also the API endpoint
``/generate`` (song file first, video first in the result). :func:`launch` starts the server
with the queue, the upload limit, the cache clean-up and no analytics.

The Generate callback is a coroutine that runs :meth:`DanceService.generate` on a worker thread,
so a request can be stopped: gradio cancels the coroutine when Stop is pressed (or a client
calls ``/cancel``, e.g. ``gradio_client``'s ``job.cancel()``), and the page's unload event fires
when its tab is closed or reloaded (the session's heartbeat ends); either sets the request's
:class:`~app.turns.CancelFlag`, and the work stops at its next denoising step or frame and
removes its files. (A plain function would keep running on its thread after a cancel: gradio
cannot stop a thread.)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

import gradio as gr  # noqa: E402
import soundfile  # noqa: E402

from app.request import (  # noqa: E402
    BYTES_PER_MB,
    MAX_BEAT_GUIDANCE,
    MAX_BEAT_WARP,
    MAX_BPM,
    MAX_GUIDANCE,
    MAX_SEED,
    MAX_STEPS,
    MAX_STYLE_SCALE,
    SUPPORTED_SUFFIXES,
    DanceSettings,
    InputError,
    format_seconds,
)
from app.service import DanceService  # noqa: E402
from app.turns import CancelFlag, Cancelled  # noqa: E402
from app.viewer import VIEWER_DIR, dance_3d, viewer_components  # noqa: E402
from motionbeat.audio import AudioError  # noqa: E402
from motionbeat.metrics.scoring import ScoringError  # noqa: E402

log = logging.getLogger(__name__)

TITLE = "MotionBeat: music to dance"
API_NAME = "generate"
"""The Generate button's API endpoint: ``client.predict(handle_file(song), api_name="/generate")``."""
EXAMPLES_DIR: Path = Path(__file__).resolve().parent.parent / "examples"
"""Bundled example songs (the repository's ``examples/``; absent from a wheel install)."""
EXAMPLE_SUFFIXES: tuple[str, ...] = (".ogg", ".wav", ".mp3", ".flac")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_CONCURRENCY = 4
"""Requests worked on at once; sampling and rendering are each one request's turn at a time, and a
long request passes its turn between steps and seconds of video (see app.service), so one or two
whole-song requests never hold up the rest of the queue."""
MAX_QUEUE = 32
"""Requests that may wait in the queue; more are turned away with a 'queue full' message."""
CACHE_SWEEP_S = 600
"""How often gradio's upload / output cache is swept for files older than the keep time."""
PLOT_LABEL = "Music beats and motion beats"
GUIDANCE_STEP = 0.1
BEAT_GUIDANCE_STEP = 0.005
STYLE_SCALE_STEP = 0.25
BEAT_WARP_STEP = 0.05
FALLBACK_DEFAULTS: dict[str, float] = {"guidance": 2.0, "steps": 10, "beat_guidance": 0.0,
                                       "style_scale": 0.0, "beat_warp": 0.0}
"""Settings shown when the generator names no defaults (EDGE's guidance; 10 DDIM steps; beat
guidance and beat warp off; no style input: its slider is hidden and its 0 means "not set")."""


def _intro(service: DanceService) -> str:
    limits = service.limits
    kinds = ", ".join(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
    return (
        f"# {TITLE}\n"
        "Upload a song, record one, or pick an example, then press **Generate**: you get a video of a "
        "dancer moving to it, the motion as `.npz`, AIST++ `.pkl` and `.bvh` (Blender), the beat "
        "alignment score (BAS, higher is better) and the physical foot contact score (PFC, lower is "
        "better).\n\n"
        f"Songs: {kinds}; up to {limits.max_upload_mb:g} MB. The dance lasts the whole song, up to "
        f"{format_seconds(limits.max_duration)}: a longer song is danced for its first "
        f"{format_seconds(limits.max_duration)} (choose another part with *start* and *duration*)."
    )


def _setting_default(service: DanceService, name: str) -> float:
    """The model's default guidance, steps, beat guidance or style spread (the value shown and the
    API's default)."""
    value = service.default(name)
    return FALLBACK_DEFAULTS[name] if value is None else value


def _example_label(path: Path) -> str:
    """'waltz 3-4 (22 s)' for examples/waltz_3-4.ogg."""
    try:
        seconds = f" ({soundfile.info(str(path)).duration:.0f} s)"
    except (RuntimeError, soundfile.LibsndfileError):
        seconds = ""
    return path.stem.replace("_", " ") + seconds


def _example_songs(examples_dir: Path | None) -> list[Path]:
    if examples_dir is None or not examples_dir.is_dir():
        return []
    return sorted(p for p in examples_dir.iterdir() if p.suffix.lower() in EXAMPLE_SUFFIXES)


class RunningRequests:
    """The cancel flags of the requests under way, by session (a browser tab or a client); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: dict[str, set[CancelFlag]] = {}

    def add(self, session: str, flag: CancelFlag) -> None:
        with self._lock:
            self._flags.setdefault(session, set()).add(flag)

    def discard(self, session: str, flag: CancelFlag) -> None:
        with self._lock:
            flags = self._flags.get(session, set())
            flags.discard(flag)
            if not flags:
                self._flags.pop(session, None)

    def cancel_session(self, session: str) -> int:
        """Stop every request of ``session``; returns how many there were."""
        with self._lock:
            flags = self._flags.pop(session, set())
        for flag in flags:
            flag.set()
        return len(flags)


def _show_notice(text: str) -> None:
    """A notice toast on the page at once (it stays until closed); the API gets it in the scores."""
    gr.Warning(text, duration=None, title="Dance cut to the limit")


def make_handler(
    service: DanceService, concurrency: int = DEFAULT_CONCURRENCY, running: RunningRequests | None = None
):
    """The Generate callback: song path and settings in; video, files, scores and plot out.

    ``running`` collects each request's cancel flag under its session (for the unload event).
    """
    workers = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dance")
    running = running if running is not None else RunningRequests()

    async def generate(
        song: str | None,
        start: float | None = 0.0,
        duration: float | None = 0.0,
        seed: float | None = 0,
        guidance: float | None = None,
        steps: float | None = None,
        body: str | None = None,
        foot_lock: bool | None = True,
        beat_lock: float | None = None,
        bpm: float | None = None,
        style_scale: float | None = None,
        beat_warp: float | None = None,
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - gradio's documented idiom
    ) -> tuple[str, list[str], dict[str, Any], Any]:
        settings = DanceSettings(
            start=start, duration=duration, seed=seed, guidance=guidance, steps=steps, body=body or "",
            foot_lock=foot_lock, beat_guidance=beat_lock, bpm=bpm,
            style_scale=None if service.default("style_scale") is None and not style_scale else style_scale,
            beat_warp=beat_warp,
        )
        flag = CancelFlag()
        session = getattr(request, "session_hash", None) or ""
        running.add(session, flag)
        work = functools.partial(
            service.generate, song, settings, progress=lambda f, desc: progress(f, desc=desc), cancel=flag,
            notify=_show_notice,
        )
        # gradio's progress and warnings find their request through context variables: copy them over
        job = asyncio.get_running_loop().run_in_executor(workers, contextvars.copy_context().run, work)
        try:
            result = await asyncio.shield(job)
        except asyncio.CancelledError:  # Stop pressed or /cancel called: stop the work, then let go
            flag.set()
            with contextlib.suppress(Exception):
                await job
            log.info("stopped by the user: %s", song)
            raise
        except Cancelled:
            log.info("stopped, the page was left: %s", song)
            raise gr.Error("The request was stopped.", title="Stopped", print_exception=False) from None
        except (InputError, AudioError, ScoringError) as err:
            log.info("refused: %s", err)
            raise gr.Error(str(err), title="Cannot make this dance", print_exception=False) from None
        except Exception as err:  # a bug or a broken file deep inside: keep serving, say so
            log.exception("generation failed for %s", song)
            raise gr.Error(
                f"Something went wrong while making the dance ({type(err).__name__}: {err}). "
                "Please try another song or other settings.",
                title="Generation failed",
                print_exception=False,  # logged above with its traceback
            ) from None
        finally:
            running.discard(session, flag)
        return str(result.video), [str(p) for p in result.files], result.scores(), result.figure

    return generate


def _notice_text(scores: dict[str, Any] | None) -> str:
    """The notice shown above the video: why the dance is shorter than the song (or nothing)."""
    notice = (scores or {}).get("notice")
    return f"**Note:** {notice}" if notice else ""


def build_app(
    service: DanceService,
    concurrency: int = DEFAULT_CONCURRENCY,
    examples_dir: Path | None = EXAMPLES_DIR,
) -> gr.Blocks:
    """The page: song and settings on the left, the dance and its scores on the right."""
    limits = service.limits
    delete_after_s = int(limits.keep_minutes * 60)
    sweep_s = min(CACHE_SWEEP_S, delete_after_s)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(sweep_s, delete_after_s)) as demo:
        gr.Markdown(_intro(service))
        with gr.Row():
            with gr.Column(scale=1):
                song = gr.Audio(
                    sources=["upload", "microphone"],
                    type="filepath",
                    label="Song",
                    elem_id="song",
                    buttons=["download"],
                )
                examples = _example_songs(examples_dir)
                if examples:
                    gr.Examples(
                        examples=[[str(p)] for p in examples],
                        inputs=[song],
                        example_labels=[_example_label(p) for p in examples],
                        label="Example songs",
                    )
                with gr.Accordion("Settings", open=True):
                    with gr.Row():
                        start = gr.Number(0.0, label="Start (s)", minimum=0, step=0.5)
                        duration = gr.Number(
                            0.0,
                            label="Duration (s)",
                            info=f"0: the whole song; longer than {format_seconds(limits.max_duration)} "
                            "is cut to it",
                            minimum=0,
                            step=0.5,
                        )
                        seed = gr.Number(
                            0,
                            label="Seed",
                            info="same seed: same dance",
                            precision=0,
                            minimum=0,
                            maximum=MAX_SEED,
                        )
                    with gr.Row():
                        guidance = gr.Slider(
                            0.0,
                            MAX_GUIDANCE,
                            value=_setting_default(service, "guidance"),
                            step=GUIDANCE_STEP,
                            label="Guidance",
                            info="how strongly the music steers the dance (0: not at all)",
                        )
                        steps = gr.Slider(
                            1,
                            MAX_STEPS,
                            value=_setting_default(service, "steps"),
                            step=1,
                            label="Sampling steps",
                            info="more: slower, often cleaner",
                        )
                    with gr.Row():
                        beat_lock = gr.Slider(
                            0.0,
                            MAX_BEAT_GUIDANCE,
                            value=_setting_default(service, "beat_guidance"),
                            step=BEAT_GUIDANCE_STEP,
                            label="Beat lock",
                            info="settle the upper body on the beats (0: off; 0.02: about as locked "
                                 "as the recorded dancers; 0.1: stiff)",
                        )
                        bpm = gr.Number(
                            0,
                            minimum=0,
                            maximum=MAX_BPM,
                            label="Tempo (BPM)",
                            info="0: found from the music; set it when the dance moves at half or "
                                 "double the song's speed",
                        )
                        style_scale = gr.Slider(
                            0.0,
                            MAX_STYLE_SCALE,
                            value=_setting_default(service, "style_scale"),
                            step=STYLE_SCALE_STEP,
                            label="Style spread",
                            info="how far the dancer's energy (travel, bounce, arms, legs) may stray "
                                 "from what the music suggests (0: the music's typical dancer)",
                            visible=service.default("style_scale") is not None,
                        )
                        beat_warp = gr.Slider(
                            0.0,
                            MAX_BEAT_WARP,
                            value=_setting_default(service, "beat_warp"),
                            step=BEAT_WARP_STEP,
                            label="Beat timing",
                            info="retime the dance so the body's accents land on the beats, each "
                                 "moved at most this many beats (0: the model's timing; 0.5: every "
                                 "accent it can)",
                        )
                    with gr.Row():
                        body = gr.Radio(list(service.bodies), value=service.bodies[0], label="Body")
                        foot_lock = gr.Checkbox(
                            True,
                            label="Hold planted feet",
                            info="clean foot sliding with leg IK (off: the model's raw output)",
                        )

                with gr.Row():
                    button = gr.Button("Generate", variant="primary", elem_id="generate", scale=3)
                    stop = gr.Button("Stop", variant="stop", elem_id="stop", scale=1)
            with gr.Column(scale=1):
                notice = gr.Markdown("", elem_id="notice")
                video = gr.Video(
                    label="Dance", interactive=False, elem_id="dance-video", buttons=["download"]
                )
                view_3d, glb_file = viewer_components()  # the dance in 3D, beside the video
                scores = gr.JSON(label="Scores", elem_id="scores")
                plot = gr.Plot(label=PLOT_LABEL, show_label=False, elem_id="beat-plot")
                files = gr.File(
                    label="Motion files (.npz, .pkl, .bvh)",
                    file_count="multiple",
                    interactive=False,
                    elem_id="motion-files",
                )
        running = RunningRequests()
        button.click(lambda: "", None, notice, queue=False, api_visibility="private")  # a new request
        event = button.click(
            make_handler(service, concurrency, running),
            inputs=[song, start, duration, seed, guidance, steps, body, foot_lock, beat_lock, bpm,
                    style_scale, beat_warp],
            outputs=[video, files, scores, plot],
            api_name=API_NAME,
            concurrency_limit=concurrency,
            concurrency_id=API_NAME,
        )
        event.success(_notice_text, scores, notice, queue=False, api_visibility="private")
        event.success(dance_3d, [files, body], [view_3d, glb_file], api_visibility="private")
        stop.click(None, None, None, cancels=[event])

        def left(request: gr.Request) -> None:
            """The tab was closed or reloaded (its heartbeat ended): stop its requests."""
            if stopped := running.cancel_session(request.session_hash):
                log.info("a page was left: stopping its %d request(s)", stopped)

        demo.unload(left)
    demo.queue(default_concurrency_limit=concurrency, max_size=MAX_QUEUE)
    return demo


def launch(
    service: DanceService,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    concurrency: int = DEFAULT_CONCURRENCY,
    block: bool = True,
    examples_dir: Path | None = EXAMPLES_DIR,
) -> gr.Blocks:
    """Build the page and serve it; with ``block=False`` return at once (close with ``.close()``)."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    demo = build_app(service, concurrency, examples_dir)
    allowed = [str(service.work_dir)]
    if examples_dir is not None and examples_dir.is_dir():
        allowed.append(str(examples_dir))
    allowed.append(str(VIEWER_DIR))  # the 3D view's script and its vendored three.js
    demo.launch(
        server_name=host,
        server_port=port,
        max_file_size=int(service.limits.max_upload_mb * BYTES_PER_MB),
        allowed_paths=allowed,
        prevent_thread_lock=not block,
        show_error=True,
        enable_monitoring=False,
        run_history=False,  # no run history page (it can upload runs to a Hugging Face bucket)
        ssr_mode=False,
        share=False,
        quiet=not block,
    )
    return demo
