"""Train the MotionBeat dual encoder: ``L = L_ECL + 0.2 L_SRAL (+ 0.1 L_rhythm)`` with AdamW.

    python -m motionbeat.encoder.train --corpus DIR --size small --out checkpoints/motionbeat \
        [--dataset corpus|aistpp|finedance|bvh|positions] \
        [--ablation no_hard_negatives|no_sral|no_phase|no_contact|logmel_baseline] \
        [--steps N | --epochs E] [--resume]

``--dataset`` names what ``--corpus`` holds (``motionbeat.datasets.registry``; ``--aistpp`` is the
deprecated ``--dataset aistpp``): FineDance, BVH and positions-only folders are converted once into
a corpus folder under the dataset (``motionbeat.datasets.corpus_view``) and trained on as one.

The library function is :func:`train`; the CLI only parses arguments.

One optimisation step (``Objective``):

1. A batch of B clips from :class:`~motionbeat.datasets.batches.HardNegativeBatchSampler`: groups of
   same-song and same-tempo clips, so that tempo-aware hard negatives exist in every batch
   (random batches when hard negatives are ablated: random negatives only).
2. ``MotionBeat.forward`` on the paired audio / motion tokens; the beat-jitter negatives are the
   same dances shifted by -+``jitter_beats`` beats, encoded by ``encode_motion`` as (B * J)
   clips and reshaped to (B, J, E) (skipped when hard negatives are ablated).
3. ``hard_mask = tempo_aware_negative_mask(tempo, song, tol, start)``, ``ignore_mask =
   duplicate_mask(song, start)`` (the other dancer of the same window is no negative), rhythm
   targets from the data (onset flux, foot-strike pulse, kinetic energy pooled to tokens), and
   ``motionbeat_loss``, whose config switches implement the ablations.

Runs through ``accelerate``: one CPU by default (``Accelerator(cpu=not cuda)``), one GPU when
there is one, several GPUs under ``accelerate launch -m motionbeat.encoder.train ...`` with no code
change (every process draws full batches of its own; gradients are averaged by DDP; the
contrastive loss sees the negatives of its own batch only). Seeded (model initialisation,
batch order, dropout), resumable at any step from ``<out>.state.safetensors`` (weights) and
``<out>.state.pt`` (optimizer moments, step and RNG state: a dict of tensors only, read back
with ``torch.load(weights_only=True)``). Validation loss and a quick music->dance Recall@1
run at the end of every epoch and of the run; the history goes to ``<out>.train.json``. The
final weights are ``<out>.safetensors`` + ``<out>.json`` (``model.save_checkpoint``).

Learning rate: linear warm-up over ``min(warmup_steps, schedule / 10)`` steps, then cosine decay
to ``min_lr_ratio`` of the peak at step ``schedule`` (``schedule_steps``, by default the run's
total), the usual Transformer recipe (Loshchilov & Hutter, "SGDR", ICLR 2017; "Decoupled
Weight Decay Regularization", ICLR 2019, for AdamW). Biases, norms, the temperature and the
contact scales get no weight decay.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from motionbeat.core.training import decay_param_groups, warmup_cosine_lr, write_json
from motionbeat.datasets.batches import (
    DEFAULT_GROUP_SIZE,
    DEFAULT_SAME_SONG,
    HardNegativeBatchSampler,
    collate,
)
from motionbeat.datasets.clips import ClipDataset
from motionbeat.datasets.registry import add_dataset_arguments, dataset_corpus, dataset_from_args
from motionbeat.encoder.ablations import ABLATIONS, ablation_of, config_with_ablation
from motionbeat.encoder.batches import Objective, clip_embeddings, load_songs, to_device
from motionbeat.encoder.config import MOTIONBEAT_SIZES, POOLING_CHOICES, MotionBeatConfig
from motionbeat.encoder.model import MotionBeat, checkpoint_paths, save_checkpoint
from motionbeat.encoder.training_state import (
    history_path,
    load_training_state,
    save_training_state,
    state_paths,
)

DEFAULT_OUT: str = "checkpoints/motionbeat"
VAL_SEED_OFFSET: int = 7919
"""Added to the seed for the fixed validation batches, so they differ from training draws."""
TIMING_SKIP_STEPS: int = 2
"""First steps of a run left out of the time per step (allocation, lazy initialisation)."""


# --- options -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainOptions:
    """Optimisation and data settings that are not part of the model (not saved with it).

    batch_size: clips per process and step (64: more in-batch negatives than the paper's
        AIST++ setting needs, and a step of the small model stays under a second here).
    lr, weight_decay, betas: AdamW; beta2 = 0.98 as usual for Transformers with warm-up.
    warmup_steps, min_lr_ratio, schedule_steps: see the module docstring.
    grad_clip: global gradient-norm clip (1.0; Soft-DTW gradients can spike early on).
    epochs: default run length when neither steps nor epochs is given to :func:`train`.
    group_size, same_song, stride_beats: the hard-negative sampler and clip grid.
    val_batches, val_clips: validation loss batches and Recall@1 gallery size per epoch.
    save_every: steps between training-state files (also written at every epoch end).
    stats_clips: clips for the input statistics.
    mixed_precision: accelerate's "no" | "fp16" | "bf16".
    aistpp: the corpus is an AIST++ release; cache_dir: song cache (default under the corpus).
    threads: torch CPU threads (``torch.set_num_threads``); None keeps torch's default. On a
        busy machine 1 thread can be many times faster than 2 for the many small ops here.
    """

    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.98)
    warmup_steps: int = 500
    min_lr_ratio: float = 0.1
    schedule_steps: int | None = None
    grad_clip: float = 1.0
    epochs: int = 20
    group_size: int = DEFAULT_GROUP_SIZE
    same_song: int = DEFAULT_SAME_SONG
    stride_beats: int = 2
    val_batches: int = 20
    val_clips: int = 512
    save_every: int = 500
    stats_clips: int = 4096
    mixed_precision: str = "no"
    num_workers: int = 0
    aistpp: bool = False
    cache_dir: str | None = None
    threads: int | None = None
    progress: bool = True


@dataclass
class TrainResult:
    """What :func:`train` produced."""

    weights: Path
    config: Path
    steps: int
    epochs_completed: int
    seconds_per_step: float | None
    history: list[dict] = field(default_factory=list)


def lr_at(step: int, schedule: int, opts: TrainOptions) -> float:
    """Learning rate of optimisation step ``step`` (0-based) of a ``schedule``-step run."""
    return warmup_cosine_lr(step, schedule, opts.lr, opts.warmup_steps, opts.min_lr_ratio)


@torch.no_grad()
def validate(
    objective: Objective,
    val: ClipDataset,
    gallery: ClipDataset,
    opts: TrainOptions,
    seed: int,
    device: torch.device,
) -> dict[str, float]:
    """Mean loss terms over fixed validation batches and Recall@1 in both directions."""
    from motionbeat.metrics.retrieval import recall_at_k

    if len(val) == 0:
        return {}
    was_training = objective.training
    objective.eval()
    sampler = HardNegativeBatchSampler.for_dataset(
        val, opts.batch_size, group_size=opts.group_size, same_song=opts.same_song,
        tempo_tolerance=objective.model.config.tempo_tolerance, seed=seed + VAL_SEED_OFFSET,
    )
    sums: dict[str, float] = {}
    count = 0
    for b, indices in enumerate(sampler):
        if b >= opts.val_batches:
            break
        terms = objective(to_device(collate([val[i] for i in indices]), device))
        for k, v in terms.items():
            sums[k] = sums.get(k, 0.0) + float(v)
        count += 1
    result = {f"val_{k}": v / max(count, 1) for k, v in sums.items()}
    n = min(len(gallery), opts.val_clips)
    if n >= 2:
        a, m = clip_embeddings(objective.model, gallery, range(n), device=device)
        sim = a @ m.T  # (n, n) cosine similarities, diagonal = pairs
        result["val_r1_music_to_dance"] = recall_at_k(sim, ks=(1,))[1]
        result["val_r1_dance_to_music"] = recall_at_k(sim.T, ks=(1,))[1]
        result["val_gallery"] = n
    objective.train(was_training)
    return result


def _write_history(out: str | os.PathLike, payload: dict) -> None:
    write_json(history_path(out), payload)


# --- training ----------------------------------------------------------------------------------
def train(
    cfg: MotionBeatConfig,
    corpus_dir: str | os.PathLike,
    out: str | os.PathLike = DEFAULT_OUT,
    *,
    steps: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
    resume: bool = False,
    options: TrainOptions | None = None,
) -> TrainResult:
    """Train a MotionBeat model on ``corpus_dir`` (train split; val split for validation).

    Args:
        cfg: model config (``config_with_ablation(size, ablation)``).
        corpus_dir: our corpus (``motionbeat.choreography.build``), or an AIST++ root with
            ``options.aistpp``.
        out: checkpoint stem: ``<out>.safetensors`` / ``.json`` at the end, training state and
            history beside it.
        steps: optimisation steps in total (counting those of a resumed run); else ``epochs``
            (default ``options.epochs``) times the batches per epoch.
        seed: seeds initialisation, batch order and dropout.
        resume: continue from ``<out>.state.*`` when present.
    """
    from accelerate import Accelerator, DistributedDataParallelKwargs
    from accelerate.utils import set_seed
    from tqdm import tqdm

    opts = options or TrainOptions()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    find_unused = not (cfg.sral_enabled or cfg.rhythm_supervision_enabled)  # idle rhythm heads
    accelerator = Accelerator(
        cpu=not torch.cuda.is_available(), mixed_precision=opts.mixed_precision,
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=find_unused)],
    )
    main = accelerator.is_main_process
    set_seed(seed)
    with accelerator.main_process_first():
        songs = load_songs(corpus_dir, ("train", "val"), cfg.steps_per_beat, aistpp=opts.aistpp,
                           cache_dir=opts.cache_dir, progress=opts.progress and main)
    train_songs = [s for s in songs if s.split == "train"]
    val_songs = [s for s in songs if s.split == "val"]
    k = cfg.beats_per_clip
    train_ds = ClipDataset(train_songs, k, jitter_beats=cfg.jitter_beats,
                           stride_beats=opts.stride_beats)
    if len(train_ds) == 0:
        raise ValueError(f"{corpus_dir}: no training clips of {k} beats (+{cfg.jitter_beats} "
                         "spare each side); are the songs long enough?")
    val_ds = ClipDataset(val_songs, k, jitter_beats=cfg.jitter_beats,
                         stride_beats=opts.stride_beats)
    gallery = ClipDataset(val_songs, k, jitter_beats=0, stride_beats=k, first_dance_only=True)

    model = MotionBeat(cfg)
    model.set_input_statistics(*train_ds.input_statistics(opts.stats_clips, seed))
    optimizer = torch.optim.AdamW(decay_param_groups(model, opts.weight_decay), lr=opts.lr,
                                  betas=opts.betas)
    start_step = 0
    weights_state, _ = state_paths(out)
    if resume and weights_state.is_file():
        start_step = load_training_state(out, model, optimizer)
    elif resume and main:
        print(f"no training state at {weights_state}; starting from scratch", file=sys.stderr)
    history_file = history_path(out)
    history = (json.loads(history_file.read_text()).get("history", [])
               if resume and start_step and history_file.is_file() else [])
    history = [h for h in history if h.get("step", 0) <= start_step]

    objective, optimizer = accelerator.prepare(Objective(model), optimizer)
    device = accelerator.device
    # Without hard negatives (that ablation and the log-mel baseline) batches are random: the
    # "random negatives only" contrast of the paper's ablation, not merely un-up-weighted ones.
    grouped = cfg.hard_negatives_enabled
    sampler = HardNegativeBatchSampler.for_dataset(
        train_ds, opts.batch_size, group_size=opts.group_size if grouped else 1,
        same_song=opts.same_song if grouped else 0, tempo_tolerance=cfg.tempo_tolerance,
        seed=seed, num_replicas=accelerator.num_processes, rank=accelerator.process_index,
    )
    # its own generator: iterating must not draw from the global RNG, or dropout after a
    # resume would differ from an uninterrupted run
    loader = torch.utils.data.DataLoader(
        train_ds, batch_sampler=sampler, collate_fn=collate, num_workers=opts.num_workers,
        generator=torch.Generator().manual_seed(seed),
    )
    per_epoch = len(sampler)
    total = steps if steps is not None else (epochs or opts.epochs) * per_epoch
    schedule = opts.schedule_steps or total
    info = {
        "corpus": str(corpus_dir), "aistpp": opts.aistpp, "seed": seed,
        "ablation": ablation_of(cfg), "config": cfg.to_dict(), "options": asdict(opts),
        "train_songs": len(train_songs), "val_songs": len(val_songs),
        "train_clips": len(train_ds), "val_clips": len(val_ds), "batches_per_epoch": per_epoch,
        "total_steps": total, "processes": accelerator.num_processes, "device": str(device),
        "grouped_batches": grouped,
    }

    step, epoch = start_step, start_step // per_epoch
    bar = tqdm(total=total, initial=min(step, total), desc="train", unit="step",
               disable=not (opts.progress and main), file=sys.stderr, dynamic_ncols=True)
    timed_seconds, timed_steps, run_steps = 0.0, 0, 0
    while step < total:
        sampler.set_epoch(epoch, step - epoch * per_epoch)
        objective.train()
        epoch_loss, epoch_steps = 0.0, 0
        for batch in loader:
            t0 = time.perf_counter()
            lr = lr_at(step, schedule, opts)
            for group in optimizer.param_groups:
                group["lr"] = lr
            with accelerator.autocast():
                terms = objective(to_device(batch, device))
            accelerator.backward(terms["total"])
            if opts.grad_clip > 0:
                accelerator.clip_grad_norm_(objective.parameters(), opts.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            loss = float(terms["total"].detach())
            step, run_steps = step + 1, run_steps + 1
            epoch_loss, epoch_steps = epoch_loss + loss, epoch_steps + 1
            if run_steps > TIMING_SKIP_STEPS:
                timed_seconds += time.perf_counter() - t0
                timed_steps += 1
            bar.update(1)
            ecl = float(terms["ecl"].detach())
            bar.set_postfix(loss=f"{loss:.3f}", ecl=f"{ecl:.3f}", lr=f"{lr:.2e}")
            if step % opts.save_every == 0 and main and step < total:
                save_training_state(out, accelerator.unwrap_model(objective).model,
                                    optimizer, step, schedule)
            if step >= total:
                break
        finished_epoch = step % per_epoch == 0
        if main:
            unwrapped = accelerator.unwrap_model(objective)
            record = {"epoch": epoch + (1 if finished_epoch else step % per_epoch / per_epoch),
                      "step": step, "lr": lr_at(step - 1, schedule, opts),
                      "train_loss": epoch_loss / max(epoch_steps, 1)}
            record.update(validate(unwrapped, val_ds, gallery, opts, seed, device))
            history.append(record)
            bar.write(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in record.items()))
            save_training_state(out, unwrapped.model, optimizer, step, schedule)
            per_step = timed_seconds / timed_steps if timed_steps else None
            _write_history(out, {**info, "seconds_per_step": per_step, "history": history})
        accelerator.wait_for_everyone()
        if finished_epoch:
            epoch += 1
    bar.close()

    per_step = timed_seconds / timed_steps if timed_steps else None
    weights, config = checkpoint_paths(out)
    if main:
        model = accelerator.unwrap_model(objective).model
        weights, config = save_checkpoint(model, out)
        _write_history(out, {**info, "seconds_per_step": per_step, "history": history})
    accelerator.wait_for_everyone()
    return TrainResult(weights, config, step, step // per_epoch, per_step, history)


# --- CLI ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motionbeat.encoder.train",
                                description="Train the MotionBeat music/dance encoder.")
    p.add_argument("--corpus", required=True, type=Path,
                   help="corpus folder (motionbeat.choreography.build), or a dataset root with --dataset")
    add_dataset_arguments(p)
    p.add_argument("--size", default="small", choices=sorted(MOTIONBEAT_SIZES))
    p.add_argument("--ablation", default="full", choices=list(ABLATIONS))
    p.add_argument("--pooling", default=None, choices=POOLING_CHOICES,
                   help="clip pooling of both encoders (default: the size's, see config.py)")
    p.add_argument("--out", type=Path, default=None,
                   help=f"checkpoint stem (default {DEFAULT_OUT}[-ABLATION])")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, default=None, help="optimisation steps in total")
    length.add_argument("--epochs", type=int, default=None,
                        help=f"epochs (default {TrainOptions.epochs})")
    p.add_argument("--batch-size", type=int, default=TrainOptions.batch_size)
    p.add_argument("--lr", type=float, default=TrainOptions.lr)
    p.add_argument("--schedule-steps", type=int, default=None,
                   help="length of the cosine schedule (default: the run's total steps)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--group-size", type=int, default=TrainOptions.group_size,
                   help="clips per hard-negative group (default %(default)s)")
    p.add_argument("--same-song", type=int, default=TrainOptions.same_song,
                   help="clips of the anchor's own song in each group (default %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue from <out>.state.*")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="song cache (default <corpus>/cache/motionbeat-<version>)")
    p.add_argument("--mixed-precision", default="no", choices=("no", "fp16", "bf16"))
    p.add_argument("--save-every", type=int, default=TrainOptions.save_every)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    a = p.parse_args(argv)
    if a.steps is not None and a.steps < 1 or a.epochs is not None and a.epochs < 1:
        p.error("--steps and --epochs must be positive")
    dataset = dataset_from_args(a, p)
    corpus = a.corpus if dataset in ("corpus", "aistpp") else dataset_corpus(
        dataset, a.corpus, progress=not a.quiet)
    out = a.out or Path(DEFAULT_OUT + ("" if a.ablation == "full" else f"-{a.ablation}"))
    cfg = config_with_ablation(a.size, a.ablation,
                               **({} if a.pooling is None else {"pooling": a.pooling}))
    opts = TrainOptions(
        batch_size=a.batch_size, lr=a.lr, schedule_steps=a.schedule_steps,
        mixed_precision=a.mixed_precision, save_every=a.save_every, aistpp=dataset == "aistpp",
        threads=a.threads, group_size=a.group_size, same_song=a.same_song,
        cache_dir=str(a.cache_dir) if a.cache_dir else None, progress=not a.quiet,
    )
    t0 = time.time()
    result = train(cfg, corpus, out, steps=a.steps, epochs=a.epochs, seed=a.seed,
                   resume=a.resume, options=opts)
    last = result.history[-1] if result.history else {}
    r1 = last.get("val_r1_music_to_dance")
    per_step = f"{result.seconds_per_step:.3f} s/step" if result.seconds_per_step else "n/a"
    print(f"{result.weights}: {result.steps} steps, {per_step}, "
          f"val R@1 music->dance {r1 if r1 is not None else 'n/a'}, {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
