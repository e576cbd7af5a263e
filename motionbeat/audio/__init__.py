"""The audio front end: decode a song, find its beats and bars, and describe it at the motion rate.

Four steps, each a pure function of the previous one's value::

    audio = load_audio("song.mp3")           # Audio: mono float32 at SAMPLE_RATE
    rhythm = analyse_rhythm(audio)           # Rhythm: tempo, beats, downbeats, meter
    features = frame_features(audio)         # FrameFeatures: (T, N_MELS) log-mel, (T,) onset
    tokens = beat_tokens(features, rhythm)   # BeatTokens: (K * S, ...) per sub-beat step

Time conventions (shared with the motion side through :data:`motionbeat.core.contract.FPS`):

* A song of ``N`` samples at ``sr`` Hz has ``T = round(N * fps / sr)`` motion frames
  (:func:`num_frames`); frame ``t`` is *centred* at ``t / fps`` seconds.
* Beat and token times are seconds from the first sample.
* A token spans ``[start, end)`` seconds, i.e. ``[start * fps, end * fps)`` in frame units; it owns
  the frames whose centres fall in that span, so consecutive tokens partition the frames exactly
  (:func:`pool_frames_to_tokens`).

Sources: librosa (McFee et al., SciPy 2015) for the STFT, mel filters, HPSS (Fitzgerald, DAFx
2010) and the dynamic-programming beat tracker (Ellis, JNMR 2007). The meter / downbeat rule is
ours and is described in :func:`analyse_rhythm` and ``docs/audio_frontend.md``.

Modules, in the order of the steps:

* :mod:`.decode` - SAMPLE_RATE, the AudioError family, :class:`Audio`, :func:`load_audio`,
  :func:`audio_from_array`, :func:`num_frames`.
* :mod:`.rhythm` - :class:`Rhythm`, :func:`analyse_rhythm` and its constants.
* :mod:`.features` - :class:`FrameFeatures`, :func:`frame_features`, the mel constants.
* :mod:`.tokens` - :class:`BeatTokens`, :func:`beat_tokens`, :func:`pool_frames_to_tokens`.
* :mod:`.bench` - synthetic songs with known beats, and the speed and accuracy benchmarks.

This package re-exports their public API: ``from motionbeat import audio as au; au.X``.
"""

from .decode import (
    FFMPEG_SUFFIXES,
    MIN_AUDIO_SECONDS,
    SAMPLE_RATE,
    SILENCE_DBFS,
    Audio,
    AudioError,
    AudioTooShortError,
    EmptyAudioError,
    SilentAudioError,
    UndecodableAudioError,
    audio_from_array,
    load_audio,
    num_frames,
)
from .features import FMAX, FMIN, LOG_AMIN, N_FFT, N_MELS, FrameFeatures, frame_features
from .rhythm import (
    DEFAULT_BPM,
    DEFAULT_METER,
    DOUBLE_RATIO,
    EDGE_BEATS,
    GAP_FACTOR,
    HPSS_KERNEL,
    HPSS_MELS,
    LOW_BAND_HZ,
    MAX_BPM,
    METERS,
    MIN_BEATS,
    MIN_BPM,
    MIN_ONSET_DB,
    MIN_PULSE_CLARITY,
    ONSET_DELAY_FRAMES,
    RHYTHM_HOP,
    Rhythm,
    analyse_rhythm,
)
from .tokens import STEPS_PER_BEAT, BeatTokens, beat_tokens, pool_frames_to_tokens

__all__ = [
    # decode
    "SAMPLE_RATE", "MIN_AUDIO_SECONDS", "SILENCE_DBFS", "FFMPEG_SUFFIXES",
    "AudioError", "EmptyAudioError", "AudioTooShortError", "SilentAudioError", "UndecodableAudioError",
    "Audio", "load_audio", "audio_from_array", "num_frames",
    # rhythm
    "RHYTHM_HOP", "HPSS_MELS", "HPSS_KERNEL", "LOW_BAND_HZ", "DEFAULT_BPM", "MIN_BPM", "MAX_BPM",
    "ONSET_DELAY_FRAMES", "DOUBLE_RATIO", "MIN_BEATS", "MIN_ONSET_DB", "MIN_PULSE_CLARITY",
    "EDGE_BEATS", "GAP_FACTOR", "METERS", "DEFAULT_METER", "Rhythm", "analyse_rhythm",
    # features
    "N_MELS", "N_FFT", "FMIN", "FMAX", "LOG_AMIN", "FrameFeatures", "frame_features",
    # tokens
    "STEPS_PER_BEAT", "BeatTokens", "beat_tokens", "pool_frames_to_tokens",
]
