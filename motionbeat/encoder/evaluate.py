"""Evaluate MotionBeat checkpoints: retrieval with and without QB-Norm, and linear probes.

    python -m motionbeat.encoder.evaluate --corpus DIR --checkpoints checkpoints/motionbeat \
        checkpoints/motionbeat-no_hard_negatives ... --out docs/motionbeat_eval.md

One run writes one markdown table (and the same numbers as JSON beside it). Per checkpoint:

* **Retrieval** on held-out songs (the ``test`` split by default). The gallery is every
  non-overlapping K-beat clip of the held-out songs, one dance per clip window (a second dancer
  of the same window would be a second correct answer). Music->dance: each clip's audio
  embedding queries the motion embeddings of all gallery clips; dance->music the other way.
  Recall@1/5/10 (%) and median rank (``motionbeat.metrics.retrieval``: ties count against the
  query). **QB-Norm** (Bogolin et al., "Cross Modal Retrieval with Querybank Normalisation",
  CVPR 2022; dynamic inverted softmax, k = 1, beta = 20) with the query bank = training clips
  (same clip grid, at most ``bank_clips``, drawn with the seed) scored against the same gallery.
* **Beat tracking probe** on held-out songs with exact beats (synthesized mma songs). The
  frozen per-frame features of :class:`motionbeat.encoder.encode.FrozenEncoder` are computed on the
  beat grid of the *tracker* (``analyse_rhythm`` on the audio; the exact beats are only the
  labels), so the probe cannot read the answer off the token grid. A logistic regression
  (standardised features, balanced classes) predicts "a beat falls in this frame" (label 1
  on the frame nearest to each exact beat); beats are the peaks of its probability above a
  threshold, at least 60 / MAX_BPM seconds apart, placed at the first frame of a flat peak
  (token features are constant within a token, whose first frame is where a beat sits).
  The threshold maximises the mean F1 on the probe's training songs (up to
  ``probe_train_songs`` train-split songs). Score: mean over held-out songs of the
  ``mir_eval.beat.f_measure`` at 70 ms, after ``mir_eval.beat.trim_beats`` (MIREX: beats
  before 5 s are ignored).
* **Genre probe**: logistic regression on the frozen clip embeddings (audio side, L2-normalised,
  standardised) predicting the song's groove family (``motionbeat.music.groove_families.groove_family``),
  trained on training clips, accuracy on the held-out clips.

Two reference rows need no checkpoint: "log-mel features" (the probes on the front end's own
features: per-frame log-mel + onset for beats, clip mean and std of token log-mel for genre)
and "beat tracker" (the F1 of ``analyse_rhythm``'s beats themselves).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.datasets.corpus import ClipDataset, SongData
from motionbeat.encoder.encode import FrozenEncoder, file_hash
from motionbeat.encoder.model import checkpoint_paths, count_parameters, load_checkpoint
from motionbeat.encoder.train import ABLATION_LABELS, ablation_of, clip_embeddings, history_path, load_songs
from motionbeat.metrics.retrieval import QB_NORM_BETA, QB_NORM_K, qb_norm, retrieval_scores

BEAT_TOLERANCE_S: float = 0.07
"""mir_eval's F-measure window (the MIREX beat-tracking standard, +-70 ms)."""
TRIM_SECONDS: float = 5.0
"""mir_eval.beat.trim_beats' default: beats in the first 5 s are ignored (MIREX)."""
RECALL_KS: tuple[int, ...] = (1, 5, 10)
PROBE_THRESHOLDS: np.ndarray = np.round(np.arange(0.05, 0.96, 0.05), 2)
"""Peak-picking thresholds tried on the probe's training songs."""
PROBE_C: float = 1.0
"""Inverse L2 strength of both logistic regressions (sklearn's default)."""
PROBE_MAX_ITER: int = 2000
DEFAULT_BANK_CLIPS: int = 4096
DEFAULT_PROBE_SONGS: int = 32
DEFAULT_PROBE_FRAMES: int = 100_000
"""Frames the beat probe is fitted on at most (a random subset, seeded)."""
NA: str = "–"


@dataclass(frozen=True)
class EvalOptions:
    """Settings of one evaluation run (written into the JSON)."""

    held_out: tuple[str, ...] = ("test",)
    bank_clips: int = DEFAULT_BANK_CLIPS
    probe_train_songs: int = DEFAULT_PROBE_SONGS
    probe_max_frames: int = DEFAULT_PROBE_FRAMES
    trim_seconds: float = TRIM_SECONDS
    seed: int = 0
    batch_size: int = 128
    reference_rows: bool = True
    aistpp: bool = False
    cache_dir: str | None = None
    device: str | None = None
    progress: bool = True


