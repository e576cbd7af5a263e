"""The diffusion objective of training, its per-step seeds, and the validation loss."""

from __future__ import annotations

import torch
from torch import nn

from generator.model.denoiser import Denoiser
from generator.model.diffusion import make_training_scheduler, training_step

VAL_SEED_OFFSET: int = 7919
"""Added to the seed for the fixed validation windows, so they differ from training draws."""
SEED_STRIDE: int = 1_000_003
"""Torch seed of step s: seed * SEED_STRIDE + s (a prime stride keeps runs' seeds apart)."""


class Objective(nn.Module):
    """The denoiser and its diffusion loss as one module, so DDP sees a single forward."""

    def __init__(self, denoiser: Denoiser, timestep_weighting: bool = True):
        super().__init__()
        self.denoiser = denoiser
        self.ddpm = make_training_scheduler(denoiser.config)
        self.timestep_weighting = timestep_weighting

    def forward(
        self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Batch of :meth:`~generator.train.data.WindowData.sample` tensors -> ``loss`` and the
        unweighted terms."""
        out = training_step(
            self.denoiser, self.ddpm, batch["motion"], batch["music"], batch["phase"],
            batch["mask"], generator=generator, timestep_weighting=self.timestep_weighting,
            style=batch.get("style"),
        )
        return {"loss": out.loss, **out.terms}


def step_seed(seed: int, step: int) -> int:
    return (seed * SEED_STRIDE + step) % (2**63)


@torch.no_grad()
def validate(
    denoiser: Denoiser, val: dict[str, torch.Tensor] | None, batch_size: int, seed: int
) -> dict[str, float]:
    """Mean loss and terms over the fixed validation windows (eval mode, fixed noise), every
    timestep weighted alike whatever the training weighting, so runs compare."""
    if val is None:
        return {}
    was_training = denoiser.training
    denoiser.eval()
    objective = Objective(denoiser, timestep_weighting=False)
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
