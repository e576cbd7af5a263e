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
"""

from __future__ import annotations

import math
import os
import subprocess
from dataclasses import dataclass
from itertools import pairwise
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

RHYTHM_HOP: int = 512
"""Hop of the rhythm analysis, samples: librosa's beat-tracking default, 23.2 ms at SAMPLE_RATE."""
HPSS_MELS: int = 128
"""Mel bands of the spectrogram that HPSS runs on. Median filtering 128 mel bands instead of the
1025 STFT bins takes 0.5 s instead of 2.9 s per minute of audio here, and drum hits are broadband
enough to survive the coarser frequency axis."""
HPSS_KERNEL: int = 31
"""HPSS median-filter length in frames and in bands (librosa.decompose.hpss's default)."""
LOW_BAND_HZ: float = 150.0
"""Upper edge, Hz, of the kick-drum band whose level is one of the downbeat cues."""

DEFAULT_BPM: float = 120.0
"""Tempo prior of the beat tracker and tempo of the fallback grid (librosa's start_bpm)."""
MIN_BPM, MAX_BPM = 40.0, 240.0
"""Tempo range of the fallback grid (outside it: DEFAULT_BPM) and ceiling of tempo doubling."""
ONSET_DELAY_FRAMES: int = 1
"""Frames (23 ms) by which the rhythm onset envelope is delayed; see :func:`_onset_envelopes`."""
DOUBLE_RATIO: float = 0.95
"""Midpoint / beat onset strength at or above which the tempo is doubled (_metrical_level).
Click tracks and drum loops tracked at half tempo score 0.39-1.01; of 96 mma + fluidsynth songs,
those tracked at the right tempo score up to 0.87, those at half tempo at most 0.74."""
MIN_BEATS: int = 4
"""A beat track with fewer beats than this is not trusted."""
MIN_ONSET_DB: float = 1.5
"""99th percentile of the onset envelope (dB rise per frame, averaged over bands) below which a
song has no note onsets to track. A steady chord and a sine sweep score under 0.9 dB, white noise
1.8 dB, drums under equally loud noise 4 dB, clean clicks, drums and plucked tones over 30 dB."""
MIN_PULSE_CLARITY: float = 0.1
"""Autocorrelation of the onset envelope at the beat period (0..1) below which the beat track is
flagged unreliable. The accuracy songs of bench_audio that are tracked correctly score 0.45-0.96,
white noise 0.05."""
EDGE_BEATS: int = 8
"""Intervals averaged for the period used to extend the beats to the song's edges: a mean over
8 intervals has 1/8 of the tracker's one-frame (23 ms) quantisation error."""
GAP_FACTOR: float = 1.5
"""An inter-beat interval longer than this many median periods is a gap and gets filled."""
METERS: tuple[int, ...] = (3, 4)
"""Meters (beats per bar) that analyse_rhythm chooses between."""
DEFAULT_METER: int = 4
"""Meter used when the beats are unreliable or too few to decide."""
STEPS_PER_BEAT: int = 4
"""Default sub-beat steps per beat of the beat-synchronous tokens (sixteenth notes in 4/4)."""

FFMPEG_SUFFIXES: frozenset[str] = frozenset({".m4a", ".mp4", ".aac", ".m4b", ".opus", ".webm"})
"""File types that go straight to ffmpeg; libsndfile cannot read them."""
_EDGE_EPS: float = 1e-6
"""Rounding tolerance for ratios that should be whole numbers (frame edges, beat counts)."""


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


@dataclass(frozen=True, eq=False)
class Rhythm:
    """Beats, bars and tempo of a song. The beats run from within one period of 0 s to within
    one period of the end, so every part of the song lies between beats."""

    tempo_bpm: float  # 60 / mean inter-beat interval
    beat_times: np.ndarray  # (K,) float64 seconds, increasing, in [0, duration)
    downbeat_times: np.ndarray  # (B,) float64 seconds, the beats with bar_position == 0
    beats_per_bar: int  # meter: 3 or 4
    bar_position: np.ndarray  # (K,) int64, index of each beat within its bar, 0..beats_per_bar-1
    reliable: bool  # False: no clear pulse, the beats are a steady fallback grid
    pulse_clarity: float  # onset-envelope autocorrelation at the beat period, 0..1
    duration: float  # seconds of the song analysed


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


