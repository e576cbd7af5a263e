"""Beats, bars and tempo of a song: :class:`Rhythm` and :func:`analyse_rhythm`.

The private helpers are the steps of :func:`analyse_rhythm`: onset envelopes (HPSS on mel bands),
the metrical level (octave errors), pulse clarity, grid completion, the fallback grid, and the
meter and downbeat phase from ranked accent cues. Sources: librosa (McFee et al., SciPy 2015)
for HPSS (Fitzgerald, DAFx 2010) and the dynamic-programming beat tracker (Ellis, JNMR 2007);
the meter / downbeat rule is ours (``docs/audio_frontend.md``).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from itertools import pairwise
from types import ModuleType

import numpy as np

from motionbeat.audio.decode import SAMPLE_RATE, Audio, _at_rate
from motionbeat.audio.features import FMAX, FMIN, LOG_AMIN, mel_power

# --- constants ---------------------------------------------------------------------------------
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
_EDGE_EPS: float = 1e-6
"""Rounding tolerance for ratios that should be whole numbers (frame edges, beat counts)."""


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


# --- librosa.beat with its compiled code kept on disk -----------------------------------------
_IMPORT_LOCK = threading.Lock()


def librosa_beat() -> ModuleType:
    """``librosa.beat``, imported (once per process) with numba's on-disk cache on for it.

    librosa 0.11 declares one kernel of ``librosa.beat``, ``__beat_local_score``, with
    ``numba.guvectorize(..., cache=False)``; a guvectorize with signatures compiles when the
    module is imported, so every process that imports ``librosa.beat`` spent 1.4-2.4 s (2 cores)
    compiling it again. Importing the module while ``numba.guvectorize`` passes ``cache=True``
    stores that kernel beside librosa's other cached kernels (``librosa/__pycache__`` or
    ``NUMBA_CACHE_DIR``) and loads it in about 0.07 s afterwards (docs/audio_frontend.md,
    "First use"). The compiled code is the same; only where it is kept changes. If some other
    module imported ``librosa.beat`` first, that import is used as it is.
    """
    with _IMPORT_LOCK:
        if "librosa.beat" not in sys.modules:
            import numba

            plain = numba.guvectorize

            def cached(*args, **kwargs):
                return plain(*args, **{**kwargs, "cache": True})

            numba.guvectorize = cached
            try:
                import librosa.beat  # noqa: F401 - compiled (or loaded) under `cached`
            finally:
                numba.guvectorize = plain
    return sys.modules["librosa.beat"]


# --- rhythm ------------------------------------------------------------------------------------
def analyse_rhythm(
    audio: Audio, *, start_bpm: float = DEFAULT_BPM, tempo_hint: float | None = None
) -> Rhythm:
    """Tempo, beats, downbeats and meter of a song.

    ``tempo_hint`` (BPM, MIN_BPM..MAX_BPM): the tempo the user hears, for the songs the tracker
    takes at half or double speed. It decides the metrical level instead of
    :func:`_metrical_level`: :func:`_toward_tempo` doubles or halves the tracked beats while
    that brings their tempo nearer the hint (in ratio), and the pulse clarity is read at the
    tracked beats' period. It picks the octave only: the beats stay on the music's onsets (the
    tracker keeps its prior: with the hint as its prior it put the grid of 100 BPM clicks asked
    for at 200 BPM 90 ms off the clicks), and a hint a third off (a waltz felt one beat per bar)
    is not followed. Without a clear pulse the fallback grid runs at the hint.

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

    if tempo_hint is not None and not MIN_BPM <= tempo_hint <= MAX_BPM:  # also refuses NaN
        raise ValueError(f"the tempo hint must be from {MIN_BPM:g} to {MAX_BPM:g} BPM, "
                         f"got {tempo_hint:g}")
    sr, frame_rate = SAMPLE_RATE, SAMPLE_RATE / RHYTHM_HOP
    duration = audio.duration
    env, levels, chroma = _onset_envelopes(_at_rate(audio, sr))
    beats = tracked = np.empty(0)  # (K,) frames at frame_rate
    if np.any(env > 0):
        _, tracked = librosa_beat().beat_track(
            onset_envelope=env, sr=sr, hop_length=RHYTHM_HOP, start_bpm=start_bpm
        )
        tracked = tracked.astype(np.float64)
        beats = (_metrical_level(tracked, env, frame_rate) if tempo_hint is None
                 else _toward_tempo(tracked, env, frame_rate, float(tempo_hint)))
    # a hinted octave is the listener's: the pulse's clarity is the tracked beats' (clicks at
    # 100 BPM have none at the 200 BPM a hint may ask for)
    pulse = beats if tempo_hint is None else tracked
    clarity = _pulse_clarity(env, float(np.median(np.diff(pulse)))) if len(pulse) >= 2 else 0.0
    reliable = (len(pulse) >= MIN_BEATS and clarity >= MIN_PULSE_CLARITY
                and float(np.percentile(env, 99)) >= MIN_ONSET_DB)
    if reliable:
        beats = _complete_grid(beats / frame_rate, duration)  # frames -> seconds
        meter, phase = _meter_and_phase(beats, frame_rate, levels, chroma)
    else:
        tempo = 0.0
        if np.any(env > 0):
            tempo = float(librosa.feature.tempo(onset_envelope=env, sr=sr,
                                                hop_length=RHYTHM_HOP, start_bpm=start_bpm)[0])
        if not MIN_BPM <= tempo <= MAX_BPM:
            tempo = DEFAULT_BPM
        if tempo_hint is not None:
            tempo = float(tempo_hint)
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
    """Onset envelope ``(M,)``, percussive levels ``(2, M)`` and chroma ``(12, M)`` (for the
    chord-change cue) of a song at SAMPLE_RATE; frame j is at ``j * RHYTHM_HOP / SAMPLE_RATE`` s.
    The STFT is taken in chunks (:func:`motionbeat.audio.features.mel_power`), never whole.

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
    mel, chroma = mel_power(y, sr, hop, HPSS_MELS, FMAX, chroma=True)  # (HPSS_MELS, M), (12, M)
    _, perc = librosa.decompose.hpss(mel, kernel_size=HPSS_KERNEL)  # (HPSS_MELS, M)
    env = librosa.onset.onset_strength(
        S=librosa.power_to_db(perc, amin=LOG_AMIN), sr=sr, hop_length=hop, center=False
    )
    env = np.pad(env, (ONSET_DELAY_FRAMES, 0))[: perc.shape[1]]  # (M,)
    low = librosa.mel_frequencies(HPSS_MELS + 2, fmin=FMIN, fmax=FMAX)[1:-1] < LOW_BAND_HZ
    levels = np.stack([perc.sum(axis=0), perc[low].sum(axis=0)])  # (2, M)
    levels = librosa.power_to_db(levels, amin=LOG_AMIN, top_db=None)
    return env, levels, chroma


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

    on = _strength(env, beats)
    mids = (beats[:-1] + beats[1:]) / 2
    if _strength(env, mids) >= DOUBLE_RATIO * on and 2 * bpm <= MAX_BPM:
        both = np.empty(len(beats) + len(mids))
        both[0::2], both[1::2] = beats, mids
        return both
    return beats


def _strength(env: np.ndarray, positions: np.ndarray) -> float:
    """Mean envelope peak (max over +-1 frame) at frame positions ``(K,)``."""
    idx = np.clip(np.round(positions).astype(int), 1, len(env) - 2)
    return float(np.maximum(np.maximum(env[idx - 1], env[idx]), env[idx + 1]).mean())


def _toward_tempo(beats: np.ndarray, env: np.ndarray, frame_rate: float, hint: float) -> np.ndarray:
    """The beats (frames, ``(K,)``) at the metrical level nearest the tempo ``hint`` (BPM).

    While the beats' tempo is under hint / sqrt 2, the midpoints are inserted (the hint, at most
    MAX_BPM, bounds it: a 120 BPM song tracked at 120.6 and heard at 240 is doubled); while it
    is over hint * sqrt 2, every other beat is kept, the set (even or odd) whose envelope is
    stronger (:func:`_strength`), as long as two remain to give a period
    (:func:`_complete_grid` extends them over the song; whether the pulse is clear enough to
    trust is decided on the tracked beats).
    """
    if len(beats) < 2:
        return beats
    bpm = 60.0 * frame_rate / float(np.mean(np.diff(beats)))
    while bpm < hint / np.sqrt(2):
        both = np.empty(2 * len(beats) - 1)
        both[0::2], both[1::2] = beats, (beats[:-1] + beats[1:]) / 2
        beats, bpm = both, 2 * bpm
    while bpm > hint * np.sqrt(2) and len(beats) >= 4:
        beats = max(beats[0::2], beats[1::2], key=lambda b: _strength(env, b))
        bpm /= 2
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
