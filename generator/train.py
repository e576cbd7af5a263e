"""Train the dance generator (EDGE-style diffusion) on a corpus of songs and dances.

    python -m generator.train --corpus DIR --out checkpoints/generator [--size small] \
        [--conditioner motionbeat|librosa] [--encoder checkpoints/motionbeat] [--steps N] \
        [--batch-size B] [--resume] [--threads 1] [--seed S]

The library function is :func:`train`; the CLI only parses arguments.

Data. Every song of the corpus (``motionbeat.choreography.build`` layout; train split for training, val
for validation) is conditioned once by the chosen conditioner (:mod:`generator.model.conditioning`:
frozen MotionBeat features, or log-mel + onset) and cached under
``<corpus>/cache/generator-<conditioner>-<encoder hash>/``. The dances are read from the corpus
shards as 151-wide contract frames (``motionbeat.datasets.corpus.motion_frames``). A training window is
W = 5 s of one dance with the music frames under it: a dance is drawn with probability
proportional to its number of window starts, then a start uniformly; a dance shorter than a
window is padded and masked. A fraction ``short_window_prob`` of the rows keeps only a random
prefix (``diffusion.random_frame_mask``), which teaches the masked windows that sampling uses for
songs shorter than a window. The corpus dancers travel (the root's horizontal position has a
std of 2-3 m over the 5-hour corpus, and a long song can carry a dancer tens of metres away), so
every window's horizontal root position (x and z; y is up) is centred on its mean over the
window's real frames (:func:`centre_root`): the model learns how the dancer moves within 5 s, not
where an unbounded floor has taken them. EDGE keeps AIST++'s absolute positions, whose dancers
stay on a small stage; centred windows fused by long-form sampling give the same kind of dance,
travelling locally and staying around the origin.

Normalisation. Per-channel mean / std of the training frames (motion, in consecutive centred
windows) and of the training songs' features (music) are computed once and stored as denoiser
buffers, i.e. saved with the weights.

One step. ``diffusion.training_step``: t ~ U{0..999}, x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) n,
the denoiser predicts x_0, condition dropout 0.25, the EDGE loss (reconstruction, velocity,
FK, foot skate). AdamW (Loshchilov & Hutter, ICLR 2019) with linear warm-up over
``min(warmup_steps, steps / 10)`` steps and cosine decay to ``min_lr_ratio`` of the peak, gradient
clipping, and an EMA of the weights (``diffusion.EMA``, decay 0.9999 with warm-up), which is what
is saved and sampled.

Runs through ``accelerate`` (``Accelerator(cpu=True)`` when there is no CUDA). Seeded: step s
draws its windows from ``numpy.random.default_rng([seed, s])`` and its noise and dropout from
torch seeds derived from (seed, s), so a resumed run continues exactly as an uninterrupted one.
Resumable from ``<out>.state.safetensors`` (model and EMA weights) and ``<out>.state.pt``
(optimizer moments, step, EMA count: tensors only, read with ``weights_only=True``); both match
``checkpoints/*.state.*`` in ``.gitignore``. A validation loss (fixed val windows, timesteps and
noise; raw and EMA weights) is computed at the end of every epoch (one epoch = as many windows
as the training dances have frames / W). Writes ``<out>.safetensors`` + ``<out>.json`` (EMA
weights, :func:`generator.sampling.pipeline.save_generator`) atomically and ``<out>.train.json``
(settings, per-epoch history, seconds per step).

Speed on this machine (2 cores shared with other jobs, ``--threads 1``, librosa features; the
mean over 20 steps after 2 warm-up steps, as ``python -m generator.train --corpus <toy corpus>
--steps 22 --threads 1`` prints it). "Quiet" was measured with one other busy process on the
machine (load average 1.6-3), "busy" with two other trainings running (load 4-6):

=================  =====  ================  ================  ==============================
size               batch  s/step (quiet)    s/step (busy)     4000 steps (quiet / busy)
=================  =====  ================  ================  ==============================
small (8.4 M)      16     0.59-0.64         0.91-0.94         39-43 min / 61-62 min
small (8.4 M)      8      0.33              0.48              22 min / 32 min
compact (4.8 M)    16     0.37-0.38         0.56-0.58         25 min / 37-39 min
compact (4.8 M)    32     -                 1.00              - / 67 min
=================  =====  ================  ================  ==============================

"small" at batch 16 needs the whole 45 minutes even on a quiet machine, before the song cache,
the conditioning and the per-epoch validations (64 windows forward through the raw and the EMA
weights, a few steps' worth each; about 20 in a 4000-step run on the 5-hour corpus), so the
~45-minute CPU run should use ``--size compact --batch-size 16 --steps 4000`` (added for this
plan; 1.6x faster per step than "small", also to sample). Before its first step a run builds the
corpus' song cache if it is missing (the one ``motionbeat.encoder.train`` uses) and conditions every
song once (cached; not timed here for the 5-hour corpus).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from generator.model.conditioning import (
    DEFAULT_ENCODER,
    MusicCondition,
    cache_dir_for,
    condition_corpus,
    conditioner_for,
    feature_statistics,
    generator_config,
)
from generator.model.config import CONDITIONERS, GENERATOR_SIZES, GeneratorConfig
from generator.model.denoiser import Denoiser
from generator.model.diffusion import EMA, make_training_scheduler, random_frame_mask, training_step
from generator.sampling.pipeline import DEFAULT_CHECKPOINT, checkpoint_paths, save_generator
from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.core.training import (
    decay_param_groups,
    optimizer_tensors,
    restore_optimizer,
    warmup_cosine_lr,
    write_json,
)

STATE_WEIGHTS_SUFFIX, STATE_OPTIM_SUFFIX = ".state.safetensors", ".state.pt"
HISTORY_SUFFIX: str = ".train.json"
DEFAULT_STEPS: int = 4000
"""Optimisation steps of a run when none are given (the ~45-minute CPU plan)."""
VAL_SEED_OFFSET: int = 7919
"""Added to the seed for the fixed validation windows, so they differ from training draws."""
TIMING_SKIP_STEPS: int = 2
"""First steps of a run left out of the time per step (allocation, lazy initialisation), unless
the run is too short to leave any."""
MOTION_STD_FLOOR: float = 0.05
"""Smallest per-channel std of the motion statistics (metres, 6-D rotation units, contact
probability). A channel that hardly moves in training (a joint the dances never turn, a toe
contact that never fires) would otherwise be scaled up to 1000x, and any error on it in
validation or sampling with it; 0.05 caps the scaling at 20x."""
HORIZONTAL_ROOT: tuple[int, int] = (
    contract.ROOT_POS.start + 0,
    contract.ROOT_POS.start + 2,
)
"""Frame channels of the root's horizontal position (x and z: the floor plane, y is up)."""
SEED_STRIDE: int = 1_000_003
"""Torch seed of step s: seed * SEED_STRIDE + s (a prime stride keeps runs' seeds apart)."""