@dataclass(frozen=True, eq=False)
class BeatTokens:
    """Beat-synchronous tokens: K beats x S sub-beat steps, flattened beat-major to N = K * S.

    ``x.reshape(K, S, ...)`` recovers the (beat, step) grid of any per-token array ``x``. The K
    beats are the song's beats plus lead-in beats before the first one down to 0 s and beats
    after the last one up to the end of the song, so the tokens cover every motion frame.
    """

    mel: np.ndarray  # (N, n_mels) float32, pooled log-mel
    onset: np.ndarray  # (N,) float32, pooled onset strength
    beat_phase: np.ndarray  # (N,) float32, s / S in [0, 1)
    bar_phase: np.ndarray  # (N,) float32, (bar_position + s / S) / beats_per_bar in [0, 1)
    bar_position: np.ndarray  # (N,) int64, index of the token's beat within its bar
    beat_index: np.ndarray  # (N,) int64, index into Rhythm.beat_times; -1 for added beats
    time_edges: np.ndarray  # (N + 1,) float64 seconds; token n spans [edges[n], edges[n+1])
    steps_per_beat: int
    beats_per_bar: int
    fps: int
    num_frames: int  # T of the features the tokens were pooled from

    @property
    def num_beats(self) -> int:
        """K."""
        return len(self.beat_phase) // self.steps_per_beat

    @property
    def start_time(self) -> np.ndarray:
        """(N,) seconds."""
        return self.time_edges[:-1]

    @property
    def end_time(self) -> np.ndarray:
        """(N,) seconds."""
        return self.time_edges[1:]

    @property
    def frame_edges(self) -> np.ndarray:
        """(N + 1,) token edges in frame units (``seconds * fps``): pool_frames_to_tokens' input."""
        return self.time_edges * self.fps

    @property
    def frame_range(self) -> np.ndarray:
        """(N, 2) int64 ``[first, stop)`` frame indices owned by each token (may be empty)."""
        idx = _frame_index(self.frame_edges, self.num_frames)  # (N + 1,)
        return np.stack([idx[:-1], idx[1:]], axis=1)

    @property
    def values(self) -> np.ndarray:
        """``(N, n_mels + 1)``: pooled log-mel and onset side by side."""
        return np.concatenate([self.mel, self.onset[:, None]], axis=1)


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
           "-f", "f32le", "-acodec", "pcm_f32le", "-ac", "1", "-ar", str(sr), "-"]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True).stdout
    except subprocess.CalledProcessError as exc:
        lines = exc.stderr.decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else f"ffmpeg exit code {exc.returncode}"
        raise UndecodableAudioError(
            f"{path.name}: not a readable {fmt} audio file ({reason})"
        ) from exc
    return np.frombuffer(out, dtype="<f4").copy()  # (N,)


