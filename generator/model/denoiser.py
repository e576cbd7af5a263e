"""The denoiser: a transformer that predicts clean motion from noised motion and music.

Shape of the network (batch first; B batch, T frames, P = ``patch_frames``, N = T / P tokens,
D = ``frame_dim``, C = ``music_dim``, d = ``d_model``, H heads of width h = d / H):

* motion tokens: P consecutive noised frames are flattened and projected, (B, N, P*D) -> (B, N, d),
  plus a sinusoidal position code (Vaswani et al. 2017);
* music tokens: per-frame features (layer-normalised, so any encoder scale works) and the beat /
  bar phase as (sin 2 pi phi, cos 2 pi phi) are patched the same way and projected, then run
  through ``music_layers`` transformer encoder layers; rows whose condition is dropped are
  replaced by a learned null token (classifier-free guidance, Ho & Salimans 2022; EDGE keeps a
  learned null embedding the same way);
* conditioning vector c = MLP(sinusoid(t)) + MLP(masked mean of the music tokens), plus, when
  the config has a style input (``style_dim``), a linear map of the dance's standardised style
  and a presence flag, [(s - mu_s) / sigma_s, 1] (zeros when withheld), zero-initialised so a
  model given the input starts as the one without it (:mod:`generator.model.style`);
* ``num_layers`` decoder blocks, each self-attention -> cross-attention to the music tokens ->
  MLP, every sub-layer modulated by adaLN-Zero from c (Peebles & Xie, "Scalable Diffusion
  Models with Transformers", ICCV 2023: h + gate * f(LN(h) * (1 + scale) + shift)); EDGE uses
  FiLM from the timestep in the same places. The music tokens are also added to the motion
  tokens they are aligned with in time, which keeps beats local;
* a final adaLN and a linear layer back to (B, N, P*D) -> (B, T, D), zero-initialised so an
  untrained model predicts the data mean.

The music tokens and the cross-attention keys / values do not depend on the timestep or on the
noised motion, so :meth:`Denoiser.encode_condition` computes them once per sampling run and
:meth:`Denoiser.denoise` reuses them at every step.

The denoiser works in *normalised* frame space, (frame - mean) / std per channel; the statistics
are buffers (saved with the weights) set from the training data by :meth:`set_normalization`.
The music features are standardised the same way, (music - mu) / sigma per channel, with buffers
set by :meth:`set_music_normalization` (identity until then), before the per-frame LayerNorm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from generator.model.config import GeneratorConfig
from generator.model.style_input import StyleInputMixin, add_style_input
from motionbeat.core import contract, kinematics

MAX_PERIOD: float = 10000.0
"""Longest period of the sinusoidal position / timestep codes (Vaswani et al. 2017)."""
STD_FLOOR: float = 1e-3
"""Smallest per-channel std used for normalisation (constant channels stay finite)."""
NULL_INIT_STD: float = 0.02
"""Initial scale of the learned null condition (classifier-free guidance)."""
NUM_MODULATIONS: int = 9
"""adaLN outputs per block: (shift, scale, gate) for self-attn, cross-attn and the MLP."""


def rest_frame_mean() -> torch.Tensor:
    """(D,) frame of the rest pose at the origin: no contact, zero root, identity rotations."""
    frame = torch.zeros(contract.FRAME_DIM)
    identity = kinematics.matrix_to_rot6d(torch.eye(3))  # (6,)
    frame[contract.ROTATIONS] = identity.repeat(contract.NUM_JOINTS)  # (24 * 6,)
    return frame


def sinusoidal_embedding(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """(...,) positions p -> (..., dim) [sin(p w_i), cos(p w_i)], w_i = MAX_PERIOD^(-2i/dim)."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(MAX_PERIOD)
        * torch.arange(half, dtype=torch.float32, device=positions.device)
        / half
    )  # (dim/2,)
    angles = positions.float().unsqueeze(-1) * freqs  # (..., dim/2)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)  # (..., dim)


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """x (B, N, d), shift/scale (B, d) -> x * (1 + scale) + shift."""
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


def _attention_mask(key_mask: torch.Tensor | None) -> torch.Tensor | None:
    """(B, N_k) bool, True = attend -> (B, 1, 1, N_k) for scaled_dot_product_attention."""
    return None if key_mask is None else key_mask[:, None, None, :]


@dataclass
class Condition:
    """Music conditioning prepared once per batch of songs and reused at every denoising step.

    Attributes:
        tokens: (B, N, d) music tokens (null tokens where the condition is dropped).
        pooled: (B, d) conditioning vector from the music, added to the timestep embedding.
        key_mask: (B, N) bool, True where the token covers at least one real frame; None = all.
        cross_kv: per decoder block, the cross-attention keys and values, each (B, H, N, h).
    """

    tokens: torch.Tensor
    pooled: torch.Tensor
    key_mask: torch.Tensor | None
    cross_kv: list[tuple[torch.Tensor, torch.Tensor]]


