"""Video: rendered frames piped into ffmpeg as H.264 + AAC with the song, ready for browsers.

The ffmpeg binary is the one imageio-ffmpeg ships (no system ffmpeg needed), called with
argument lists only. Raw RGB frames go to its stdin; the song is read from its file and
seeked to the motion's ``start_offset`` (``-ss`` before ``-i``: frame 0 plays with the song
at that time; a negative offset delays the song instead, ``adelay``). The audio is padded with
silence only up to the end of the motion and cut there (``apad`` + ``-shortest``), so the
video is exactly as long as the dance. ``-movflags +faststart`` puts the index first so a
browser can start playing before the download ends; ``yuv420p`` is what browsers decode.

Every output is written to a temporary name beside the target and renamed on success
(:func:`motionbeat.core.fileio.atomic_path`): a failure never leaves a half-written mp4. Paths go
to ffmpeg as ``file:`` URLs, so names with spaces, colons or non-ASCII letters are safe.

Long dances render in parallel processes (:func:`render_video` ``workers``): the dance is cut
into pieces of a few seconds that the processes (each with its own EGL context) take first
come, first served; each piece is encoded on its own and ffmpeg's concat demuxer joins them
without re-encoding while it muxes the song.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.core.motion import Motion, MotionFileError, load_motion
from render.bodies import BODY_NAMES, Body, BodyError, make_body
from render.export import publish_permissions
from render.scene import DEFAULT_SIZE, MAX_SIZE, DanceScene, RenderError, plan_dance

X264_PRESET = "veryfast"
X264_CRF = 20
MAX_CRF = 51
AUDIO_CODEC = "aac"
AUDIO_BITRATE = "192k"
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")
PARALLEL_MIN_SECONDS = 30.0
"""Dances shorter than this render in one process: starting a second one costs seconds."""
PROGRESS_POLL_S = 0.2
PIECES_PER_WORKER = 4
MIN_PIECE_SECONDS = 2.0
MAX_PIECE_SECONDS = 10.0

Progress = bool | Callable[[int, int], None]


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by imageio-ffmpeg."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _url(path: str | os.PathLike) -> str:
    """An ffmpeg ``file:`` URL: no protocol guessing from colons, no option parsing of '-'."""
    return "file:" + str(Path(path).resolve())


def _audio_args(audio: Path | None, offset: float) -> tuple[list[str], list[str]]:
    """(input args, output args) that add ``audio`` from ``offset`` seconds as AAC, or none."""
    if audio is None:
        return [], []
    filters = ["apad"]
    inputs = ["-i", _url(audio)]
    if offset > 0:
        inputs = ["-ss", f"{offset:.6f}", *inputs]
    elif offset < 0:
        filters.insert(0, f"adelay=delays={round(-offset * 1000)}:all=1")
    outputs = [
        "-map",
        "1:a:0",
        "-c:a",
        AUDIO_CODEC,
        "-b:a",
        AUDIO_BITRATE,
        "-af",
        ",".join(filters),
        "-shortest",
    ]
    return inputs, outputs


def _run_ffmpeg(args: list[str], what: str) -> None:
    """Run ffmpeg to completion; raise :class:`RenderError` with its message on failure."""
    proc = subprocess.run([ffmpeg_exe(), *args], capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise RenderError(f"ffmpeg failed while {what}: {_ffmpeg_message(proc.stderr)}")


def _ffmpeg_message(stderr: str) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return " | ".join(lines[-4:]) if lines else "no message"


class FrameEncoder:
    """Pipe (H, W, 3) uint8 RGB frames into ffmpeg; a context manager.

    Args:
        path: output file (write it through ``atomic_path``; this class writes where told).
        size: (width, height), both even (yuv420p).
        fps: frame rate.
        audio: song file to mux, or None for a silent video.
        audio_offset: seconds into the song at which frame 0 plays.
        duration: seconds of video; the audio is cut (or padded with silence) to it.
        faststart: move the index to the front (for files a browser will stream).
        crf: x264 constant rate factor, 0 (lossless) to 51; :data:`X264_CRF` by default.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        size: tuple[int, int],
        fps: float,
        audio: Path | None = None,
        audio_offset: float = 0.0,
        duration: float | None = None,
        faststart: bool = True,
        crf: int = X264_CRF,
    ):
        width, height = size
        if width % 2 or height % 2:
            raise RenderError(f"H.264 in yuv420p needs even frame sizes, got {width}x{height}")
        self.size = (width, height)
        self.frames_written = 0
        audio_in, audio_out = _audio_args(audio, audio_offset)
        args = [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{width}x{height}",
            "-framerate",
            f"{fps:g}",
            "-i",
            "pipe:0",
            *audio_in,
            "-map",
            "0:v:0",
            "-c:v",
            "libx264",
            "-preset",
            X264_PRESET,
            "-crf",
            str(int(crf)),
            "-pix_fmt",
            "yuv420p",
            *audio_out,
        ]
        if duration is not None:
            args += ["-t", f"{duration:.6f}"]
        if faststart:
            args += ["-movflags", "+faststart"]
        args.append(_url(path))
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the encoder
        self._proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr
        )

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 frame."""
        width, height = self.size
        if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
            raise RenderError(
                f"frames must be ({height}, {width}, 3) uint8, got {frame.shape} {frame.dtype}"
            )
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except (BrokenPipeError, OSError):
            self._proc.wait()
            raise RenderError(f"ffmpeg stopped while encoding: {self._message()}") from None
        self.frames_written += 1

    def _message(self) -> str:
        self._stderr.seek(0)
        return _ffmpeg_message(self._stderr.read().decode("utf-8", "replace"))

    def close(self) -> None:
        """Finish the file; raise :class:`RenderError` if ffmpeg failed."""
        if self._proc.stdin and not self._proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError, OSError):
                self._proc.stdin.close()
        code = self._proc.wait()
        message = self._message()
        self._stderr.close()
        if code != 0:
            raise RenderError(f"ffmpeg failed (exit {code}): {message}")

    def abort(self) -> None:
        """Stop ffmpeg without finishing the file."""
        with contextlib.suppress(Exception):
            self._proc.kill()
            self._proc.wait()
            self._stderr.close()

    def __enter__(self) -> FrameEncoder:
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()


# ------------------------------------------------------------------------------- probing


@dataclass(frozen=True)
class VideoInfo:
    """What ffmpeg reports about a media file."""

    duration: float
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    pix_fmt: str | None


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read duration, codecs, size and frame rate of a media file from ``ffmpeg -i``."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", _url(path)],
        capture_output=True,
        text=True,
        errors="replace",
    )
    text = proc.stderr
    dur = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", text)
    if dur is None:
        raise RenderError(f"{path}: not a media file ffmpeg can read ({_ffmpeg_message(text)})")
    duration = int(dur[1]) * 3600 + int(dur[2]) * 60 + float(dur[3])
    video = re.search(r"Stream #\S+.*?: Video: (\w+).*?, (\w+)(?:\(.*?\))?, (\d+)x(\d+)", text)
    fps = re.search(r"Video: .*?, ([\d.]+) fps", text)
    audio = re.search(r"Stream #\S+.*?: Audio: (\w+)", text)
    return VideoInfo(
        duration=duration,
        video_codec=video[1] if video else None,
        audio_codec=audio[1] if audio else None,
        width=int(video[3]) if video else None,
        height=int(video[4]) if video else None,
        fps=float(fps[1]) if fps else None,
        pix_fmt=video[2] if video else None,
    )


def mp4_top_level_boxes(path: str | os.PathLike) -> list[str]:
    """Names of the top-level ISO-BMFF boxes in order (``moov`` before ``mdat`` = faststart)."""
    names = []
    with open(path, "rb") as fh:
        while header := fh.read(8):
            if len(header) < 8:
                break
            size = int.from_bytes(header[:4], "big")
            names.append(header[4:].decode("latin1"))
            if size == 1:
                size = int.from_bytes(fh.read(8), "big") - 8
            elif size == 0:
                break
            fh.seek(size - 8, os.SEEK_CUR)
    return names


# ------------------------------------------------------------------------------- render


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


def default_workers(seconds: float) -> int:
    """Render processes for a dance of ``seconds``: 2 from :data:`PARALLEL_MIN_SECONDS` on a
    machine with 2 or more cores (a second process costs a few seconds to start), else 1."""
    return 2 if seconds >= PARALLEL_MIN_SECONDS and (os.cpu_count() or 1) >= 2 else 1


@dataclass(frozen=True)
class _Job:
    """What every process rendering a piece of one video needs to know."""

    motion: Motion
    size: int
    beats: Sequence[float] | None
    contacts: bool
    crf: int


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


# Parallel pieces. The dance is cut into short pieces handed out first come, first served: the
# calling process starts at once while spawned processes (EGL contexts and torch do not survive
# fork) are still importing, and every process keeps its body, scene and plan for all the pieces
# it takes, so the work balances itself. Each piece is encoded on its own; the concat demuxer
# joins them. Pieces a helper process did not finish (it could not start - e.g. a script
# without an ``if __name__ == "__main__"`` guard - or it died) are rendered by the caller.
_SHARED: dict = {}


def _init_worker(next_piece, done, counters) -> None:
    _SHARED.update(next_piece=next_piece, done=done, counters=counters)


def piece_bounds(num_frames: int, fps: float, workers: int) -> list[tuple[int, int]]:
    """Frame ranges of the pieces: about four per process, each from 2 to 10 seconds."""
    seconds = num_frames / fps / (PIECES_PER_WORKER * workers)
    size = max(1, round(fps * min(max(seconds, MIN_PIECE_SECONDS), MAX_PIECE_SECONDS)))
    return [(a, min(a + size, num_frames)) for a in range(0, num_frames, size)]


def _claimer(next_piece, count: int):
    """A function handing out piece numbers 0, 1, ... across processes; None when all are out."""

    def claim():
        with next_piece.get_lock():
            k = next_piece.value
            next_piece.value += 1
        return k if k < count else None

    return claim


def _render_pieces(job: _Job, body: Body, bounds, paths, claim, done, report) -> None:
    """Render and encode (video only) every piece ``claim()`` hands out; mark each in ``done``."""
    motion, size = job.motion, job.size
    plan = plan_dance(motion, size, beats=job.beats, contacts=job.contacts)
    with DanceScene(body, size) as scene:
        while (k := claim()) is not None:
            first, last = bounds[k]
            with FrameEncoder(
                paths[k], (size, size), motion.fps, faststart=False, crf=job.crf
            ) as enc:
                for frame in scene.frames(motion, start=first, stop=last, plan=plan):
                    enc.write(frame)
                    report()
            done[k] = 1


def _worker(job: _Job, body_spec, bounds, paths, slot: int) -> None:
    counters = _SHARED["counters"]

    def report():
        with counters.get_lock():
            counters[slot] += 1

    name, smpl_path = body_spec
    body = make_body(name, smpl_path=smpl_path)
    claim = _claimer(_SHARED["next_piece"], len(bounds))
    _render_pieces(job, body, bounds, paths, claim, _SHARED["done"], report)


def _render_parallel(job: _Job, body_spec, body, audio, tmp, workers: int, update) -> None:
    ctx = multiprocessing.get_context("spawn")
    total = job.motion.num_frames
    counters = ctx.Array("l", workers)
    next_piece = ctx.Value("l", 0)
    bounds = piece_bounds(total, job.motion.fps, workers)
    done = ctx.Array("b", len(bounds))
    own = 0

    def report():
        nonlocal own
        own += 1
        update(min(own + int(sum(counters)), total))

    with tempfile.TemporaryDirectory(prefix="motionbeat-render-") as scratch:
        paths = [str(Path(scratch) / f"piece{k:04d}.mp4") for k in range(len(bounds))]
        with concurrent.futures.ProcessPoolExecutor(
            workers - 1,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(next_piece, done, counters),
        ) as pool:
            futures = [
                pool.submit(_worker, job, body_spec, bounds, paths, k) for k in range(1, workers)
            ]
            claim = _claimer(next_piece, len(bounds))
            _render_pieces(job, body, bounds, paths, claim, done, report)
            pending = set(futures)
            while pending:
                _, pending = concurrent.futures.wait(pending, timeout=PROGRESS_POLL_S)
                update(min(own + int(sum(counters)), total))
            for future in futures:
                error = future.exception()
                if isinstance(error, BodyError | MotionFileError):
                    raise RenderError(str(error))
        left = iter([k for k in range(len(bounds)) if not done[k]])
        _render_pieces(job, body, bounds, paths, lambda: next(left, None), done, report)
        update(total)
        _join_pieces([Path(p) for p in paths], tmp, job.motion, audio)


def _join_pieces(pieces: Iterable[Path], out: Path, motion: Motion, audio: Path | None) -> None:
    """Concatenate H.264 pieces without re-encoding and mux the song (faststart)."""
    pieces = list(pieces)
    listing = pieces[0].parent / "pieces.txt"
    lines = []
    for piece in pieces:
        quoted = str(Path(piece).resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    audio_in, audio_out = _audio_args(audio, motion.start_offset)
    _run_ffmpeg(
        [
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            _url(listing),
            *audio_in,
            "-map",
            "0:v:0",
            "-c:v",
            "copy",
            *audio_out,
            "-t",
            f"{motion.duration:.6f}",
            "-movflags",
            "+faststart",
            _url(out),
        ],
        "joining the rendered pieces",
    )


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


__all__ = [
    "FrameEncoder",
    "VideoInfo",
    "ffmpeg_exe",
    "mp4_top_level_boxes",
    "probe",
    "render_frame_image",
    "render_video",
]
