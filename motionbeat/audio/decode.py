"""Decoding a song: the analysis rate, the AudioError family, :class:`Audio` and its readers.

:func:`load_audio` reads a file (libsndfile, else ffmpeg), :func:`audio_from_array` checks
in-memory samples; both give mono float32 :class:`Audio` at SAMPLE_RATE, resampled with soxr.
:func:`num_frames` is the motion-frame count of a song (the time conventions of the package
docstring).
"""

from __future__ import annotations

import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionbeat.core.contract import FPS

# --- constants ---------------------------------------------------------------------------------
SAMPLE_RATE: int = 22050
"""Analysis rate, Hz: librosa's default; 22050 / FPS = 735 samples per motion frame exactly."""

MIN_AUDIO_SECONDS: float = 1.0
"""Shortest song we accept: less than this holds at most one or two beats."""

SILENCE_DBFS: float = -60.0
"""RMS level (dB re full scale) below which a song counts as silent. Mastered music sits around
-20 to -8 dBFS RMS, so -60 dBFS is 40 dB under the quietest real recording, yet well above the
-96 dBFS floor of 16-bit dither."""

FFMPEG_SUFFIXES: frozenset[str] = frozenset({".m4a", ".mp4", ".aac", ".m4b", ".opus", ".webm"})
"""File types that go straight to ffmpeg; libsndfile cannot read them."""


# --- errors ------------------------------------------------------------------------------------
class AudioError(ValueError):
    """A song that cannot be used; the message is meant for the person who chose the file."""


class EmptyAudioError(AudioError):
    """The file has zero bytes or decodes to zero samples."""


class AudioTooShortError(AudioError):
    """The song is shorter than :data:`MIN_AUDIO_SECONDS`."""


class SilentAudioError(AudioError):
    """The song's RMS level is below :data:`SILENCE_DBFS`."""


class UndecodableAudioError(AudioError):
    """The file is corrupt, not audio, or in a format neither libsndfile nor ffmpeg can read."""


# --- values ------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Audio:
    """A decoded song: mono float32 samples at ``sr`` Hz."""

    samples: np.ndarray  # (N,) float32, read-only
    sr: int
    name: str = "<array>"  # file name (no directories), used in messages
    path: Path | None = None

    @property
    def duration(self) -> float:
        """Length in seconds, ``N / sr``."""
        return len(self.samples) / self.sr


# --- loading -----------------------------------------------------------------------------------
def load_audio(path: str | os.PathLike, sr: int = SAMPLE_RATE) -> Audio:
    """Decode ``path`` to mono float32 at ``sr`` Hz.

    wav, flac, ogg and mp3 are read by libsndfile (soundfile); m4a / aac / mp4 / opus / webm, and
    anything libsndfile refuses, by the ffmpeg binary of imageio-ffmpeg.

    Channels are averaged (ffmpeg: its own downmix) and the rate is converted with soxr (HQ,
    librosa.resample's default; ffmpeg: its resampler). Raises :class:`FileNotFoundError` or an
    :class:`AudioError` subclass whose message, led by the file name, is meant for end users.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path.name}: no such file")
    if path.stat().st_size == 0:
        raise EmptyAudioError(f"{path.name}: the file is empty")
    samples, native_sr = None, sr
    if path.suffix.lower() not in FFMPEG_SUFFIXES:
        samples, native_sr = _read_soundfile(path)
    if samples is None:
        samples, native_sr = _read_ffmpeg(path, sr), sr
    return audio_from_array(samples, native_sr, target_sr=sr, name=path.name, path=path)


def audio_from_array(
    samples: np.ndarray,
    sr: int,
    *,
    target_sr: int | None = SAMPLE_RATE,
    name: str = "<array>",
    path: Path | None = None,
) -> Audio:
    """Check in-memory samples, ``(N,)`` or channels-last ``(N, C)``, and wrap them as mono Audio.

    ``target_sr`` (``None``: keep ``sr``) is the rate of the result. Integer PCM is scaled to
    [-1, 1) (divided by 2^(bits - 1)). Raises the same :class:`AudioError` subclasses as
    :func:`load_audio`.
    """
    y = np.asarray(samples)
    if np.issubdtype(y.dtype, np.integer):
        y = y.astype(np.float64) / 2.0 ** (8 * y.dtype.itemsize - 1)  # e.g. int16 / 32768
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1)  # (N, C) -> (N,)
    if y.ndim != 1:
        raise UndecodableAudioError(f"{name}: expected (samples,) or (samples, channels) audio, "
                                    f"got an array of shape {y.shape}")
    if not sr > 0:
        raise ValueError(f"{name}: the sample rate must be positive, got {sr}")
    if y.size == 0:
        raise EmptyAudioError(f"{name}: the file holds no audio samples")
    if not np.all(np.isfinite(y)):
        raise UndecodableAudioError(f"{name}: the audio holds invalid (NaN or infinite) samples")
    seconds = y.size / sr
    if seconds < MIN_AUDIO_SECONDS:
        raise AudioTooShortError(
            f"{name}: the song is {seconds:.2f} s long; at least {MIN_AUDIO_SECONDS:g} s is needed"
        )
    rms_db = 20 * math.log10(max(float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))), 1e-12))
    if rms_db < SILENCE_DBFS:
        raise SilentAudioError(f"{name}: the song is silent (level {rms_db:.0f} dBFS)")
    if target_sr is not None and target_sr != sr:
        y = _resample(y, sr, target_sr)
        sr = target_sr
    y = np.ascontiguousarray(y, dtype=np.float32)
    y.setflags(write=False)
    return Audio(samples=y, sr=int(sr), name=name, path=path)


def _read_soundfile(path: Path) -> tuple[np.ndarray | None, int]:
    """``(N, C)`` float32 samples and their rate via libsndfile, or ``(None, 0)`` if it fails."""
    import soundfile

    try:
        data, native_sr = soundfile.read(path, dtype="float32", always_2d=True)  # (N, C)
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return None, 0
    return data, int(native_sr)


PCM_OUTPUT_FORMAT = "f32le"
"""ffmpeg's raw output format for decoded songs: little-endian float32 samples."""


