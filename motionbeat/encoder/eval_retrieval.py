"""Retrieval scores of a MotionBeat evaluation: Recall@K and median rank, raw and with QB-Norm.

Both directions (music->dance, dance->music) over one gallery of paired clip embeddings, plus
how often the top item comes from the query's song (``song@1``) against its chance level. The
protocol is described in :mod:`motionbeat.encoder.evaluate`.
"""

from __future__ import annotations

import numpy as np

from motionbeat.metrics.retrieval import QB_NORM_BETA, QB_NORM_K, qb_norm, retrieval_scores

RECALL_KS: tuple[int, ...] = (1, 5, 10)


def song_chance(songs: np.ndarray) -> float:
    """Chance level of :func:`song_hit_rate` for a top item drawn uniformly from the gallery:
    sum_s (n_s / G)^2 over the songs' clip counts n_s (G clips in all)."""
    _, counts = np.unique(np.asarray(songs), return_counts=True)
    return float(np.sum((counts / counts.sum()) ** 2))


def song_hit_rate(sim: np.ndarray, songs: np.ndarray) -> dict[str, float]:
    """How often the top-ranked gallery item comes from the query's song (any clip of it),
    with its chance level (:func:`song_chance`).

    ``sim`` (G, G) has query i's true item at column i; ``songs`` (G,) labels the clips. Ties
    in the top similarity go to the lowest column (argmax).
    """
    songs = np.asarray(songs)
    top = np.argmax(sim, axis=1)  # (G,)
    return {"song@1": float(np.mean(songs[top] == songs)), "chance": song_chance(songs)}


def retrieval_table(
    audio: np.ndarray,
    motion: np.ndarray,
    bank_audio: np.ndarray,
    bank_motion: np.ndarray,
    songs: np.ndarray | None = None,
) -> dict[str, dict[str, float]]:
    """Both directions, raw and with QB-Norm, for paired (G, E) gallery embeddings.

    Query bank for music->dance: bank audio (Q, E) against the gallery motions; for
    dance->music: bank motions against the gallery audio. With ``songs`` (G,) the raw
    directions also get :func:`song_hit_rate` (``song@1``, ``song_chance``).
    """
    sim = audio @ motion.T  # (G, G): row = music query, column = dance item
    out = {"music_to_dance": retrieval_scores(sim, ks=RECALL_KS),
           "dance_to_music": retrieval_scores(sim.T, ks=RECALL_KS)}
    if songs is not None:
        for key, s in (("music_to_dance", sim), ("dance_to_music", sim.T)):
            hit = song_hit_rate(s, songs)
            out[key] = {**out[key], "song@1": hit["song@1"], "song_chance": hit["chance"]}
    if len(bank_audio):
        m2d = qb_norm(sim, bank_audio @ motion.T, QB_NORM_K, QB_NORM_BETA)  # (G, G)
        d2m = qb_norm(sim.T, bank_motion @ audio.T, QB_NORM_K, QB_NORM_BETA)
        out["music_to_dance_qb"] = retrieval_scores(m2d, ks=RECALL_KS)
        out["dance_to_music_qb"] = retrieval_scores(d2m, ks=RECALL_KS)
    return out