@dataclass
class EvalRow:
    """One row of the table; metrics absent for a row are None."""

    name: str
    label: str
    retrieval: dict[str, dict[str, float]] | None = None
    beat_f1: float | None = None
    genre_accuracy: float | None = None
    details: dict = field(default_factory=dict)


# --- retrieval ---------------------------------------------------------------------------------
def song_chance(songs: np.ndarray) -> float:
    """Chance level of :func:`song_hit_rate` for a top item drawn uniformly from the gallery:
    sum_s (n_s / G)^2 over the songs' clip counts n_s (G clips in all)."""
    _, counts = np.unique(np.asarray(songs), return_counts=True)
    return float(np.sum((counts / counts.sum()) ** 2))


def song_hit_rate(sim: np.ndarray, songs: np.ndarray) -> dict[str, float]:
    """How often the top-ranked gallery item comes from the query's song (any clip of it),
    with its chance level (:func:`song_chance`).

    ``sim`` (G, G) has query i's true item at column i; ``songs`` (G,) labels the clips. Ties
    in the top similarity go to the lowest column (argmax).
    """
    songs = np.asarray(songs)
    top = np.argmax(sim, axis=1)  # (G,)
    return {"song@1": float(np.mean(songs[top] == songs)), "chance": song_chance(songs)}


def retrieval_table(
    audio: np.ndarray,
    motion: np.ndarray,
    bank_audio: np.ndarray,
    bank_motion: np.ndarray,
    songs: np.ndarray | None = None,
) -> dict[str, dict[str, float]]:
    """Both directions, raw and with QB-Norm, for paired (G, E) gallery embeddings.

    Query bank for music->dance: bank audio (Q, E) against the gallery motions; for
    dance->music: bank motions against the gallery audio. With ``songs`` (G,) the raw
    directions also get :func:`song_hit_rate` (``song@1``, ``song_chance``).
    """
    sim = audio @ motion.T  # (G, G): row = music query, column = dance item
    out = {"music_to_dance": retrieval_scores(sim, ks=RECALL_KS),
           "dance_to_music": retrieval_scores(sim.T, ks=RECALL_KS)}
    if songs is not None:
        for key, s in (("music_to_dance", sim), ("dance_to_music", sim.T)):
            hit = song_hit_rate(s, songs)
            out[key] = {**out[key], "song@1": hit["song@1"], "song_chance": hit["chance"]}
    if len(bank_audio):
        m2d = qb_norm(sim, bank_audio @ motion.T, QB_NORM_K, QB_NORM_BETA)  # (G, G)
        d2m = qb_norm(sim.T, bank_motion @ audio.T, QB_NORM_K, QB_NORM_BETA)
        out["music_to_dance_qb"] = retrieval_scores(m2d, ks=RECALL_KS)
        out["dance_to_music_qb"] = retrieval_scores(d2m, ks=RECALL_KS)
    return out


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


# --- the run -----------------------------------------------------------------------------------
@dataclass
class _Data:
    """Songs and clip sets shared by every checkpoint of one steps-per-beat value."""

    train_songs: list[SongData]
    held_songs: list[SongData]
    gallery: ClipDataset
    bank: ClipDataset
    bank_idx: np.ndarray
    probe_train: list[SongData]
    probe_test: list[SongData]


def _prepare(corpus: Path, steps_per_beat: int, beats_per_clip: int, opts: EvalOptions) -> _Data:
    splits = ("train", *opts.held_out)
    songs = load_songs(corpus, splits, steps_per_beat, aistpp=opts.aistpp,
                       cache_dir=opts.cache_dir, progress=opts.progress)
    train = [s for s in songs if s.split == "train"]
    held = [s for s in songs if s.split in opts.held_out]
    k = beats_per_clip
    gallery = ClipDataset(held, k, jitter_beats=0, stride_beats=k, first_dance_only=True)
    bank = ClipDataset(train, k, jitter_beats=0, stride_beats=k, first_dance_only=True)
    rng = np.random.default_rng(opts.seed)
    bank_idx = np.sort(rng.choice(len(bank), size=min(len(bank), opts.bank_clips), replace=False))
    exact_train = [s for s in train if s.beats_exact]
    pick = rng.permutation(len(exact_train))[: opts.probe_train_songs]
    return _Data(train, held, gallery, bank, bank_idx,
                 [exact_train[i] for i in sorted(pick)], [s for s in held if s.beats_exact])