class SelfAttention(nn.Module):
    def __init__(self, d_model: int, num_heads: int, dropout: float):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        qkv = self.qkv(x)  # (B, N, 3d)
        q, k, v = rearrange(qkv, "b n (three h e) -> three b h n e", three=3, h=self.num_heads)
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=_attention_mask(key_mask),
            dropout_p=self.dropout if self.training else 0.0,
        )  # (B, H, N, h)
        return self.out(rearrange(y, "b h n e -> b n (h e)"))  # (B, N, d)


class CrossAttention(nn.Module):
    def __init__(self, d_model: int, num_heads: int, dropout: float):
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def keys_values(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, M, d) music tokens -> keys and values, each (B, H, M, h)."""
        k, v = rearrange(self.kv(memory), "b m (two h e) -> two b h m e", two=2, h=self.num_heads)
        return k, v

    def forward(
        self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor], key_mask: torch.Tensor | None
    ) -> torch.Tensor:
        q = rearrange(self.q(x), "b n (h e) -> b h n e", h=self.num_heads)  # (B, H, N, h)
        y = F.scaled_dot_product_attention(
            q,
            kv[0],
            kv[1],
            attn_mask=_attention_mask(key_mask),
            dropout_p=self.dropout if self.training else 0.0,
        )  # (B, H, N, h)
        return self.out(rearrange(y, "b h n e -> b n (h e)"))  # (B, N, d)


def _mlp(d_model: int, ff_mult: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_model, ff_mult * d_model),
        nn.GELU(),  # exact erf form: ~5x faster than the tanh approximation on this CPU
        nn.Dropout(dropout),
        nn.Linear(ff_mult * d_model, d_model),
    )


class EncoderBlock(nn.Module):
    """Pre-LN transformer encoder layer over the music tokens."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.attn = SelfAttention(cfg.d_model, cfg.num_heads, cfg.dropout)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.mlp = _mlp(cfg.d_model, cfg.ff_mult, cfg.dropout)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), key_mask))  # (B, N, d)
        return x + self.drop(self.mlp(self.norm2(x)))


