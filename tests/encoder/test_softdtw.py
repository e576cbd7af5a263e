"""Soft-DTW (Cuturi & Blondel 2017) against a brute-force dynamic programme."""

from __future__ import annotations

import math

import pytest
import torch

from motionbeat.encoder.softdtw import soft_dtw, soft_dtw_divergence, soft_dtw_from_cost

GAMMAS = (1.0, 0.1)


def brute_force(x: torch.Tensor, y: torch.Tensor, gamma: float | None) -> torch.Tensor:
    """R[N, M] by the textbook O(N M) double loop; gamma None is hard DTW.

    Boundary cells (+inf) are simply left out of the (soft) minimum, so no infinity ever
    enters autograd.
    """
    x = x.reshape(len(x), -1)  # (N, D)
    y = y.reshape(len(y), -1)  # (M, D)
    n, m = len(x), len(y)
    table: dict[tuple[int, int], torch.Tensor] = {(0, 0): x.new_zeros(())}
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = [table[c] for c in ((i - 1, j - 1), (i - 1, j), (i, j - 1)) if c in table]
            stacked = torch.stack(options)
            best = stacked.min() if gamma is None else -gamma * torch.logsumexp(-stacked / gamma, 0)
            table[(i, j)] = (x[i - 1] - y[j - 1]).pow(2).sum() + best
    return table[(n, m)]


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("dim", (None, 3))
def test_values_and_gradients_match_brute_force(gamma, dim):
    gen = torch.Generator().manual_seed(0)
    shape_x, shape_y = (3, 5), (3, 4)
    if dim is not None:
        shape_x, shape_y = (*shape_x, dim), (*shape_y, dim)
    x = torch.randn(shape_x, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randn(shape_y, generator=gen, dtype=torch.float64, requires_grad=True)
    x_len, y_len = torch.tensor([5, 3, 1]), torch.tensor([4, 4, 2])

    fast = soft_dtw(x, y, gamma, x_len, y_len)  # (3,)
    weights = torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64)
    grad_x, grad_y = torch.autograd.grad((fast * weights).sum(), (x, y))

    slow = torch.stack([brute_force(x[b, : x_len[b]], y[b, : y_len[b]], gamma) for b in range(3)])
    slow_x, slow_y = torch.autograd.grad((slow * weights).sum(), (x, y))
    torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(grad_x, slow_x, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(grad_y, slow_y, rtol=1e-8, atol=1e-10)
    # padding beyond the lengths gets no gradient
    assert grad_x[1, 3:].abs().max() == 0 and grad_y[2, 2:].abs().max() == 0


def test_float32_matches_float64():
    gen = torch.Generator().manual_seed(1)
    x, y = torch.rand(4, 16, generator=gen), torch.rand(4, 16, generator=gen)
    torch.testing.assert_close(
        soft_dtw(x, y, 0.1), soft_dtw(x.double(), y.double(), 0.1).float(), rtol=1e-5, atol=1e-5
    )


def test_tends_to_dtw_as_gamma_vanishes():
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(1, 6, dtype=torch.float64, generator=gen)
    y = torch.randn(1, 7, dtype=torch.float64, generator=gen)
    dtw = brute_force(x[0], y[0], None)
    gaps = []
    for gamma in (1.0, 0.1, 0.01, 0.001):
        value = soft_dtw(x, y, gamma)[0]
        # softmin lies within gamma * log 3 below min at each of at most N + M - 1 cells
        assert dtw - gamma * (6 + 7) * math.log(3) <= value <= dtw + 1e-12
        gaps.append(float(dtw - value))
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-2


def test_cost_entry_point_and_divergence():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 5, 2, generator=gen, dtype=torch.float64)
    y = torch.randn(2, 5, 2, generator=gen, dtype=torch.float64)
    cost = (x[:, :, None] - y[:, None]).pow(2).sum(-1)  # (2, 5, 5)
    torch.testing.assert_close(soft_dtw_from_cost(cost, 0.5), soft_dtw(x, y, 0.5))
    torch.testing.assert_close(soft_dtw_divergence(x, x, 0.5), torch.zeros(2, dtype=torch.float64))
    assert (soft_dtw_divergence(x, y, 0.5) > 0).all()
    assert (soft_dtw(x, x, 0.5) < 0).all()  # why the loss uses the divergence
    # unequal lengths take the three-call path
    assert soft_dtw_divergence(x, y[:, :3], 0.5).shape == (2,)
    with pytest.raises(ValueError):
        soft_dtw(x, y, 0.0)
