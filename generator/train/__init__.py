"""Train the dance generator (EDGE-style diffusion) on a corpus of songs and dances.

    python -m generator.train --corpus DIR|--pack DIR --out checkpoints/generator [--size small] \
        [--conditioner motionbeat|librosa] [--encoder checkpoints/motionbeat] [--steps N] \
        [--batch-size B] [--resume] [--threads 1] [--seed S]

The library function is :func:`train`; the CLI only parses arguments.

* :mod:`.data` - the training data: dances paired with their songs' conditioned music, the draw
  of training windows, centred roots, the motion statistics.
* :mod:`.objective` - the denoiser and its diffusion loss as one module, step seeds, validation.
* :mod:`.state` - the resumable training state and the history file beside a checkpoint.
* :mod:`.pack` - training packs: the training data in a few compressed files for a lent GPU
  (``python -m generator.pack`` writes one; ``docs/generator.md``, "Training on a lent GPU").
* :mod:`.start` - where a run starts from: an ``init`` checkpoint, a resumed run, a pack's encoder.
* :mod:`.loop` - :func:`train` and its options: normalisation, optimiser, schedule, seeding,
  speed, a time budget.
* :mod:`.cli` - ``python -m generator.train``.

This package re-exports their public API: ``from generator import train as tr; tr.X``.
"""

from .cli import main
from .data import (
    HORIZONTAL_ROOT,
    MOTION_STD_FLOOR,
    WindowData,
    build_window_data,
    centre_root,
    load_dances,
    to_tensors,
)
from .loop import DEFAULT_STEPS, TIMING_SKIP_STEPS, TrainOptions, TrainResult, lr_at, train
from .objective import SEED_STRIDE, VAL_SEED_OFFSET, Objective, step_seed, validate
from .state import (
    HISTORY_SUFFIX,
    STATE_OPTIM_SUFFIX,
    STATE_WEIGHTS_SUFFIX,
    history_path,
    load_training_state,
    save_training_state,
    saved_config,
    state_paths,
    write_history,
)

__all__ = [
    # data
    "MOTION_STD_FLOOR", "HORIZONTAL_ROOT", "WindowData", "centre_root", "load_dances",
    "build_window_data", "to_tensors",
    # objective
    "VAL_SEED_OFFSET", "SEED_STRIDE", "Objective", "step_seed", "validate",
    # state
    "STATE_WEIGHTS_SUFFIX", "STATE_OPTIM_SUFFIX", "HISTORY_SUFFIX", "state_paths", "history_path",
    "save_training_state", "load_training_state", "saved_config", "write_history",
    # loop
    "DEFAULT_STEPS", "TIMING_SKIP_STEPS", "TrainOptions", "TrainResult", "lr_at", "train",
    # cli
    "main",
]