def _genres(ds: ClipDataset, idx: np.ndarray) -> np.ndarray:
    return np.array([ds.songs[int(ds.clip_song[i])].genre for i in idx])


def _genre_sets(data: _Data) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train clip ids, train labels, test clip ids, test labels) of clips with a genre."""
    train_y = _genres(data.bank, data.bank_idx)
    test_idx = np.arange(len(data.gallery))
    test_y = _genres(data.gallery, test_idx)
    return (data.bank_idx[train_y != ""], train_y[train_y != ""], test_idx[test_y != ""],
            test_y[test_y != ""])


def evaluate_checkpoint(stem: Path, data: _Data, opts: EvalOptions) -> EvalRow:
    """Every metric of one checkpoint."""
    model = load_checkpoint(stem)
    device = torch.device(opts.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model = model.to(device).eval()
    cfg = model.config
    name = ablation_of(cfg)
    # the width x depth tells apart the same ablation trained at two sizes
    label = f"{ABLATION_LABELS.get(name, name)}, {cfg.d_model}x{cfg.n_layers}"
    row = EvalRow(name=stem.name, label=label)
    weights, _ = checkpoint_paths(stem)
    row.details = {"checkpoint": str(stem), "ablation": name, "model_hash": file_hash(weights),
                   "parameters": count_parameters(model), "d_model": cfg.d_model,
                   "n_layers": cfg.n_layers}
    history = history_path(stem)
    if history.is_file():
        h = json.loads(history.read_text())
        row.details.update(train_steps=h.get("total_steps"), train_corpus=h.get("corpus"),
                           seconds_per_step=h.get("seconds_per_step"), seed=h.get("seed"))
        if h.get("seed"):  # repeats of a run differ only by their seed: say which
            row.label += f", seed {h['seed']}"
    # retrieval
    audio, motion = clip_embeddings(model, data.gallery, batch_size=opts.batch_size, device=device)
    bank_audio, bank_motion = clip_embeddings(model, data.bank, data.bank_idx,
                                              batch_size=opts.batch_size, device=device)
    if len(audio) >= 2:
        row.retrieval = retrieval_table(audio, motion, bank_audio, bank_motion,
                                        data.gallery.clip_song)
    # genre
    tr_idx, tr_y, te_idx, te_y = _genre_sets(data)
    if len(tr_idx) and len(te_idx):
        pos = {int(c): i for i, c in enumerate(data.bank_idx)}
        train_x = bank_audio[[pos[int(c)] for c in tr_idx]]
        g = genre_probe(train_x, tr_y, audio[te_idx], te_y, opts.seed)
        row.genre_accuracy, row.details["genre"] = _finite(g["accuracy"]), g
    # beats
    if data.probe_train and data.probe_test:
        enc = FrozenEncoder(model, device=device)

        def feats(song: SongData) -> tuple[np.ndarray, np.ndarray]:
            music = enc.encode_features(song.frame_features(), tracked_rhythm(song))
            return music.features, song.beat_times

        b = beat_probe([feats(s) for s in data.probe_train], [feats(s) for s in data.probe_test],
                       contract.FPS, max_frames=opts.probe_max_frames,
                       trim_seconds=opts.trim_seconds, seed=opts.seed)
        row.beat_f1, row.details["beat"] = _finite(b["f1"]), b
    return row


def _finite(x: float) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def reference_rows(data: _Data, opts: EvalOptions) -> list[EvalRow]:
    """The log-mel feature probes and the beat tracker's own F1 (no checkpoint needed)."""
    rows = []
    logmel = EvalRow(name="logmel-features", label="log-mel features (no encoder)")
    tr_idx, tr_y, te_idx, te_y = _genre_sets(data)

    def clip_stats(ds: ClipDataset, idx: np.ndarray) -> np.ndarray:
        wins = [ds.window(*ds.clip(int(i)))["audio"] for i in idx]  # each (N, n_mels)
        return np.stack([np.concatenate([w.mean(0), w.std(0)]) for w in wins])  # (M, 2 n_mels)

    if len(tr_idx) and len(te_idx):
        g = genre_probe(clip_stats(data.bank, tr_idx), tr_y, clip_stats(data.gallery, te_idx),
                        te_y, opts.seed)
        logmel.genre_accuracy, logmel.details["genre"] = _finite(g["accuracy"]), g
    if data.probe_train and data.probe_test:
        def feats(song: SongData) -> tuple[np.ndarray, np.ndarray]:
            return song.frame_features().values, song.beat_times  # (T, n_mels + 1)

        b = beat_probe([feats(s) for s in data.probe_train], [feats(s) for s in data.probe_test],
                       contract.FPS, max_frames=opts.probe_max_frames,
                       trim_seconds=opts.trim_seconds,
                       seed=opts.seed)
        logmel.beat_f1, logmel.details["beat"] = _finite(b["f1"]), b
        tracker = EvalRow(name="beat-tracker", label="beat tracker (analyse_rhythm, no probe)")
        f1 = [beat_f_measure(s.beat_times, tracked_rhythm(s).beat_times, opts.trim_seconds)
              for s in data.probe_test]
        tracker.beat_f1 = _finite(float(np.nanmean(f1)))
        tracker.details["beat"] = {"test_songs": len(f1)}
        rows.append(tracker)
    rows.insert(0, logmel)
    return rows


