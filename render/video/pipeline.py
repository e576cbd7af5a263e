"""The render pipeline: check the inputs, render a dance's frames into the encoder, write files.

:func:`render_video` turns a motion (+ song) into a browser-ready ``.mp4``, in one process or
in parallel pieces (:mod:`render.video.parallel`); :func:`render_frame_image` writes one frame
to a PNG.

Every output is written to a temporary name beside the target and renamed on success
(:func:`motionbeat.core.fileio.atomic_path`): a failure never leaves a half-written mp4.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.core.motion import Motion, MotionFileError, load_motion
from render.bodies import BODY_NAMES, Body, BodyError, make_body
from render.export import publish_permissions
from render.scene.errors import RenderError
from render.scene.stage import DEFAULT_SIZE, MAX_SIZE, DanceScene
from render.video.ffmpeg import X264_CRF, FrameEncoder, probe
from render.video.parallel import _Job, _render_parallel, default_workers

MAX_CRF = 51
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")

Progress = bool | Callable[[int, int], None]


def _check_inputs(
    motion: Motion | str | os.PathLike, audio_path, out_path, body, size: int
) -> tuple[Motion, Path | None, Path]:
    if not isinstance(motion, Motion):
        try:
            motion = load_motion(motion)
        except MotionFileError as err:
            raise RenderError(str(err)) from None
    audio = None
    if audio_path is not None:
        audio = Path(audio_path)
        if not audio.is_file():
            raise RenderError(f"{audio}: no such audio file")
        try:
            has_audio = probe(audio).audio_codec is not None
        except RenderError:
            has_audio = False
        if not has_audio:
            raise RenderError(f"{audio}: not an audio file ffmpeg can read (no audio stream)")
    out = Path(out_path)
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise RenderError(f"{out.name}: the video must end in {', '.join(VIDEO_SUFFIXES)}")
    if out.is_dir():
        raise RenderError(f"{out}: is a folder; give a file name such as {out / 'dance.mp4'}")
    if isinstance(body, str) and body not in BODY_NAMES:
        raise RenderError(f"unknown body {body!r}; choose one of {', '.join(BODY_NAMES)}")
    if not isinstance(size, int | np.integer) or size % 2 or not 16 <= size <= MAX_SIZE:
        raise RenderError(
            f"size must be an even number of pixels from 16 to {MAX_SIZE}, got {size!r}"
        )
    _check_writable(out)
    return motion, audio, out


def _check_writable(out: Path) -> None:
    """Fail before rendering if ``out``'s folder cannot be made or written."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=".render-check-"):
            pass
    except OSError as err:
        raise RenderError(f"cannot write {out}: {err.strerror or err}") from None


def _progress_bar(progress: Progress, total: int):
    """A callable(done) that reports progress, and a closer."""
    if callable(progress):
        return (lambda done: progress(done, total)), (lambda: None)
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="frame", desc="render", dynamic_ncols=True)

        def update(done):
            bar.update(done - bar.n)

        return update, bar.close
    return (lambda done: None), (lambda: None)


def render_video(
    motion: Motion | str | os.PathLike,
    audio_path: str | os.PathLike | None,
    out_path: str | os.PathLike,
    body: str | Body = "mannequin",
    size: int = DEFAULT_SIZE,
    progress: Progress = False,
    *,
    beats: Sequence[float] | None = None,
    contacts: bool = False,
    smpl_path: str | os.PathLike | None = None,
    fps: float = contract.FPS,
    workers: int | None = None,
    crf: int = X264_CRF,
) -> Path:
    """Render a dance to an H.264 + AAC ``.mp4`` with its song; returns the output path.

    Args:
        motion: a :class:`Motion` or a file :func:`load_motion` reads (.npz, AIST++ .pkl).
        audio_path: the song (any format ffmpeg reads), or None for a silent video. It is
            seeked to ``motion.start_offset`` and cut at the end of the motion.
        out_path: .mp4 to write (atomically; folders are created).
        body: "mannequin" (default, no licensed files), "smpl" (needs ``smpl_path`` or
            ``$MOTIONBEAT_SMPL_DIR``), "skeleton", or a :class:`render.bodies.Body`.
        size: frame width and height in pixels (even); 512 by default, 1024 for high quality.
        progress: True for a tqdm bar on stderr, or a callable(done, total).
        beats: beat times in seconds of the song, flashed on the floor.
        contacts: colour the feet while they are in contact.
        smpl_path: SMPL model file or folder for ``body="smpl"``.
        fps: video frame rate; the motion is resampled to it (AIST++ files are 60 fps).
        workers: processes rendering in parallel; by default 2 for dances of at least
            :data:`PARALLEL_MIN_SECONDS` on a machine with 2 or more cores, else 1. Helper
            processes are spawned: call this under ``if __name__ == "__main__":`` in scripts
            (otherwise their pieces are rendered by the calling process).
        crf: x264 quality, 0 (lossless) to 51; 20 by default.
    """
    motion, audio, out = _check_inputs(motion, audio_path, out_path, body, size)
    if not 0 <= int(crf) <= MAX_CRF:
        raise RenderError(f"crf must be from 0 to {MAX_CRF}, got {crf}")
    job = _Job(motion.resampled(fps), int(size), beats, contacts, int(crf))
    if workers is None:
        workers = default_workers(job.motion.duration)
    workers = max(1, min(int(workers), job.motion.num_frames))
    if workers > 1 and not isinstance(body, str):
        workers = 1  # body objects are rebuilt by name in each process
    try:
        body_obj = make_body(body, smpl_path=smpl_path) if isinstance(body, str) else body
    except BodyError as err:
        raise RenderError(str(err)) from None
    update, finish = _progress_bar(progress, job.motion.num_frames)
    try:
        with atomic_path(out) as tmp:
            if workers == 1:
                _render_one_process(job, body_obj, audio, tmp, update)
            else:
                spec = (body, None if smpl_path is None else str(smpl_path))
                _render_parallel(job, spec, body_obj, audio, tmp, workers, update)
            publish_permissions(tmp)
    except PermissionError as err:
        raise RenderError(f"cannot write {out}: {err.strerror or err}") from None
    finally:
        finish()
    return out


def _render_one_process(job: _Job, body: Body, audio, tmp, update) -> None:
    motion = job.motion
    with (
        DanceScene(body, job.size) as scene,
        FrameEncoder(
            tmp,
            (job.size, job.size),
            motion.fps,
            audio,
            motion.start_offset,
            duration=motion.duration,
            crf=job.crf,
        ) as encoder,
    ):
        frames = scene.frames(motion, beats=job.beats, contacts=job.contacts)
        for done, frame in enumerate(frames, start=1):
            encoder.write(frame)
            update(done)


def render_frame_image(
    motion: Motion,
    frame: int,
    out_path: str | os.PathLike,
    body: str | Body = "mannequin",
    size: int = DEFAULT_SIZE,
    smpl_path: str | os.PathLike | None = None,
    contacts: bool = False,
) -> Path:
    """Render one frame of a dance (camera planned on the whole dance) to a PNG."""
    import imageio.v3 as iio

    body_obj = make_body(body, smpl_path=smpl_path) if isinstance(body, str) else body
    with DanceScene(body_obj, size) as scene:
        image = next(scene.frames(motion, contacts=contacts, start=frame, stop=frame + 1))
    out = Path(out_path)
    with atomic_path(out) as tmp:
        iio.imwrite(tmp, np.ascontiguousarray(image), extension=".png")
        publish_permissions(tmp)
    return out
