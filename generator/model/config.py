"""Configuration of the dance generator: one frozen dataclass, a size registry, JSON I/O.

Everything a checkpoint needs to rebuild its denoiser and its diffusion process lives in
:class:`GeneratorConfig`; ``<name>.json`` next to ``<name>.safetensors`` holds it. Defaults follow
EDGE (Tseng et al., "EDGE: Editable Dance Generation From Music", CVPR 2023): 5 s windows at
30 fps, cosine schedule over 1000 steps, clean-sample prediction, condition dropout 0.25,
guidance weight 2, loss weights 0.636 / 2.964 / 0.646 / 10.942, EMA 0.9999.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from generator.model.style import STYLE_DIM
from motionbeat.audio import N_MELS
from motionbeat.core import contract

CONFIG_FORMAT_VERSION: int = 1
"""Version written into every config JSON; :func:`GeneratorConfig.from_json` refuses newer."""

SAMPLERS: tuple[str, ...] = ("ddim", "dpm++", "ddpm", "sde-dpm++")
"""Sampling schedulers known to :func:`generator.model.diffusion.make_sampling_scheduler`: two
deterministic ones (DDIM, DPM-Solver++) and two that draw fresh noise at every step (ancestral
DDPM steps, EDGE's sampler, and the SDE form of DPM-Solver++)."""

STOCHASTIC_SAMPLERS: tuple[str, ...] = ("ddpm", "sde-dpm++")
"""The :data:`SAMPLERS` that draw fresh noise at every step."""

SAMPLING_FIELDS: tuple[str, ...] = ("sampler", "sample_steps", "guidance_weight", "beat_guidance",
                                    "halftime_above_bpm", "style_scale", "beat_warp")
""":class:`GeneratorConfig` fields that are sampling defaults, chosen after training: a run
that starts from a checkpoint (``generator.train.train(init=...)``) keeps the checkpoint's."""

OBJECTIVE_FIELDS: tuple[str, ...] = (
    "loss_recon", "loss_velocity", "loss_fk", "loss_foot", "loss_foot_velocity",
    "loss_root_turn", "loss_kinetic", "loss_snr_gamma", "loss_noise_power", "contact_threshold",
    "style_dropout",
)
""":class:`GeneratorConfig` fields that shape only the training loss, not the model: a run that
starts from a checkpoint may change them (fine-tuning with another objective); it keeps its own."""

CONDITIONER_FIELDS: tuple[str, ...] = (
    "conditioner", "music_dim", "encoder_checkpoint", "encoder_hash",
)
""":class:`GeneratorConfig` fields the music conditioner fills in
(:func:`generator.model.conditioning.generator_config`), not the size."""

CONDITIONERS: tuple[str, ...] = ("motionbeat", "librosa")
"""Music conditioners known to :mod:`generator.model.conditioning`: frozen MotionBeat features, or the
plain front-end features (log-mel + onset), both with the same beat / bar phase."""

STYLE_PRIORS: tuple[str, ...] = ("dataset", "music")
"""How sampling draws a dance's style: from the Gaussian of all training dances' styles, or from
the one given the song's music (:mod:`generator.model.style_prior`)."""

LIBROSA_FEATURE_DIM: int = N_MELS + 1
"""Width of the ``"librosa"`` conditioner's features: the log-mel bands and the onset strength."""


FOOT_VELOCITY_WEIGHT: float = 100.0
"""Weight of L_fvel in the registered sizes. Corpus feet move ~1.7e-3 m^2 per frame^2 (squared
speed summed over x, y, z; ~6e-4 per element), so a prediction half that far off costs ~0.015,
the order of EDGE's FK and foot terms at their weights, against a total loss of ~0.15."""
ROOT_TURN_WEIGHT: float = 100.0
"""Weight of L_turn in the registered sizes. Corpus roots turn ||R_{t+1} R_t^T - I||_F^2 ~1e-3 per
frame (~1e-4 per element) so ordinary errors cost ~0.01, while a 120-degree snap (6 / 9 per
element) costs ~67 on its frame pair."""
_NEW_TERMS = {"loss_foot_velocity": FOOT_VELOCITY_WEIGHT, "loss_root_turn": ROOT_TURN_WEIGHT}


@dataclass(frozen=True)
class GeneratorConfig:
    """Denoiser shape, diffusion process, losses and sampling defaults.

    Attributes:
        frame_dim: width of one motion frame (the contract's 151-wide layout).
        window_frames: frames per training / sampling window (5 s at 30 fps).
        music_dim: width C_music of the per-frame music features (any encoder).
        phase_dim: per-frame phase channels (beat phase, bar phase), each in [0, 1).
        patch_frames: consecutive frames merged into one transformer token (1 = a token per
            frame). 2 halves the sequence the transformer sees (15 tokens/s); the linear
            decoder still emits every frame. It must divide ``window_frames``.
        d_model, num_layers, num_heads, ff_mult: transformer width, depth, heads, MLP ratio.
        music_layers: transformer encoder layers over the music tokens (run once per sample).
        dropout: dropout inside attention / MLP blocks while training.
        cond_dropout: probability of replacing the music by the learned null condition while
            training, for classifier-free guidance (EDGE: 0.25).
        num_train_timesteps, beta_schedule: the diffusion process (diffusers names;
            ``squaredcos_cap_v2`` is the cosine schedule of Nichol & Dhariwal 2021, EDGE's).
        loss_*: weights of the reconstruction, velocity, forward-kinematics and foot-skate terms.
        loss_foot_velocity, loss_root_turn: weights of the two terms beyond EDGE's
            (:mod:`generator.model.losses`: the feet's velocity and the root's per-frame turn
            matched to the data's); 0, EDGE's objective, by default and in checkpoints trained
            before they existed. The registered sizes set :data:`FOOT_VELOCITY_WEIGHT` and
            :data:`ROOT_TURN_WEIGHT`.
        loss_kinetic: weight of the kinetic-envelope term (the body's mean joint speed per
            frame matched to the data's, :func:`generator.model.losses.kinetic_envelope_loss`);
            0 (off) by default and in the registered sizes.
        loss_snr_gamma, loss_noise_power: weighting of each window's loss by its timestep
            (:func:`generator.model.diffusion.timestep_weights`): Min-SNR-gamma (Hang et al.,
            ICCV 2023), min(SNR_t, gamma), weighs the noisy steps less; (1 - abar_t)^p weighs
            them more. 0 and 0 (the default, EDGE's) weight every t alike. Validation losses
            are always unweighted, so runs stay comparable.
        contact_threshold: predicted contact probability above which a foot counts as planted
            in the foot-skate loss (EDGE: 0.95).
        ema_decay: decay of the exponential moving average of the weights (EDGE: 0.9999).
        sampler, sample_steps, guidance_weight: sampling defaults (guided output is
            ``uncond + w * (cond - uncond)``; w = 1 is plain conditional sampling). These
            are a new model's defaults (25 steps and w = 2.5 suited the first corpus' 20000-step
            model); a shipped checkpoint's JSON carries the settings chosen for it on the
            corpus' validation songs (docs/generator.md, "Sampling defaults").
        beat_guidance: strength of the beat guidance at sampling time
            (:mod:`generator.sampling.beat_guidance`): each step's clean prediction has its upper
            body moved this far (root-mean-square, normalised units) up the gradient of the
            correlation of its pulse with the beats; 0 (off) by default, in the shipped
            checkpoints and in those saved before it existed.
        halftime_above_bpm: a song whose tracked tempo is above this (BPM) is danced at half
            time: the model's beat and bar phase come from every other beat (the stronger set,
            ``analyse_rhythm(..., tempo_hint=tempo / 2)``), as a dancer takes a fast song; 0
            (off) by default and in checkpoints saved before it existed
            (docs/generator.md, "Half time").
        beat_warp: the largest move, in beats, of the dance's accents when the model's dance
            is retimed onto the song's beats (:mod:`generator.cleanup.beat_warp`); 0 (off) for
            a new model and in checkpoints saved before it existed, 0.5 in the shipped ones
            (docs/generator.md, the fifteenth round).
        overlap_frames: frames shared by consecutive windows in long-form sampling
            (EDGE: half a window); at most half a window.
        style_dim: 0 (no style input: every checkpoint saved before it existed) or
            :data:`generator.model.style.STYLE_DIM`: the denoiser takes the dance's style, how
            fast each part of the body moves over the whole dance (:mod:`generator.model.style`),
            and sampling draws one per dance, so a dance keeps its energy from window to window.
            A run may add it to a checkpoint without it (``init``): the new input starts at zero.
        style_dropout: fraction of the training windows whose style is withheld (the model
            also learns to dance without one).
        style_scale: a sampling default: styles are drawn from the training dances' Gaussian
            with its spread (around the mean, in standardised units) multiplied by this; 1 draws
            as the data spread.
        style_prior: :data:`STYLE_PRIORS`: ``"dataset"`` draws each dance's style from the
            Gaussian of all training dances' styles (every checkpoint saved before it existed);
            ``"music"`` from the Gaussian given the song's music, a ridge regression on a
            summary of its features and tempo (:mod:`generator.model.style_prior`; buffers of
            the denoiser, fitted by training or ``python -m generator.train.fit_style_prior``).
        conditioner: the music features the model was trained on (:data:`CONDITIONERS`):
            ``"motionbeat"`` (frozen encoder features, ``music_dim`` = the encoder's width) or
            ``"librosa"`` (log-mel + onset, ``music_dim`` = :data:`LIBROSA_FEATURE_DIM`).
        encoder_checkpoint: for ``"motionbeat"``, the encoder's checkpoint stem relative to the
            folder of the generator checkpoint (absolute when it lies elsewhere); "" otherwise.
        encoder_hash: for ``"motionbeat"``, :func:`motionbeat.encoder.encode.file_hash` of the encoder's
            weights, checked when the generator is loaded; "" otherwise.
    """

    frame_dim: int = contract.FRAME_DIM
    window_frames: int = contract.WINDOW_FRAMES
    music_dim: int = 256
    phase_dim: int = 2
    patch_frames: int = 1
    d_model: int = 256
    num_layers: int = 4
    num_heads: int = 4
    ff_mult: int = 4
    music_layers: int = 1
    dropout: float = 0.1
    cond_dropout: float = 0.25
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    loss_recon: float = 0.636
    loss_velocity: float = 2.964
    loss_fk: float = 0.646
    loss_foot: float = 10.942
    loss_foot_velocity: float = 0.0
    loss_root_turn: float = 0.0
    loss_kinetic: float = 0.0
    loss_snr_gamma: float = 0.0
    loss_noise_power: float = 0.0
    contact_threshold: float = 0.95
    ema_decay: float = 0.9999
    sampler: str = "dpm++"
    sample_steps: int = 25
    guidance_weight: float = 2.5
    beat_guidance: float = 0.0
    halftime_above_bpm: float = 0.0
    beat_warp: float = 0.0
    overlap_frames: int = contract.WINDOW_FRAMES // 2
    style_dim: int = 0
    style_dropout: float = 0.1
    style_scale: float = 1.0
    style_prior: str = "dataset"
    conditioner: str = "motionbeat"
    encoder_checkpoint: str = ""
    encoder_hash: str = ""

    def __post_init__(self):
        if self.d_model % self.num_heads:
            raise ValueError(
                f"d_model {self.d_model} is not divisible by num_heads {self.num_heads}"
            )
        if self.window_frames % self.patch_frames:
            raise ValueError(
                f"patch_frames {self.patch_frames} must divide window_frames {self.window_frames}"
            )
        if not 0 <= self.overlap_frames <= self.window_frames // 2:
            raise ValueError(
                f"overlap_frames must be in [0, window_frames // 2], got {self.overlap_frames}"
            )
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        for name in ("loss_snr_gamma", "loss_noise_power", "loss_kinetic", "beat_guidance",
                     "halftime_above_bpm", "beat_warp"):
            value = getattr(self, name)
            if not (value >= 0.0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number >= 0 (0: off), got {value}")
        if self.style_dim not in (0, STYLE_DIM):
            raise ValueError(f"style_dim must be 0 (off) or {STYLE_DIM}, got {self.style_dim}")
        if not (self.style_scale >= 0.0 and math.isfinite(self.style_scale)):
            raise ValueError(f"style_scale must be a finite number >= 0, got {self.style_scale}")
        if self.style_prior not in STYLE_PRIORS:
            raise ValueError(f"style_prior must be one of {STYLE_PRIORS}, got {self.style_prior!r}")
        if self.style_prior != "dataset" and not self.style_dim:
            raise ValueError(f"style_prior {self.style_prior!r} needs a style input (style_dim)")
        if not 0.0 <= self.style_dropout < 1.0:
            raise ValueError(f"style_dropout must be in [0, 1), got {self.style_dropout}")
        if not 0.0 <= self.cond_dropout < 1.0:
            raise ValueError(f"cond_dropout must be in [0, 1), got {self.cond_dropout}")
        if self.conditioner not in CONDITIONERS:
            raise ValueError(
                f"conditioner must be one of {CONDITIONERS}, got {self.conditioner!r}"
            )
        if self.conditioner == "librosa" and self.music_dim != LIBROSA_FEATURE_DIM:
            raise ValueError(
                f"the librosa conditioner gives {LIBROSA_FEATURE_DIM} features per frame; "
                f"music_dim is {self.music_dim}"
            )
        if self.frame_dim != contract.FRAME_DIM:
            raise ValueError(
                f"frame_dim must be the contract's {contract.FRAME_DIM}, got {self.frame_dim}"
            )

    @property
    def head_dim(self) -> int:
        return self.d_model // self.num_heads

    @property
    def loss_weights(self) -> dict[str, float]:
        """Weights of the loss terms by name (the keys of ``losses.diffusion_losses``)."""
        return {
            "recon": self.loss_recon,
            "velocity": self.loss_velocity,
            "fk": self.loss_fk,
            "foot": self.loss_foot,
            "foot_velocity": self.loss_foot_velocity,
            "root_turn": self.loss_root_turn,
            "kinetic": self.loss_kinetic,
        }

    # ------------------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        return {"format_version": CONFIG_FORMAT_VERSION, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GeneratorConfig:
        data = dict(data)
        version = int(data.pop("format_version", CONFIG_FORMAT_VERSION))
        if version > CONFIG_FORMAT_VERSION:
            raise ValueError(
                f"generator config version {version} is newer than this program's "
                f"{CONFIG_FORMAT_VERSION}; update the project"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown generator config keys: {unknown}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> GeneratorConfig:
        return cls.from_dict(json.loads(text))


GENERATOR_SIZES: dict[str, GeneratorConfig] = {
    # Unit tests and smoke runs (0.34 M parameters).
    "tiny": GeneratorConfig(
        d_model=64, num_layers=2, num_heads=4, ff_mult=2, patch_frames=2, **_NEW_TERMS
    ),
    # The default (8.5 M). Long-form sampling runs steps x 2 (guidance) window calls per hop of
    # 2.5 s (half overlap): 10 x 2 / 2.5 s = 8 window calls per second of music, so the budget of
    # 0.1 s per second of music allows 12.5 ms per window call. Batched, a call measured 8 ms per
    # window with tokens of 2 frames (15 tokens/s) against 13.5 ms with a token per frame (2
    # cores, quiet machine): the budget holds only with patch_frames = 2.
    "small": GeneratorConfig(
        d_model=256, num_layers=4, num_heads=4, ff_mult=4, patch_frames=2, **_NEW_TERMS
    ),
    # The CPU training plan (4.8 M): ~0.38 s per step at batch 16 with 1 thread against ~0.62 s
    # for "small" (quiet machine; 0.57 against 0.92 s with two other trainings running; table in
    # generator/train/loop.py), so ~4000 steps fit a 45-minute run with margin, and it samples ~1.6x
    # faster than "small".
    "compact": GeneratorConfig(
        d_model=192, num_layers=4, num_heads=4, ff_mult=4, patch_frames=2, **_NEW_TERMS
    ),
    # EDGE's width and depth (d = 512, 8 layers, 8 heads, MLP 1024) at the frame rate (52 M);
    # too slow for the CPU budget, for comparison and machines with more compute.
    "base": GeneratorConfig(
        d_model=512, num_layers=8, num_heads=8, ff_mult=2, music_layers=2, patch_frames=1,
        **_NEW_TERMS,
    ),
}
"""Named sizes; ``config_for(name, **overrides)`` gives a variant."""


def config_for(size: str = "small", **overrides: Any) -> GeneratorConfig:
    """The registered config ``size`` with fields replaced by ``overrides``.

    ``config_for("small", music_dim=C)`` is the usual call once the encoder's width is known.
    """
    if size not in GENERATOR_SIZES:
        raise KeyError(f"unknown generator size {size!r}; choose from {sorted(GENERATOR_SIZES)}")
    return replace(GENERATOR_SIZES[size], **overrides)


def size_of(config: GeneratorConfig) -> str | None:
    """The :data:`GENERATOR_SIZES` name whose model ``config`` has, or None.

    Compares every field but the sampling defaults, the loss (:data:`SAMPLING_FIELDS`,
    :data:`OBJECTIVE_FIELDS`: chosen per run), the conditioner's (:data:`CONDITIONER_FIELDS`) and
    ``style_dim`` and ``style_prior`` (an input and its draw, not a size),
    so a checkpoint's size can be read back from its config (the config stores no size name).
    """
    skip = set(SAMPLING_FIELDS) | set(OBJECTIVE_FIELDS) | set(CONDITIONER_FIELDS)
    skip |= {"style_dim", "style_prior"}
    mine = {k: v for k, v in config.to_dict().items() if k not in skip}
    for name, registered in GENERATOR_SIZES.items():
        theirs = registered.to_dict()
        if all(theirs[k] == v for k, v in mine.items()):
            return name
    return None
