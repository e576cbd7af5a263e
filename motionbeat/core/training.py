"""Training helpers shared by ``motionbeat.encoder.train`` and ``generator.train``.

* :func:`warmup_cosine_lr`: linear warm-up over ``min(warmup_steps, schedule // 10)`` steps
  (at least one), then a cosine from the peak down to ``min_lr_ratio`` of it at the end of the
  schedule (Loshchilov & Hutter, SGDR, ICLR 2017, without restarts); steps past the schedule
  stay at the floor.
* :func:`decay_param_groups`: AdamW weight decay on matrices only; biases, norm gains, scalar
  and vector parameters (learned temperatures, null tokens) are not decayed (the GPT-2 /
  nanoGPT convention).
* :func:`optimizer_tensors` / :func:`restore_optimizer`: an optimizer's moments as a flat
  ``{"optimizer.<param id>.<name>": tensor}`` mapping, so training state is saved as a
  tensors-only file that ``torch.load(weights_only=True)`` reads back (never a pickle of objects).
* :func:`write_json`: a JSON file written atomically.
"""

from __future__ import annotations

import json
import math
import os

import torch
from torch import nn

from motionbeat.core.fileio import atomic_path

OPTIMIZER_PREFIX: str = "optimizer."


def warmup_cosine_lr(
    step: int, schedule: int, peak: float, warmup_steps: int, min_lr_ratio: float
) -> float:
    """Learning rate of step ``step`` (0-based) of a ``schedule``-step run (module docstring)."""
    warmup = max(1, min(warmup_steps, schedule // 10))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, schedule - warmup))
    cosine = 0.5 * (1 + math.cos(math.pi * progress))
    return peak * (min_lr_ratio + (1 - min_lr_ratio) * cosine)


def decay_param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW parameter groups: decay on trainable tensors of 2 or more dimensions only."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    other = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": other, "weight_decay": 0.0}]


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """The optimizer's per-parameter state as flat CPU tensors (module docstring)."""
    blob: dict[str, torch.Tensor] = {}
    for pid, entries in optimizer.state_dict()["state"].items():
        for name, value in entries.items():
            blob[f"{OPTIMIZER_PREFIX}{pid}.{name}"] = torch.as_tensor(value).detach().cpu()
    return blob


def restore_optimizer(optimizer: torch.optim.Optimizer, blob: dict[str, torch.Tensor]) -> None:
    """Load the state :func:`optimizer_tensors` flattened (other keys in ``blob`` are ignored)."""
    sd = optimizer.state_dict()
    entries: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in blob.items():
        if key.startswith(OPTIMIZER_PREFIX):
            _, pid, name = key.split(".", 2)
            entries.setdefault(int(pid), {})[name] = value
    sd["state"] = entries
    optimizer.load_state_dict(sd)


def write_json(path: str | os.PathLike, payload: dict) -> None:
    """``payload`` as indented JSON, written atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=1) + "\n")