# --- options -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainOptions:
    """Optimisation and data settings that are not part of the model (not saved with it).

    batch_size: windows per step (16: see the speed table of the module docstring).
    lr, weight_decay, betas: AdamW (EDGE trains with lr 2e-4 and weight decay 0.02).
    warmup_steps, min_lr_ratio: linear warm-up, then cosine decay to this fraction of lr.
    schedule_steps: length of the learning-rate schedule (default: the run's total steps); set
        it to run part of a longer schedule and ``resume`` the rest later.
    grad_clip: global gradient-norm clip.
    short_window_prob: fraction of rows trained on a random prefix of their window (masked).
    val_windows: fixed validation windows scored at every epoch end.
    save_every: steps between training-state files (also written at every epoch end).
    stats_frames: at most this many frames (evenly strided) for the normalisation statistics.
    mixed_precision: accelerate's "no" | "fp16" | "bf16".
    threads: torch CPU threads; None keeps torch's default (1 is fastest on a busy machine).
    """

    batch_size: int = 16
    lr: float = 2e-4
    weight_decay: float = 0.02
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 200
    min_lr_ratio: float = 0.1
    schedule_steps: int | None = None
    grad_clip: float = 1.0
    short_window_prob: float = 0.1
    val_windows: int = 64
    save_every: int = 250
    stats_frames: int = 2_000_000
    mixed_precision: str = "no"
    threads: int | None = None
    progress: bool = True


