"""Soft-DTW (Cuturi & Blondel, "Soft-DTW: a Differentiable Loss Function for Time-Series",
ICML 2017), batched in torch with an anti-diagonal (wavefront) recursion.

Recursion, for a cost matrix C (N x M) and smoothing gamma > 0::

    R[0, 0] = 0,   R[i, 0] = R[0, j] = +inf  (i, j > 0)
    R[i, j] = C[i-1, j-1] + softmin_gamma(R[i-1, j-1], R[i-1, j], R[i, j-1])
    softmin_gamma(a_1..a_k) = -gamma * log(sum_k exp(-a_k / gamma))
    SoftDTW(x, y) = R[N, M]

Every cell on the anti-diagonal d = i + j depends only on the diagonals d - 1 and d - 2, so the
cells of one diagonal are computed together: the Python loop runs N + M - 1 times, not N * M,
and each step is one vectorised op over (batch, diagonal). Gradients come from autograd through
that loop (no hand-written backward), which costs O(B * (N + M) * N) memory: fine for the few
dozen beat-synchronous tokens MotionBeat aligns.

+inf is represented by :data:`BIG` (finite) so that log-sum-exp never sees a row of only
infinities: with true infinities the backward pass would produce 0 * nan = nan in the cells
outside the valid region, even though those cells never reach the result.

As gamma -> 0, softmin -> min and SoftDTW -> DTW (the minimum-cost monotone alignment).
"""

from __future__ import annotations

import torch

BIG: float = 1e10
"""Stands for +inf in the DP table; far above any real path cost, far below float32's max."""


def squared_euclidean_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Pairwise squared distances C[b, i, j] = |x[b, i] - y[b, j]|^2.

    Args:
        x: (B, N) or (B, N, D); y: (B, M) or (B, M, D).
    Returns:
        (B, N, M). Computed by explicit differences (not ``cdist``) so the gradient is exact
        at zero distance.
    """
    if x.dim() == 2:
        x = x.unsqueeze(-1)  # (B, N, 1)
    if y.dim() == 2:
        y = y.unsqueeze(-1)  # (B, M, 1)
    return (x.unsqueeze(2) - y.unsqueeze(1)).pow(2).sum(-1)  # (B, N, M)


def _lengths(lengths: torch.Tensor | None, batch: int, full: int, device) -> torch.Tensor:
    if lengths is None:
        return torch.full((batch,), full, dtype=torch.long, device=device)
    lengths = lengths.to(device=device, dtype=torch.long)
    if lengths.shape != (batch,):
        raise ValueError(f"lengths must have shape ({batch},), got {tuple(lengths.shape)}")
    if bool((lengths < 1).any()) or bool((lengths > full).any()):
        raise ValueError(f"lengths must lie in [1, {full}]")
    return lengths


def soft_dtw_from_cost(
    cost: torch.Tensor,
    gamma: float,
    x_lengths: torch.Tensor | None = None,
    y_lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Soft-DTW value R[n_b, m_b] of each cost matrix in a batch.

    Args:
        cost: (B, N, M) pairwise costs, padded; clip b uses cost[b, :n_b, :m_b].
        gamma: smoothing > 0.
        x_lengths, y_lengths: (B,) valid lengths n_b, m_b (default: N and M). Padding never
            changes the result: R[i, j] depends only on cells i' <= i, j' <= j.
    Returns:
        (B,) soft-DTW values.
    """
    if gamma <= 0:
        raise ValueError("gamma must be positive")
    batch, n, m = cost.shape
    x_len = _lengths(x_lengths, batch, n, cost.device)
    y_len = _lengths(y_lengths, batch, m, cost.device)
    n_diag = n + m + 1  # anti-diagonals d = i + j, 0 <= d <= N + M
    i = torch.arange(n + 1, device=cost.device)  # (N+1,) DP row index
    d = torch.arange(n_diag, device=cost.device)  # (n_diag,)
    j = d[:, None] - i[None, :]  # (n_diag, N+1) DP column index of cell (d, i)
    valid = (i[None, :] >= 1) & (j >= 1) & (j <= m)  # (n_diag, N+1) inside the N x M grid
    flat = (i[None, :] - 1).clamp(0, n - 1) * m + (j - 1).clamp(0, m - 1)  # (n_diag, N+1)
    skewed = cost.reshape(batch, n * m)[:, flat.reshape(-1)]  # (B, n_diag * (N+1))
    skewed = skewed.reshape(batch, n_diag, n + 1)  # (B, n_diag, N+1): C[i-1, j-1] by diagonal
    big = cost.new_full((batch, 1), BIG)  # (B, 1)

    first = cost.new_full((batch, n + 1), BIG)
    first[:, 0] = 0.0  # diagonal 0: R[0, 0] = 0
    second = cost.new_full((batch, n + 1), BIG)  # diagonal 1: R[0, 1], R[1, 0] = inf
    diagonals = [first, second]
    for step in range(2, n_diag):
        prev2, prev1 = diagonals[-2], diagonals[-1]
        match = torch.cat([big, prev2[:, :-1]], dim=1)  # (B, N+1) R[i-1, j-1]
        down = torch.cat([big, prev1[:, :-1]], dim=1)  # (B, N+1) R[i-1, j]
        right = prev1  # (B, N+1) R[i, j-1]
        options = torch.stack([match, down, right], dim=-1)  # (B, N+1, 3)
        softmin = -gamma * torch.logsumexp(-options / gamma, dim=-1)  # (B, N+1)
        cell = skewed[:, step] + softmin  # (B, N+1)
        diagonals.append(torch.where(valid[step], cell, big))
    table = torch.stack(diagonals, dim=1)  # (B, n_diag, N+1): R by (diagonal, row)
    rows = torch.arange(batch, device=cost.device)
    return table[rows, x_len + y_len, x_len]  # (B,)


