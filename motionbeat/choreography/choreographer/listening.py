"""Listening, the choreographer's first stage: what it hears in a song (:class:`SongInfo`).

Per-beat energy and onset density, sections, accents (:func:`find_accents`), the melodic
contour (:func:`melodic_contour`) and the dance genre, from audio (:func:`analyse_song`) or
from known beats (:func:`song_info_from_beats`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motionbeat.choreography import dance_genres as dg
from motionbeat.core import contract


@dataclass(frozen=True, eq=False)
class SongInfo:
    """What the choreographer hears.

    Attributes:
        beat_times: (K,) seconds. downbeat_times: (B,) seconds.
        beats_per_bar: meter.
        duration: seconds.
        energy: (K,) loudness per beat in [0, 1] (mostly relative to the song itself).
        density: (K,) onsets per beat (0 .. about 4).
        section_starts: (S,) beat indices where sections begin (the first is 0).
        genre: the dance genre (a ``dance_genres.GENRES`` key, :func:`dance_genres.genre_for_song`).
        accent_times: (A,) seconds of the music's accents (:func:`find_accents`).
        accent_strength: (A,) their strength in (0, 1].
        contour: (F,) the melodic contour in (-1, 1) at ``contour_fps`` frames per second from
            time 0 (:func:`melodic_contour`); empty when unknown (the dancer then shows none).
        contour_fps: its frame rate.
    """

    beat_times: np.ndarray
    downbeat_times: np.ndarray
    beats_per_bar: int
    duration: float
    energy: np.ndarray
    density: np.ndarray
    section_starts: np.ndarray
    genre: str = dg.DEFAULT_GENRE
    accent_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    accent_strength: np.ndarray = field(default_factory=lambda: np.zeros(0))
    contour: np.ndarray = field(default_factory=lambda: np.zeros(0))
    contour_fps: float = float(contract.FPS)


ENERGY_ABS_WEIGHT: float = 0.3
"""Share of absolute loudness (vs the song's own range) in the per-beat energy."""
ABS_DB_RANGE: tuple[float, float] = (-45.0, -15.0)
"""Mean log-mel level (dB) mapped to absolute energy 0 and 1."""
SECTION_MIN_BARS: int = 8
NOVELTY_BLOCK_BARS: int = 4


def analyse_song(
    audio, rhythm=None, section_times: list[float] | None = None, groove_family: str = ""
) -> SongInfo:
    """Per-beat energy and density, accents, sections and dance genre of ``audio`` (a
    ``motionbeat.audio.Audio``).

    Energy: frame loudness L_t = 10 log10(mean_b 10^(mel_tb / 10)) averaged per beat, scaled
    to the song's 5th-95th percentile range, mixed with ENERGY_ABS_WEIGHT of absolute level.
    Density: onset peaks (librosa.util.peak_pick on the frame onset strength) per beat.
    Sections (when not given): Foote-style novelty between the mean log-mel of the
    NOVELTY_BLOCK_BARS bars before and after each 4-bar boundary; peaks above mean + 0.5 std,
    at least SECTION_MIN_BARS apart, start new sections (Foote, ICME 2000).
    Accents: :func:`find_accents` on the frame onset strength. Contour: :func:`melodic_contour`
    of the log-mel frames. Genre:
    :func:`dance_genres.genre_for_song` from ``groove_family`` (mma songs) or by ear.
    """
    import librosa

    from motionbeat import audio as au

    rhythm = rhythm if rhythm is not None else au.analyse_rhythm(audio)
    feats = au.frame_features(audio)
    fps = feats.fps
    beats = np.asarray(rhythm.beat_times, dtype=np.float64)
    mel = feats.mel.astype(np.float64)  # (T, n_mels) dB
    loud = 10.0 * np.log10(np.mean(10.0 ** (mel / 10.0), axis=1) + 1e-12)  # (T,)
    edges = np.clip(
        np.round(np.r_[beats, beats[-1] + 60.0 / max(rhythm.tempo_bpm, 1.0)] * fps), 0, len(loud)
    ).astype(int)  # (K + 1,) frame edges of the beats
    per_beat = np.array(
        [
            loud[a:b].mean() if b > a else loud[min(a, len(loud) - 1)]
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    )  # (K,)
    lo, hi = np.percentile(per_beat, [5, 95])
    rel = np.clip((per_beat - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
    absolute = np.clip(
        (per_beat.mean() - ABS_DB_RANGE[0]) / (ABS_DB_RANGE[1] - ABS_DB_RANGE[0]), 0, 1
    )
    energy = gaussian_filter1d((1 - ENERGY_ABS_WEIGHT) * rel + ENERGY_ABS_WEIGHT * absolute, 2.0)
    peaks = librosa.util.peak_pick(
        feats.onset,
        pre_max=2,
        post_max=2,
        pre_avg=5,
        post_avg=5,
        delta=float(np.std(feats.onset)) * 0.3,
        wait=3,
    )
    density = np.histogram(peaks / fps, bins=np.r_[beats, beats[-1] + 1.0])[0].astype(np.float64)
    density = gaussian_filter1d(density, 2.0)
    if section_times is not None:
        starts = np.unique(np.searchsorted(beats, np.asarray(section_times, dtype=np.float64)))
    else:
        starts = _novelty_sections(mel, beats, rhythm, fps)
    starts = np.unique(np.r_[0, starts[starts < len(beats)]]).astype(np.int64)
    accent_times, accent_strength = find_accents(feats.onset, fps, beats)
    genre = dg.genre_for_song(
        groove_family, float(rhythm.tempo_bpm), int(rhythm.beats_per_bar),
        float(np.mean(energy)) if len(energy) else 0.5,
        float(np.mean(density)) if len(density) else 1.0,
    )
    return SongInfo(
        beats,
        np.asarray(rhythm.downbeat_times, dtype=np.float64),
        int(rhythm.beats_per_bar),
        float(audio.duration),
        energy,
        density,
        starts,
        genre,
        accent_times,
        accent_strength,
        melodic_contour(mel, fps),
        float(fps),
    )


CONTOUR_SMOOTH_S: float = 0.15
"""Gaussian sigma (s) of the contour: long enough to average a drum hit's spectrum away
(a kick lowers the centroid, a hi-hat raises it, both within ~50 ms), short enough to follow a
melody note by note at dance tempi (a sixteenth at 120 BPM is 125 ms)."""
CONTOUR_SPREAD: float = 2.0
"""The contour is tanh((c - median) / (CONTOUR_SPREAD * robust std)): about +-0.46 at one
robust standard deviation, saturating only on the song's extremes."""


def melodic_contour(mel: np.ndarray, fps: float) -> np.ndarray:
    """How high the music sounds, frame by frame, in (-1, 1) relative to the song itself.

    The spectral centroid on the mel axis, c_t = sum_k k p_tk / sum_k p_tk with p_tk =
    10^(mel_tk / 10) the mel power of band k, smoothed by a Gaussian of CONTOUR_SMOOTH_S,
    centred on its median and scaled by its robust standard deviation (IQR / 1.349), then
    squashed by tanh (CONTOUR_SPREAD). The centroid of a mixture rises with the pitch and
    brightness of its lead voice; this is the "melodic contour" a dancer shows with the
    height of the arms (a proxy: a melody transcription, e.g. pYIN, would cost seconds per song
    and fail on chords).

    Args:
        mel: (T, n_mels) log-mel frames in dB. fps: their frame rate.
    Returns:
        (T,) contour; zeros when the song is flat (no variation to follow).
    """
    mel = np.asarray(mel, dtype=np.float64)
    if mel.ndim != 2 or len(mel) == 0:
        return np.zeros(len(mel))
    power = 10.0 ** (mel / 10.0)  # (T, n_mels)
    bands = np.arange(mel.shape[1], dtype=np.float64)
    centroid = power @ bands / np.maximum(power.sum(axis=1), 1e-12)  # (T,)
    centroid = gaussian_filter1d(centroid, CONTOUR_SMOOTH_S * fps)
    q25, q50, q75 = np.percentile(centroid, [25, 50, 75])
    scale = (q75 - q25) / 1.349  # robust std of a normal
    if scale < 1e-6:
        return np.zeros(len(centroid))
    return np.tanh((centroid - q50) / (CONTOUR_SPREAD * scale))


ACCENT_WINDOW_S: float = 0.05
"""An accent's onset peak may lie this far from its beat or half-beat (2 frames at 30 fps)."""
ACCENT_CONTEXT: int = 16
"""Beat and half-beat positions (two 4/4 bars) in the running median an accent stands out from."""
ACCENT_RATIO: float = 1.5
"""A position is an accent when its onset peak is this many times the running median."""
ACCENT_FULL_RATIO: float = 3.0
"""... and at full strength (1) from this ratio on."""


def find_accents(onset: np.ndarray, fps: float, beats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The music's accents: beats and half-beats whose onset is loud for their neighbourhood.

    At every beat and half-beat position p the peak onset strength s_p within
    +-ACCENT_WINDOW_S is compared with the running median m_p over ACCENT_CONTEXT positions;
    p is an accent when r_p = s_p / m_p >= ACCENT_RATIO, of strength
    min(1, (r_p - 1) / (ACCENT_FULL_RATIO - 1)). Dancers "hit" such accents (a kick-and-crash,
    a stab, a drum fill) rather than every beat.

    Args:
        onset: (T,) onset strength at ``fps`` frames per second.
        fps: its frame rate.
        beats: (K,) beat times, s.
    Returns:
        accent times (A,) in seconds and strengths (A,) in (0, 1].
    """
    from scipy.ndimage import median_filter

    beats = np.asarray(beats, dtype=np.float64)
    if len(beats) < 2 or len(onset) == 0:
        return np.zeros(0), np.zeros(0)
    pos = np.sort(np.r_[beats, 0.5 * (beats[:-1] + beats[1:])])  # (2K - 1,) seconds
    half = max(int(round(ACCENT_WINDOW_S * fps)), 1)
    frames = np.clip(np.round(pos * fps).astype(int), 0, len(onset) - 1)
    peak = np.array([onset[max(f - half, 0) : f + half + 1].max() for f in frames])  # (P,)
    context = median_filter(peak, size=ACCENT_CONTEXT, mode="nearest")  # (P,)
    ratio = peak / np.maximum(context, 1e-6 + 1e-3 * float(np.max(peak)))
    keep = ratio >= ACCENT_RATIO
    strength = np.minimum(1.0, (ratio[keep] - 1.0) / (ACCENT_FULL_RATIO - 1.0))
    return pos[keep], strength


def _novelty_sections(mel: np.ndarray, beats: np.ndarray, rhythm, fps: float) -> np.ndarray:
    downs = np.asarray(rhythm.downbeat_times, dtype=np.float64)
    if len(downs) < 2 * NOVELTY_BLOCK_BARS + 1:
        return np.zeros(1, dtype=np.int64)
    frames = np.clip(np.round(downs * fps).astype(int), 0, len(mel) - 1)
    bars = np.stack(
        [mel[a : max(b, a + 1)].mean(0) for a, b in zip(frames[:-1], frames[1:], strict=True)]
    )  # (B-1, M)
    bars = (bars - bars.mean(0)) / (bars.std(0) + 1e-6)
    n = NOVELTY_BLOCK_BARS
    cand = np.arange(n, len(bars) - n + 1, n)
    nov = np.array(
        [np.linalg.norm(bars[i - n : i].mean(0) - bars[i : i + n].mean(0)) for i in cand]
    )
    if nov.size == 0:
        return np.zeros(1, dtype=np.int64)
    thr = nov.mean() + 0.5 * nov.std()
    chosen: list[int] = []
    for i, v in sorted(zip(cand, nov, strict=True), key=lambda x: -x[1]):
        if v >= thr and all(abs(i - c) >= SECTION_MIN_BARS for c in chosen):
            chosen.append(i)
    bar_beats = np.searchsorted(beats, downs[np.sort(np.asarray(chosen, dtype=int))] - 1e-6)
    return np.asarray(bar_beats, dtype=np.int64)


def song_info_from_beats(
    beat_times: np.ndarray,
    downbeat_times: np.ndarray,
    beats_per_bar: int,
    duration: float,
    energy: np.ndarray | None = None,
    density: np.ndarray | None = None,
    section_starts: np.ndarray | None = None,
    genre: str = dg.DEFAULT_GENRE,
) -> SongInfo:
    """A :class:`SongInfo` from known beats (no audio): flat energy and density, no accents
    by default."""
    beat_times = np.asarray(beat_times, dtype=np.float64)
    k = len(beat_times)
    return SongInfo(
        beat_times,
        np.asarray(downbeat_times, dtype=np.float64),
        int(beats_per_bar),
        float(duration),
        np.full(k, 0.5) if energy is None else np.asarray(energy, dtype=np.float64),
        np.full(k, 1.0) if density is None else np.asarray(density, dtype=np.float64),
        np.zeros(1, dtype=np.int64)
        if section_starts is None
        else np.asarray(section_starts, dtype=np.int64),
        genre,
    )
