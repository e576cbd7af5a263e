"""Layers of the MotionBeat encoder towers: phase rotation, contact-guided attention, pooling.

Two architectural ideas are the paper's (MotionBeat, arXiv 2510.13244):

* **Bar-equivariant phase rotation.** Query/key channel pairs are rotated by angles
  m * 2 pi * phi_bar (harmonics m = 1..M, RoPE-style, Su et al. 2021). For a pair rotated by
  theta_q on the query token and theta_k on the key token, (R(theta_q) q) . (R(theta_k) k) =
  q^T R(theta_k - theta_q) k, so the logit depends on the *difference* of bar phases only:
  shifting every token's bar phase by one constant leaves attention unchanged. Because the
  values are not rotated, the encoder output is therefore invariant to where the clip starts
  in the bar (the paper: "robust to different starting points") while still seeing the
  cyclic bar structure through phase differences.
* **Contact-guided attention** (motion encoder). Logits gain alpha_h * log(p_k + eps), where
  p_k is the contact probability of the key token (mean of its 4 contact channels, clamped to
  [0, 1]) and alpha_h = softplus(a_h) > 0 is learned per layer and head: tokens in which the
  feet strike the floor receive more attention.

Our choices where the paper is silent (each also in the docstring where it lives):

* Besides the bar harmonics, ``beat_harmonics`` pairs rotate by the beat phase, and the
  remaining pairs carry a standard RoPE over the token index, so attention knows token order
  (relative time in sub-beats) as well as rhythm position; no absolute position embedding is
  added, which keeps the bar-shift invariance exact.
* Inputs are standardised by fixed buffers (``input_mean`` / ``input_std``), set once from
  corpus statistics by the training script and saved with the weights; per-token LayerNorm on
  the input is avoided on purpose because it would erase loudness, the very onset cue.
* Rhythm heads are linear + softplus, since onset strength, foot-strike pulse and kinetic
  energy are non-negative and the losses treat them as mass.
* The clip vector is pooled along a timeline (:class:`TokenPooling`, ``pooling="timeline"``):
  attention pooling inside each beat of the clip, the beat vectors concatenated in order.
  A music clip and its dance start on the same beat, so where in the clip an event falls is
  shared evidence. With one attention pool over the whole clip the encoders memorised the
  training songs and stayed near chance on new ones (R@10 3.8 % at tiny size, 5.6 % at
  compact); the timeline took the tiny model to 19.3 % (``docs/motionbeat.md``).

Shapes: B batch, N tokens, H heads, Dh head width, P = Dh / 2 channel pairs, D = d_model.
``valid_mask`` is (B, N) bool, True on real tokens; padding sits anywhere.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from motionbeat.encoder.config import MotionBeatConfig

TWO_PI: float = 2.0 * math.pi
MASKED_LOGIT: float = float("-inf")
"""Additive logit of a padded key; every clip must keep at least one real token."""

PAIR_TIME, PAIR_BAR, PAIR_BEAT = 0, 1, 2
"""Kinds of rotary channel pair: token-index RoPE, bar-phase harmonic, beat-phase harmonic."""


def _inverse_softplus(y: float) -> float:
    """x with softplus(x) = y, for y > 0."""
    return y + math.log(-math.expm1(-y))


# --------------------------------------------------------------------------- rotary table


class RotaryTable(nn.Module):
    """Per-pair rotation angles for queries and keys: time RoPE, bar and beat harmonics.

    Each head's Dh channels form P = Dh / 2 pairs (2p, 2p + 1). The first ``cfg.phase_pairs``
    pairs rotate by phase harmonics, cycling through the list
    [bar m = 1..M, beat m = 1..M_beat]; the others rotate by token index n with RoPE
    frequencies base^(-k / P_time), k = 0..P_time-1. Angle of pair p at token n::

        time pair:  theta = n * base^(-k / P_time)
        bar pair:   theta = 2 pi * frac(m * phi_bar[n])
        beat pair:  theta = 2 pi * frac(m * phi_beat[n])

    (frac() keeps the float32 angle small; it changes theta by a multiple of 2 pi only.)
    With ``enabled_phase=False`` the phase pairs stay unrotated, carrying phase-free content.
    """

    def __init__(self, cfg: MotionBeatConfig, enabled_phase: bool):
        super().__init__()
        n_pairs = cfg.head_dim // 2
        n_phase = cfg.phase_pairs
        n_time = n_pairs - n_phase
        schedule = [(PAIR_BAR, m) for m in range(1, cfg.phase_harmonics + 1)]
        schedule += [(PAIR_BEAT, m) for m in range(1, cfg.beat_harmonics + 1)]
        bar = torch.zeros(n_pairs)
        beat = torch.zeros(n_pairs)
        if enabled_phase:
            for p in range(n_phase):
                kind, harmonic = schedule[p % len(schedule)]
                (bar if kind == PAIR_BAR else beat)[p] = float(harmonic)
        time = torch.zeros(n_pairs)
        if n_time:
            k = torch.arange(n_time, dtype=torch.float64)
            time[n_phase:] = (cfg.rope_base ** (-k / n_time)).float()
        # persistent=False: derived from the config, rebuilt identically on load
        self.register_buffer("bar_harmonics", bar, persistent=False)  # (P,)
        self.register_buffer("beat_harmonics", beat, persistent=False)  # (P,)
        self.register_buffer("time_frequencies", time, persistent=False)  # (P,)

    def forward(
        self, beat_phase: torch.Tensor, bar_phase: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N) phases in [0, 1) -> cos, sin of the angles, each (B, 1, N, P)."""
        n = beat_phase.shape[1]
        position = torch.arange(n, device=beat_phase.device, dtype=torch.float32)  # (N,)
        time = position[:, None] * self.time_frequencies  # (N, P)
        bar = torch.frac(bar_phase.float()[..., None] * self.bar_harmonics)  # (B, N, P)
        beat = torch.frac(beat_phase.float()[..., None] * self.beat_harmonics)  # (B, N, P)
        angle = time + TWO_PI * (bar + beat)  # (B, N, P); each pair has one non-zero kind
        return angle.cos().unsqueeze(1), angle.sin().unsqueeze(1)  # (B, 1, N, P) each


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate channel pairs (2p, 2p+1) of x (B, H, N, Dh) by angles with cos/sin (B, 1, N, P)."""
    pairs = rearrange(x, "b h n (p two) -> b h n p two", two=2)  # (B, H, N, P, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]  # (B, H, N, P) each
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    rotated = torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)  # (B, H, N, P, 2)
    return rearrange(rotated, "b h n p two -> b h n (p two)")  # (B, H, N, Dh)


# ------------------------------------------------------------------------------ attention


class RhythmAttention(nn.Module):
    """Multi-head self-attention with rotated q/k and additive key biases.

    logits[b, h, i, j] = (R_i q_i) . (R_j k_j) / sqrt(Dh)
                         + alpha_h * log(p_j + eps)     (contact-guided, motion encoder only)
                         + (-inf where key j is padding)
    """

    def __init__(self, cfg: MotionBeatConfig, contact_attention: bool):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.dropout = cfg.dropout
        self.contact_eps = cfg.contact_eps
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.contact_alpha_raw: nn.Parameter | None = None
        if contact_attention:
            raw = _inverse_softplus(cfg.contact_alpha_init)
            self.contact_alpha_raw = nn.Parameter(torch.full((cfg.n_heads,), raw))  # (H,)

    @property
    def contact_alpha(self) -> torch.Tensor | None:
        """(H,) alpha = softplus(a) > 0, or None without contact guidance."""
        if self.contact_alpha_raw is None:
            return None
        return F.softplus(self.contact_alpha_raw)

    def key_bias(self, valid_mask: torch.Tensor, contact_prob: torch.Tensor | None) -> torch.Tensor:
        """Additive bias over keys, (B, H, 1, N) with contacts or (B, 1, 1, N) without."""
        pad = torch.zeros(valid_mask.shape, dtype=torch.float32, device=valid_mask.device)
        pad = pad.masked_fill(~valid_mask, MASKED_LOGIT)[:, None, None, :]  # (B, 1, 1, N)
        alpha = self.contact_alpha
        if alpha is None or contact_prob is None:
            return pad
        log_p = torch.log(contact_prob.float() + self.contact_eps)  # (B, N)
        contact = alpha[None, :, None, None] * log_p[:, None, None, :]  # (B, H, 1, N)
        return contact + pad  # (B, H, 1, N)

    def _project(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        qkv = self.qkv(x)  # (B, N, 3D)
        q, k, v = rearrange(qkv, "b n (three h d) -> three b h n d", three=3, h=self.n_heads)
        # q, k, v: (B, H, N, Dh)
        return apply_rotary(q, cos, sin), apply_rotary(k, cos, sin), v

    def logits(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        valid_mask: torch.Tensor,
        contact_prob: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Pre-softmax attention logits (B, H, N, N), exactly those :meth:`forward` uses."""
        q, k, _ = self._project(x, cos, sin)  # (B, H, N, Dh)
        scores = torch.einsum("bhid,bhjd->bhij", q, k) / math.sqrt(q.shape[-1])  # (B, H, N, N)
        return scores + self.key_bias(valid_mask, contact_prob).to(scores.dtype)

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        valid_mask: torch.Tensor,
        contact_prob: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, N, D) -> (B, N, D)."""
        q, k, v = self._project(x, cos, sin)  # (B, H, N, Dh)
        bias = self.key_bias(valid_mask, contact_prob).to(q.dtype)  # (B, H|1, 1, N)
        attended = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias, dropout_p=self.dropout if self.training else 0.0
        )  # (B, H, N, Dh)
        return self.out(rearrange(attended, "b h n d -> b n (h d)"))  # (B, N, D)


class EncoderBlock(nn.Module):
    """Pre-norm Transformer block: x + Attn(LN(x)), then + FF(LN(x)) with GELU."""

    def __init__(self, cfg: MotionBeatConfig, contact_attention: bool):
        super().__init__()
        self.attn_norm = nn.LayerNorm(cfg.d_model)
        self.attn = RhythmAttention(cfg, contact_attention)
        self.ff_norm = nn.LayerNorm(cfg.d_model)
        self.ff = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.ff_mult * cfg.d_model),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.ff_mult * cfg.d_model, cfg.d_model),
        )
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, cos, sin, valid_mask, contact_prob=None) -> torch.Tensor:
        """(B, N, D) -> (B, N, D)."""
        x = x + self.drop(self.attn(self.attn_norm(x), cos, sin, valid_mask, contact_prob))
        return x + self.drop(self.ff(self.ff_norm(x)))


class RhythmEncoder(nn.Module):
    """Token encoder: standardise -> linear embed -> n_layers pre-norm blocks -> LayerNorm."""

    def __init__(self, in_dim: int, cfg: MotionBeatConfig, contact_attention: bool):
        super().__init__()
        self.in_dim = in_dim
        self.contact_attention = contact_attention
        self.register_buffer("input_mean", torch.zeros(in_dim))  # (in_dim,)
        self.register_buffer("input_std", torch.ones(in_dim))  # (in_dim,)
        self.embed = nn.Linear(in_dim, cfg.d_model)
        self.rotary = RotaryTable(cfg, enabled_phase=cfg.phase_rotation_enabled)
        self.blocks = nn.ModuleList(
            EncoderBlock(cfg, contact_attention) for _ in range(cfg.n_layers)
        )
        self.norm = nn.LayerNorm(cfg.d_model)

    def embed_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, N, in_dim) raw tokens -> (B, N, D) input of the first block."""
        return self.embed((tokens - self.input_mean) / self.input_std)

    def forward(
        self,
        tokens: torch.Tensor,
        beat_phase: torch.Tensor,
        bar_phase: torch.Tensor,
        valid_mask: torch.Tensor,
        contact_prob: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, N, in_dim) tokens -> (B, N, D) features, zero on padded tokens."""
        cos, sin = self.rotary(beat_phase, bar_phase)  # (B, 1, N, P) each
        contact_prob = contact_prob if self.contact_attention else None
        x = self.embed_tokens(tokens)  # (B, N, D)
        for block in self.blocks:
            x = block(x, cos, sin, valid_mask, contact_prob)
        return self.norm(x) * valid_mask[..., None].to(x.dtype)  # (B, N, D)


class TokenPooling(nn.Module):
    """Clip vector from token features: attention, masked mean, or timeline pooling.

    Attention pooling: w = softmax_n(s(h_n)) over valid tokens with a linear score s, then
    sum_n w_n h_n. The score is a plain linear map of the (bar-shift invariant) features, so
    the pooled vector keeps the invariance.

    Timeline pooling: the n valid tokens are cut into G = ``pool_segments`` spans (token i in
    span floor(i G / n)); attention pooling inside each span gives v_1 .. v_G, and the clip
    vector is W [v_1; ..; v_G] (a linear map of their concatenation in time order). Why: a
    clip of music and its dance start on the same beat, so *where* in the clip something
    happens is shared evidence (the melody rises in beat 3 and the arms rise in beat 3).
    Attention and mean pooling are blind to it: two clips whose events are the same but in
    another order pool to almost the same vector, and a dance shifted by one beat (the
    beat-jitter negative) to almost its positive. The spans are counted in tokens, never in
    phase, so a constant shift of every token's bar phase still leaves the vector unchanged.
    """

    def __init__(self, cfg: MotionBeatConfig):
        super().__init__()
        self.score = nn.Linear(cfg.d_model, 1) if cfg.pooling != "mean" else None
        self.segments = cfg.pool_segments if cfg.pooling == "timeline" else 1
        self.mix = (nn.Linear(self.segments * cfg.d_model, cfg.d_model)
                    if cfg.pooling == "timeline" else None)

    def forward(self, features: torch.Tensor, valid_mask: torch.Tensor) -> torch.Tensor:
        """(B, N, D), (B, N) -> (B, D)."""
        if self.score is None:
            weights = valid_mask.to(features.dtype)  # (B, N)
            weights = weights / weights.sum(dim=1, keepdim=True)
            return torch.einsum("bn,bnd->bd", weights, features)  # (B, D)
        scores = self.score(features).squeeze(-1)  # (B, N)
        g = self.segments  # attention pooling is the one-span case
        count = valid_mask.sum(dim=1, keepdim=True).clamp(min=1)  # (B, 1)
        index = torch.arange(features.shape[1], device=features.device)  # (N,)
        span = torch.div(index[None, :] * g, count, rounding_mode="floor").clamp(max=g - 1)
        member = F.one_hot(span, g).bool() & valid_mask[..., None]  # (B, N, G)
        occupied = member.any(dim=1, keepdim=True)  # (B, 1, G): spans of clips under G tokens
        logits = scores[..., None].masked_fill(~member, MASKED_LOGIT)  # (B, N, G)
        logits = logits.masked_fill(~occupied, 0.0)  # an empty span: no -inf column, no NaN
        weights = logits.softmax(dim=1) * occupied  # (B, N, G), empty spans pool to zero
        spans = torch.einsum("bng,bnd->bgd", weights, features)  # (B, G, D)
        if self.mix is None:
            return spans[:, 0]  # (B, D)
        return self.mix(spans.flatten(1))  # (B, G * D) -> (B, D)


class RhythmHead(nn.Module):
    """Per-token non-negative rhythm curve: softplus(linear(h)), zero on padding."""

    def __init__(self, cfg: MotionBeatConfig):
        super().__init__()
        self.linear = nn.Linear(cfg.d_model, 1)

    def forward(self, features: torch.Tensor, valid_mask: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, N)."""
        curve = F.softplus(self.linear(features).squeeze(-1))  # (B, N)
        return curve * valid_mask.to(curve.dtype)
