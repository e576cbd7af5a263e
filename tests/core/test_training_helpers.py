"""Shared training helpers: the learning-rate schedule by hand, optimizer state round trip."""

import pytest
import torch

from motionbeat.core.training import (
    decay_param_groups,
    optimizer_tensors,
    restore_optimizer,
    warmup_cosine_lr,
)


def test_warmup_then_cosine_to_the_floor():
    # schedule 100 -> warm-up min(20, 100 // 10) = 10 steps
    assert warmup_cosine_lr(0, 100, 1.0, 20, 0.1) == pytest.approx(0.1)
    assert warmup_cosine_lr(9, 100, 1.0, 20, 0.1) == pytest.approx(1.0)
    # half way through the cosine: 0.1 + 0.9 * 0.5
    assert warmup_cosine_lr(55, 100, 1.0, 20, 0.1) == pytest.approx(0.55)
    assert warmup_cosine_lr(100, 100, 1.0, 20, 0.1) == pytest.approx(0.1)
    assert warmup_cosine_lr(500, 100, 1.0, 20, 0.1) == pytest.approx(0.1)  # past the end
    # schedule 50, warm-up 5: step 20 is a third of the cosine, cos(pi / 3) = 1 / 2
    assert warmup_cosine_lr(20, 50, 1.0, 10, 0.1) == pytest.approx(0.1 + 0.9 * 0.75)


def test_optimizer_state_round_trips_through_tensors():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    groups = decay_param_groups(model, 0.05)
    assert [len(g["params"]) for g in groups] == [1, 3]  # the weight matrix; biases and gains
    opt = torch.optim.AdamW(groups, lr=1e-2)
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    blob = optimizer_tensors(opt)
    assert all(isinstance(v, torch.Tensor) for v in blob.values())
    fresh = torch.optim.AdamW(decay_param_groups(model, 0.05), lr=1e-2)
    restore_optimizer(fresh, {**blob, "step": torch.tensor(3)})
    for a, b in zip(opt.state_dict()["state"].values(), fresh.state_dict()["state"].values(),
                    strict=True):
        assert torch.equal(a["exp_avg"], b["exp_avg"]) and torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
