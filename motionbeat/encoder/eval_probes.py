"""Linear probes of a MotionBeat evaluation: the per-frame beat probe and the genre probe.

The beat probe fits a logistic regression from frozen per-frame features to "a beat falls in
this frame", picks beats at the peaks of its probability and scores them with mir_eval's
F-measure; the genre probe fits one from clip embeddings to groove families. The protocol is
described in :mod:`motionbeat.encoder.evaluate`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from motionbeat import audio as au
from motionbeat.core.fileio import atomic_path
from motionbeat.datasets.songs import SongData

BEAT_TOLERANCE_S: float = 0.07
"""mir_eval's F-measure window (the MIREX beat-tracking standard, +-70 ms)."""
TRIM_SECONDS: float = 5.0
"""mir_eval.beat.trim_beats' default: beats in the first 5 s are ignored (MIREX)."""
PROBE_THRESHOLDS: np.ndarray = np.round(np.arange(0.05, 0.96, 0.05), 2)
"""Peak-picking thresholds tried on the probe's training songs."""
PROBE_C: float = 1.0
"""Inverse L2 strength of both logistic regressions (sklearn's default)."""
PROBE_MAX_ITER: int = 2000
DEFAULT_PROBE_FRAMES: int = 100_000
"""Frames the beat probe is fitted on at most (a random subset, seeded)."""


# --- beat probe --------------------------------------------------------------------------------
def tracked_rhythm(song: SongData) -> au.Rhythm:
    """``analyse_rhythm`` of the song's audio, cached beside the song cache."""
    cache = song.cache_path.with_name(f"{song.song_id}.tracked.npz") if song.cache_path else None
    key = ""
    if cache is not None:
        with np.load(song.cache_path, allow_pickle=False) as z:
            key = str(z["key"])  # the song cache's key: a rebuilt song is tracked again
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            if "key" not in z.files or str(z["key"]) != key:
                cache.unlink()
                return tracked_rhythm(song)
            return au.Rhythm(
                tempo_bpm=float(z["tempo_bpm"]), beat_times=z["beat_times"],
                downbeat_times=z["downbeat_times"], beats_per_bar=int(z["beats_per_bar"]),
                bar_position=z["bar_position"], reliable=bool(z["reliable"]),
                pulse_clarity=float(z["pulse_clarity"]), duration=float(z["duration"]),
            )
    if song.audio_path is None:
        raise ValueError(f"{song.song_id}: no audio file to track beats on")
    r = au.analyse_rhythm(au.load_audio(song.audio_path))
    if cache is not None:
        with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, key=np.str_(key), tempo_bpm=r.tempo_bpm, beat_times=r.beat_times,
                     downbeat_times=r.downbeat_times, beats_per_bar=r.beats_per_bar,
                     bar_position=r.bar_position, reliable=r.reliable,
                     pulse_clarity=r.pulse_clarity, duration=r.duration)
    return r


def beat_labels(num_frames: int, beat_times: np.ndarray, fps: float) -> np.ndarray:
    """(T,) int labels: 1 on the frame nearest to each beat inside the song, else 0."""
    labels = np.zeros(num_frames, np.int64)
    idx = np.round(np.asarray(beat_times) * fps).astype(np.int64)
    labels[idx[(idx >= 0) & (idx < num_frames)]] = 1
    return labels


def pick_beats(prob: np.ndarray, threshold: float, fps: float) -> np.ndarray:
    """Beat times (s) at the peaks of a per-frame beat probability.

    Peaks above ``threshold``, at least ``60 / MAX_BPM`` seconds apart (scipy's find_peaks);
    a flat peak (a plateau of equal values) is placed at its first frame.
    """
    from scipy.signal import find_peaks

    distance = max(1, int(np.floor(fps * 60.0 / au.MAX_BPM)))
    padded = np.concatenate([[-np.inf], prob, [-np.inf]])  # peaks at the song's edges count too
    peaks, props = find_peaks(padded, height=threshold, distance=distance, plateau_size=1)
    return (props["left_edges"] - 1) / fps if len(peaks) else np.zeros(0)