@dataclass
class TrainResult:
    """What :func:`train` produced."""

    weights: Path
    config: Path
    steps: int
    seconds_per_step: float | None
    history: list[dict] = field(default_factory=list)


def lr_at(step: int, total: int, opts: TrainOptions) -> float:
    """Learning rate of step ``step`` (0-based) of a ``total``-step run (module docstring)."""
    return warmup_cosine_lr(step, total, opts.lr, opts.warmup_steps, opts.min_lr_ratio)


def _suffixed(out: str | os.PathLike, suffix: str) -> Path:
    weights, _ = checkpoint_paths(out)
    stem = weights.with_suffix("")
    return stem.with_name(stem.name + suffix)


def state_paths(out: str | os.PathLike) -> tuple[Path, Path]:
    """``<out>.state.safetensors`` (model + EMA weights) and ``<out>.state.pt`` (the rest)."""
    return _suffixed(out, STATE_WEIGHTS_SUFFIX), _suffixed(out, STATE_OPTIM_SUFFIX)


def history_path(out: str | os.PathLike) -> Path:
    return _suffixed(out, HISTORY_SUFFIX)


# --- data --------------------------------------------------------------------------------------
@dataclass
class WindowData:
    """Dances with the music under them, and the draw of training windows.

    Attributes:
        motions: per dance, (T_d, D) contract frames.
        songs: per dance, the index of its song in ``music``.
        music: per song, its :class:`MusicCondition` (features (T, C), phase (T, 2)).
        lengths: per dance, usable frames min(T_d, T_song).
    """

    motions: list[np.ndarray]
    songs: list[int]
    music: list[MusicCondition]
    lengths: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.lengths.sum())

    def __len__(self) -> int:
        return len(self.motions)

    def sample(self, rng: np.random.Generator, batch: int, window: int) -> dict[str, np.ndarray]:
        """B windows: ``motion`` (B, W, D), ``music`` (B, W, C), ``phase`` (B, W, 2), ``mask``
        (B, W) bool (False on the padding of dances shorter than W)."""
        starts_per_dance = np.maximum(self.lengths - window + 1, 1)  # (N_dances,)
        dances = rng.choice(len(self), size=batch, p=starts_per_dance / starts_per_dance.sum())
        width = self.music[0].features.shape[1]
        out = {
            "motion": np.zeros((batch, window, contract.FRAME_DIM), np.float32),
            "music": np.zeros((batch, window, width), np.float32),
            "phase": np.zeros((batch, window, 2), np.float32),
            "mask": np.zeros((batch, window), bool),
        }
        for row, d in enumerate(dances):
            start = int(rng.integers(0, starts_per_dance[d]))
            stop = min(start + window, int(self.lengths[d]))
            n = stop - start
            song = self.music[self.songs[d]]
            out["motion"][row, :n] = self.motions[d][start:stop]
            out["motion"][row, n:] = self.motions[d][stop - 1]  # hold the last pose (masked)
            centre_root(out["motion"][row], n)
            out["music"][row, :n] = song.features[start:stop]
            out["phase"][row, :n] = song.phase[start:stop]
            out["mask"][row, :n] = True
        return out

    def motion_statistics(
        self, max_frames: int, window: int = contract.WINDOW_FRAMES
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and std (D,) of the frames cut into consecutive windows with a
        centred root (:func:`centre_root`), strided past ``max_frames`` frames; the std floored
        at :data:`MOTION_STD_FLOOR`."""
        chunks = []
        for motion, length in zip(self.motions, self.lengths, strict=True):
            for first in range(0, int(length), window):
                chunk = motion[first : min(first + window, int(length))].astype(np.float64)
                chunks.append(centre_root(chunk))  # (<= W, D), as the training windows
        stride = max(1, math.ceil(self.num_frames / max_frames))
        frames = np.concatenate(chunks)[::stride]  # (N, D)
        std = np.maximum(frames.std(axis=0), MOTION_STD_FLOOR)
        return frames.mean(axis=0).astype(np.float32), std.astype(np.float32)


def centre_root(window: np.ndarray, valid: int | None = None) -> np.ndarray:
    """(..., W, D) frames with the root's x and z minus their mean over the first ``valid``
    frames (all by default), in place; returns ``window``."""
    count = window.shape[-2] if valid is None else valid
    for ch in HORIZONTAL_ROOT:
        window[..., :, ch] -= window[..., :count, ch].mean(axis=-1, keepdims=True)
    return window


def load_dances(corpus: str | os.PathLike, splits: Sequence[str]) -> dict[str, np.ndarray]:
    """(D, T, 151) contract frames of every dance of each song of ``splits``, by song id."""
    from motionbeat.datasets.corpus import motion_frames
    from motionbeat.datasets.manifest import load_manifest

    corpus = Path(corpus)
    out = {}
    for rec in load_manifest(corpus)["songs"]:
        if rec["split"] not in splits:
            continue
        with np.load(corpus / rec["shard"], allow_pickle=False) as z:
            out[rec["song_id"]] = motion_frames(z["poses"], z["trans"], float(z["fps"]))
    return out


def build_window_data(
    songs: Sequence, rows: dict[str, MusicCondition], dances: dict[str, np.ndarray]
) -> WindowData:
    """Pair each dance with its song's rows."""
    motions, song_index, music, lengths = [], [], [], []
    for song in songs:
        if song.song_id not in dances:
            continue
        music.append(rows[song.song_id])
        for frames in dances[song.song_id]:
            motions.append(np.ascontiguousarray(frames, dtype=np.float32))
            song_index.append(len(music) - 1)
            lengths.append(min(frames.shape[0], music[-1].num_frames))
    return WindowData(motions, song_index, music, np.asarray(lengths, dtype=np.int64))


def to_tensors(batch: dict[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v).to(device, non_blocking=True) for k, v in batch.items()}


# --- the objective -----------------------------------------------------------------------------
class Objective(nn.Module):
    """The denoiser and its diffusion loss as one module, so DDP sees a single forward."""

    def __init__(self, denoiser: Denoiser):
        super().__init__()
        self.denoiser = denoiser
        self.ddpm = make_training_scheduler(denoiser.config)

    def forward(
        self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Batch of :meth:`WindowData.sample` tensors -> ``loss`` and the unweighted terms."""
        out = training_step(
            self.denoiser, self.ddpm, batch["motion"], batch["music"], batch["phase"],
            batch["mask"], generator=generator,
        )
        return {"loss": out.loss, **out.terms}


def step_seed(seed: int, step: int) -> int:
    return (seed * SEED_STRIDE + step) % (2**63)


@torch.no_grad()
def validate(
    denoiser: Denoiser, val: dict[str, torch.Tensor] | None, batch_size: int, seed: int
) -> dict[str, float]:
    """Mean loss and terms over the fixed validation windows (eval mode, fixed noise)."""
    if val is None:
        return {}
    was_training = denoiser.training
    denoiser.eval()
    objective = Objective(denoiser)
    sums: dict[str, float] = {}
    count = val["motion"].shape[0]
    for b, first in enumerate(range(0, count, batch_size)):
        chunk = {k: v[first : first + batch_size] for k, v in val.items()}
        gen = torch.Generator().manual_seed(step_seed(seed + VAL_SEED_OFFSET, b))
        terms = objective(chunk, gen)
        rows = chunk["motion"].shape[0]
        for k, v in terms.items():
            sums[k] = sums.get(k, 0.0) + float(v) * rows
    denoiser.train(was_training)
    return {k: v / count for k, v in sums.items()}


# --- training state ----------------------------------------------------------------------------
def save_training_state(
    out: str | os.PathLike, model: Denoiser, ema: EMA, optimizer: torch.optim.Optimizer, step: int
) -> None:
    """Weights (model and EMA) as safetensors; optimizer moments, step and EMA count as a
    tensors-only torch file."""
    from safetensors.torch import save_file

    weights_path, optim_path = state_paths(out)
    state = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    state.update(
        {f"ema.{k}": v.detach().cpu().contiguous() for k, v in ema.module.state_dict().items()}
    )
    with atomic_path(weights_path) as tmp:
        save_file(state, str(tmp), metadata={"config": model.config.to_json(), "step": str(step)})
    blob: dict[str, torch.Tensor] = {
        "step": torch.tensor(step, dtype=torch.int64),
        "ema_updates": torch.tensor(ema.num_updates, dtype=torch.int64),
    }
    blob.update(optimizer_tensors(optimizer))
    with atomic_path(optim_path) as tmp:
        torch.save(blob, tmp)


def load_training_state(
    out: str | os.PathLike, model: Denoiser, ema: EMA, optimizer: torch.optim.Optimizer
) -> int:
    """Restore what :func:`save_training_state` wrote; returns the step to continue from."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    weights_path, optim_path = state_paths(out)
    with safe_open(str(weights_path), framework="pt") as fh:
        saved = GeneratorConfig.from_json((fh.metadata() or {})["config"])
    if saved != model.config:
        raise ValueError(
            f"{weights_path.name} was trained with another config; use the same --size / "
            "--conditioner / --encoder, or a new --out"
        )
    state = load_file(str(weights_path))
    model.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("model.")})
    ema.module.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("ema.")})
    blob = torch.load(optim_path, map_location="cpu", weights_only=True)
    restore_optimizer(optimizer, blob)
    ema.num_updates = int(blob["ema_updates"])
    return int(blob["step"])


