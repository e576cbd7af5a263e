"""Embodied Contrastive Loss: symmetric InfoNCE with tempo-aware and beat-jitter negatives.

Source: MotionBeat, arXiv 2510.13244 (the ECL of ``L = L_ECL + 0.2 L_SRAL``). The masks that
pick the tempo-aware negatives and drop duplicate windows live here too. Each choice the paper
leaves open is stated in the docstring of the function that makes it.

All functions are pure (tensors in, tensors out). Shapes: B clips, E embedding width, J jitter
negatives per clip.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def tempo_aware_negative_mask(
    tempo_bpm: torch.Tensor,
    song_id: torch.Tensor,
    tolerance: float,
    start_beat: torch.Tensor | None = None,
) -> torch.Tensor:
    """Which in-batch clips are *hard* (tempo-aware) negatives of each anchor.

    hard[i, j] = (i != j) and (|log t_i - log t_j| <= log(1 + tolerance) or song_i = song_j)
                 and not (song_i = song_j and start_i = start_j)

    i.e. clips of (nearly) the same tempo, and clips of the same song at another position
    (another bar phase or bar), the paper's "same BPM, different phase" negatives. The log
    ratio makes the relation symmetric. Identical windows (same song and start) are no
    negatives at all: drop them with :func:`duplicate_mask` as ``ignore_mask``.

    Args:
        tempo_bpm: (B,) tempo of each clip in beats per minute.
        song_id: (B,) integer id of each clip's song.
        tolerance: relative tempo tolerance (config ``tempo_tolerance``, 0.04).
        start_beat: (B,) optional start of each clip in beats from the song start.
    Returns:
        (B, B) bool.
    """
    log_tempo = torch.log(tempo_bpm.double())  # (B,)
    close = (log_tempo[:, None] - log_tempo[None, :]).abs() <= math.log1p(tolerance)  # (B, B)
    same_song = song_id[:, None] == song_id[None, :]  # (B, B)
    eye = torch.eye(len(song_id), dtype=torch.bool, device=song_id.device)
    hard = (close | same_song) & ~eye
    if start_beat is not None:
        hard &= ~duplicate_mask(song_id, start_beat)
    return hard


def duplicate_mask(song_id: torch.Tensor, start_beat: torch.Tensor) -> torch.Tensor:
    """(B, B) bool: off-diagonal pairs that are the same window of the same song.

    Such a pair is a false negative; pass this as ``ignore_mask`` so it leaves the denominator.
    """
    same = (song_id[:, None] == song_id[None, :]) & (start_beat[:, None] == start_beat[None, :])
    return same & ~torch.eye(len(song_id), dtype=torch.bool, device=song_id.device)


def info_nce_from_logits(
    logits: torch.Tensor, positive: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean over rows of -log softmax(logits)[row, positive[row]] (positive defaults to row).

    Columns set to -inf are absent from the softmax (used for masks).
    """
    if positive is None:
        positive = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, positive)


def _one_direction(
    similarity: torch.Tensor,
    hard_mask: torch.Tensor | None,
    jitter_similarity: torch.Tensor | None,
    jitter_mask: torch.Tensor | None,
    ignore_mask: torch.Tensor | None,
    log_weight: float,
) -> torch.Tensor:
    """InfoNCE of anchors (rows) against candidates, with hard and jitter columns appended.

    similarity: (B, B) anchor-candidate logits already divided by tau; positive on the
    diagonal. hard_mask / ignore_mask: (B, B) bool. jitter_similarity: (B, J) logits.
    """
    neg_inf = torch.finfo(similarity.dtype).min
    base = similarity
    if ignore_mask is not None:
        base = base.masked_fill(ignore_mask, neg_inf)  # (B, B)
    columns = [base]
    if hard_mask is not None:
        columns.append((similarity + log_weight).masked_fill(~hard_mask, neg_inf))  # (B, B)
    if jitter_similarity is not None:
        jitter = jitter_similarity + log_weight  # (B, J)
        if jitter_mask is not None:
            jitter = jitter.masked_fill(~jitter_mask, neg_inf)
        columns.append(jitter)
    return info_nce_from_logits(torch.cat(columns, dim=1))  # (B, B [+ B] [+ J])


def embodied_contrastive_loss(
    audio_embedding: torch.Tensor,
    motion_embedding: torch.Tensor,
    temperature: torch.Tensor | float,
    hard_mask: torch.Tensor | None = None,
    motion_jitter: torch.Tensor | None = None,
    jitter_mask: torch.Tensor | None = None,
    audio_jitter: torch.Tensor | None = None,
    ignore_mask: torch.Tensor | None = None,
    hard_negative_weight: float = 1.0,
) -> torch.Tensor:
    """Embodied Contrastive Loss (ECL): symmetric InfoNCE with appended hard negatives.

    With unit vectors a_i, m_i and s_ij = a_i . m_j / tau, the audio-to-motion term of anchor i
    is the cross-entropy of the positive s_ii against the row

        [ s_i1 .. s_iB ]  ++  [ s_ij + log w  for j in H(i) ]  ++  [ a_i . m~_ik / tau + log w ]

    where H(i) are the tempo-aware negatives (``hard_mask`` row i, from
    :func:`tempo_aware_negative_mask`) and m~_ik (k < J) the embeddings of clip i's own motion
    shifted by +-1 beat (beat-jitter negatives). Appending a negative already in the batch
    counts it w + 1 times in the denominator: an explicit up-weighting of the confusable ones
    (w = ``hard_negative_weight``, 1 by default). The motion-to-audio term is the same with
    roles swapped (hard_mask transposed; ``audio_jitter`` optional). ECL = mean of the two.

    Temperature: the paper gives none. We learn tau as CLIP does (Radford et al. 2021:
    initialised at 0.07, tau >= 0.01, see ``MotionBeat.temperature``); hard negatives change
    the best temperature, and learning it removes a knob the small AIST++ batches make costly
    to tune. A float gives a fixed tau.

    Args:
        audio_embedding, motion_embedding: (B, E) L2-normalised, row i paired with row i.
        temperature: tau, 0-d tensor or float.
        hard_mask: (B, B) bool tempo-aware negatives, or None.
        motion_jitter: (B, J, E) L2-normalised embeddings of the jittered motions, or None.
        jitter_mask: (B, J) bool, False where a jittered window does not exist.
        audio_jitter: (B, J, E) jittered audio for the motion-to-audio side, or None.
        ignore_mask: (B, B) bool false negatives removed from both directions.
        hard_negative_weight: w > 0.
    Returns:
        0-d loss.
    """
    similarity = audio_embedding @ motion_embedding.T / temperature  # (B, B) a_i . m_j / tau
    log_weight = math.log(hard_negative_weight)
    a2m_jitter = m2a_jitter = None
    if motion_jitter is not None:
        a2m_jitter = torch.einsum("be,bje->bj", audio_embedding, motion_jitter) / temperature
    if audio_jitter is not None:
        m2a_jitter = torch.einsum("be,bje->bj", motion_embedding, audio_jitter) / temperature
    a2m = _one_direction(similarity, hard_mask, a2m_jitter, jitter_mask, ignore_mask, log_weight)
    m2a = _one_direction(
        similarity.T,
        None if hard_mask is None else hard_mask.T,
        m2a_jitter,
        jitter_mask,
        None if ignore_mask is None else ignore_mask.T,
        log_weight,
    )
    return 0.5 * (a2m + m2a)
