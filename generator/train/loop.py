"""Training the generator: :func:`train` and its options.

Data. The train and val songs of a corpus (conditioned once and cached, ``generator.train.data``)
or of a training pack (``generator.train.pack``: the same data compressed for a lent GPU).

Normalisation. Per-channel mean / std of the training frames (motion, in consecutive centred
windows) and of the training songs' features (music) are computed once and stored as denoiser
buffers, i.e. saved with the weights.

One step. ``diffusion.training_step``: t ~ U{0..999}, x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) n,
the denoiser predicts x_0, condition dropout 0.25, the EDGE loss (reconstruction, velocity,
FK, foot skate) plus the feet's velocity and the root's turn per frame
(``generator.model.losses``). AdamW (Loshchilov & Hutter, ICLR 2019) with linear warm-up over
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
weights, :func:`generator.sampling.checkpoint.save_generator`) atomically and ``<out>.train.json``
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

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from generator.model.conditioning import (
    DEFAULT_ENCODER,
    cache_dir_for,
    condition_corpus,
    conditioner_for,
    feature_statistics,
    generator_config,
)
from generator.model.denoiser import Denoiser
from generator.model.diffusion import EMA, random_frame_mask
from generator.sampling.checkpoint import DEFAULT_CHECKPOINT, checkpoint_paths, save_generator
from generator.train.data import build_window_data, load_dances, to_tensors
from generator.train.objective import VAL_SEED_OFFSET, Objective, step_seed, validate
from generator.train.pack import is_pack, pack_config, read_pack
from generator.train.prior import fit_model_style_prior, prior_record
from generator.train.start import (
    check_pack_encoder,
    checkpoint_config,
    defaults_from,
    load_start,
    start_from,
)
from generator.train.state import (
    history_path,
    load_training_state,
    save_training_state,
    saved_config,
    state_paths,
    write_history,
)
from motionbeat.core import contract
from motionbeat.core.training import decay_param_groups, warmup_cosine_lr

DEFAULT_STEPS: int = 4000
"""Optimisation steps of a run when none are given (the ~45-minute CPU plan)."""
DEFAULT_SIZE: str = "small"
"""Size of a new run when none is given and there is no ``init`` checkpoint to read it from."""
DEFAULT_CONDITIONER: str = "motionbeat"
"""Conditioner of a new run when none is given and there is no ``init`` checkpoint."""
BUDGET_PROBE_STEPS: int = 20
"""Timed steps after which a run with a time budget fixes its total steps."""
BUDGET_MARGIN: float = 0.1
"""Share of the measured time per step added for the per-epoch validations and saves."""
TIMING_SKIP_STEPS: int = 2
"""First steps of a run left out of the time per step (allocation, lazy initialisation), unless
the run is too short to leave any."""


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
    time_budget_s: seconds from the start of :func:`train` by which the run should end (a lent
        GPU's minutes). After :data:`BUDGET_PROBE_STEPS` timed steps the run's total steps
        become ``min(steps, steps done + remaining seconds / (seconds per step * (1 +
        BUDGET_MARGIN)))``, and the learning-rate schedule (unless ``schedule_steps`` is set)
        follows the new total, so the run ends with its cosine decay and saves as usual.
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
    time_budget_s: float | None = None


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


def train(
    corpus_dir: str | os.PathLike,
    out: str | os.PathLike = DEFAULT_CHECKPOINT,
    *,
    size: str | None = None,
    conditioner: str | None = None,
    encoder: str | os.PathLike | None = None,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    resume: bool = False,
    init: str | os.PathLike | None = None,
    options: TrainOptions | None = None,
    config_overrides: dict | None = None,
) -> TrainResult:
    """Train a generator on ``corpus_dir`` (train split; val split for validation).

    Args:
        corpus_dir: a corpus of ``motionbeat.choreography.build``, or a training pack
            (:mod:`generator.train.pack`, which names the conditioner and the encoder's hash:
            no encoder weights, audio or librosa are needed to train on one).
        out: checkpoint stem: ``<out>.safetensors`` / ``.json`` at the end (EMA weights),
            training state and history beside it.
        size: a :data:`generator.model.config.GENERATOR_SIZES` name (default: ``init``'s, or
            the resumed run's, else ``"small"``).
        conditioner: ``"motionbeat"`` (needs ``encoder``, default ``init``'s or the resumed
            run's, else ``checkpoints/motionbeat``) or ``"librosa"`` (default: ``init``'s or the
            resumed run's, else ``"motionbeat"``).
        steps: optimisation steps in total (counting those of a resumed run).
        seed: seeds initialisation, windows, noise and dropout.
        resume: continue from ``<out>.state.*`` when present.
        init: a generator checkpoint stem to start from instead of a random initialisation
            (fine-tuning, or more steps for a shipped checkpoint): its weights and normalisation
            statistics are loaded, the optimizer, the EMA's warm-up and the learning-rate
            schedule start afresh (a warm restart, Loshchilov & Hutter, ICLR 2017). Its config
            must equal the one ``size``, ``conditioner``, ``encoder`` and ``config_overrides``
            give. ``trained_steps`` of the result counts the init's steps too.
        config_overrides: further :class:`GeneratorConfig` fields.
    """
    from accelerate import Accelerator
    from tqdm import tqdm

    from motionbeat.datasets.songs import load_corpus_songs

    opts = options or TrainOptions()
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    if init is not None and resume:
        raise ValueError("init starts a new run and resume continues one: give one of them")
    started = time.perf_counter()
    if opts.time_budget_s is not None and not opts.time_budget_s > 0:
        raise ValueError(f"time_budget_s must be positive, got {opts.time_budget_s}")
    if opts.threads:
        torch.set_num_threads(opts.threads)
    accelerator = Accelerator(cpu=not torch.cuda.is_available(),
                              mixed_precision=opts.mixed_precision)
    main = accelerator.is_main_process
    device = accelerator.device
    show = opts.progress and main

    if init is not None:
        size, conditioner, encoder = defaults_from(checkpoint_config(init), init, size,
                                                    conditioner, encoder)
    elif resume:
        size, conditioner, encoder = defaults_from(saved_config(out), out, size, conditioner,
                                                    encoder)
    size = size or DEFAULT_SIZE
    pack = read_pack(corpus_dir, ("train", "val")) if is_pack(corpus_dir) else None
    if pack is not None:  # the index names the conditioner and the encoder
        check_pack_encoder(pack, encoder)
        cfg = pack_config(pack.info, size, out, conditioner, **(config_overrides or {}))
    else:
        conditioner = conditioner or DEFAULT_CONDITIONER
        cfg = generator_config(size, conditioner, encoder or DEFAULT_ENCODER, generator_stem=out,
                               **(config_overrides or {}))
    init_meta = None
    if init is not None:
        cfg, init_state, init_meta = start_from(cfg, init)
    if pack is not None:
        songs, rows, dances = pack.songs, pack.rows, pack.dances
    else:
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
    if init_meta is not None:  # the start's weights and normalisation statistics
        load_start(model, init_state)
    else:
        model.set_normalization(*(torch.from_numpy(a) for a in
                                  train_data.motion_statistics(opts.stats_frames, window)))
        train_rows = [train_data.music[i] for i in sorted(set(train_data.songs))]
        model.set_music_normalization(*(torch.from_numpy(a) for a in
                                        feature_statistics(train_rows)))
    prior = None
    if cfg.style_dim:  # the style draw fits this run's training dances
        model.set_style_statistics(train_data.compute_styles())
        val_data.compute_styles()
        if cfg.style_prior == "music":
            if len(set(train_data.songs)) < 2:
                raise ValueError(f"{corpus_dir}: the music style prior learns from the differences "
                                 "between songs, and the train split has dances of one song only; "
                                 "use --style-prior dataset")
            prior = prior_record(fit_model_style_prior(model, train_data, seed), train_data)
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
    if init_meta is not None:
        info["init"] = init_meta
    if prior is not None:
        info["style_prior"] = prior
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
        if opts.time_budget_s is not None and timed_steps == BUDGET_PROBE_STEPS:
            left = opts.time_budget_s - (time.perf_counter() - started)
            fitted = step + max(0, int(left / (per_step * (1 + BUDGET_MARGIN))))
            if fitted < steps:
                steps = max(step, fitted)
                info["total_steps"] = steps
                bar.total = steps
                if main:
                    bar.write(f"time budget {opts.time_budget_s:.0f} s: {steps} steps "
                              f"({per_step:.3f} s/step)")
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
            write_history(out, {**info, "seconds_per_step": per_step, "history": history})
            epoch_sums, epoch_steps = {}, 0
        if end_of_epoch:
            accelerator.wait_for_everyone()
    bar.close()

    per_step = (timed_seconds / timed_steps if timed_steps
                else all_seconds / run_steps if run_steps else None)
    weights, config = checkpoint_paths(out)
    if main:
        meta = {"trained_steps": step, "seed": seed, "corpus": str(corpus_dir)}
        if init_meta is not None:
            meta.update(trained_steps=step + init_meta["trained_steps"], init=init_meta)
        if prior is not None:
            meta["style_prior"] = prior
        weights, config = save_generator(ema.module, out, meta)
        write_history(out, {**info, "seconds_per_step": per_step, "history": history})
    accelerator.wait_for_everyone()
    return TrainResult(weights, config, step, per_step, history)
