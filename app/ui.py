"""The Gradio page and API around :class:`app.service.DanceService`.

:func:`build_app` lays out the page; its Generate button is also the API endpoint
``/generate`` (song file first, video first in the result). :func:`launch` starts the server
with the queue, the upload limit, the cache clean-up and no analytics.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

import gradio as gr  # noqa: E402
import soundfile  # noqa: E402

from app.request import (  # noqa: E402
    BYTES_PER_MB,
    MAX_GUIDANCE,
    MAX_SEED,
    MAX_STEPS,
    SUPPORTED_SUFFIXES,
    DanceSettings,
    InputError,
)
from app.service import DanceService  # noqa: E402
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
DEFAULT_CONCURRENCY = 2
"""Requests worked on at once; sampling and rendering each run one at a time (see app.service)."""
MAX_QUEUE = 32
"""Requests that may wait in the queue; more are turned away with a 'queue full' message."""
CACHE_SWEEP_S = 600
"""How often gradio's upload / output cache is swept for files older than the keep time."""
PLOT_LABEL = "Music beats and motion beats"
GUIDANCE_STEP = 0.1
FALLBACK_DEFAULTS: dict[str, float] = {"guidance": 2.0, "steps": 10}
"""Guidance and steps shown when the generator names no defaults (EDGE's guidance; 10 DDIM steps)."""


def _intro(service: DanceService) -> str:
    limits = service.limits
    kinds = ", ".join(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
    return (
        f"# {TITLE}\n"
        "Upload a song, record one, or pick an example, then press **Generate**: you get a video of a "
        "dancer moving to it, the motion as `.npz`, AIST++ `.pkl` and `.bvh` (Blender), the beat "
        "alignment score (BAS, higher is better) and the physical foot contact score (PFC, lower is "
        "better).\n\n"
        f"Songs: {kinds}; up to {limits.max_upload_mb:g} MB. Dances: up to {limits.max_seconds:g} s "
        "(choose the part with *start* and *duration*)."
    )


def _setting_default(service: DanceService, name: str) -> float:
    """The model's default guidance or steps (the value shown and the API's default)."""
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


def make_handler(service: DanceService):
    """The Generate callback: song path and settings in; video, files, scores and plot out."""

    def generate(
        song: str | None,
        start: float | None = 0.0,
        duration: float | None = 0.0,
        seed: float | None = 0,
        guidance: float | None = None,
        steps: float | None = None,
        body: str | None = None,
        foot_lock: bool | None = True,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - gradio's documented idiom
    ) -> tuple[str, list[str], dict[str, Any], Any]:
        settings = DanceSettings(
            start=start, duration=duration, seed=seed, guidance=guidance, steps=steps, body=body or "",
            foot_lock=foot_lock,
        )
        try:
            result = service.generate(song, settings, progress=lambda f, desc: progress(f, desc=desc))
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
        return str(result.video), [str(p) for p in result.files], result.scores(), result.figure

    return generate


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
                            info=f"0: to the end of the song; at most {limits.max_seconds:g} s",
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
                        body = gr.Radio(list(service.bodies), value=service.bodies[0], label="Body")
                        foot_lock = gr.Checkbox(
                            True,
                            label="Hold planted feet",
                            info="clean foot sliding with leg IK (off: the model's raw output)",
                        )
                button = gr.Button("Generate", variant="primary", elem_id="generate")
            with gr.Column(scale=1):
                video = gr.Video(
                    label="Dance", interactive=False, elem_id="dance-video", buttons=["download"]
                )
                scores = gr.JSON(label="Scores", elem_id="scores")
                plot = gr.Plot(label=PLOT_LABEL, show_label=False, elem_id="beat-plot")
                files = gr.File(
                    label="Motion files (.npz, .pkl, .bvh)",
                    file_count="multiple",
                    interactive=False,
                    elem_id="motion-files",
                )
        button.click(
            make_handler(service),
            inputs=[song, start, duration, seed, guidance, steps, body, foot_lock],
            outputs=[video, files, scores, plot],
            api_name=API_NAME,
            concurrency_limit=concurrency,
            concurrency_id=API_NAME,
        )
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
