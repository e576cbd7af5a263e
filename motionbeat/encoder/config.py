"""Hyper-parameters of the MotionBeat encoder and its losses, as one frozen dataclass.

MotionBeat (Wang et al., "MotionBeat: Motion-Aligned Music Representation via Embodied
Contrastive Learning and Bar-Equivariant Contact-Aware Encoding", arXiv 2510.13244) trains two
6-layer Transformer encoders, one over beat-synchronous log-mel tokens and one over SMPL motion
tokens, into a shared embedding space with ``L = L_ECL + 0.2 * L_SRAL``. Values the paper states
are marked "paper"; every other default is our choice and its reason is written beside it.

The config is written as JSON beside the safetensors weights (``<name>.json`` next to
``<name>.safetensors``) and is all that is needed to rebuild the model: see
``motionbeat.encoder.model.save_checkpoint`` / ``load_checkpoint``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from motionbeat.core import contract

CONFIG_FORMAT: str = "motionbeat-config"
CONFIG_VERSION: int = 1
"""Written into every config JSON; :meth:`MotionBeatConfig.from_json` refuses newer versions."""

POOLING_CHOICES: tuple[str, ...] = ("attention", "mean", "timeline")


@dataclass(frozen=True)
class MotionBeatConfig:
    """Everything that shapes a MotionBeat model and its training objective.

    Architecture
        n_mels: log-mel bands per audio token; must equal the audio front end's
            ``motionbeat.audio.N_MELS`` (64; a test checks). Not imported from there so that
            the config stays importable without librosa.
        motion_dim: width of one motion token, the contract's frame width (``FRAME_DIM``).
        d_model, n_layers, n_heads, ff_mult, dropout: Transformer width, depth (paper: 6),
            heads, feed-forward expansion, dropout.
        embed_dim: shared L2-normalised embedding size (128, as the brief fixes).
        pooling: clip embedding by ``"attention"`` pooling (a learned score per token, masked
            softmax), masked ``"mean"``, or ``"timeline"``: attention pooling inside each of
            ``pool_segments`` equal spans of the clip, the span vectors concatenated in time
            order and mixed by a linear map (``motionbeat.encoder.layers.TokenPooling``).
        pool_segments: spans of ``"timeline"`` pooling (8: one per beat of the K = 8 clip).

    Token grid
        steps_per_beat (S), beats_per_clip (K): a clip is K beats of S sub-beat tokens each.
        beats_per_bar: meter assumed for bar-phase histograms (4/4 dominates AIST++ and pop).

    Bar-equivariant phase rotation (see ``motionbeat.encoder.layers.RotaryTable``)
        phase_harmonics: M; bar phase phi rotates channel pairs by m * 2 pi phi, m = 1..M.
            M = 4 = beats_per_bar makes the top harmonic the beat frequency of a 4/4 bar.
        beat_harmonics: harmonics of the beat phase, rotated the same way (our addition: beat
            phase stays reliable where the downbeat estimate is not).
        phase_pair_fraction: share of each head's channel pairs that carry phase rotations;
            the rest carry a standard RoPE over token index (relative time in sub-beats), so
            attention also knows token order. 0.5 is our choice: half rhythm, half time.
        rope_base: RoPE base for the token-index pairs (Su et al., RoFormer 2021).

    Contact-guided attention (motion encoder; see ``motionbeat.encoder.layers.RhythmAttention``)
        contact_eps: eps in alpha * log(p_contact + eps). 0.1 bounds the largest preference
            of a full-contact key over a no-contact key at (1.1 / 0.1)^alpha = 11x for
            alpha = 1, which keeps attention from collapsing onto contact tokens (the summary's
            "contact overfitting" failure).
        contact_alpha_init: initial alpha (> 0), learned per layer and head through softplus.

    Embodied Contrastive Loss (``motionbeat.encoder.contrastive``)
        temperature: initial InfoNCE temperature tau (0.07 as CLIP, Radford et al. 2021).
        learn_temperature: learn log(1/tau) as CLIP does; clamped so tau >= min_temperature.
        min_temperature: 0.01, CLIP's clamp of the logit scale at 100.
        tempo_tolerance: two clips are tempo-aware negatives when their tempi differ by at most
            this relative amount (|log t_i - log t_j| <= log(1 + tol)). 0.04: AIST++ tempi sit
            on a 10 BPM grid (80-135 BPM), adjacent values differ by >= 7 %, so 4 % selects
            "same tempo" and tolerates beat-tracker error.
        hard_negative_weight: each hard negative is appended once more to the logits with
            log-weight log(w); w = 1 appends a plain copy.
        jitter_beats: beat-jitter negatives are the paired motion shifted by +-jitter_beats
            (paper: +-1 beat).

    Structural Rhythm Alignment Loss
        lambda_beat, lambda_bar: weights of the Soft-DTW and EMD terms (paper gives no values;
            1.0 each until tuned).
        sral_weight: weight of SRAL in the total (paper: 0.2).
        softdtw_gamma: Soft-DTW smoothing. Curves are normalised to unit mean, so per-cell
            costs are O(1) and gamma = 0.1 is close to hard DTW while keeping gradients smooth.
        softdtw_divergence: use the Soft-DTW divergence (Blondel et al., AISTATS 2021), which
            is >= 0 and 0 iff the curves are equal; raw Soft-DTW is not minimised at equality.
        emd_circular: bar phase wraps, so the EMD is taken on the circle by default.
        rhythm_supervision_weight: weight of the regression of the rhythm heads onto
            data-derived curves (onset flux, foot strikes, kinetic energy). The paper is silent
            on how its heads are grounded; without it SRAL has the trivial minimum where both
            heads emit the same input-independent curve. Set 0 for the paper's exact total.

    Ablations
        use_phase_rotation, use_contact_attention, use_hard_negatives, use_sral: switch one
            component off. ``baseline_logmel`` switches all of them (and the rhythm
            supervision) off: a plain Transformer over log-mel tokens trained with plain
            symmetric InfoNCE. Read the ``*_enabled`` properties, not the raw flags.
    """

    # architecture
    n_mels: int = 64
    motion_dim: int = contract.FRAME_DIM
    d_model: int = 256
    n_layers: int = 6
    n_heads: int = 4
    ff_mult: int = 4
    dropout: float = 0.1
    embed_dim: int = 128
    pooling: str = "timeline"
    pool_segments: int = 8
    # token grid
    steps_per_beat: int = 4
    beats_per_clip: int = 8
    beats_per_bar: int = 4
    # phase rotation
    phase_harmonics: int = 4
    beat_harmonics: int = 1
    phase_pair_fraction: float = 0.5
    rope_base: float = 10000.0
    # contact attention
    contact_eps: float = 0.1
    contact_alpha_init: float = 1.0
    # embodied contrastive loss
    temperature: float = 0.07
    learn_temperature: bool = True
    min_temperature: float = 0.01
    tempo_tolerance: float = 0.04
    hard_negative_weight: float = 1.0
    jitter_beats: int = 1
    # structural rhythm alignment loss
    lambda_beat: float = 1.0
    lambda_bar: float = 1.0
    sral_weight: float = 0.2
    softdtw_gamma: float = 0.1
    softdtw_divergence: bool = True
    emd_circular: bool = True
    rhythm_supervision_weight: float = 0.1
    # ablations
    use_phase_rotation: bool = True
    use_contact_attention: bool = True
    use_hard_negatives: bool = True
    use_sral: bool = True
    baseline_logmel: bool = False

    def __post_init__(self):
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}")
        if self.head_dim % 2:
            raise ValueError(f"head dim {self.head_dim} must be even (channel pairs rotate)")
        if self.pooling not in POOLING_CHOICES:
            raise ValueError(f"pooling must be one of {POOLING_CHOICES}, got {self.pooling!r}")
        if self.pool_segments < 1:
            raise ValueError(f"pool_segments must be at least 1, got {self.pool_segments}")
        if not 0.0 <= self.phase_pair_fraction <= 1.0:
            raise ValueError("phase_pair_fraction must lie in [0, 1]")
        if self.phase_pairs < self.phase_harmonics + self.beat_harmonics:
            raise ValueError(
                f"{self.phase_pairs} phase channel pairs per head cannot hold "
                f"{self.phase_harmonics} bar + {self.beat_harmonics} beat harmonics; "
                "raise d_model / phase_pair_fraction or lower the harmonics"
            )
        if self.motion_dim != contract.FRAME_DIM:
            raise ValueError(f"motion_dim must be the contract's FRAME_DIM {contract.FRAME_DIM}")
        if not 0.0 < self.min_temperature <= self.temperature:
            raise ValueError("need 0 < min_temperature <= temperature")
        if self.contact_alpha_init <= 0 or self.contact_eps <= 0:
            raise ValueError("contact_alpha_init and contact_eps must be positive")

    # --- derived sizes ---------------------------------------------------------------------
    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    @property
    def phase_pairs(self) -> int:
        """Channel pairs per head rotated by bar / beat phase; the rest carry token-index RoPE."""
        return round(self.phase_pair_fraction * (self.head_dim // 2))

    @property
    def tokens_per_clip(self) -> int:
        """N = K * S tokens in a full clip."""
        return self.beats_per_clip * self.steps_per_beat

    @property
    def bar_bins(self) -> int:
        """Bar-phase histogram bins for the EMD: one per sub-beat step of a bar."""
        return self.beats_per_bar * self.steps_per_beat

    # --- effective switches (baseline_logmel overrides every component) ---------------------
    @property
    def phase_rotation_enabled(self) -> bool:
        return self.use_phase_rotation and not self.baseline_logmel

    @property
    def contact_attention_enabled(self) -> bool:
        return self.use_contact_attention and not self.baseline_logmel

    @property
    def hard_negatives_enabled(self) -> bool:
        return self.use_hard_negatives and not self.baseline_logmel

    @property
    def sral_enabled(self) -> bool:
        return self.use_sral and not self.baseline_logmel

    @property
    def rhythm_supervision_enabled(self) -> bool:
        return self.rhythm_supervision_weight > 0 and not self.baseline_logmel

    # --- serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"format": CONFIG_FORMAT, "version": CONFIG_VERSION, **dataclasses.asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MotionBeatConfig:
        data = dict(data)
        fmt, version = data.pop("format", CONFIG_FORMAT), data.pop("version", CONFIG_VERSION)
        if fmt != CONFIG_FORMAT:
            raise ValueError(f"not a MotionBeat config (format {fmt!r})")
        if version > CONFIG_VERSION:
            raise ValueError(f"config version {version} is newer than {CONFIG_VERSION}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown MotionBeat config keys: {unknown}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> MotionBeatConfig:
        return cls.from_dict(json.loads(text))

    def replace(self, **overrides: Any) -> MotionBeatConfig:
        return dataclasses.replace(self, **overrides)


MOTIONBEAT_SIZES: dict[str, MotionBeatConfig] = {
    # tests and smoke runs: 2 layers so a forward + backward takes milliseconds
    "tiny": MotionBeatConfig(d_model=64, n_layers=2, n_heads=2, ff_mult=2),
    # what the shipped checkpoint and the ablation table use: six runs of 1500 steps fit in
    # about an hour of this 2-core CPU (0.4 s/step at 1 thread, measured; small is 3.1 s/step)
    "compact": MotionBeatConfig(d_model=128, n_layers=4, n_heads=4, ff_mult=4),
    # the paper's 6 layers at a width that trains on this CPU (design.md: d=256 measured)
    "small": MotionBeatConfig(d_model=256, n_layers=6, n_heads=4, ff_mult=4),
    # wider, for a GPU
    "base": MotionBeatConfig(d_model=512, n_layers=6, n_heads=8, ff_mult=4),
}
"""Named sizes. All keep the paper's objective; they differ in width (and depth for tiny)."""


def config_for(size: str, **overrides: Any) -> MotionBeatConfig:
    """The registered config of ``size`` with ``overrides`` applied (validated again)."""
    if size not in MOTIONBEAT_SIZES:
        raise KeyError(f"unknown MotionBeat size {size!r}; choose from {sorted(MOTIONBEAT_SIZES)}")
    return MOTIONBEAT_SIZES[size].replace(**overrides)
