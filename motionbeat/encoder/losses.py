"""MotionBeat's training objective: Embodied Contrastive Loss + 0.2 x Structural Rhythm Alignment.

Source: MotionBeat, arXiv 2510.13244 ("L = L_ECL + 0.2 L_SRAL"). The paper names the pieces
(InfoNCE with tempo-aware and beat-jitter negatives; Soft-DTW between music accents and motion
contacts; EMD between bar-level distributions of accent mass and kinetic energy) but not every
detail; each choice we made is stated in the docstring of the function that makes it.

All functions are pure (tensors in, tensors out). Shapes: B clips, N tokens, E embedding
width, J jitter negatives per clip, K bar-phase bins. ``valid_mask`` (B, N) bool is True on
real tokens; the sequence losses need the valid tokens first (right padding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from motionbeat.encoder.config import MotionBeatConfig
from motionbeat.encoder.model import MotionBeatOutput
from motionbeat.encoder.softdtw import soft_dtw, soft_dtw_divergence

CURVE_EPS: float = 1e-6
"""Guards the division when a curve or histogram has (almost) no mass."""

# ============================================================== Embodied Contrastive Loss


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


# ====================================================== Structural Rhythm Alignment Loss


def _lengths_right_padded(valid_mask: torch.Tensor) -> torch.Tensor:
    """(B, N) mask -> (B,) counts; raises unless the valid tokens come first in every row."""
    lengths = valid_mask.sum(dim=1)  # (B,)
    positions = torch.arange(valid_mask.shape[1], device=valid_mask.device)
    if not torch.equal(valid_mask, positions[None, :] < lengths[:, None]):
        raise ValueError("sequence losses need right padding: valid tokens first in each clip")
    if bool((lengths < 1).any()):
        raise ValueError("every clip needs at least one valid token")
    return lengths


def unit_mean(curve: torch.Tensor, valid_mask: torch.Tensor) -> torch.Tensor:
    """Scale each clip's non-negative curve (B, N) to mean 1 over its valid tokens; 0 on pads.

    Our choice for SRAL: the onset head, the contact head and the data-derived targets have
    unrelated units (dB flux, contact fraction, J), and rhythm alignment is about *when* the
    mass sits, not how much there is. Unit mean (not unit sum) keeps values O(1) whatever the
    clip length, so one Soft-DTW gamma suits all clips; unlike z-scoring it stays defined for a
    flat curve (which becomes all ones).
    """
    mask = valid_mask.to(curve.dtype)  # (B, N)
    mean = (curve * mask).sum(dim=1, keepdim=True) / mask.sum(dim=1, keepdim=True)  # (B, 1)
    return curve * mask / (mean + CURVE_EPS)


def beat_alignment_loss(
    onset: torch.Tensor,
    contact_pulse: torch.Tensor,
    valid_mask: torch.Tensor,
    gamma: float,
    divergence: bool = True,
) -> torch.Tensor:
    """Beat-level SRAL term: Soft-DTW between music onsets and motion contact pulses.

    L_beat = mean_b SDTW_gamma(u(onset_b), u(pulse_b)) / n_b, with u = :func:`unit_mean`,
    squared-Euclidean cost, n_b the clip's valid token count. Dividing by the length is our
    choice: an alignment path has between n_b and 2 n_b - 1 cells of O(1) cost, so the term
    no longer grows with the clip. ``divergence`` uses the Soft-DTW divergence (>= 0, zero iff
    the curves match; Blondel et al. 2021) instead of raw Soft-DTW.

    Args:
        onset, contact_pulse: (B, N) non-negative curves; valid_mask: (B, N), right padded.
    Returns:
        0-d loss.
    """
    lengths = _lengths_right_padded(valid_mask)  # (B,)
    x = unit_mean(onset, valid_mask)  # (B, N)
    y = unit_mean(contact_pulse, valid_mask)  # (B, N)
    fn = soft_dtw_divergence if divergence else soft_dtw
    values = fn(x, y, gamma, lengths, lengths)  # (B,)
    return (values / lengths.to(values.dtype)).mean()


def bar_phase_histogram(
    weights: torch.Tensor, bar_phase: torch.Tensor, valid_mask: torch.Tensor, n_bins: int
) -> torch.Tensor:
    """Distribution of a non-negative per-token mass over bar-phase bins.

    h_b[k] = sum_n w_bn [bin(phi_bn) = k] / sum_n w_bn, with bin(phi) = round(phi K) mod K:
    bins are centred on the sub-beat grid k / K, so grid-aligned phases never straddle a bin
    edge through rounding error. Differentiable in the weights (phases are data).

    Args:
        weights: (B, N) >= 0; bar_phase: (B, N) in [0, 1); valid_mask: (B, N); n_bins: K.
    Returns:
        (B, K), rows summing to 1 (0 where a clip has no mass).
    """
    bins = torch.remainder(torch.round(bar_phase * n_bins).long(), n_bins)  # (B, N)
    mass = weights * valid_mask.to(weights.dtype)  # (B, N)
    hist = mass.new_zeros(mass.shape[0], n_bins).scatter_add(1, bins, mass)  # (B, K)
    return hist / (hist.sum(dim=1, keepdim=True) + CURVE_EPS)


def emd_1d(p: torch.Tensor, q: torch.Tensor, circular: bool = True) -> torch.Tensor:
    """Earth Mover's Distance between histograms on K equal bins spanning one bar.

    Line (bins 0..K-1, ground distance |k - l| / K):
        EMD = (1 / K) sum_k |F_p(k) - F_q(k)|,  F = cumulative sum (Vallender 1974).
    Circle (the bar wraps: phase 0.95 is next to 0.05):
        EMD = (1 / K) min_c sum_k |F_p(k) - F_q(k) - c|, minimised by c = a median of
        F_p - F_q (Werman, Peleg & Rosenfeld 1985; Rabin, Delon & Gousseau 2011).
    Distances are in bars: moving all mass by one bin of a 16-bin bar costs 1/16.

    Args:
        p, q: (B, K) histograms with equal total mass.
    Returns:
        (B,) distances.
    """
    diff = torch.cumsum(p - q, dim=-1)  # (B, K)
    if circular:
        diff = diff - diff.median(dim=-1, keepdim=True).values  # (B, K)
    return diff.abs().sum(dim=-1) / p.shape[-1]


def bar_distribution_loss(
    accent: torch.Tensor,
    kinetic_energy: torch.Tensor,
    bar_phase: torch.Tensor,
    valid_mask: torch.Tensor,
    n_bins: int,
    circular: bool = True,
) -> torch.Tensor:
    """Bar-level SRAL term: mean_b EMD(hist(accent_b), hist(kinetic_b)) over bar phase.

    The accent mass is the audio onset envelope (our reading of the paper's "accent mass");
    the motion side is the kinetic-energy curve. Both are binned by the tokens' bar phase
    (:func:`bar_phase_histogram`) and compared by :func:`emd_1d`.
    """
    p = bar_phase_histogram(accent, bar_phase, valid_mask, n_bins)  # (B, K)
    q = bar_phase_histogram(kinetic_energy, bar_phase, valid_mask, n_bins)  # (B, K)
    return emd_1d(p, q, circular).mean()


@dataclass
class SRALTerms:
    """total = lambda_beat * beat + lambda_bar * bar (all 0-d tensors)."""

    total: torch.Tensor
    beat: torch.Tensor
    bar: torch.Tensor


def structural_rhythm_alignment_loss(
    onset: torch.Tensor,
    contact_pulse: torch.Tensor,
    kinetic_energy: torch.Tensor,
    bar_phase: torch.Tensor,
    valid_mask: torch.Tensor,
    *,
    lambda_beat: float,
    lambda_bar: float,
    gamma: float,
    n_bins: int,
    circular: bool = True,
    divergence: bool = True,
) -> SRALTerms:
    """SRAL = lambda_beat * SoftDTW(onset, contact pulse) + lambda_bar * EMD(accent, kinetic).

    See :func:`beat_alignment_loss` and :func:`bar_distribution_loss`. Inputs (B, N); the
    onset envelope is both the beat-level accent curve and the bar-level accent mass.
    """
    beat = beat_alignment_loss(onset, contact_pulse, valid_mask, gamma, divergence)
    bar = bar_distribution_loss(onset, kinetic_energy, bar_phase, valid_mask, n_bins, circular)
    return SRALTerms(lambda_beat * beat + lambda_bar * bar, beat, bar)


# ===================================================== rhythm targets (our grounding term)


def spectral_flux(logmel: torch.Tensor) -> torch.Tensor:
    """Onset strength by half-wave rectified spectral flux (Dixon, DAFx 2006).

    flux[t] = mean_f max(0, X[t, f] - X[t-1, f]), flux[0] = 0.

    Args:
        logmel: (..., T, n_mels) log-mel frames (or tokens).
    Returns:
        (..., T) >= 0.
    """
    rise = (logmel[..., 1:, :] - logmel[..., :-1, :]).clamp(min=0).mean(dim=-1)  # (..., T-1)
    return F.pad(rise, (1, 0))  # (..., T)


@dataclass
class RhythmTargets:
    """Data-derived token curves, each (B, N) >= 0, pooled onto the clip's token grid.

    onset: :func:`spectral_flux` of the log-mel frames; contact_pulse:
    :func:`~motionbeat.core.motion_signals.contact_pulse_from_frames`; kinetic_energy:
    :func:`~motionbeat.core.motion_signals.kinetic_energy_from_frames`.
    """

    onset: torch.Tensor
    contact_pulse: torch.Tensor
    kinetic_energy: torch.Tensor


def rhythm_supervision_loss(
    output: MotionBeatOutput, targets: RhythmTargets, valid_mask: torch.Tensor
) -> torch.Tensor:
    """Mean squared error between each rhythm head and its data curve, both unit-mean.

    Our addition (the paper does not say how its heads are trained): it anchors the heads to
    real onsets, foot strikes and kinetic energy, removing SRAL's trivial minimum in which both
    heads emit the same input-independent curve.

    L = mean over the 3 heads of sum_{b,n valid} (u(pred) - u(target))^2 / #valid.
    """
    mask = valid_mask.to(output.audio.onset.dtype)  # (B, N)
    pairs = (
        (output.audio.onset, targets.onset),
        (output.motion.contact_pulse, targets.contact_pulse),
        (output.motion.kinetic_energy, targets.kinetic_energy),
    )
    total = 0.0
    for pred, target in pairs:
        error = unit_mean(pred, valid_mask) - unit_mean(target.to(pred.dtype), valid_mask)
        total = total + (error.pow(2) * mask).sum() / mask.sum()
    return total / len(pairs)


# ================================================================================ total


@dataclass
class LossTerms:
    """Every term of one step (0-d tensors); ``total`` is what to back-propagate."""

    total: torch.Tensor
    ecl: torch.Tensor
    sral: torch.Tensor
    sral_beat: torch.Tensor
    sral_bar: torch.Tensor
    rhythm: torch.Tensor

    def as_floats(self) -> dict[str, float]:
        return {name: float(getattr(self, name).detach()) for name in self.__dataclass_fields__}


def motionbeat_loss(
    cfg: MotionBeatConfig,
    output: MotionBeatOutput,
    bar_phase: torch.Tensor,
    valid_mask: torch.Tensor,
    *,
    hard_mask: torch.Tensor | None = None,
    motion_jitter: torch.Tensor | None = None,
    jitter_mask: torch.Tensor | None = None,
    ignore_mask: torch.Tensor | None = None,
    targets: RhythmTargets | None = None,
) -> LossTerms:
    """L = L_ECL + sral_weight * L_SRAL + rhythm_supervision_weight * L_rhythm.

    With the defaults this is the paper's L_ECL + 0.2 L_SRAL plus our 0.1-weighted grounding
    of the rhythm heads (``rhythm_supervision_weight = 0`` gives the paper's total exactly).
    The ablation switches of ``cfg`` decide which pieces count: without hard negatives
    ``hard_mask`` and ``motion_jitter`` are ignored; ``baseline_logmel`` leaves plain InfoNCE.

    Args:
        cfg: the model's config.
        output: ``MotionBeat.forward`` of the paired clips.
        bar_phase, valid_mask: (B, N) token grid of the batch (right padded).
        hard_mask: (B, B) from :func:`tempo_aware_negative_mask`.
        motion_jitter: (B, J, E) ``encode_motion`` embeddings of the +-jitter_beats motions.
        jitter_mask: (B, J) bool, False where a jittered window does not exist.
        ignore_mask: (B, B) from :func:`duplicate_mask`.
        targets: :class:`RhythmTargets`; required when rhythm supervision is enabled.
    """
    use_hard = cfg.hard_negatives_enabled
    ecl = embodied_contrastive_loss(
        output.audio.embedding,
        output.motion.embedding,
        output.temperature,
        hard_mask=hard_mask if use_hard else None,
        motion_jitter=motion_jitter if use_hard else None,
        jitter_mask=jitter_mask if use_hard else None,
        ignore_mask=ignore_mask,
        hard_negative_weight=cfg.hard_negative_weight,
    )
    zero = ecl.new_zeros(())
    sral = SRALTerms(zero, zero, zero)
    if cfg.sral_enabled:
        sral = structural_rhythm_alignment_loss(
            output.audio.onset,
            output.motion.contact_pulse,
            output.motion.kinetic_energy,
            bar_phase,
            valid_mask,
            lambda_beat=cfg.lambda_beat,
            lambda_bar=cfg.lambda_bar,
            gamma=cfg.softdtw_gamma,
            n_bins=cfg.bar_bins,
            circular=cfg.emd_circular,
            divergence=cfg.softdtw_divergence,
        )
    rhythm = zero
    if cfg.rhythm_supervision_enabled:
        if targets is None:
            raise ValueError(
                "rhythm supervision is enabled: pass targets=RhythmTargets(...) "
                "or set rhythm_supervision_weight=0"
            )
        rhythm = rhythm_supervision_loss(output, targets, valid_mask)
    total = ecl + cfg.sral_weight * sral.total + cfg.rhythm_supervision_weight * rhythm
    return LossTerms(total, ecl, sral.total, sral.beat, sral.bar, rhythm)