def beat_f_measure(reference: np.ndarray, estimated: np.ndarray, trim_seconds: float) -> float:
    """mir_eval F-measure at BEAT_TOLERANCE_S after dropping beats before ``trim_seconds``."""
    import mir_eval

    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimated, dtype=np.float64)
    ref, est = ref[ref >= trim_seconds], est[est >= trim_seconds]
    if len(ref) == 0:
        return float("nan")
    if len(est) == 0:
        return 0.0  # mir_eval returns 0 too, with a warning
    return float(mir_eval.beat.f_measure(ref, est, f_measure_threshold=BEAT_TOLERANCE_S))


def _logistic(balanced: bool, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(
        C=PROBE_C, max_iter=PROBE_MAX_ITER, class_weight="balanced" if balanced else None,
        random_state=seed))


def beat_probe(
    train: Sequence[tuple[np.ndarray, np.ndarray]],
    test: Sequence[tuple[np.ndarray, np.ndarray]],
    fps: float,
    *,
    max_frames: int = DEFAULT_PROBE_FRAMES,
    trim_seconds: float = TRIM_SECONDS,
    seed: int = 0,
) -> dict[str, float]:
    """Fit the per-frame beat probe on ``train`` songs and score it on ``test`` songs.

    Args:
        train, test: per song ``(features (T, D), exact beat times (K,))``.
    Returns:
        ``f1`` (mean over test songs), ``threshold``, ``train_f1``, counts.
    """
    x = np.concatenate([f for f, _ in train])  # (sum T, D)
    y = np.concatenate([beat_labels(len(f), b, fps) for f, b in train])  # (sum T,)
    rng = np.random.default_rng(seed)
    if len(x) > max_frames:
        keep = np.sort(rng.choice(len(x), size=max_frames, replace=False))
        x, y = x[keep], y[keep]
    if y.min() == y.max():
        return {"f1": float("nan"), "reason": "one class only in the probe's training frames"}
    probe = _logistic(balanced=True, seed=seed).fit(x, y)

    def prob(f: np.ndarray) -> np.ndarray:
        return probe.predict_proba(f)[:, 1]  # (T,)

    train_prob = [prob(f) for f, _ in train]
    scores = [np.nanmean([beat_f_measure(b, pick_beats(p, th, fps), trim_seconds)
                          for p, (_, b) in zip(train_prob, train, strict=True)])
              for th in PROBE_THRESHOLDS]
    best = int(np.nanargmax(scores))
    threshold = float(PROBE_THRESHOLDS[best])
    f1 = [beat_f_measure(b, pick_beats(prob(f), threshold, fps), trim_seconds) for f, b in test]
    return {"f1": float(np.nanmean(f1)), "threshold": threshold, "train_f1": float(scores[best]),
            "train_songs": len(train), "test_songs": len(test), "fit_frames": int(len(x))}


# --- genre probe -------------------------------------------------------------------------------
def genre_probe(
    train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray, test_y: Sequence[str],
    seed: int = 0,
) -> dict[str, float]:
    """Accuracy of a logistic regression from clip vectors to genre labels on held-out clips."""
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    classes = sorted(set(train_y.tolist()))
    if len(classes) < 2 or len(test_y) == 0:
        return {"accuracy": float("nan"), "reason": "fewer than two genres or no held-out clips"}
    probe = _logistic(balanced=False, seed=seed).fit(train_x, train_y)
    values, counts = np.unique(train_y, return_counts=True)
    majority = values[np.argmax(counts)]
    return {
        "accuracy": float(np.mean(probe.predict(test_x) == test_y)),
        "majority_baseline": float(np.mean(test_y == majority)),
        "classes": len(classes), "train_clips": int(len(train_y)), "test_clips": int(len(test_y)),
        "unseen_test_genres": sorted(set(test_y.tolist()) - set(classes)),
    }
