"""Music-dance alignment that sees the song: tempo- and phase-aware measures, and own vs other songs.

BAS (:mod:`.beats`) only asks whether each music beat has *some* motion beat within ~0.05 s.
A dance with many motion beats scores high against any song, so BAS cannot tell a dance's own
song from another (issue #16). This module adds two measures that use the music's tempo and
beat phase, and the own/other comparison that tells whether a measure sees the song at all.

Beat phase (used by both measures)
    For music beats b_0 < b_1 < ... < b_{K-1} (K >= 2) the beat phase of a time t is
    phi(t) = (t - b_k) / (b_{k+1} - b_k) for b_k <= t < b_{k+1}, extended before b_0 and after
    b_{K-1} with the first and last inter-beat interval; phi = 0 on a beat, 1/2 half-way between
    two beats. It carries the song's tempo (its rate) and phase (its zeros), beat by beat, so a
    drifting tempo is followed. This is the phase of the beat-synchronous analysis in
    :mod:`motionbeat.audio.tokens`.

Beat envelope correlation (BEC, :func:`envelope_correlation`)
    Motion pulse p(t) = -e(t), e = Bailando's mean joint displacement envelope, smoothed
    (:func:`.beats.bailando_envelope`), stamped like the motion beats: p peaks where the body
    stops, i.e. at the motion beats of BAS. Music envelope m(t) = cos(2 pi phi(t)): +1 on the
    beats, -1 half-way between. BEC = Pearson correlation of p and m over the samples (lag 0):
        BEC = sum_t (p_t - pbar)(m_t - mbar) / sqrt(sum_t (p_t - pbar)^2 sum_t (m_t - mbar)^2),
    in [-1, 1]: 1 when the body stops on every beat and moves fastest half-way, -1 for the same
    motion half a beat late, ~0 for motion at another tempo (the phase difference drifts through
    all values). BEC_lag = the maximum over lags of at most :data:`MAX_LAG_S` (either way) of
    the same correlation on the overlapping samples, which forgives a steady small lead or lag
    (the smoothing, a dancer anticipating the beat). Where p or m is constant it is 0 (no
    co-variation) rather than undefined. The measure is defined here (issue #16) from standard
    parts: the normalised cross-correlation (Pearson) of two envelopes, Bailando's motion
    envelope, and a music envelope made of the beat grid's phase alone, so that only tempo
    and phase count: a dense motion with minima everywhere scores ~0, not high.
    BEC_any = the best BEC over every constant phase offset theta, i.e. the correlation of p
    with cos(2 pi phi(t) - theta) at the best theta: the multiple correlation coefficient of p
    on u = cos(2 pi phi), v = sin(2 pi phi) (all centred), sqrt(g^T M^-1 g / p^T p) with
    g = (p.u, p.v) and M the 2x2 Gram matrix of (u, v) (the square root of the R^2 of the
    least-squares fit of p on u and v), in [0, 1]. It keeps the tempo (phi
    follows the song's beats) and asks for a steady phase relation, whatever it is: a dancer
    who stops a third of a beat before every beat scores BEC ~ -0.5 but BEC_any ~ 1.

Beat phase locking (R, :func:`phase_locking`)
    The resultant length of the music's beat phase at the motion beats t_1 .. t_N:
        R = | (1/N) sum_n exp(2 pi i phi(t_n)) |   in [0, 1]
    (Mardia and Jupp, *Directional Statistics*, 2000, sec. 3.4: the mean resultant length; the
    phase-locking value of Lachaux et al., Human Brain Mapping 1999). R = 1 when every motion
    beat falls at the same beat phase (on the beat, or steadily ahead by any fixed amount), ~0
    when motion beats fall at all phases, as they do against a song of another tempo. Its
    value for N independent uniform phases is about sqrt(pi / (4 N)) (Rayleigh), the floor a
    beat-less dance reaches.

Own vs other songs (:func:`own_other`)
    Score every dance d with every song s of its split: a (D, S) matrix X with the dance's own
    song o(d). own_d = X[d, o(d)], other_d = mean over s != o(d) of X[d, s] (NaN ignored),
    gap_d = own_d - other_d; the reported gap is the mean over dances. A measure that sees the
    song has gap > 0; one that does not has gap ~ 0. The 95 % interval is a percentile
    bootstrap over songs (Efron and Tibshirani, *An Introduction to the Bootstrap*, 1993,
    ch. 13): :data:`BOOTSTRAP_RESAMPLES` times, draw S songs with replacement (numpy
    ``default_rng(seed)``); a drawn song brings its dances (weighted by how often it is drawn)
    and serves as an "other" song (with the same weight) for the dances of the other drawn
    songs, so the interval covers both the dances and the music they are compared against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motionbeat.metrics.beats import (
    BAS_SIGMA_S,
    FACT_ORDER_S,
    REFERENCE_HALF_FRAME_S,
    SMOOTHING_S,
    bailando_envelope,
    bas,
    bas_motion,
    clip_beats_to_motion,
    motion_beats,
    motion_beats_fact,
)

MAX_LAG_S: float = 2 * BAS_SIGMA_S
"""Largest lead or lag BEC_lag forgives: 0.1 s, two BAS sigmas (a motion beat that far from a
music beat still earns exp(-2) = 0.14 in BAS); well under half a beat at any tempo up to
300 BPM (0.1 s), so the lag window cannot turn an off-beat dance into an on-beat one."""
BOOTSTRAP_RESAMPLES: int = 2000
"""Resamples of the own/other bootstrap (Efron and Tibshirani 1993 advise >= 1000 for
percentile intervals)."""
CONFIDENCE: float = 0.95
"""Coverage of the bootstrap interval."""
MEASURES: tuple[str, ...] = ("bas", "bas_motion", "bec", "bec_lag", "bec_any", "phase_r")
"""What :func:`pair_scores` returns for one dance against one song."""


# ----------------------------------------------------------------------------- beat phase


def beat_phase(times: np.ndarray, beat_times: np.ndarray) -> np.ndarray:
    """(N,) times -> (N,) beat phase in [0, 1) (module doc); NaN everywhere with < 2 beats."""
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    beats = np.sort(np.asarray(beat_times, dtype=np.float64).reshape(-1))  # (K,)
    if beats.size < 2:
        return np.full(times.shape, np.nan)
    k = np.clip(np.searchsorted(beats, times, side="right") - 1, 0, beats.size - 2)  # (N,)
    period = beats[k + 1] - beats[k]
    return np.mod((times - beats[k]) / period, 1.0)


def music_envelope(times: np.ndarray, beat_times: np.ndarray) -> np.ndarray:
    """(N,) m(t) = cos(2 pi phi(t)): 1 on the music beats, -1 half-way between them."""
    return np.cos(2.0 * np.pi * beat_phase(times, beat_times))


def motion_pulse(
    joints: np.ndarray, fps: float, smoothing_s: float = SMOOTHING_S
) -> tuple[np.ndarray, np.ndarray]:
    """(T, J, 3) -> times (T-1,) and pulse (T-1,) = minus the Bailando envelope.

    Sample k is stamped (k + 1/2) / fps - 1/120 s, the time :func:`.beats.motion_beats` gives
    a minimum at k, so the pulse peaks exactly at the motion beats of BAS.
    """
    env = bailando_envelope(joints, fps, smoothing_s)  # (T-1,)
    times = (np.arange(env.size) + 0.5) / fps - REFERENCE_HALF_FRAME_S
    return times, -env


# ------------------------------------------------------------------------------ measures


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt(np.sum(a * a) * np.sum(b * b))
    scale = max(float(np.abs(a).max(initial=0.0)), 1e-300) * max(float(np.abs(b).max(initial=0.0)), 1e-300)
    if a.size < 2 or den <= 1e-12 * scale * a.size:  # a constant side: no co-variation
        return 0.0
    return float(np.sum(a * b) / den)


def lagged_correlation(a: np.ndarray, b: np.ndarray, max_lag: int) -> np.ndarray:
    """Pearson correlation of a[t] with b[t + l] on the overlap, for l = -max_lag .. max_lag.

    a, b: (N,) sampled at the same times. Returns (2 max_lag + 1,), index max_lag is lag 0;
    0 where a side is constant on the overlap.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"envelopes differ in length: {a.shape} vs {b.shape}")
    n = a.size
    out = np.zeros(2 * max_lag + 1)
    for i, lag in enumerate(range(-max_lag, max_lag + 1)):
        lo, hi = max(0, -lag), min(n, n - lag)  # a[lo:hi] pairs with b[lo + lag:hi + lag]
        if hi - lo >= 2:
            out[i] = _pearson(a[lo:hi], b[lo + lag:hi + lag])
    return out


