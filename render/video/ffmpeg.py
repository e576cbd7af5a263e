"""The ffmpeg side of a video: locating ffmpeg, the frame encoder, probing, joining pieces.

The ffmpeg binary is the one imageio-ffmpeg ships (no system ffmpeg needed), called with
argument lists only. Raw RGB frames go to its stdin; the song is read from its file and
seeked to the motion's ``start_offset`` (``-ss`` before ``-i``: frame 0 plays with the song
at that time; a negative offset delays the song instead, ``adelay``). The audio is padded with
silence only up to the end of the motion and cut there (``apad`` + ``-shortest``), so the
video is exactly as long as the dance. ``-movflags +faststart`` puts the index first so a
browser can start playing before the download ends; ``yuv420p`` is what browsers decode.

Paths go to ffmpeg as ``file:`` URLs, so names with spaces, colons or non-ASCII letters are safe.
Pieces rendered apart are joined by ffmpeg's concat demuxer without re-encoding
(:func:`_join_pieces`) while it muxes the song.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionbeat.core.motion import Motion
from render.scene.errors import RenderError

X264_PRESET = "veryfast"
X264_CRF = 20
AUDIO_CODEC = "aac"
AUDIO_BITRATE = "192k"


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
