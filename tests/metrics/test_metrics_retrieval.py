"""Recall@K, median rank and QB-Norm on hand-made similarity matrices."""

import math

import numpy as np
import pytest

from motionbeat.metrics import median_rank, qb_norm, recall_at_k, retrieval_ranks, retrieval_scores


def test_recall_and_median_rank_by_hand():
    sim = np.array(
        [
            [0.9, 0.1, 0.2, 0.0],  # gt 0 ranks 1
            [0.5, 0.4, 0.6, 0.1],  # gt 1 ranks 3 (0.6, 0.5 above it)
            [0.3, 0.2, 0.1, 0.4],  # gt 2 ranks 4
        ]
    )
    np.testing.assert_array_equal(retrieval_ranks(sim), [1, 3, 4])
    assert recall_at_k(sim, ks=(1, 3, 5)) == {1: 1 / 3, 3: 2 / 3, 5: 1.0}
    assert median_rank(sim) == 3.0
    # explicit ground truth: query 2 -> item 3 ranks first
    np.testing.assert_array_equal(retrieval_ranks(sim, [0, 1, 3]), [1, 3, 1])
    scores = retrieval_scores(sim, ks=(1,))
    assert scores["R@1"] == pytest.approx(1 / 3) and scores["medr"] == 3.0
    assert scores["n_queries"] == 3 and scores["gallery_size"] == 4


def test_ties_count_against_the_query():
    assert retrieval_ranks(np.ones((3, 3))).tolist() == [3, 3, 3]


def test_qb_norm_by_hand():
    bank = np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.1]])  # both bank queries pick item 0 first
    sim = np.array([[0.5, 0.6, 0.1], [0.7, 0.65, 0.0]])
    out = qb_norm(sim, bank, k=1, beta=1.0)
    # query 0's top-1 is item 1, not activated by the bank: unchanged
    np.testing.assert_allclose(out[0], sim[0])
    # query 1's top-1 is item 0 (activated): exp(s) / sum_b exp(s_b) per item
    expected = [
        math.exp(0.7) / (math.exp(0.9) + math.exp(0.8)),  # 0.4298
        math.exp(0.65) / (math.exp(0.1) + math.exp(0.2)),  # 0.8233
        math.exp(0.0) / (math.exp(0.0) + math.exp(0.1)),  # 0.4750
    ]
    np.testing.assert_allclose(out[1], expected, rtol=1e-12)
    assert np.argmax(out[1]) == 1  # the hub (item 0) loses its place
    np.testing.assert_allclose(sim, [[0.5, 0.6, 0.1], [0.7, 0.65, 0.0]])  # input untouched


def test_qb_norm_top_k_activation_and_defaults():
    bank = np.array([[0.9, 0.5, 0.0]])
    sim = np.array([[0.1, 0.6, 0.2]])  # top-1 is item 1, activated only with k >= 2
    np.testing.assert_allclose(qb_norm(sim, bank, k=1), sim)
    expected = np.exp(20 * sim[0] - 20 * bank[0])  # one bank query: exp(b s) / exp(b s_b)
    np.testing.assert_allclose(qb_norm(sim, bank, k=2)[0], expected, rtol=1e-12)
