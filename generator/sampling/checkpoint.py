"""Generator checkpoints: their paths, saving and loading, and seeded untrained ones.

A checkpoint is a stem: ``<stem>.safetensors`` (the EMA denoiser's state dict, motion and music
normalisation included; metadata: one ``"generator"`` JSON entry with the config and the training
steps, one entry so the file's bytes, and its hash, do not depend on an ordering of metadata
keys) and ``<stem>.json``
(:class:`~generator.model.config.GeneratorConfig`, which names the conditioner and, for MotionBeat
features, the encoder checkpoint and its hash). :func:`write_untrained_checkpoint` writes a
seeded random one for tests and for the app before a trained model exists.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from generator.model.conditioning import generator_config
from generator.model.config import GeneratorConfig
from generator.model.denoiser import Denoiser, rest_frame_mean
from motionbeat.core import contract, kinematics
from motionbeat.core.fileio import atomic_path

DEFAULT_CHECKPOINT: str = "checkpoints/generator"
"""Stem of the generator checkpoint the app and the CLI load by default."""
TRAIN_COMMAND: str = "python -m generator.train --corpus DIR --out {stem}"
"""The command that makes a checkpoint (named in the missing-checkpoint error)."""
UNTRAINED_INIT_STD: float = 0.02
"""Std of the random weights given to the zero-initialised output layers of an untrained
checkpoint, so its output depends on the music and the noise as a trained model's does."""
UNTRAINED_STD: dict[str, float] = {"contacts": 0.5, "root_pos": 0.05, "rotations": 0.3}
"""Per-channel std of an untrained checkpoint's motion normalisation (small: a calm dance)."""


class GeneratorCheckpointError(RuntimeError):
    """A generator checkpoint is missing, unreadable, or does not fit its encoder."""


def checkpoint_paths(stem: str | os.PathLike) -> tuple[Path, Path]:
    """``<stem>.safetensors`` and ``<stem>.json`` (a ``.safetensors`` / ``.json`` suffix on
    ``stem`` is dropped first)."""
    stem = Path(stem)
    if stem.suffix in (".safetensors", ".json"):
        stem = stem.with_suffix("")
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


METADATA_KEY: str = "generator"
"""The one safetensors metadata entry of a generator checkpoint (JSON)."""


def save_generator(
    model: Denoiser, stem: str | os.PathLike, metadata: dict | None = None
) -> tuple[Path, Path]:
    """Write the state dict (normalisation buffers included) and the config JSON, atomically.

    ``metadata`` (JSON values, e.g. ``trained_steps``) is stored with the config under
    :data:`METADATA_KEY` in the weights file.
    """
    from safetensors.torch import save_file

    weights, config = checkpoint_paths(stem)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"config": model.config.to_dict(), **(metadata or {})}
    with atomic_path(weights) as tmp:
        save_file(state, str(tmp), metadata={METADATA_KEY: json.dumps(meta, sort_keys=True)})
    with atomic_path(config) as tmp:
        tmp.write_text(model.config.to_json() + "\n")
    return weights, config


def _missing(path: Path, stem: Path) -> GeneratorCheckpointError:
    return GeneratorCheckpointError(
        f"{path}: no such generator checkpoint file; make it with "
        f"`{TRAIN_COMMAND.format(stem=stem)}` (or, for tests, "
        f"generator.sampling.checkpoint.write_untrained_checkpoint('{stem}'))"
    )


def load_denoiser(
    stem: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[Denoiser, dict]:
    """Rebuild the denoiser from ``<stem>.json``, load ``<stem>.safetensors`` strictly (eval mode);
    returns it with the weights file's metadata (:func:`save_generator`)."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    weights, config_path = checkpoint_paths(stem)
    for path in (weights, config_path):
        if not path.is_file():
            raise _missing(path, weights.with_suffix(""))
    try:
        config = GeneratorConfig.from_json(config_path.read_text())
    except (ValueError, TypeError) as err:
        raise GeneratorCheckpointError(f"{config_path}: not a generator config ({err})") from None
    model = Denoiser(config)
    try:
        with safe_open(str(weights), framework="pt") as fh:
            metadata = json.loads((fh.metadata() or {}).get(METADATA_KEY, "{}"))
        model.load_state_dict(load_file(str(weights)), strict=True)
    except (OSError, RuntimeError, ValueError, SafetensorError) as err:
        raise GeneratorCheckpointError(
            f"{weights}: does not hold the weights {config_path.name} describes ({err})"
        ) from None
    return model.to(device).eval(), metadata


def write_untrained_checkpoint(
    stem: str | os.PathLike,
    size: str = "tiny",
    conditioner: str = "librosa",
    encoder_checkpoint: str | os.PathLike | None = None,
    seed: int = 0,
    **config_overrides,
) -> Path:
    """Seeded random weights and their config at ``stem``; returns the stem.

    For tests and for the app before a trained model exists: the zero-initialised output layers
    get small random weights (:data:`UNTRAINED_INIT_STD`), the motion statistics are the rest
    pose standing on the floor (pelvis at its rest height) with the small stds of
    :data:`UNTRAINED_STD`, the music statistics the identity. The weights' metadata records
    ``trained_steps = 0``. ``conditioner="motionbeat"`` needs ``encoder_checkpoint`` (its width
    and hash go into the config). ``config_overrides`` set further config fields (``style_dim=5``:
    a style input).
    """
    if conditioner == "motionbeat" and encoder_checkpoint is None:
        raise ValueError("an untrained motionbeat-conditioned generator needs encoder_checkpoint")
    stem = Path(stem)
    if stem.suffix in (".safetensors", ".json"):
        stem = stem.with_suffix("")
    config = generator_config(size, conditioner, encoder_checkpoint, generator_stem=stem, **config_overrides)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Denoiser(config)
        with torch.no_grad():
            layers = [block.modulation[1] for block in model.blocks]
            layers += [model.final_modulation[1], model.motion_out]
            for layer in layers:
                layer.weight.normal_(0.0, UNTRAINED_INIT_STD)
                layer.bias.normal_(0.0, UNTRAINED_INIT_STD)
    mean, std = rest_frame_mean(), torch.ones(contract.FRAME_DIM)
    mean[contract.CONTACTS] = 0.5
    mean[contract.ROOT_POS.start + contract.UP_AXIS] = standing_pelvis_height()
    for name, value in UNTRAINED_STD.items():
        std[contract.FRAME_SLICES[name]] = value
    model.set_normalization(mean, std)
    save_generator(model, stem, {"trained_steps": 0, "seed": seed})
    return stem


def standing_pelvis_height() -> float:
    """Pelvis height, metres, at which the rest pose's lowest joint touches the floor."""
    with torch.no_grad():
        joints = kinematics.forward_kinematics(
            torch.zeros(1, contract.NUM_JOINTS, 3), torch.zeros(1, 3)
        )  # (1, 24, 3)
    return contract.FLOOR_HEIGHT - float(joints[..., contract.UP_AXIS].min())