class DecoderBlock(nn.Module):
    """Self-attention, cross-attention to the music and an MLP, each under adaLN-Zero."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        d = cfg.d_model
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False)
        self.self_attn = SelfAttention(d, cfg.num_heads, cfg.dropout)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False)
        self.cross_attn = CrossAttention(d, cfg.num_heads, cfg.dropout)
        self.norm3 = nn.LayerNorm(d, elementwise_affine=False)
        self.mlp = _mlp(d, cfg.ff_mult, cfg.dropout)
        self.drop = nn.Dropout(cfg.dropout)
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, NUM_MODULATIONS * d))
        nn.init.zeros_(self.modulation[1].weight)
        nn.init.zeros_(self.modulation[1].bias)

    def forward(
        self,
        x: torch.Tensor,
        c: torch.Tensor,
        kv: tuple[torch.Tensor, torch.Tensor],
        self_mask: torch.Tensor | None,
        cross_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        mods = self.modulation(c).chunk(NUM_MODULATIONS, dim=-1)  # 9 x (B, d)
        sh1, sc1, g1, sh2, sc2, g2, sh3, sc3, g3 = mods
        h = self.self_attn(_modulate(self.norm1(x), sh1, sc1), self_mask)  # (B, N, d)
        x = x + g1.unsqueeze(1) * self.drop(h)
        h = self.cross_attn(_modulate(self.norm2(x), sh2, sc2), kv, cross_mask)  # (B, N, d)
        x = x + g2.unsqueeze(1) * self.drop(h)
        h = self.mlp(_modulate(self.norm3(x), sh3, sc3))  # (B, N, d)
        return x + g3.unsqueeze(1) * self.drop(h)


class Denoiser(StyleInputMixin, nn.Module):
    """x_t (normalised motion), t, music -> predicted clean motion x_0 (normalised).

    Call it as ``model(x_t, t, music, phase, frame_mask, cond_mask)`` while training, or
    ``cond = model.encode_condition(...)`` once and ``model.denoise(x_t, t, cond)`` per step.
    """

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config
        cfg, d, p = config, config.d_model, config.patch_frames
        # Until set_normalization is called the statistics are the identity map around the rest
        # pose (identity rotations), so even an untrained model decodes to valid rotations.
        self.register_buffer("feat_mean", rest_frame_mean())
        self.register_buffer("feat_std", torch.ones(cfg.frame_dim))
        self.register_buffer("music_mean", torch.zeros(cfg.music_dim))
        self.register_buffer("music_std", torch.ones(cfg.music_dim))
        # music path
        self.music_norm = nn.LayerNorm(cfg.music_dim)
        self.music_in = nn.Linear(p * (cfg.music_dim + 2 * cfg.phase_dim), d)
        self.music_encoder = nn.ModuleList(EncoderBlock(cfg) for _ in range(cfg.music_layers))
        self.music_out_norm = nn.LayerNorm(d)
        self.null_token = nn.Parameter(torch.randn(d) * NULL_INIT_STD)
        self.null_pooled = nn.Parameter(torch.randn(d) * NULL_INIT_STD)
        self.pool_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.music_to_motion = nn.Linear(d, d)
        self.style_in = add_style_input(self, cfg)  # None without one (generator.model.style_input)
        # timestep
        self.time_mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.SiLU(), nn.Linear(4 * d, d))
        # motion path
        self.motion_in = nn.Linear(p * cfg.frame_dim, d)
        self.blocks = nn.ModuleList(DecoderBlock(cfg) for _ in range(cfg.num_layers))
        self.final_norm = nn.LayerNorm(d, elementwise_affine=False)
        self.final_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))
        self.motion_out = nn.Linear(d, p * cfg.frame_dim)
        for layer in (self.final_modulation[1], self.motion_out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        self._position_cache: dict[tuple[int, str], torch.Tensor] = {}

    # ------------------------------------------------------------------ normalisation
    @torch.no_grad()
    def set_normalization(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Store per-channel statistics (FRAME_DIM,) of the training frames (physical units)."""
        self.feat_mean.copy_(torch.as_tensor(mean, dtype=self.feat_mean.dtype))
        self.feat_std.copy_(torch.as_tensor(std, dtype=self.feat_std.dtype).clamp_min(STD_FLOOR))

    @torch.no_grad()
    def set_music_normalization(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Store per-channel statistics (music_dim,) of the training music features."""
        self.music_mean.copy_(torch.as_tensor(mean, dtype=self.music_mean.dtype))
        self.music_std.copy_(
            torch.as_tensor(std, dtype=self.music_std.dtype).clamp_min(STD_FLOOR)
        )

    def normalize(self, frames: torch.Tensor) -> torch.Tensor:
        """(..., D) physical frames -> (..., D) model space: (x - mean) / std."""
        return (frames - self.feat_mean) / self.feat_std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """(..., D) model space -> (..., D) physical frames: x * std + mean."""
        return x * self.feat_std + self.feat_mean

    # ---------------------------------------------------------------------- helpers
    def _patch_count(self, num_frames: int) -> int:
        return -(-num_frames // self.config.patch_frames)

    def _pad_frames(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, F) -> (B, N*P, F), zero-padded at the end to a whole number of patches."""
        extra = self._patch_count(x.shape[1]) * self.config.patch_frames - x.shape[1]
        return F.pad(x, (0, 0, 0, extra)) if extra else x

    def token_mask(self, frame_mask: torch.Tensor | None, num_frames: int) -> torch.Tensor | None:
        """(B, T) bool frame validity -> (B, N) token validity (a token with any real frame).

        Also masks the padding added to reach whole patches; None when every frame is real.
        """
        p = self.config.patch_frames
        if frame_mask is None:
            if num_frames % p == 0:
                return None
            frame_mask = torch.ones(1, num_frames, dtype=torch.bool)
        padded = self._pad_frames(frame_mask.unsqueeze(-1).float()).squeeze(-1)  # (B, N*P)
        return rearrange(padded, "b (n p) -> b n p", p=p).amax(dim=-1) > 0  # (B, N)

    def _positions(self, num_tokens: int, device) -> torch.Tensor:
        """(N, d) position code of each token, in frames so patch sizes share one time axis."""
        key = (num_tokens, str(device))
        if key not in self._position_cache:
            # a plain tensor even when first asked for under inference_mode, so training can use it
            with torch.inference_mode(False), torch.no_grad():
                frames = torch.arange(num_tokens, device=device) * self.config.patch_frames
                self._position_cache[key] = sinusoidal_embedding(frames, self.config.d_model)
        return self._position_cache[key]

    # ------------------------------------------------------------------ conditioning
    def encode_condition(
        self,
        music: torch.Tensor,
        phase: torch.Tensor | None = None,
        frame_mask: torch.Tensor | None = None,
        cond_mask: torch.Tensor | None = None,
        style: torch.Tensor | None = None,
    ) -> Condition:
        """Music tokens, pooled vector and cross-attention keys/values.

        Args:
            music: (B, T, C) per-frame music features at the motion frame rate.
            phase: (B, T, phase_dim) beat and bar phase in [0, 1); zeros when None.
            frame_mask: (B, T) bool, True on real frames (False on padding); None = all real.
            cond_mask: (B,) bool, True keeps the music, False uses the learned null condition.
            style: (B, style_dim) physical styles (:func:`generator.model.style.dance_style`),
                a NaN row where a dance's is withheld; None = none given. Ignored by a model
                without a style input. Not dropped with the music: both guidance branches see it.
        """
        cfg = self.config
        batch, num_frames, _ = music.shape
        if music.shape[-1] != cfg.music_dim:
            raise ValueError(
                f"expected music features of width {cfg.music_dim}, got {music.shape[-1]}"
            )
        if phase is None:
            phase = music.new_zeros(batch, num_frames, cfg.phase_dim)
        angle = 2 * math.pi * phase  # (B, T, phase_dim)
        music = (music - self.music_mean) / self.music_std  # (B, T, C) standardised
        feats = torch.cat(
            [self.music_norm(music), angle.sin(), angle.cos()], dim=-1
        )  # (B, T, C+2*ph)
        if frame_mask is not None:
            feats = feats * frame_mask.unsqueeze(-1)
        feats = rearrange(self._pad_frames(feats), "b (n p) f -> b n (p f)", p=cfg.patch_frames)
        key_mask = self.token_mask(frame_mask, num_frames)  # (B, N) or None
        tokens = self.music_in(feats) + self._positions(feats.shape[1], feats.device)  # (B, N, d)
        for layer in self.music_encoder:
            tokens = layer(tokens, key_mask)
        tokens = self.music_out_norm(tokens)  # (B, N, d)
        if key_mask is None:
            pooled = tokens.mean(dim=1)  # (B, d)
        else:
            weights = key_mask.unsqueeze(-1).to(tokens.dtype)  # (B, N, 1)
            pooled = (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)  # (B, d)
        if cond_mask is not None:
            keep = cond_mask.to(torch.bool)
            null_tokens = self.null_token + self._positions(
                tokens.shape[1], tokens.device
            )  # (N, d)
            tokens = torch.where(keep[:, None, None], tokens, null_tokens)  # (B, N, d)
            pooled = torch.where(keep[:, None], pooled, self.null_pooled)  # (B, d)
        pooled = self.pool_mlp(pooled)  # (B, d)
        if self.style_in is not None:
            pooled = pooled + self.style_in(self._style_vector(style, batch, pooled.device))  # (B, d)
        cross_kv = [block.cross_attn.keys_values(tokens) for block in self.blocks]
        return Condition(tokens, pooled, key_mask, cross_kv)

    # ----------------------------------------------------------------------- denoise
    def denoise(
        self,
        x_t: torch.Tensor,
        timesteps: torch.Tensor | int,
        cond: Condition,
        frame_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, T, D) noised normalised motion at diffusion step t -> (B, T, D) predicted x_0.

        ``timesteps`` is an int or a (B,) tensor; ``cond`` comes from :meth:`encode_condition`
        with the same B and T, and ``frame_mask`` must be the one it was built with.
        """
        cfg = self.config
        batch, num_frames, _ = x_t.shape
        t = torch.as_tensor(timesteps, device=x_t.device).reshape(-1).expand(batch)  # (B,)
        c = self.time_mlp(sinusoidal_embedding(t, cfg.d_model)) + cond.pooled  # (B, d)
        x = rearrange(self._pad_frames(x_t), "b (n p) f -> b n (p f)", p=cfg.patch_frames)
        h = self.motion_in(x) + self._positions(x.shape[1], x.device)  # (B, N, d)
        h = h + self.music_to_motion(cond.tokens)  # (B, N, d), aligned in time
        key_mask = cond.key_mask if frame_mask is None else self.token_mask(frame_mask, num_frames)
        for block, kv in zip(self.blocks, cond.cross_kv, strict=True):
            h = block(h, c, kv, key_mask, cond.key_mask)
        shift, scale = self.final_modulation(c).chunk(2, dim=-1)  # 2 x (B, d)
        out = self.motion_out(_modulate(self.final_norm(h), shift, scale))  # (B, N, P*D)
        out = rearrange(out, "b n (p f) -> b (n p) f", p=cfg.patch_frames)  # (B, N*P, D)
        return out[:, :num_frames]  # (B, T, D)

    def forward(
        self,
        x_t: torch.Tensor,
        timesteps: torch.Tensor | int,
        music: torch.Tensor,
        phase: torch.Tensor | None = None,
        frame_mask: torch.Tensor | None = None,
        cond_mask: torch.Tensor | None = None,
        style: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One call, condition included: (B, T, D) x_t -> (B, T, D) predicted x_0 (normalised)."""
        cond = self.encode_condition(music, phase, frame_mask, cond_mask, style)
        return self.denoise(x_t, timesteps, cond, frame_mask)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
