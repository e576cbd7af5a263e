"""Where a training run starts from: the size, conditioner and encoder an ``init`` checkpoint or
a resumed run gives when they are left out, an ``init`` checkpoint's weights checked against the
run's config, and a pack's encoder against a named one (:func:`generator.train.loop.train`)."""

from __future__ import annotations

import os
from dataclasses import replace

import torch

from generator.model.conditioning import resolve_encoder
from generator.model.config import (
    GENERATOR_SIZES,
    OBJECTIVE_FIELDS,
    SAMPLING_FIELDS,
    GeneratorConfig,
    size_of,
)
from generator.model.style_prior import STYLE_PRIOR_PREFIX
from generator.sampling.checkpoint import checkpoint_paths
from generator.train.pack import PackError


def defaults_from(
    start: GeneratorConfig | None,
    stem: str | os.PathLike,
    size: str | None,
    conditioner: str | None,
    encoder: str | os.PathLike | None,
) -> tuple[str | None, str | None, str | os.PathLike | None]:
    """``size``, ``conditioner`` and ``encoder`` with the ones left out (None) taken from the
    config ``start`` of the checkpoint or run at ``stem``: its size (:func:`size_of`), its
    conditioner, and its encoder (where its config points, when the conditioner is the
    start's). Without a readable config (None) they stay as given, and whoever loads the start
    names the problem."""
    if start is None:
        return size, conditioner, encoder
    if size is None:
        size = size_of(start)
        if size is None:
            raise ValueError(f"{stem}: its model is none of the registered sizes "
                             f"({', '.join(sorted(GENERATOR_SIZES))})")
    conditioner = conditioner or start.conditioner
    if encoder is None and conditioner == "motionbeat" == start.conditioner:
        encoder = resolve_encoder(start, stem)
    return size, conditioner, encoder


def checkpoint_config(stem: str | os.PathLike) -> GeneratorConfig | None:
    """The config beside generator checkpoint ``stem``; None when missing or unreadable."""
    try:
        return GeneratorConfig.from_json(checkpoint_paths(stem)[1].read_text())
    except (OSError, ValueError, TypeError):
        return None


def start_from(
    cfg: GeneratorConfig, init: str | os.PathLike
) -> tuple[GeneratorConfig, dict[str, torch.Tensor], dict]:
    """Checkpoint ``init`` as the start of a run whose config is ``cfg`` (see :func:`train`).

    Returns the run's config (``cfg`` with the checkpoint's sampling defaults,
    :data:`SAMPLING_FIELDS`), the checkpoint's weights and buffers, and what the new checkpoint
    records of its start (name, model hash, trained steps). The run's loss
    (:data:`OBJECTIVE_FIELDS`) may differ, and the run may add a style input (``style_dim``) to a
    checkpoint without one or draw styles from another prior (``style_prior``, fitted afresh);
    every other config field must match, the encoder by its hash (its
    stored path is relative to each checkpoint's folder).
    """
    from generator.sampling.checkpoint import GeneratorCheckpointError, load_denoiser
    from motionbeat.encoder.encode import file_hash

    try:
        start, meta = load_denoiser(init)
    except GeneratorCheckpointError as err:
        raise ValueError(str(err)) from None
    mine, theirs = cfg.to_dict(), start.config.to_dict()
    ignored = set(SAMPLING_FIELDS) | set(OBJECTIVE_FIELDS) | {"encoder_checkpoint"}
    if theirs.get("style_dim", 0) == 0:  # a style input may be added to a model without one
        ignored.add("style_dim")
    ignored.add("style_prior")  # the style draw is fitted afresh by every run
    differ = sorted(k for k in mine if k not in ignored and mine[k] != theirs.get(k))
    if differ:
        raise ValueError(
            f"{init}: its config differs from this run's in {', '.join(differ)}; use the same "
            "--size / --conditioner / --encoder as the checkpoint"
        )
    weights, _ = checkpoint_paths(init)
    record = {"checkpoint": weights.with_suffix("").name, "model_hash": file_hash(weights),
              "trained_steps": int(meta.get("trained_steps", 0))}
    return replace(cfg, **{k: theirs[k] for k in SAMPLING_FIELDS}), start.state_dict(), record


def check_pack_encoder(pack, encoder: str | os.PathLike | None) -> None:
    """A named encoder must be the one whose features the pack holds (by hash), where its
    weights are here to hash; the pack's own encoder needs no weights."""
    from motionbeat.encoder.encode import file_hash
    from motionbeat.encoder.model import checkpoint_paths as encoder_paths

    if encoder is None or pack.conditioner != "motionbeat":
        return
    weights = encoder_paths(encoder)[0]
    if weights.is_file() and file_hash(weights) != pack.info["encoder"]["hash"]:
        raise PackError(f"{encoder}: not the encoder the pack's features were made with "
                        f"(hash {pack.info['encoder']['hash']})")


def load_start(model, state: dict[str, torch.Tensor]) -> None:
    """Load an ``init`` checkpoint's weights into ``model``; a style input the start lacks
    (``style_dim`` added by this run) keeps its zero initialisation, so the run starts as the
    checkpoint dances. The start's music style prior (``style_prior_*`` buffers) is dropped: the
    run fits its own. Anything else missing or left over is an error."""
    state = {k: v for k, v in state.items() if not k.startswith(STYLE_PRIOR_PREFIX)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    added = [k for k in missing if k.startswith("style_")]
    if unexpected or len(added) != len(missing):
        raise ValueError(f"the init checkpoint does not fit this model: missing "
                         f"{sorted(set(missing) - set(added))}, unexpected {sorted(unexpected)}")