def envelope_correlation(
    pulse_times: np.ndarray, pulse: np.ndarray, beat_times: np.ndarray, fps: float,
    max_lag_s: float = MAX_LAG_S,
) -> dict[str, float]:
    """BEC (lag 0) and BEC_lag (max over |lag| <= ``max_lag_s``) of a motion pulse and the beats.

    Args:
        pulse_times, pulse: (N,) sample times (s) and values of the motion pulse
            (:func:`motion_pulse`), evenly spaced at ``fps``.
        beat_times: (K,) music beats in seconds on the same clock.
    Returns ``bec``, ``bec_lag`` and ``bec_any`` (module doc); NaN with fewer than 2 music
    beats or 2 samples.
    """
    beats = np.asarray(beat_times, dtype=np.float64).reshape(-1)
    pulse = np.asarray(pulse, dtype=np.float64).reshape(-1)
    if beats.size < 2 or pulse.size < 2:
        return {"bec": float("nan"), "bec_lag": float("nan"), "bec_any": float("nan")}
    phase = 2.0 * np.pi * beat_phase(pulse_times, beats)  # (N,)
    music = np.cos(phase)  # (N,) music_envelope
    lag = int(np.floor(max_lag_s * fps + 1e-9))
    corr = lagged_correlation(pulse, music, lag)  # (2 lag + 1,)
    return {"bec": float(corr[lag]), "bec_lag": float(corr.max()),
            "bec_any": multiple_correlation(pulse, np.stack([music, np.sin(phase)], axis=1))}


