"""The files a training run writes beside its checkpoint: resumable state and history.

``<out>.state.safetensors`` holds the weights (with the config in its metadata),
``<out>.state.pt`` the optimizer moments, step and RNG state (a dict of tensors only, read back
with ``torch.load(weights_only=True)``), and ``<out>.train.json`` the training history.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from motionbeat.core.fileio import atomic_path
from motionbeat.core.training import optimizer_tensors, restore_optimizer
from motionbeat.encoder.config import MotionBeatConfig
from motionbeat.encoder.model import MotionBeat, checkpoint_paths

STATE_WEIGHTS_SUFFIX, STATE_OPTIM_SUFFIX = ".state.safetensors", ".state.pt"
HISTORY_SUFFIX: str = ".train.json"


def state_paths(out: str | os.PathLike) -> tuple[Path, Path]:
    """``<out>.state.safetensors`` (weights) and ``<out>.state.pt`` (optimizer, step, RNG)."""
    weights, _ = checkpoint_paths(out)
    stem = weights.with_suffix("")
    return (stem.with_name(stem.name + STATE_WEIGHTS_SUFFIX),
            stem.with_name(stem.name + STATE_OPTIM_SUFFIX))


def history_path(out: str | os.PathLike) -> Path:
    weights, _ = checkpoint_paths(out)
    stem = weights.with_suffix("")
    return stem.with_name(stem.name + HISTORY_SUFFIX)


def save_training_state(
    out: str | os.PathLike, model: MotionBeat, optimizer: torch.optim.Optimizer, step: int,
    schedule: int,
) -> None:
    """Weights as safetensors; optimizer moments, step and RNG as a tensors-only torch file."""
    from safetensors.torch import save_file

    weights_path, optim_path = state_paths(out)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(weights_path) as tmp:
        save_file(state, str(tmp), metadata={"config": model.config.to_json(), "step": str(step)})
    blob: dict[str, torch.Tensor] = {
        "step": torch.tensor(step, dtype=torch.int64),
        "schedule": torch.tensor(schedule, dtype=torch.int64),
        "rng.torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            blob[f"rng.cuda.{i}"] = s
    blob.update(optimizer_tensors(optimizer))
    with atomic_path(optim_path) as tmp:
        torch.save(blob, tmp)


def load_training_state(
    out: str | os.PathLike, model: MotionBeat, optimizer: torch.optim.Optimizer
) -> int:
    """Restore what :func:`save_training_state` wrote; returns the step to continue from."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    weights_path, optim_path = state_paths(out)
    with safe_open(str(weights_path), framework="pt") as fh:
        saved = MotionBeatConfig.from_json((fh.metadata() or {})["config"])
    if saved != model.config:
        raise ValueError(f"{weights_path.name} was trained with another config; "
                         "use the same --size / --ablation, or a new --out")
    model.load_state_dict(load_file(str(weights_path)), strict=True)
    blob = torch.load(optim_path, map_location="cpu", weights_only=True)
    restore_optimizer(optimizer, blob)
    torch.set_rng_state(blob["rng.torch"])
    cuda_states = [blob[k] for k in sorted(blob) if k.startswith("rng.cuda.")]
    if cuda_states and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)
    return int(blob["step"])
