"""``python -m generator.train``: the command line of :func:`generator.train.loop.train`.

``--dataset {corpus,aistpp,finedance,bvh,positions}`` names what ``--corpus`` holds; every dataset
but ``corpus`` is converted once into a corpus folder (``motionbeat.datasets.registry``) and
trained on as one (``docs/datasets.md``). ``--aistpp`` is the deprecated ``--dataset aistpp``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from generator.model.conditioning import DEFAULT_ENCODER
from generator.model.config import CONDITIONERS, GENERATOR_SIZES, STYLE_PRIORS
from generator.model.style import STYLE_DIM
from generator.sampling.checkpoint import DEFAULT_CHECKPOINT
from generator.train.loop import (
    DEFAULT_CONDITIONER,
    DEFAULT_SIZE,
    DEFAULT_STEPS,
    TrainOptions,
    train,
)
from generator.train.pack import is_pack
from motionbeat.datasets.registry import add_dataset_arguments, dataset_corpus, dataset_from_args


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m generator.train",
                                description="Train the music-to-dance diffusion generator.")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", type=Path,
                        help="corpus folder (motionbeat.choreography.build), or a dataset root "
                             "with --dataset")
    source.add_argument("--pack", type=Path,
                        help="a training pack (python -m generator.pack): train without "
                             "the corpus' audio, the encoder's weights or librosa")
    add_dataset_arguments(p)
    p.add_argument("--out", type=Path, default=Path(DEFAULT_CHECKPOINT),
                   help=f"checkpoint stem (default {DEFAULT_CHECKPOINT})")
    p.add_argument("--size", default=None, choices=sorted(GENERATOR_SIZES),
                   help=f"model size (default: the --init checkpoint's or the --resume run's, "
                        f"else {DEFAULT_SIZE})")
    p.add_argument("--conditioner", default=None, choices=CONDITIONERS,
                   help="music features: frozen MotionBeat encoder, or log-mel + onset "
                        f"(default: the --init checkpoint's or the --resume run's, else "
                        f"{DEFAULT_CONDITIONER})")
    p.add_argument("--encoder", type=Path, default=None,
                   help="MotionBeat encoder checkpoint stem (default: the --init checkpoint's or "
                        f"the --resume run's, else {DEFAULT_ENCODER})")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"optimisation steps in total (default {DEFAULT_STEPS})")
    p.add_argument("--batch-size", type=int, default=TrainOptions.batch_size)
    p.add_argument("--lr", type=float, default=TrainOptions.lr)
    p.add_argument("--schedule-steps", type=int, default=None,
                   help="length of the learning-rate schedule (default: --steps)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from <out>.state.*")
    p.add_argument("--init", type=Path, default=None,
                   help="start from this generator checkpoint's weights (fine-tuning or more "
                        "steps; optimizer and learning-rate schedule start afresh)")
    p.add_argument("--snr-gamma", type=float, default=None,
                   help="Min-SNR loss weighting with this gamma (GeneratorConfig.loss_snr_gamma; "
                        "default 0: off)")
    p.add_argument("--noise-power", type=float, default=None,
                   help="weight each timestep's loss by (1 - abar_t)^P "
                        "(GeneratorConfig.loss_noise_power; default 0: off)")
    p.add_argument("--kinetic-weight", type=float, default=None,
                   help="weight of the kinetic-envelope loss (GeneratorConfig.loss_kinetic; "
                        "default 0: off)")
    p.add_argument("--style", action="store_true",
                   help="give the model each dance's style, how fast each part of the body moves "
                        "over the whole dance (GeneratorConfig.style_dim; with --init it is added "
                        "to a checkpoint without one); sampling then draws one per dance")
    p.add_argument("--style-prior", choices=STYLE_PRIORS, default=None,
                   help="with --style: draw each dance's style from all training dances' "
                        "(dataset, the default) or given the song's music (music; "
                        "GeneratorConfig.style_prior)")
    p.add_argument("--save-every", type=int, default=TrainOptions.save_every)
    p.add_argument("--mixed-precision", default="no", choices=("no", "fp16", "bf16"))
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--time-budget", type=float, default=None, metavar="MINUTES",
                   help="end the run by this many minutes after it starts: the total steps "
                        "(at most --steps) are fitted to it after 20 timed steps")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    a = p.parse_args(argv)
    if a.steps < 1 or a.batch_size < 1:
        p.error("--steps and --batch-size must be positive")
    for flag, value in (("--snr-gamma", a.snr_gamma), ("--noise-power", a.noise_power),
                        ("--kinetic-weight", a.kinetic_weight)):
        if value is not None and not value >= 0:
            p.error(f"{flag} must be >= 0")
    overrides = {k: v for k, v in (("loss_snr_gamma", a.snr_gamma),
                                   ("loss_noise_power", a.noise_power),
                                   ("loss_kinetic", a.kinetic_weight)) if v is not None}
    if a.style:
        overrides["style_dim"] = STYLE_DIM
    if a.style_prior is not None:
        if not a.style:
            p.error("--style-prior goes with --style")
        overrides["style_prior"] = a.style_prior
    if a.init is not None and a.resume:
        p.error("--init starts a new run; --resume continues one: give one of them")
    if a.time_budget is not None and not a.time_budget > 0:
        p.error("--time-budget must be positive")
    if a.pack is not None:
        if a.dataset not in (None, "corpus") or a.aistpp:
            p.error("--pack holds its data already; --dataset and --aistpp go with --corpus")
        if not is_pack(a.pack):
            p.error(f"{a.pack}: not a training pack (no pack.json); write one with "
                    "`python -m generator.pack --corpus DIR --out DIR`")
        corpus = a.pack
    else:
        dataset = dataset_from_args(a, p)
        if dataset == "corpus" and not (a.corpus / "manifest.json").is_file():
            p.error(f"{a.corpus}: not a corpus (no manifest.json); build one with "
                    "`python -m motionbeat.choreography.build --out DIR`, or name its --dataset")
        try:
            corpus = dataset_corpus(dataset, a.corpus, progress=not a.quiet)
        except ValueError as err:  # a dataset folder in the wrong layout, a bad file
            print(f"error: {err}", file=sys.stderr)
            return 2
    opts = TrainOptions(batch_size=a.batch_size, lr=a.lr, schedule_steps=a.schedule_steps,
                        save_every=a.save_every,
                        mixed_precision=a.mixed_precision, threads=a.threads,
                        progress=not a.quiet,
                        time_budget_s=a.time_budget * 60 if a.time_budget is not None else None)
    t0 = time.time()
    try:
        result = train(corpus, a.out, size=a.size, conditioner=a.conditioner,
                       encoder=a.encoder, steps=a.steps, seed=a.seed, resume=a.resume,
                       init=a.init, options=opts,
                       config_overrides=overrides or None)
    except ValueError as err:  # includes the conditioner's missing-encoder error
        print(f"error: {err}", file=sys.stderr)
        return 2
    last = result.history[-1] if result.history else {}
    per_step = f"{result.seconds_per_step:.3f} s/step" if result.seconds_per_step else "n/a"
    val = last.get("val_ema_loss")
    print(f"{result.weights}: {result.steps} steps, {per_step}, "
          f"val loss (EMA) {val if val is not None else 'n/a'}, {time.time() - t0:.0f} s")
    return 0
