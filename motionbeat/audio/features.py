"""Music features at the motion frame rate: :class:`FrameFeatures` (log-mel and onset strength)
and :func:`frame_features`, with the mel-spectrogram constants (also used by the rhythm analysis).
"""

from __future__ import annotations

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
    mel = librosa.feature.melspectrogram(
        y=y, sr=rate, n_fft=N_FFT, hop_length=hop, n_mels=n_mels, fmin=FMIN,
        fmax=min(FMAX, rate / 2),
    )  # (n_mels, 1 + N // hop)
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
