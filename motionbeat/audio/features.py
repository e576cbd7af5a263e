"""Music features at the motion frame rate: :class:`FrameFeatures` (log-mel and onset strength)
and :func:`frame_features`, with the mel-spectrogram constants (also used by the rhythm analysis).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from motionbeat.audio.decode import SAMPLE_RATE, Audio, _at_rate, num_frames
from motionbeat.core.contract import FPS

# --- constants ---------------------------------------------------------------------------------
N_MELS: int = 64
"""Mel bands of the frame features (a common size for music encoders; MotionBeat uses log-mel)."""
N_FFT: int = 2048
"""STFT window, samples: librosa's default, 93 ms at SAMPLE_RATE, about 3 motion frames."""
FMIN: float = 27.5
"""Lowest mel frequency, Hz: A0, the lowest piano key."""
FMAX: float = SAMPLE_RATE / 2
"""Highest mel frequency, Hz: the Nyquist frequency of SAMPLE_RATE."""
LOG_AMIN: float = 1e-10
"""Power floor before the log (librosa.power_to_db's default): log-mel values are >= -100 dB."""
STFT_CHUNK_FRAMES: int = 2048
"""STFT frames computed at a time by :func:`power_chunks`: (1 + N_FFT / 2) x 2048 complex64 is
8 MiB, where a whole 10-minute song's STFT at the rhythm hop is 212 MiB (and its power 106 MiB
more), so the front end's memory no longer grows with the song beyond its (T, bands) outputs."""


@dataclass(frozen=True, eq=False)
class FrameFeatures:
    """Music features at the motion frame rate; frame ``t`` is centred at ``t / fps`` seconds."""

    mel: np.ndarray  # (T, n_mels) float32, dB of mel power (librosa's |STFT|^2 scale), >= -100
    onset: np.ndarray  # (T,) float32, onset strength (mean positive log-mel flux), >= 0
    fps: int
    duration: float  # seconds; T == round(duration * fps)

    @property
    def values(self) -> np.ndarray:
        """``(T, n_mels + 1)``: log-mel and onset side by side."""
        return np.concatenate([self.mel, self.onset[:, None]], axis=1)


# --- spectrogram in chunks ----------------------------------------------------------------------
def power_chunks(y: np.ndarray, hop: int, n_fft: int = N_FFT,
                 chunk: int = STFT_CHUNK_FRAMES) -> Iterator[np.ndarray]:
    """``|STFT|^2`` of ``y`` with centred frames, ``chunk`` frames at a time.

    Yields ``(1 + n_fft // 2, <= chunk)`` float32 arrays whose concatenation is
    ``np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop)) ** 2`` (Hann window, zero padding of
    ``n_fft // 2`` at both ends, ``1 + len(y) // hop`` frames): frame ``t`` covers samples
    ``t * hop - n_fft // 2`` to ``t * hop + n_fft // 2``, cut from ``y`` and zero-padded where
    it reaches past either end, so no whole-song spectrogram or padded copy is ever held.
    """
    import librosa

    pad = n_fft // 2
    total = 1 + len(y) // hop
    for first in range(0, total, chunk):
        stop = min(first + chunk, total)
        lo, hi = first * hop - pad, (stop - 1) * hop + n_fft - pad  # samples of frames first..stop-1
        piece = y[max(lo, 0): max(min(hi, len(y)), 0)]
        if lo < 0 or hi > len(y):
            piece = np.pad(piece, (max(-lo, 0), max(hi - len(y), 0)))
        spectrum = librosa.stft(piece, n_fft=n_fft, hop_length=hop, center=False)
        yield np.abs(spectrum) ** 2


def mel_power(y: np.ndarray, rate: int, hop: int, n_mels: int, fmax: float, n_fft: int = N_FFT,
              *, chroma: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Mel power ``(n_mels, 1 + len(y) // hop)`` of ``y`` (librosa.feature.melspectrogram's
    numbers, FMIN..``fmax``), and with ``chroma`` the chroma ``(12, frames)`` of
    librosa.feature.chroma_stft (tuning 0, each frame scaled to a maximum of 1), both from the
    same STFT taken chunk by chunk (:func:`power_chunks`)."""
    import librosa

    basis = librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels, fmin=FMIN, fmax=fmax)
    chroma_basis = librosa.filters.chroma(sr=rate, n_fft=n_fft, tuning=0.0) if chroma else None
    mels, chromas = [], []
    for power in power_chunks(y, hop, n_fft):
        mels.append(np.einsum("ft,mf->mt", power, basis, optimize=True))
        if chroma_basis is not None:
            raw = np.einsum("cf,ft->ct", chroma_basis, power, optimize=True)
            chromas.append(librosa.util.normalize(raw, norm=np.inf, axis=-2))
    return np.concatenate(mels, axis=1), (np.concatenate(chromas, axis=1) if chroma else None)


# --- frame features ----------------------------------------------------------------------------
def frame_features(audio: Audio, fps: int = FPS, n_mels: int = N_MELS) -> FrameFeatures:
    """Log-mel power and onset strength with one row per motion frame.

    The song is analysed at ``rate = fps * round(SAMPLE_RATE / fps)`` Hz (22050 Hz at 30 fps),
    so the hop ``rate / fps`` is a whole number of samples. A centred STFT (N_FFT window) puts
    frame ``t`` at sample ``t * hop``, i.e. time ``t / fps``; it has ``1 + N // hop >= T`` frames
    and the first ``T = round(duration * fps)`` are kept.

    * ``mel[t]``: ``10 log10(max(mel power, LOG_AMIN))`` in ``n_mels`` bands FMIN..FMAX.
    * ``onset[t]``: mean over bands of ``max(0, mel[t'] - mel[t' - 1])`` with
      ``t' = t - N_FFT // (2 * hop)`` (librosa.onset.onset_strength and its centring shift, one
      frame at 30 fps): the flux peaks as a note enters the window, 1-2 frames before the note's
      own frame; after the shift it peaks in the note's frame or the one after (tested).
    """
    import librosa

    hop = max(round(SAMPLE_RATE / fps), 1)
    rate = hop * fps
    y = _at_rate(audio, rate)
    t = num_frames(audio, fps)
    mel, _ = mel_power(y, rate, hop, n_mels, min(FMAX, rate / 2))  # (n_mels, 1 + N // hop)
    # Absolute dB (no per-song top_db clipping), so a window's features do not depend on the
    # loudest moment elsewhere in the song.
    log_mel = librosa.power_to_db(mel, amin=LOG_AMIN, top_db=None)[:, :t]  # (n_mels, T)
    onset = librosa.onset.onset_strength(S=log_mel, sr=rate, hop_length=hop, n_fft=N_FFT)  # (T,)
    return FrameFeatures(
        mel=np.ascontiguousarray(log_mel.T, dtype=np.float32),  # (T, n_mels)
        onset=onset.astype(np.float32),
        fps=fps,
        duration=audio.duration,
    )
