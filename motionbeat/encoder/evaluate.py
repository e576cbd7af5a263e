"""Evaluate MotionBeat checkpoints: retrieval with and without QB-Norm, and linear probes.

    python -m motionbeat.encoder.evaluate --corpus DIR --checkpoints checkpoints/motionbeat \
        checkpoints/motionbeat-no_hard_negatives ... --out docs/motionbeat_eval.md \
        [--dataset corpus|aistpp|finedance|bvh|positions]

``--dataset`` as in ``motionbeat.encoder.train`` (``docs/datasets.md``); ``--aistpp`` is its
deprecated alias.

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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.datasets.clips import ClipDataset
from motionbeat.datasets.registry import add_dataset_arguments, dataset_corpus, dataset_from_args
from motionbeat.datasets.songs import SongData
from motionbeat.encoder.ablations import ABLATION_LABELS, ablation_of
from motionbeat.encoder.batches import clip_embeddings, load_songs
from motionbeat.encoder.encode import FrozenEncoder, file_hash
from motionbeat.encoder.eval_probes import (
    DEFAULT_PROBE_FRAMES,
    TRIM_SECONDS,
    beat_f_measure,
    beat_probe,
    genre_probe,
    tracked_rhythm,
)
from motionbeat.encoder.eval_report import EvalRow, format_report
from motionbeat.encoder.eval_retrieval import retrieval_table, song_chance
from motionbeat.encoder.model import checkpoint_paths, count_parameters, load_checkpoint
from motionbeat.encoder.training_state import history_path

DEFAULT_BANK_CLIPS: int = 4096
DEFAULT_PROBE_SONGS: int = 32


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


# --- CLI ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motionbeat.encoder.evaluate",
                                description="Retrieval and linear-probe evaluation of MotionBeat.")
    p.add_argument("--corpus", required=True, type=Path,
                   help="corpus folder, or a dataset root with --dataset")
    add_dataset_arguments(p)
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
    dataset = dataset_from_args(a, p)
    corpus = a.corpus if dataset in ("corpus", "aistpp") else dataset_corpus(
        dataset, a.corpus, progress=not a.quiet)
    opts = EvalOptions(
        held_out=tuple(s.strip() for s in a.held_out.split(",") if s.strip()),
        bank_clips=a.bank_clips, probe_train_songs=a.probe_songs, trim_seconds=a.trim_seconds,
        seed=a.seed, reference_rows=not a.no_reference, aistpp=dataset == "aistpp",
        cache_dir=str(a.cache_dir) if a.cache_dir else None, device=a.device,
        progress=not a.quiet,
    )
    command = "python -m motionbeat.encoder.evaluate " + " ".join(
        shlex.quote(x) for x in (sys.argv[1:] if argv is None else argv))
    evaluate(corpus, a.checkpoints, a.out, opts, command=command)
    print(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