def _resample(y: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """Band-limited rate conversion (soxr 'HQ', librosa.resample's default)."""
    import librosa

    return librosa.resample(y, orig_sr=sr, target_sr=target_sr).astype(np.float32)


def _at_rate(audio: Audio, sr: int) -> np.ndarray:
    return audio.samples if audio.sr == sr else _resample(audio.samples, audio.sr, sr)


def num_frames(audio: Audio, fps: int = FPS) -> int:
    """Motion frames of a song, ``T = round(N * fps / sr)`` (Python's round: half to even)."""
    return round(len(audio.samples) * fps / audio.sr)


# --- rhythm ------------------------------------------------------------------------------------
def analyse_rhythm(audio: Audio, *, start_bpm: float = DEFAULT_BPM) -> Rhythm:
    """Tempo, beats, downbeats and meter of a song.

    1. Onset envelope (:func:`_onset_envelopes`): percussive part (HPSS) of a 128-band mel
       spectrogram -> positive log-spectral flux averaged over bands, at RHYTHM_HOP.
    2. Beats: librosa.beat.beat_track (Ellis 2007 dynamic programming, tempo prior at
       ``start_bpm``); :func:`_metrical_level` fixes clear octave errors; :func:`_complete_grid`
       fills gaps and extends the grid at its local period to both ends of the song.
       ``tempo_bpm = 60 / mean inter-beat interval`` of the completed grid.
    3. Reliability: pulse clarity ``c = r(P) / r(0)``, the autocorrelation of the mean-removed
       envelope at the beat period P. With ``c < MIN_PULSE_CLARITY``, too few beats, or no
       onsets at all (99th percentile of the envelope < MIN_ONSET_DB) the beats are replaced by
       a steady grid (:func:`_fallback_grid`) and ``reliable`` is False.
    4. Meter and downbeats (:func:`_meter_and_phase`): three accent cues per beat, each
       turned into standardised ranks over the song (:func:`_rank_z`): peak percussive level
       (dB) at the beat, the same below LOW_BAND_HZ (kick drum), and chroma change across the
       beat (chords change on downbeats).
       For each meter M in METERS and cue c, folding the cue by ``k mod M`` explains a share
       ``R2_cM`` of its variance; ``w_cM = max(0, R2_cM - (M - 1) / (K - 1))`` subtracts the
       share K unstructured values would show. The meter with the largest ``sum_c w_cM`` wins
       (DEFAULT_METER when all are 0), and the downbeat is the phase with the largest mean of
       the accent ``sum_c w_c z_c``: cues without metrical structure get no say. In 4/4,
       ``w_c = max(0, R2_c4 - R2_c2 - 2 / (K - 1))`` counts only structure at the bar's period
       beyond the half bar's, so a backbeat cannot pull the downbeat onto beat 2 or 3.
    """
    import librosa

    sr, frame_rate = SAMPLE_RATE, SAMPLE_RATE / RHYTHM_HOP
    duration = audio.duration
    env, levels, power = _onset_envelopes(_at_rate(audio, sr))
    beats = np.empty(0)  # (K,) frames at frame_rate
    if np.any(env > 0):
        _, beats = librosa.beat.beat_track(
            onset_envelope=env, sr=sr, hop_length=RHYTHM_HOP, start_bpm=start_bpm
        )
        beats = _metrical_level(beats.astype(np.float64), env, frame_rate)
    clarity = _pulse_clarity(env, float(np.median(np.diff(beats)))) if len(beats) >= 2 else 0.0
    reliable = (len(beats) >= MIN_BEATS and clarity >= MIN_PULSE_CLARITY
                and float(np.percentile(env, 99)) >= MIN_ONSET_DB)
    if reliable:
        beats = _complete_grid(beats / frame_rate, duration)  # frames -> seconds
        chroma = librosa.feature.chroma_stft(S=power, sr=sr, n_fft=N_FFT, tuning=0.0)  # (12, M)
        meter, phase = _meter_and_phase(beats, frame_rate, levels, chroma)
    else:
        tempo = 0.0
        if np.any(env > 0):
            tempo = float(librosa.feature.tempo(onset_envelope=env, sr=sr,
                                                hop_length=RHYTHM_HOP, start_bpm=start_bpm)[0])
        if not MIN_BPM <= tempo <= MAX_BPM:
            tempo = DEFAULT_BPM
        beats = _fallback_grid(env, frame_rate, 60.0 / tempo, duration)
        meter, phase = DEFAULT_METER, 0
    bar_position = (np.arange(len(beats)) - phase) % meter  # (K,)
    tempo_bpm = 60.0 / float(np.mean(np.diff(beats))) if len(beats) >= 2 else DEFAULT_BPM
    return Rhythm(
        tempo_bpm=tempo_bpm,
        beat_times=beats,
        downbeat_times=beats[bar_position == 0],
        beats_per_bar=meter,
        bar_position=bar_position.astype(np.int64),
        reliable=bool(reliable),
        pulse_clarity=float(clarity),
        duration=duration,
    )


def _onset_envelopes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Onset envelope ``(M,)``, percussive levels ``(2, M)`` and STFT power ``(1 + N_FFT/2, M)``
    of a song at SAMPLE_RATE; frame j is at ``j * RHYTHM_HOP / SAMPLE_RATE`` seconds.

    * ``env[j] = mean_b max(0, L[b, j] - L[b, j-1])``, L the log power (dB) of the percussive
      part of a HPSS_MELS-band mel spectrogram (HPSS on mel bands: Fitzgerald 2010,
      librosa.decompose.hpss). The flux of a centred Hann-windowed spectrum peaks 15-20 ms
      *before* a sharp onset, when the onset is already well inside the window's leading half;
      delaying by ONSET_DELAY_FRAMES puts the peak within about +-10 ms of the onset (measured
      on clicks and drum hits). librosa's own centring (n_fft / (2 hop) = 2 frames) lands
      25-30 ms late.
    * ``levels``: dB of the summed percussive power, all bands and bands below LOW_BAND_HZ
      (kick drum). Accents are read from levels rather than from the flux: the flux of a hit
      after silence depends on where the hit falls between frames by more than a 6 dB accent.
    """
    import librosa

    sr, hop = SAMPLE_RATE, RHYTHM_HOP
    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=hop)) ** 2  # (1 + N_FFT/2, M)
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=HPSS_MELS, fmin=FMIN, fmax=FMAX)
    _, perc = librosa.decompose.hpss(mel, kernel_size=HPSS_KERNEL)  # (HPSS_MELS, M)
    env = librosa.onset.onset_strength(
        S=librosa.power_to_db(perc, amin=LOG_AMIN), sr=sr, hop_length=hop, center=False
    )
    env = np.pad(env, (ONSET_DELAY_FRAMES, 0))[: perc.shape[1]]  # (M,)
    low = librosa.mel_frequencies(HPSS_MELS + 2, fmin=FMIN, fmax=FMAX)[1:-1] < LOW_BAND_HZ
    levels = np.stack([perc.sum(axis=0), perc[low].sum(axis=0)])  # (2, M)
    levels = librosa.power_to_db(levels, amin=LOG_AMIN, top_db=None)
    return env, levels, power


def _metrical_level(beats: np.ndarray, env: np.ndarray, frame_rate: float) -> np.ndarray:
    """Fix the tracker's clearest octave error (beat positions in frames, ``(K,)`` -> ``(K',)``).

    With ``s(.)`` the mean envelope peak (+-1 frame) at a set of positions: if the midpoints
    between beats are nearly as strong as the beats (``s(mid) >= DOUBLE_RATIO s(beats)``), the
    beats are every other event of an even pulse and the midpoints are inserted, as long as the
    tempo stays <= MAX_BPM. (The mirror rule, halving when alternate beats differ in strength,
    was tried and dropped: it halves any backbeat whose snare is masked, e.g. by noise.)
    """
    if len(beats) < 2 * MIN_BEATS:
        return beats
    bpm = 60.0 * frame_rate / float(np.mean(np.diff(beats)))

    def strength(pos: np.ndarray) -> float:
        idx = np.clip(np.round(pos).astype(int), 1, len(env) - 2)
        return float(np.maximum(np.maximum(env[idx - 1], env[idx]), env[idx + 1]).mean())

    on = strength(beats)
    mids = (beats[:-1] + beats[1:]) / 2
    if strength(mids) >= DOUBLE_RATIO * on and 2 * bpm <= MAX_BPM:
        both = np.empty(len(beats) + len(mids))
        both[0::2], both[1::2] = beats, mids
        return both
    return beats


def _pulse_clarity(env: np.ndarray, period_frames: float) -> float:
    """Normalised autocorrelation of the mean-removed envelope at ``period_frames`` (max over
    +-1 frame of the nearest integer lag), clipped to [0, 1]."""
    x = env - env.mean()
    energy = float(np.dot(x, x))
    lag0 = int(round(period_frames))
    if energy <= 0 or lag0 < 1 or lag0 + 1 >= len(x):
        return 0.0
    r = max(float(np.dot(x[:-lag], x[lag:])) for lag in (lag0 - 1, lag0, lag0 + 1) if lag >= 1)
    return min(max(r / energy, 0.0), 1.0)


def _complete_grid(beats: np.ndarray, duration: float) -> np.ndarray:
    """Fill gaps longer than GAP_FACTOR periods with evenly spaced beats, then extend the grid at
    the local period (mean of the first / last EDGE_BEATS intervals) to ``[0, duration)``."""
    period = float(np.median(np.diff(beats)))
    out = [beats[:1]]
    for a, b in pairwise(beats):
        n = int(round((b - a) / period)) if b - a > GAP_FACTOR * period else 1
        out.append(a + (b - a) * np.arange(1, n + 1) / n)  # n beats in (a, b]
    beats = np.concatenate(out)
    n = min(EDGE_BEATS, len(beats) - 1)
    head = (beats[n] - beats[0]) / n
    tail = (beats[-1] - beats[-1 - n]) / n
    n_head = int(np.floor(beats[0] / head + _EDGE_EPS))
    n_tail = int(np.ceil((duration - beats[-1]) / tail - _EDGE_EPS)) - 1
    before = beats[0] - head * np.arange(n_head, 0, -1)
    after = beats[-1] + tail * np.arange(1, max(n_tail, 0) + 1)
    beats = np.concatenate([before, beats, after])
    return beats[(beats >= 0) & (beats < duration)]


def _fallback_grid(
    env: np.ndarray, frame_rate: float, period: float, duration: float
) -> np.ndarray:
    """A steady grid at ``period`` seconds covering ``[0, duration)``, shifted to the phase whose
    beats collect the most onset strength."""
    lag = max(int(round(period * frame_rate)), 1)
    offsets = [env[o::lag].sum() for o in range(min(lag, len(env)))] if len(env) else [0.0]
    first = int(np.argmax(offsets)) / frame_rate
    first = first % period
    beats = first + period * np.arange(int(np.ceil((duration - first) / period)))
    return beats[beats < duration]


def _meter_and_phase(
    beats: np.ndarray, frame_rate: float, levels: np.ndarray, chroma: np.ndarray
) -> tuple[int, int]:
    """Meter in METERS and the index (0..meter-1) of the first downbeat; see analyse_rhythm."""
    if len(beats) < 2 * max(METERS):
        return DEFAULT_METER, 0
    frames = np.clip(np.round(beats * frame_rate).astype(int), 0, levels.shape[1] - 1)  # (K,)
    win = 2  # frames either side, +-46 ms: the tracker's beats sit within a frame or two of onsets

    def peak(x: np.ndarray) -> np.ndarray:
        return np.array([x[max(f - win, 0): f + win + 1].max() for f in frames])

    # Chroma change across each beat: cosine distance between the mean chroma of the beat before
    # and the beat after it. (12, M) -> (12, K + 1) beat-synchronous means.
    bounds = np.concatenate([[0], frames, [chroma.shape[1]]])
    sync = np.stack([chroma[:, a:max(b, a + 1)].mean(axis=1) for a, b in pairwise(bounds)], axis=1)
    sync = sync / np.maximum(np.linalg.norm(sync, axis=0, keepdims=True), 1e-9)
    change = 1.0 - np.sum(sync[:, :-1] * sync[:, 1:], axis=0)  # (K,)

    cues = np.stack([_rank_z(c) for c in (peak(levels[0]), peak(levels[1]), change)])  # (3, K)
    k = cues.shape[1]

    def explained(period: int) -> tuple[np.ndarray, np.ndarray]:
        """(3,) share of each cue's variance explained by its means per phase ``k mod period``
        (the cues have mean 0 and variance 1), and the (3, period) means themselves."""
        means = np.stack([cues[:, p::period].mean(axis=1) for p in range(period)], axis=1)
        counts = np.array([cues[:, p::period].shape[1] for p in range(period)])  # (period,)
        return (means**2 @ counts) / k, means

    best = (0.0, DEFAULT_METER)
    for meter in METERS:
        # less the share (meter - 1) / (k - 1) that k unstructured values would show
        score = np.maximum(explained(meter)[0] - (meter - 1) / (k - 1), 0.0).sum()
        if score > best[0]:
            best = (float(score), meter)
    meter = best[1]
    r2, means = explained(meter)
    weight = np.maximum(r2 - (meter - 1) / (k - 1), 0.0)  # (3,)
    if meter % 2 == 0:
        # Only structure at the bar's period, beyond the half bar's, tells beat 1 from beat 3:
        # a backbeat (snare on 2 and 4, kick on 1 and 3) is half-bar structure and would
        # otherwise put the downbeat on the loudest snare.
        bar_only = r2 - explained(meter // 2)[0] - (meter - meter // 2) / (k - 1)
        if np.any(bar_only > 0):
            weight = np.maximum(bar_only, 0.0)
    if not np.any(weight > 0):  # no cue shows the meter: equal say
        weight = np.ones(len(cues))
    return meter, int(np.argmax(weight @ means))


def _rank_z(x: np.ndarray) -> np.ndarray:
    """Ranks of ``x`` (ties averaged), standardised to mean 0 and variance 1 (zeros if constant).

    Ranks keep one outlier (a silent extrapolated beat at -100 dB) from dominating; the share of
    rank variance explained by groups is the Kruskal-Wallis statistic ``H / (K - 1)``, whose
    null expectation ``(M - 1) / (K - 1)`` is what :func:`_meter_and_phase` subtracts.
    """
    from scipy.stats import rankdata

    r = rankdata(x)
    sd = float(r.std())
    return (r - r.mean()) / sd if sd > 0 else np.zeros_like(r)


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


# --- beat-synchronous tokens -------------------------------------------------------------------
def beat_tokens(
    features: FrameFeatures, rhythm: Rhythm, steps_per_beat: int = STEPS_PER_BEAT
) -> BeatTokens:
    """Pool frame features into K beats x S sub-beat steps (see :class:`BeatTokens`).

    Beat k spans ``[b_k, b_{k+1})``; step s spans ``b_k + [s, s + 1) / S * (b_{k+1} - b_k)``.
    Lead-in beats at the first interval are added before the first beat until 0 s is reached,
    and beats at the last interval after the last one until the end of the song: the tokens
    cover every motion frame, and added beats have ``beat_index == -1``. Each token's features are
    the mean of the frames it owns, or a linear interpolation at its centre when it owns none
    (:func:`pool_frames_to_tokens`). Phases: ``beat_phase = s / S``,
    ``bar_phase = (bar_position + s / S) / beats_per_bar``.
    """
    s = int(steps_per_beat)
    if s < 1:
        raise ValueError(f"steps_per_beat must be >= 1, got {steps_per_beat}")
    beats, index, meter = rhythm.beat_times, np.arange(len(rhythm.beat_times)), rhythm.beats_per_bar
    position = rhythm.bar_position
    if len(beats) == 0:  # only a hand-built Rhythm can be empty; treat as one bar from 0 s
        beats, index, position = np.zeros(1), np.array([-1]), np.zeros(1, dtype=np.int64)
    if np.any(np.diff(beats) <= 0):
        raise ValueError("rhythm.beat_times must be strictly increasing")
    head = beats[1] - beats[0] if len(beats) >= 2 else 60.0 / rhythm.tempo_bpm
    tail = beats[-1] - beats[-2] if len(beats) >= 2 else 60.0 / rhythm.tempo_bpm
    # Lead-in beats until the first edge is at or before 0 s, beats after the last until the last
    # edge is at or after the end of the song: then every frame centre lies inside some token.
    n_before = max(int(np.ceil(beats[0] / head - _EDGE_EPS)), 0)
    n_after = max(int(np.ceil((features.duration - beats[-1]) / tail - _EDGE_EPS)), 1)
    edges_b = np.concatenate([
        beats[0] - head * np.arange(n_before, 0, -1),
        beats,
        beats[-1] + tail * np.arange(1, n_after + 1),
    ])  # (K + 1,) beat edges in seconds
    n_beats = len(edges_b) - 1
    index = np.concatenate([np.full(n_before, -1), index, np.full(n_after - 1, -1)])  # (K,)
    position = np.concatenate([
        (position[0] - np.arange(n_before, 0, -1)) % meter,
        position,
        (position[-1] + np.arange(1, n_after)) % meter,
    ])  # (K,)
    step = np.arange(s) / s  # (S,)
    starts = edges_b[:-1, None] + np.diff(edges_b)[:, None] * step[None, :]  # (K, S)
    time_edges = np.concatenate([starts.reshape(-1), edges_b[-1:]])  # (K*S + 1,)
    beat_phase = np.tile(step, n_beats)  # (K*S,)
    pos_tok = np.repeat(position, s)  # (K*S,)
    frame_edges = time_edges * features.fps
    return BeatTokens(
        mel=pool_frames_to_tokens(features.mel, frame_edges).astype(np.float32),
        onset=pool_frames_to_tokens(features.onset, frame_edges).astype(np.float32),
        beat_phase=beat_phase.astype(np.float32),
        bar_phase=((pos_tok + beat_phase) / meter).astype(np.float32),
        bar_position=pos_tok.astype(np.int64),
        beat_index=np.repeat(index, s).astype(np.int64),
        time_edges=time_edges,
        steps_per_beat=s,
        beats_per_bar=meter,
        fps=features.fps,
        num_frames=len(features.onset),
    )


def _frame_index(frame_edges: np.ndarray, num_frames: int) -> np.ndarray:
    """First frame whose centre is at or after each edge, clipped to ``[0, num_frames]``."""
    return np.clip(np.ceil(frame_edges - _EDGE_EPS), 0, num_frames).astype(np.int64)


def pool_frames_to_tokens(frames: np.ndarray, token_frame_edges: np.ndarray) -> np.ndarray:
    """Mean of the frames each token owns; linear interpolation at its centre if it owns none.

    ``frames``: ``(T, ...)``, frame t centred at position t. ``token_frame_edges``: ``(N + 1,)``
    non-decreasing, in frame units (seconds * fps; need not be integers). Token n owns the frames
    ``t`` with ``edges[n] <= t < edges[n + 1]``, so the tokens partition the frames. A token that
    owns no frame (shorter than a frame, or outside ``[0, T)``) takes ``frames`` linearly
    interpolated at ``(edges[n] + edges[n + 1]) / 2``, clamped to ``[0, T - 1]``. Returns
    ``(N, ...)`` in float64 (float32 stays float32). Works for audio features and for motion
    frames (``contract.FRAME_DIM`` wide) alike.
    """
    x = np.asarray(frames)
    edges = np.asarray(token_frame_edges, dtype=np.float64)
    if len(x) == 0:
        raise ValueError("pool_frames_to_tokens needs at least one frame")
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) < 0):
        raise ValueError("token_frame_edges must be a non-decreasing 1-D array of length N + 1")
    out_dtype = np.float32 if x.dtype == np.float32 else np.float64
    t_len, tail_shape = len(x), x.shape[1:]
    flat = x.reshape(t_len, -1).astype(np.float64)  # (T, D)
    idx = _frame_index(edges, t_len)  # (N + 1,)
    start, stop = idx[:-1], idx[1:]  # (N,) each
    csum = np.concatenate([np.zeros((1, flat.shape[1])), np.cumsum(flat, axis=0)])  # (T + 1, D)
    count = (stop - start)[:, None]  # (N, 1)
    pooled = (csum[stop] - csum[start]) / np.maximum(count, 1)  # (N, D)
    centre = np.clip((edges[:-1] + edges[1:]) / 2, 0, t_len - 1)  # (N,)
    lo = np.floor(centre).astype(np.int64)
    hi = np.minimum(lo + 1, t_len - 1)
    w = (centre - lo)[:, None]
    interp = (1 - w) * flat[lo] + w * flat[hi]  # (N, D)
    pooled = np.where(count > 0, pooled, interp)
    return pooled.reshape(len(start), *tail_shape).astype(out_dtype)  # (N, ...)
