"""The resumable training state (``<out>.state.*``) and the history (``<out>.train.json``)
written beside a generator checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from generator.model.config import GeneratorConfig
from generator.model.denoiser import Denoiser
from generator.model.diffusion import EMA
from generator.sampling.checkpoint import checkpoint_paths
from motionbeat.core.fileio import atomic_path
from motionbeat.core.training import optimizer_tensors, restore_optimizer, write_json

STATE_WEIGHTS_SUFFIX, STATE_OPTIM_SUFFIX = ".state.safetensors", ".state.pt"
HISTORY_SUFFIX: str = ".train.json"


def _suffixed(out: str | os.PathLike, suffix: str) -> Path:
    weights, _ = checkpoint_paths(out)
    stem = weights.with_suffix("")
    return stem.with_name(stem.name + suffix)


def state_paths(out: str | os.PathLike) -> tuple[Path, Path]:
    """``<out>.state.safetensors`` (model + EMA weights) and ``<out>.state.pt`` (the rest)."""
    return _suffixed(out, STATE_WEIGHTS_SUFFIX), _suffixed(out, STATE_OPTIM_SUFFIX)


def history_path(out: str | os.PathLike) -> Path:
    return _suffixed(out, HISTORY_SUFFIX)


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


def saved_config(out: str | os.PathLike) -> GeneratorConfig | None:
    """The config a run's training state at ``out`` was saved with; None without a state."""
    from safetensors import safe_open

    weights_path = state_paths(out)[0]
    if not weights_path.is_file():
        return None
    with safe_open(str(weights_path), framework="pt") as fh:
        return GeneratorConfig.from_json((fh.metadata() or {})["config"])


def load_training_state(
    out: str | os.PathLike, model: Denoiser, ema: EMA, optimizer: torch.optim.Optimizer
) -> int:
    """Restore what :func:`save_training_state` wrote; returns the step to continue from."""
    from safetensors.torch import load_file

    weights_path, optim_path = state_paths(out)
    if saved_config(out) != model.config:
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


def write_history(out: str | os.PathLike, payload: dict) -> None:
    write_json(history_path(out), payload)