def evaluate(
    corpus_dir: str | os.PathLike,
    checkpoints: Sequence[str | os.PathLike],
    out: str | os.PathLike = "docs/motionbeat_eval.md",
    options: EvalOptions | None = None,
    command: str | None = None,
) -> dict:
    """Evaluate ``checkpoints`` on ``corpus_dir``; write ``out`` (markdown) and ``out``.json.

    Returns the JSON payload (meta data and one entry per row).
    """
    opts = options or EvalOptions()
    corpus = Path(corpus_dir)
    t0 = time.time()
    stems = [Path(c) for c in checkpoints]
    for stem in stems:
        for path in checkpoint_paths(stem):
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such checkpoint file")
    cache: dict[tuple[int, int], _Data] = {}
    rows: list[EvalRow] = []
    first: _Data | None = None
    for stem in stems:
        cfg = load_checkpoint(stem).config
        key = (cfg.steps_per_beat, cfg.beats_per_clip)
        if key not in cache:
            cache[key] = _prepare(corpus, *key, opts)
        first = first or cache[key]
        rows.append(evaluate_checkpoint(stem, cache[key], opts))
        if opts.progress:
            print(f"evaluated {stem}", file=sys.stderr)
    if first is None:  # no checkpoints: reference rows only, on the default grid
        first = _prepare(corpus, au.STEPS_PER_BEAT, 8, opts)
    if opts.reference_rows:
        rows += reference_rows(first, opts)
    meta = {
        "command": command, "corpus": str(corpus), "held_out": list(opts.held_out),
        "train_songs": len(first.train_songs), "held_out_songs": len(first.held_songs),
        "gallery_size": len(first.gallery), "bank_size": int(len(first.bank_idx)),
        "song_chance": song_chance(first.gallery.clip_song) if len(first.gallery) else None,
        "beats_per_clip": first.gallery.beats_per_clip,
        "probe_train_songs": len(first.probe_train), "probe_test_songs": len(first.probe_test),
        "options": asdict(opts), "seconds": round(time.time() - t0, 1),
    }
    payload = {"meta": meta, "rows": [asdict(r) for r in rows]}
    out = Path(out)
    with atomic_path(out) as tmp:
        tmp.write_text(format_report(meta, rows))
    with atomic_path(out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(payload, indent=1, default=_jsonable) + "\n")
    return payload


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x)}")


# --- the report --------------------------------------------------------------------------------
def _pct(x: float | None) -> str:
    return NA if x is None else f"{100 * x:.1f}"


def _retrieval_cells(r: dict | None, key: str) -> list[str]:
    s = (r or {}).get(key)
    if not s:
        return [NA] * (len(RECALL_KS) + 1)
    return [_pct(s[f"R@{k}"]) for k in RECALL_KS] + [f"{s['medr']:g}"]