def _write_history(out: str | os.PathLike, payload: dict) -> None:
    write_json(history_path(out), payload)


# --- training ----------------------------------------------------------------------------------
def train(
    corpus_dir: str | os.PathLike,
    out: str | os.PathLike = DEFAULT_CHECKPOINT,
    *,
    size: str = "small",
    conditioner: str = "motionbeat",
    encoder: str | os.PathLike | None = None,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    resume: bool = False,
    options: TrainOptions | None = None,
    config_overrides: dict | None = None,
) -> TrainResult:
    """Train a generator on ``corpus_dir`` (train split; val split for validation).

    Args:
        corpus_dir: a corpus of ``motionbeat.choreography.build``.
        out: checkpoint stem: ``<out>.safetensors`` / ``.json`` at the end (EMA weights),
            training state and history beside it.
        size: a :data:`generator.model.config.GENERATOR_SIZES` name.
        conditioner: ``"motionbeat"`` (needs ``encoder``, default ``checkpoints/motionbeat``)
            or ``"librosa"``.
        steps: optimisation steps in total (counting those of a resumed run).
        seed: seeds initialisation, windows, noise and dropout.
        resume: continue from ``<out>.state.*`` when present.
        config_overrides: further :class:`GeneratorConfig` fields.
    """
    from accelerate import Accelerator
    from tqdm import tqdm

    from motionbeat.datasets.corpus import load_corpus_songs

    opts = options or TrainOptions()
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    if opts.threads:
        torch.set_num_threads(opts.threads)
    accelerator = Accelerator(cpu=not torch.cuda.is_available(),
                              mixed_precision=opts.mixed_precision)
    main = accelerator.is_main_process
    device = accelerator.device
    show = opts.progress and main

    cfg = generator_config(size, conditioner, encoder or DEFAULT_ENCODER, generator_stem=out,
                           **(config_overrides or {}))
    cond = conditioner_for(cfg, checkpoint_paths(out)[0].with_suffix(""), device=str(device))
    with accelerator.main_process_first():
        songs = load_corpus_songs(corpus_dir, ("train", "val"),
                                  steps_per_beat=cond.steps_per_beat, progress=show)
        rows = condition_corpus(songs, cond, cache_dir_for(corpus_dir, cond), progress=show)
    dances = load_dances(corpus_dir, ("train", "val"))
    train_data = build_window_data([s for s in songs if s.split == "train"], rows, dances)
    val_data = build_window_data([s for s in songs if s.split == "val"], rows, dances)
    if len(train_data) == 0:
        raise ValueError(f"{corpus_dir}: no training dances (train split)")
    window = cfg.window_frames

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Denoiser(cfg)
    model.set_normalization(*(torch.from_numpy(a) for a in
                              train_data.motion_statistics(opts.stats_frames, window)))
    train_rows = [train_data.music[i] for i in sorted(set(train_data.songs))]
    model.set_music_normalization(*(torch.from_numpy(a) for a in feature_statistics(train_rows)))
    model.to(device)
    ema = EMA(model)
    optimizer = torch.optim.AdamW(decay_param_groups(model, opts.weight_decay), lr=opts.lr,
                                  betas=opts.betas)
    start_step = 0
    weights_state, _ = state_paths(out)
    if resume and weights_state.is_file():
        start_step = load_training_state(out, model, ema, optimizer)
    elif resume and main:
        print(f"no training state at {weights_state}; starting from scratch", file=sys.stderr)
    history_file = history_path(out)
    history = (json.loads(history_file.read_text()).get("history", [])
               if resume and start_step and history_file.is_file() else [])
    history = [h for h in history if h.get("step", 0) <= start_step]

    objective, optimizer = accelerator.prepare(Objective(model), optimizer)
    val_batch = None
    if len(val_data) and opts.val_windows > 0:
        val_rng = np.random.default_rng([seed + VAL_SEED_OFFSET])
        val_batch = to_tensors(val_data.sample(val_rng, opts.val_windows, window), device)
    per_epoch = max(1, train_data.num_frames // (opts.batch_size * window))
    info = {
        "corpus": str(corpus_dir), "seed": seed, "size": size, "conditioner": cfg.conditioner,
        "config": cfg.to_dict(), "options": asdict(opts), "parameters": model.num_parameters(),
        "train_songs": len(set(train_data.songs)), "train_dances": len(train_data),
        "train_frames": train_data.num_frames, "val_dances": len(val_data),
        "steps_per_epoch": per_epoch, "total_steps": steps, "device": str(device),
        "processes": accelerator.num_processes,
    }
    if main:
        print(f"generator {size} ({model.num_parameters() / 1e6:.2f} M parameters, "
              f"{cfg.conditioner} features): {len(train_data)} training dances, "
              f"{train_data.num_frames / contract.FPS / 3600:.2f} h; {per_epoch} steps per epoch, "
              f"batch {opts.batch_size}, device {device}", file=sys.stderr)

    step = start_step
    bar = tqdm(total=steps, initial=min(step, steps), desc="train", unit="step",
               disable=not show, file=sys.stderr, dynamic_ncols=True)
    timed_seconds, timed_steps, run_steps, all_seconds = 0.0, 0, 0, 0.0
    epoch_sums: dict[str, float] = {}
    epoch_steps = 0
    objective.train()
    while step < steps:
        t0 = time.perf_counter()
        rng = np.random.default_rng([seed, step])
        batch = train_data.sample(rng, opts.batch_size, window)
        gen = torch.Generator().manual_seed(step_seed(seed, step))
        if opts.short_window_prob > 0:
            short = random_frame_mask(opts.batch_size, window, 1, opts.short_window_prob, gen)
            batch["mask"] &= short.numpy()
        torch.manual_seed(step_seed(seed, step))  # dropout
        lr = lr_at(step, opts.schedule_steps or steps, opts)
        for group in optimizer.param_groups:
            group["lr"] = lr
        with accelerator.autocast():
            terms = objective(to_tensors(batch, device), gen)
        accelerator.backward(terms["loss"])
        if opts.grad_clip > 0:
            accelerator.clip_grad_norm_(objective.parameters(), opts.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        ema.update(accelerator.unwrap_model(objective).denoiser)
        step, run_steps, epoch_steps = step + 1, run_steps + 1, epoch_steps + 1
        for k, v in terms.items():
            epoch_sums[k] = epoch_sums.get(k, 0.0) + float(v.detach())
        elapsed = time.perf_counter() - t0
        all_seconds += elapsed
        if run_steps > TIMING_SKIP_STEPS:
            timed_seconds += elapsed
            timed_steps += 1
        per_step = timed_seconds / timed_steps if timed_steps else all_seconds / run_steps
        bar.update(1)
        bar.set_postfix(loss=f"{float(terms['loss'].detach()):.3f}", lr=f"{lr:.1e}",
                        s_per_step=f"{per_step:.3f}")
        end_of_epoch = step % per_epoch == 0 or step == steps
        if main and step % opts.save_every == 0 and not end_of_epoch:
            save_training_state(out, accelerator.unwrap_model(objective).denoiser, ema,
                                optimizer, step)
        if end_of_epoch and main:
            unwrapped = accelerator.unwrap_model(objective).denoiser
            record = {"epoch": round(step / per_epoch, 3), "step": step, "lr": lr,
                      "seconds_per_step": round(per_step, 4)}
            record.update({f"train_{k}": v / epoch_steps for k, v in epoch_sums.items()})
            record.update({f"val_{k}": v for k, v in
                           validate(unwrapped, val_batch, opts.batch_size, seed).items()})
            record.update({f"val_ema_{k}": v for k, v in
                           validate(ema.module, val_batch, opts.batch_size, seed).items()})
            history.append(record)
            shown = ("epoch", "step", "train_loss", "val_loss", "val_ema_loss", "seconds_per_step")
            bar.write(" ".join(f"{k}={record[k]:.4g}" for k in shown if k in record))
            save_training_state(out, unwrapped, ema, optimizer, step)
            _write_history(out, {**info, "seconds_per_step": per_step, "history": history})
            epoch_sums, epoch_steps = {}, 0
        if end_of_epoch:
            accelerator.wait_for_everyone()
    bar.close()

    per_step = (timed_seconds / timed_steps if timed_steps
                else all_seconds / run_steps if run_steps else None)
    weights, config = checkpoint_paths(out)
    if main:
        weights, config = save_generator(
            ema.module, out, {"trained_steps": step, "seed": seed, "corpus": str(corpus_dir)},
        )
        _write_history(out, {**info, "seconds_per_step": per_step, "history": history})
    accelerator.wait_for_everyone()
    return TrainResult(weights, config, step, per_step, history)


# --- CLI ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m generator.train",
                                description="Train the music-to-dance diffusion generator.")
    p.add_argument("--corpus", required=True, type=Path, help="corpus folder (motionbeat.choreography.build)")
    p.add_argument("--out", type=Path, default=Path(DEFAULT_CHECKPOINT),
                   help=f"checkpoint stem (default {DEFAULT_CHECKPOINT})")
    p.add_argument("--size", default="small", choices=sorted(GENERATOR_SIZES))
    p.add_argument("--conditioner", default="motionbeat", choices=CONDITIONERS,
                   help="music features: frozen MotionBeat encoder, or log-mel + onset")
    p.add_argument("--encoder", type=Path, default=Path(DEFAULT_ENCODER),
                   help=f"MotionBeat encoder checkpoint stem (default {DEFAULT_ENCODER})")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"optimisation steps in total (default {DEFAULT_STEPS})")
    p.add_argument("--batch-size", type=int, default=TrainOptions.batch_size)
    p.add_argument("--lr", type=float, default=TrainOptions.lr)
    p.add_argument("--schedule-steps", type=int, default=None,
                   help="length of the learning-rate schedule (default: --steps)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from <out>.state.*")
    p.add_argument("--save-every", type=int, default=TrainOptions.save_every)
    p.add_argument("--mixed-precision", default="no", choices=("no", "fp16", "bf16"))
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    a = p.parse_args(argv)
    if a.steps < 1 or a.batch_size < 1:
        p.error("--steps and --batch-size must be positive")
    if not (a.corpus / "manifest.json").is_file():
        p.error(f"{a.corpus}: not a corpus (no manifest.json); build one with "
                "`python -m motionbeat.choreography.build --out DIR`")
    opts = TrainOptions(batch_size=a.batch_size, lr=a.lr, schedule_steps=a.schedule_steps,
                        save_every=a.save_every,
                        mixed_precision=a.mixed_precision, threads=a.threads,
                        progress=not a.quiet)
    t0 = time.time()
    try:
        result = train(a.corpus, a.out, size=a.size, conditioner=a.conditioner,
                       encoder=a.encoder, steps=a.steps, seed=a.seed, resume=a.resume,
                       options=opts)
    except ValueError as err:  # includes the conditioner's missing-encoder error
        print(f"error: {err}", file=sys.stderr)
        return 2
    last = result.history[-1] if result.history else {}
    per_step = f"{result.seconds_per_step:.3f} s/step" if result.seconds_per_step else "n/a"
    val = last.get("val_ema_loss")
    print(f"{result.weights}: {result.steps} steps, {per_step}, "
          f"val loss (EMA) {val if val is not None else 'n/a'}, {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
