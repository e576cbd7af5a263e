"""The MotionBeat dual encoder: bar-equivariant, contact-aware Transformers over beat tokens.

MotionBeat (arXiv 2510.13244) encodes K beats x S sub-beat steps of music (log-mel per token)
and of dance (151-wide SMPL frames pooled into the same tokens) with two 6-layer Transformer
encoders, projects both into a shared L2-normalised 128-d space, and adds rhythm heads that the
Structural Rhythm Alignment Loss compares. The paper's two architectural ideas (bar-equivariant
phase rotation, contact-guided attention), the pooling and the rhythm heads are the layers of
:mod:`motionbeat.encoder.layers`; this module assembles them into :class:`MotionBeat`, with the
input checks, the output types and the checkpoint files.

Shapes: B batch, N tokens, D = d_model, E = embed_dim. ``valid_mask`` is (B, N) bool, True
on real tokens; padding sits anywhere.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.encoder.config import MotionBeatConfig
from motionbeat.encoder.layers import RhythmEncoder, RhythmHead, TokenPooling


def _check_inputs(
    tokens: torch.Tensor,
    beat_phase: torch.Tensor,
    bar_phase: torch.Tensor,
    valid_mask: torch.Tensor | None,
    width: int,
) -> torch.Tensor:
    """Validate shapes; return the (B, N) bool valid mask (all True when none was given)."""
    if tokens.dim() != 3 or tokens.shape[-1] != width:
        raise ValueError(f"expected tokens (B, N, {width}), got {tuple(tokens.shape)}")
    batch_tokens = tokens.shape[:2]
    for name, value in (("beat_phase", beat_phase), ("bar_phase", bar_phase)):
        if value.shape != batch_tokens:
            raise ValueError(
                f"{name} must be (B, N) = {tuple(batch_tokens)}, got {tuple(value.shape)}"
            )
    if valid_mask is None:
        return torch.ones(batch_tokens, dtype=torch.bool, device=tokens.device)
    if valid_mask.shape != batch_tokens:
        raise ValueError(f"valid_mask must be (B, N) = {tuple(batch_tokens)}")
    valid_mask = valid_mask.to(torch.bool)
    if not bool(valid_mask.any(dim=1).all()):
        raise ValueError("every clip needs at least one valid token")
    return valid_mask


def contact_probability(motion_tokens: torch.Tensor) -> torch.Tensor:
    """(B, N, 151) raw motion tokens -> (B, N) mean of the 4 contact channels, in [0, 1].

    For tokens pooled from frames this is the fraction of foot-joint frames in contact.
    """
    return motion_tokens[..., contract.CONTACTS].mean(dim=-1).clamp(0.0, 1.0)  # (B, N)


# ------------------------------------------------------------------------------- outputs


@dataclass
class AudioEncoding:
    """Audio side of a forward pass.

    embedding: (B, E) L2-normalised clip embedding; features: (B, N, D) per-token features;
    onset: (B, N) predicted onset envelope (>= 0, 0 on padding).
    """

    embedding: torch.Tensor
    features: torch.Tensor
    onset: torch.Tensor


@dataclass
class MotionEncoding:
    """Motion side: embedding (B, E), features (B, N, D), contact_pulse, kinetic_energy (B, N)."""

    embedding: torch.Tensor
    features: torch.Tensor
    contact_pulse: torch.Tensor
    kinetic_energy: torch.Tensor


@dataclass
class MotionBeatOutput:
    """Both sides plus the current InfoNCE temperature (a 0-d tensor)."""

    audio: AudioEncoding
    motion: MotionEncoding
    temperature: torch.Tensor


# --------------------------------------------------------------------------------- model


class MotionBeat(nn.Module):
    """Dual encoder of MotionBeat: audio tokens (B, N, n_mels), motion tokens (B, N, 151).

    Both encoders see the same beat-synchronous token grid, with per-token ``beat_phase`` and
    ``bar_phase`` in [0, 1) and a shared ``valid_mask``. Contact-guided attention exists only in
    the motion encoder (audio has no contacts).
    """

    def __init__(self, cfg: MotionBeatConfig):
        super().__init__()
        self.config = cfg
        self.audio_encoder = RhythmEncoder(cfg.n_mels, cfg, contact_attention=False)
        self.motion_encoder = RhythmEncoder(
            cfg.motion_dim, cfg, contact_attention=cfg.contact_attention_enabled
        )
        self.audio_pool = TokenPooling(cfg)
        self.motion_pool = TokenPooling(cfg)
        self.audio_proj = nn.Linear(cfg.d_model, cfg.embed_dim)
        self.motion_proj = nn.Linear(cfg.d_model, cfg.embed_dim)
        self.onset_head = RhythmHead(cfg)
        self.contact_head = RhythmHead(cfg)
        self.energy_head = RhythmHead(cfg)
        log_scale = torch.tensor(math.log(1.0 / cfg.temperature))  # CLIP's logit scale
        if cfg.learn_temperature:
            self.log_logit_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_logit_scale", log_scale)

    # --- temperature --------------------------------------------------------------------
    def temperature(self) -> torch.Tensor:
        """tau = 1 / exp(s), with s clamped so that tau >= config.min_temperature (0-d)."""
        max_log_scale = math.log(1.0 / self.config.min_temperature)
        return torch.exp(-self.log_logit_scale.clamp(max=max_log_scale))

    # --- normalisation ------------------------------------------------------------------
    @torch.no_grad()
    def set_input_statistics(
        self,
        audio_mean: torch.Tensor,
        audio_std: torch.Tensor,
        motion_mean: torch.Tensor,
        motion_std: torch.Tensor,
    ) -> None:
        """Store corpus per-channel statistics (n_mels,) and (151,) used to standardise inputs.

        Standard deviations are floored at 1e-3 (binary contact channels or a constant root
        height must not blow up). Saved in the checkpoint with the weights.
        """
        floor = 1e-3
        self.audio_encoder.input_mean.copy_(audio_mean)
        self.audio_encoder.input_std.copy_(audio_std.clamp(min=floor))
        self.motion_encoder.input_mean.copy_(motion_mean)
        self.motion_encoder.input_std.copy_(motion_std.clamp(min=floor))

    # --- encoders -----------------------------------------------------------------------
    def audio_token_features(
        self,
        tokens: torch.Tensor,
        beat_phase: torch.Tensor,
        bar_phase: torch.Tensor,
        valid_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Per-token music features for the generator: (B, N, n_mels) -> (B, N, d_model).

        Invariant to a uniform shift of ``bar_phase`` (and of ``beat_phase``) when phase
        rotation is on; the generator should take the phases themselves as separate inputs.
        """
        valid_mask = _check_inputs(tokens, beat_phase, bar_phase, valid_mask, self.config.n_mels)
        return self.audio_encoder(tokens, beat_phase, bar_phase, valid_mask)

    def motion_token_features(
        self,
        tokens: torch.Tensor,
        beat_phase: torch.Tensor,
        bar_phase: torch.Tensor,
        valid_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, N, 151) pooled motion tokens -> (B, N, d_model)."""
        valid_mask = _check_inputs(
            tokens, beat_phase, bar_phase, valid_mask, self.config.motion_dim
        )
        contact = contact_probability(tokens)  # (B, N)
        return self.motion_encoder(tokens, beat_phase, bar_phase, valid_mask, contact)

    def encode_audio(
        self,
        tokens: torch.Tensor,
        beat_phase: torch.Tensor,
        bar_phase: torch.Tensor,
        valid_mask: torch.Tensor | None = None,
    ) -> AudioEncoding:
        """(B, N, n_mels) -> embedding (B, E), features (B, N, D), onset (B, N)."""
        valid_mask = _check_inputs(tokens, beat_phase, bar_phase, valid_mask, self.config.n_mels)
        features = self.audio_encoder(tokens, beat_phase, bar_phase, valid_mask)  # (B, N, D)
        pooled = self.audio_pool(features, valid_mask)  # (B, D)
        embedding = F.normalize(self.audio_proj(pooled), dim=-1)  # (B, E)
        return AudioEncoding(embedding, features, self.onset_head(features, valid_mask))

    def encode_motion(
        self,
        tokens: torch.Tensor,
        beat_phase: torch.Tensor,
        bar_phase: torch.Tensor,
        valid_mask: torch.Tensor | None = None,
    ) -> MotionEncoding:
        """(B, N, 151) -> embedding (B, E), features (B, N, D), contact pulse, energy (B, N).

        Beat-jitter negatives are encoded with this too: flatten (B, J, N, 151) to
        (B * J, N, 151) and reshape the embedding back to (B, J, E).
        """
        valid_mask = _check_inputs(
            tokens, beat_phase, bar_phase, valid_mask, self.config.motion_dim
        )
        contact = contact_probability(tokens)  # (B, N)
        features = self.motion_encoder(tokens, beat_phase, bar_phase, valid_mask, contact)
        pooled = self.motion_pool(features, valid_mask)  # (B, D)
        embedding = F.normalize(self.motion_proj(pooled), dim=-1)  # (B, E)
        return MotionEncoding(
            embedding,
            features,
            self.contact_head(features, valid_mask),
            self.energy_head(features, valid_mask),
        )

    def forward(
        self,
        audio_tokens: torch.Tensor,
        motion_tokens: torch.Tensor,
        beat_phase: torch.Tensor,
        bar_phase: torch.Tensor,
        valid_mask: torch.Tensor | None = None,
    ) -> MotionBeatOutput:
        """Encode paired clips on a shared token grid; see the class docstring for shapes."""
        audio = self.encode_audio(audio_tokens, beat_phase, bar_phase, valid_mask)
        motion = self.encode_motion(motion_tokens, beat_phase, bar_phase, valid_mask)
        return MotionBeatOutput(audio, motion, self.temperature())


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------------------- checkpoints


def checkpoint_paths(stem: str | os.PathLike) -> tuple[Path, Path]:
    """``<stem>.safetensors`` and ``<stem>.json`` (the layout of ``checkpoints/``)."""
    stem = Path(stem)
    if stem.suffix in (".safetensors", ".json"):
        stem = stem.with_suffix("")
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def save_checkpoint(model: MotionBeat, stem: str | os.PathLike) -> tuple[Path, Path]:
    """Write the weights (state_dict incl. input statistics) and the config JSON beside them."""
    weights_path, config_path = checkpoint_paths(stem)
    state = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    with atomic_path(weights_path) as tmp:
        save_file(state, str(tmp), metadata={"config": model.config.to_json()})
    with atomic_path(config_path) as tmp:
        tmp.write_text(model.config.to_json() + "\n")
    return weights_path, config_path


def load_checkpoint(stem: str | os.PathLike, map_location: str = "cpu") -> MotionBeat:
    """Rebuild a model from ``<stem>.json`` and load ``<stem>.safetensors`` strictly (eval mode)."""
    weights_path, config_path = checkpoint_paths(stem)
    cfg = MotionBeatConfig.from_json(config_path.read_text())
    model = MotionBeat(cfg)
    model.load_state_dict(load_file(str(weights_path), device=map_location), strict=True)
    return model.eval()