def multiple_correlation(y: np.ndarray, x: np.ndarray) -> float:
    """Multiple correlation coefficient of (N,) y on the (N, P) columns of x: the largest
    Pearson correlation of y with any linear combination of them, sqrt(g^T M^+ g / y^T y) on
    centred data (g = x^T y, M = x^T x, pseudo-inverse for a degenerate x); 0 when y or x is
    constant."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    x = np.asarray(x, dtype=np.float64).reshape(y.size, -1)
    y = y - y.mean()
    x = x - x.mean(axis=0)
    yy = float(y @ y)
    if yy <= 1e-24 * max(float(np.abs(y).max(initial=0.0)) ** 2, 1e-300) * max(y.size, 1):
        return 0.0
    g = x.T @ y  # (P,)
    explained = float(g @ np.linalg.pinv(x.T @ x, rcond=1e-10) @ g)
    return float(np.sqrt(np.clip(explained / yy, 0.0, 1.0)))


def phase_locking(motion_beats_s: np.ndarray, beat_times: np.ndarray) -> float:
    """R = |mean_n exp(2 pi i phi(t_n))| over the motion beats t_n (module doc).

    NaN without a motion beat or with fewer than 2 music beats.
    """
    phase = beat_phase(motion_beats_s, beat_times)  # (N,)
    if phase.size == 0 or not np.isfinite(phase).all():
        return float("nan")
    return float(np.abs(np.mean(np.exp(2j * np.pi * phase))))


# ------------------------------------------------------------------- one dance, many songs


@dataclass(frozen=True)
class MotionRhythm:
    """What the measures need of one dance, computed once and scored against any song."""

    fps: float
    num_frames: int
    beats: np.ndarray  # (N,) Bailando motion beats, s
    beats_fact: np.ndarray  # (N',) FACT motion beats, s
    pulse_times: np.ndarray  # (T-1,) s
    pulse: np.ndarray  # (T-1,)

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps


def motion_rhythm(joints: np.ndarray, fps: float, smoothing_s: float = SMOOTHING_S,
                  order_s: float = FACT_ORDER_S) -> MotionRhythm:
    """The motion beats (both references') and the pulse of a (T, J, 3) dance."""
    times, pulse = motion_pulse(joints, fps, smoothing_s)
    return MotionRhythm(float(fps), int(np.asarray(joints).shape[0]), motion_beats(joints, fps, smoothing_s),
                        motion_beats_fact(joints, fps, order_s), times, pulse)


def pair_scores(mr: MotionRhythm, beat_times: np.ndarray, span_s: float | None = None,
                sigma_s: float = BAS_SIGMA_S, max_lag_s: float = MAX_LAG_S) -> dict[str, float]:
    """Every measure of :data:`MEASURES` for one dance against one song's beats.

    Args:
        mr: the dance (:func:`motion_rhythm`).
        beat_times: (K,) the song's beats, seconds from the dance's first frame.
        span_s: score only the first ``span_s`` seconds of the dance (a song shorter than the
            dance); motion beats and pulse samples after it are dropped. None: the whole dance.
    BAS and BAS_motion are exactly :func:`.beats.beat_alignment` on the whole dance; on a cut
    span they use the motion beats found on the whole dance (the same away from the cut).
    """
    frames = mr.num_frames if span_s is None else min(mr.num_frames, int(round(span_s * mr.fps)))
    end = frames / mr.fps
    beats_all = np.asarray(beat_times, dtype=np.float64).reshape(-1)
    inside = beats_all[(beats_all >= 0) & (beats_all < end)]  # as scoring.music_beats_in_motion
    music = clip_beats_to_motion(inside, frames, mr.fps)
    keep = slice(None) if frames == mr.num_frames else slice(0, max(0, frames - 1))
    motion = mr.beats[mr.beats < end] if span_s is not None else mr.beats
    motion_fact = mr.beats_fact[mr.beats_fact < end] if span_s is not None else mr.beats_fact
    env = envelope_correlation(mr.pulse_times[keep], mr.pulse[keep], beats_all, mr.fps, max_lag_s)
    return {
        "bas": bas(music, motion, sigma_s),
        "bas_motion": bas_motion(music, motion_fact, sigma_s),
        **env,
        "phase_r": phase_locking(motion, beats_all),
    }


def cross_scores(dances: Sequence[MotionRhythm], songs: Sequence[np.ndarray],
                 spans: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every dance against every song: ``{measure: (D, S) matrix}``.

    songs: per song, (K,) beat times from the dance's first frame. spans: optional (D, S)
    seconds to score (:func:`pair_scores`); None scores whole dances.
    """
    out = {k: np.full((len(dances), len(songs)), np.nan) for k in MEASURES}
    for d, mr in enumerate(dances):
        for s, beats in enumerate(songs):
            span = None if spans is None else float(spans[d, s])
            for k, v in pair_scores(mr, beats, span).items():
                out[k][d, s] = v
    return out


# --------------------------------------------------------------------------- own vs other


def own_other_per_dance(scores: np.ndarray, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D, S) scores, (D,) own-song index -> own (D,) and mean-over-other-songs (D,) scores."""
    scores = np.asarray(scores, dtype=np.float64)
    own = np.asarray(own, dtype=np.int64).reshape(-1)
    d = np.arange(scores.shape[0])
    mine = scores[d, own]  # (D,)
    others = scores.copy()
    others[d, own] = np.nan
    valid = np.isfinite(others)
    count = valid.sum(axis=1)
    total = np.where(valid, others, 0.0).sum(axis=1)
    other = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
    return mine, other


def own_other(scores: np.ndarray, own: np.ndarray, *, resamples: int = BOOTSTRAP_RESAMPLES,
              seed: int = 0, confidence: float = CONFIDENCE) -> dict[str, float]:
    """Own-song score, other-song score, their gap and its bootstrap interval over songs.

    Args:
        scores: (D, S) one measure for every dance (rows) against every song (columns).
        own: (D,) the column of each dance's own song.
    Returns ``own``, ``other`` (means over dances with both defined), ``gap`` = own - other,
    ``gap_lo``, ``gap_hi`` (percentile bootstrap interval, module doc), ``n_dances``,
    ``n_songs``, ``resamples``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    own = np.asarray(own, dtype=np.int64).reshape(-1)
    if scores.ndim != 2 or own.shape != (scores.shape[0],):
        raise ValueError(f"scores (D, S) and own (D,) expected, got {scores.shape} and {own.shape}")
    num_songs = scores.shape[1]
    mine, other = own_other_per_dance(scores, own)
    ok = np.isfinite(mine) & np.isfinite(other)
    result = {"own": float("nan"), "other": float("nan"), "gap": float("nan"), "gap_lo": float("nan"),
              "gap_hi": float("nan"), "n_dances": int(ok.sum()), "n_songs": int(num_songs),
              "resamples": int(resamples)}
    if not ok.any():
        return result
    gap = mine - other
    result.update(own=float(mine[ok].mean()), other=float(other[ok].mean()), gap=float(gap[ok].mean()))
    if num_songs < 2:
        return result
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, num_songs, num_songs), minlength=num_songs)
                       for _ in range(resamples)]).astype(np.float64)  # (B, S) times each song is drawn
    x, m = scores[ok], own[ok]  # (D', S), (D',)
    off = np.ones_like(x, dtype=bool)
    off[np.arange(x.shape[0]), m] = False
    off &= np.isfinite(x)
    num = counts @ np.where(off, x, 0.0).T  # (B, D') weighted sum over drawn other songs
    den = counts @ off.T.astype(np.float64)  # (B, D')
    other_b = np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)
    weight = counts[:, m] * (den > 0)  # (B, D') a dance counts as often as its song is drawn
    gap_b = np.where(weight > 0, mine[ok][None, :] - other_b, 0.0)
    total = weight.sum(axis=1)
    stat = np.divide((weight * gap_b).sum(axis=1), total, out=np.full(total.shape, np.nan),
                     where=total > 0)  # (B,)
    stat = stat[np.isfinite(stat)]
    if stat.size:
        tail = 100.0 * (1.0 - confidence) / 2.0
        result.update(gap_lo=float(np.percentile(stat, tail)), gap_hi=float(np.percentile(stat, 100 - tail)))
    return result


__all__ = [
    "BOOTSTRAP_RESAMPLES", "CONFIDENCE", "MAX_LAG_S", "MEASURES", "MotionRhythm", "beat_phase",
    "cross_scores", "envelope_correlation", "lagged_correlation", "motion_pulse", "multiple_correlation",
    "motion_rhythm", "music_envelope", "own_other", "own_other_per_dance", "pair_scores", "phase_locking",
]