def soft_dtw(
    x: torch.Tensor,
    y: torch.Tensor,
    gamma: float,
    x_lengths: torch.Tensor | None = None,
    y_lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Soft-DTW with squared-Euclidean cost between batched sequences.

    Args:
        x: (B, N) or (B, N, D); y: (B, M) or (B, M, D); gamma > 0; optional (B,) lengths.
    Returns:
        (B,) SoftDTW_gamma(x_b, y_b).
    """
    return soft_dtw_from_cost(squared_euclidean_cost(x, y), gamma, x_lengths, y_lengths)


def soft_dtw_divergence(
    x: torch.Tensor,
    y: torch.Tensor,
    gamma: float,
    x_lengths: torch.Tensor | None = None,
    y_lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Soft-DTW divergence D(x, y) = SDTW(x, y) - (SDTW(x, x) + SDTW(y, y)) / 2.

    Blondel, Mensch & Vert, "Differentiable Divergences Between Time Series", AISTATS 2021:
    with squared-Euclidean cost D >= 0 and D = 0 iff x = y, unlike SDTW itself, which can be
    negative and whose minimiser over y is not x. The three terms run as one batch of 3B when
    N = M.

    Args / Returns: as :func:`soft_dtw`.
    """
    batch, n, m = x.shape[0], x.shape[1], y.shape[1]
    if n == m and x.shape[2:] == y.shape[2:]:
        x_len = _lengths(x_lengths, batch, n, x.device)
        y_len = _lengths(y_lengths, batch, m, x.device)
        left = torch.cat([x, x, y], dim=0)  # (3B, N, ...)
        right = torch.cat([y, x, y], dim=0)  # (3B, N, ...)
        values = soft_dtw(
            left, right, gamma, torch.cat([x_len, x_len, y_len]), torch.cat([y_len, x_len, y_len])
        )  # (3B,)
        xy, xx, yy = values.split(batch)  # each (B,)
    else:
        xy = soft_dtw(x, y, gamma, x_lengths, y_lengths)
        xx = soft_dtw(x, x, gamma, x_lengths, x_lengths)
        yy = soft_dtw(y, y, gamma, y_lengths, y_lengths)
    return xy - 0.5 * (xx + yy)