def format_report(meta: dict, rows: Sequence[EvalRow]) -> str:
    """The markdown report: what was measured, then the one table."""
    ks = "/".join(str(k) for k in RECALL_KS)
    heads = ["Model"]
    for direction in ("M→D", "M→D QB", "D→M", "D→M QB"):
        heads += [f"{direction} R@{k}" for k in RECALL_KS] + [f"{direction} MedR"]
    heads += ["M→D song@1", "D→M song@1", "Beat F1", "Genre acc"]
    lines = [
        "# MotionBeat evaluation",
        "",
        f"Made by: `{meta['command'] or 'motionbeat.encoder.evaluate.evaluate(...)'}`",
        "",
        f"* Corpus `{meta['corpus']}`: {meta['train_songs']} training songs, "
        f"{meta['held_out_songs']} held-out songs (split {', '.join(meta['held_out'])}).",
        f"* Retrieval: gallery of **{meta['gallery_size']}** held-out clips of "
        f"{meta['beats_per_clip']} beats (non-overlapping, one dance per clip window), the same "
        f"gallery in both directions. Recall@{ks} in %, MedR = median rank (1 is best, ties "
        "count against the query). M→D: music queries, dance gallery; D→M the reverse.",
        f"* QB: QB-Norm, dynamic inverted softmax (Bogolin et al., CVPR 2022; k = {QB_NORM_K}, "
        f"beta = {QB_NORM_BETA:g}), query bank = {meta['bank_size']} training clips.",
        f"* Beat F1 (%): per-frame logistic-regression probe on frozen features computed on the "
        f"beat tracker's grid, peak picking, mir_eval F-measure at "
        f"{1000 * BEAT_TOLERANCE_S:.0f} ms after trimming the first "
        f"{meta['options']['trim_seconds']:g} s; trained on {meta['probe_train_songs']} training "
        f"songs, mean over {meta['probe_test_songs']} held-out synthesized songs with exact "
        "beats.",
        "* song@1 (%): how often the top-ranked item comes from the query's song (any clip of "
        f"it); chance is {_pct(meta.get('song_chance'))} % (sum over songs of the squared share "
        "of gallery clips).",
        "* Genre acc (%): logistic regression on frozen clip embeddings -> groove family, "
        "trained on the query-bank clips, accuracy on the gallery clips.",
        "",
        "| " + " | ".join(heads) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(heads) - 1)) + "|",
    ]
    for r in rows:
        cells = [r.label]
        for key in ("music_to_dance", "music_to_dance_qb", "dance_to_music", "dance_to_music_qb"):
            cells += _retrieval_cells(r.retrieval, key)
        for key in ("music_to_dance", "dance_to_music"):
            cells.append(_pct(((r.retrieval or {}).get(key) or {}).get("song@1")))
        cells += [_pct(r.beat_f1), _pct(r.genre_accuracy)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Checkpoints:", ""]
    for r in rows:
        d = r.details
        if "checkpoint" in d:
            steps = d.get("train_steps")
            lines.append(f"* {r.label}: `{d['checkpoint']}` (sha256 {d['model_hash']}, "
                         f"{d['parameters']:,} parameters, d_model {d['d_model']}, "
                         f"{d['n_layers']} layers" + (f", {steps} steps" if steps else "") + ")")
    lines += ["", f"Evaluation took {meta['seconds']:.0f} s. Numbers as JSON: "
              "the `.json` file beside this one.", ""]
    return "\n".join(lines)


# --- CLI ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motionbeat.encoder.evaluate",
                                description="Retrieval and linear-probe evaluation of MotionBeat.")
    p.add_argument("--corpus", required=True, type=Path)
    p.add_argument("--aistpp", action="store_true", help="--corpus is an AIST++ release")
    p.add_argument("--checkpoints", nargs="*", default=[], type=Path, help="checkpoint stems")
    p.add_argument("--out", type=Path, default=Path("docs/motionbeat_eval.md"))
    p.add_argument("--held-out", default="test", help="comma list of held-out splits")
    p.add_argument("--bank-clips", type=int, default=DEFAULT_BANK_CLIPS)
    p.add_argument("--probe-songs", type=int, default=DEFAULT_PROBE_SONGS)
    p.add_argument("--trim-seconds", type=float, default=TRIM_SECONDS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-reference", action="store_true", help="leave out the reference rows")
    p.add_argument("--cache-dir", type=Path, default=None)
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    opts = EvalOptions(
        held_out=tuple(s.strip() for s in a.held_out.split(",") if s.strip()),
        bank_clips=a.bank_clips, probe_train_songs=a.probe_songs, trim_seconds=a.trim_seconds,
        seed=a.seed, reference_rows=not a.no_reference, aistpp=a.aistpp,
        cache_dir=str(a.cache_dir) if a.cache_dir else None, device=a.device,
        progress=not a.quiet,
    )
    command = "python -m motionbeat.encoder.evaluate " + " ".join(
        shlex.quote(x) for x in (sys.argv[1:] if argv is None else argv))
    evaluate(a.corpus, a.checkpoints, a.out, opts, command=command)
    print(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
