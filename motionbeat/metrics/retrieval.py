"""Cross-modal retrieval metrics: Recall@K, median rank, and QB-Norm hubness reduction.

Used for music <-> dance retrieval (BeatDance, MotionBeat). ``sim`` is a (Q, G) similarity
matrix, larger = more similar; ``gt[q]`` is the gallery index of query q's match (the diagonal
when omitted). For dance -> music pass ``sim.T``. Report the gallery size G with the numbers.

Rank of query q: r_q = 1 + #{g != gt_q : s(q, g) >= s(q, gt_q)}, i.e. ties are counted
against the query (pessimistic), so a constant similarity cannot score well.
Recall@K = mean_q [r_q <= K]; median rank = median_q r_q.

QB-Norm with the dynamic inverted softmax (Bogolin et al., CVPR 2022, the authors'
``qb_norm``): with a query bank B (e.g. training queries) scored against the same gallery,

    s'(q, g) = exp(beta s(q, g)) / sum_{b in B} exp(beta s(b, g)),

applied only to queries whose top-1 gallery item is in the activation set (the gallery items
that some bank query ranks in its top k); other rows keep their raw similarities. Ranking is
per row, so mixing the two scales is harmless. Defaults k = 1, beta = 20.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import logsumexp

QB_NORM_K: int = 1
QB_NORM_BETA: float = 20.0
"""QB-Norm defaults of the reference implementation (``args.get('k', 1)``, ``('beta', 20)``)."""


def _check(sim: np.ndarray, gt: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    sim = np.asarray(sim, dtype=np.float64)
    if sim.ndim != 2:
        raise ValueError(f"expected a (Q, G) similarity matrix, got shape {sim.shape}")
    if gt is None:
        if sim.shape[0] > sim.shape[1]:
            raise ValueError("gt may be omitted only when Q <= G (diagonal ground truth)")
        gt = np.arange(sim.shape[0])
    gt = np.asarray(gt, dtype=np.int64).reshape(-1)
    if gt.shape[0] != sim.shape[0]:
        raise ValueError(f"gt has {gt.shape[0]} entries for {sim.shape[0]} queries")
    return sim, gt


def retrieval_ranks(sim: np.ndarray, gt: np.ndarray | None = None) -> np.ndarray:
    """(Q,) 1-based rank of each query's ground-truth item (ties pessimistic)."""
    sim, gt = _check(sim, gt)
    rows = np.arange(sim.shape[0])
    target = sim[rows, gt][:, None]  # (Q, 1)
    return (sim >= target).sum(axis=1)  # counts the target itself once -> 1-based


def recall_at_k(
    sim: np.ndarray, gt: np.ndarray | None = None, ks: Sequence[int] = (1, 5, 10)
) -> dict[int, float]:
    """Recall@K for each K in ``ks``: fraction of queries whose match ranks in the top K."""
    ranks = retrieval_ranks(sim, gt)
    return {int(k): float(np.mean(ranks <= k)) for k in ks}


def median_rank(sim: np.ndarray, gt: np.ndarray | None = None) -> float:
    """Median over queries of the 1-based rank of the match (lower is better)."""
    return float(np.median(retrieval_ranks(sim, gt)))


def retrieval_scores(
    sim: np.ndarray, gt: np.ndarray | None = None, ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """``R@K`` for each K, ``medr``, ``meanr``, and the sizes ``n_queries``, ``gallery_size``."""
    sim_arr, gt_arr = _check(sim, gt)
    ranks = retrieval_ranks(sim_arr, gt_arr)
    out: dict[str, float] = {f"R@{int(k)}": float(np.mean(ranks <= k)) for k in ks}
    out.update(
        medr=float(np.median(ranks)),
        meanr=float(np.mean(ranks)),
        n_queries=int(sim_arr.shape[0]),
        gallery_size=int(sim_arr.shape[1]),
    )
    return out


def qb_norm(
    sim: np.ndarray, bank_sim: np.ndarray, k: int = QB_NORM_K, beta: float = QB_NORM_BETA
) -> np.ndarray:
    """QB-Norm / dynamic inverted softmax of a (Q, G) similarity matrix (see module doc).

    Args:
        sim: (Q, G) test queries x gallery similarities.
        bank_sim: (B, G) query-bank x the same gallery similarities.
        k: a bank query activates the gallery items in its top k.
        beta: inverse temperature.
    Returns:
        (Q, G) new similarities (a copy; ``sim`` is not modified). The normalised rows are
        computed as exp(beta s - logsumexp_b(beta s_b)), equal to the ratio but overflow-free.
    """
    sim = np.asarray(sim, dtype=np.float64)
    bank = np.asarray(bank_sim, dtype=np.float64)
    if bank.ndim != 2 or sim.ndim != 2 or bank.shape[1] != sim.shape[1]:
        raise ValueError(f"sim (Q, G) and bank_sim (B, G) must share G: {sim.shape}, {bank.shape}")
    top_k = np.argsort(-bank, axis=1, kind="stable")[:, :k]  # (B, k)
    activated = np.zeros(sim.shape[1], dtype=bool)
    activated[np.unique(top_k)] = True
    rows = activated[np.argmax(sim, axis=1)]  # (Q,) queries whose top-1 item is activated
    out = sim.copy()
    log_norm = logsumexp(beta * bank, axis=0)  # (G,)
    out[rows] = np.exp(beta * sim[rows] - log_norm[None, :])
    return out