def _read_ffmpeg(path: Path, sr: int) -> np.ndarray:
    """Decode the first audio stream with ffmpeg to mono float32 PCM at ``sr``, ``(N,)``."""
    fmt = path.suffix.lstrip(".").lower() or "unknown"
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise UndecodableAudioError(
            f"{path.name}: cannot read {fmt} files here (ffmpeg is not available)"
        ) from exc
    # "file:" keeps ffmpeg from reading a name such as "http:x.mp3" as a protocol.
    cmd = [exe, "-v", "error", "-nostdin", "-i", f"file:{path.resolve()}", "-map", "0:a:0", "-vn",
           "-f", PCM_OUTPUT_FORMAT, "-acodec", "pcm_f32le", "-ac", "1", "-ar", str(sr), "-"]
    try:
        done = subprocess.run(cmd, check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        lines = exc.stderr.decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else f"ffmpeg exit code {exc.returncode}"
        raise UndecodableAudioError(
            f"{path.name}: not a readable {fmt} audio file ({reason})"
        ) from exc
    # Lines from our own output muxer ("[f32le @ ...]") say nothing about the input: ffmpeg's
    # opus demuxer hands the last packet's timestamp twice on long files, and the raw muxer
    # complains about that while the samples are whole.
    errors = [line for line in done.stderr.decode(errors="replace").strip().splitlines()
              if not line.startswith(f"[{PCM_OUTPUT_FORMAT} @")]
    if errors:
        # ffmpeg got past damage (a broken header, bad frames) but said so: the file is damaged,
        # and the video step, which reads the song's header again, would fail after the dance.
        raise UndecodableAudioError(
            f"{path.name}: the {fmt} file is damaged ({errors[0].split('] ', 1)[-1]}); "
            "export or convert the song again"
        )
    return np.frombuffer(done.stdout, dtype="<f4").copy()  # (N,)


def _resample(y: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """Band-limited rate conversion (soxr 'HQ', librosa.resample's default)."""
    import librosa

    return librosa.resample(y, orig_sr=sr, target_sr=target_sr).astype(np.float32)


def _at_rate(audio: Audio, sr: int) -> np.ndarray:
    return audio.samples if audio.sr == sr else _resample(audio.samples, audio.sr, sr)


def num_frames(audio: Audio, fps: int = FPS) -> int:
    """Motion frames of a song, ``T = round(N * fps / sr)`` (Python's round: half to even)."""
    return round(len(audio.samples) * fps / audio.sr)
