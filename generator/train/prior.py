"""Fitting the music style prior of a generator with a style input (:mod:`generator.model.style_prior`):
for a training run (:func:`fit_model_style_prior`) and for a trained checkpoint
(:func:`add_music_prior`; its command line is :mod:`generator.train.fit_style_prior`)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from generator.model.style import STYLE_NAMES
from generator.model.style_prior import StylePrior, fit_style_prior
from generator.train.data import WindowData


def fit_model_style_prior(model, data: WindowData, seed: int = 0) -> StylePrior:
    """Fit ``model``'s music style prior to the training dances of ``data`` (their styles
    computed if they are not yet) and store it in the model; returns the fit."""
    styles = data.styles if data.styles is not None else data.compute_styles()
    prior = fit_style_prior(data.song_summaries(), styles, np.asarray(data.songs),
                            model.style_mean.cpu().numpy(), model.style_std.cpu().numpy(), seed)
    model.set_style_prior(prior)
    return prior


def prior_record(prior: StylePrior, data: WindowData) -> dict:
    """What a checkpoint's metadata records of its fitted prior."""
    return {"ridge_lambda": prior.ridge_lambda, "songs": len(set(data.songs)),
            "dances": len(data),
            "cv_r2": {n: round(float(v), 4) for n, v in zip(STYLE_NAMES, prior.cv_r2, strict=True)}}


def add_music_prior(checkpoint: str | os.PathLike, corpus: str | os.PathLike,
                    out: str | os.PathLike, seed: int = 0, style_scale: float | None = None) -> dict:
    """Write ``out``: ``checkpoint`` with a music style prior fitted on ``corpus``' training
    songs (and ``style_scale`` as its sampling default, when given). Returns the prior's record
    (also in the new weights' metadata)."""
    import torch

    from generator.model.conditioning import (
        cache_dir_for,
        condition_corpus,
        conditioner_for,
        encoder_reference,
        resolve_encoder,
    )
    from generator.model.denoiser import Denoiser
    from generator.sampling.checkpoint import load_denoiser, save_generator
    from generator.train.data import build_window_data, load_dances
    from generator.train.start import load_start
    from motionbeat.datasets.songs import load_corpus_songs

    start, meta = load_denoiser(checkpoint)
    if not start.config.style_dim:
        raise ValueError(f"{checkpoint}: this generator has no style input (train it with --style)")
    cfg = replace(start.config, style_prior="music",
                  style_scale=start.config.style_scale if style_scale is None else style_scale)
    if cfg.conditioner == "motionbeat":
        cfg = replace(cfg, encoder_checkpoint=encoder_reference(
            resolve_encoder(start.config, checkpoint), out))
    model = Denoiser(cfg).eval()
    load_start(model, start.state_dict())  # every weight; the prior's buffers are fitted below
    if not (Path(corpus) / "manifest.json").is_file():
        raise ValueError(f"{corpus}: not a corpus (no manifest.json)")
    cond = conditioner_for(start.config, checkpoint)
    songs = load_corpus_songs(corpus, ("train",), steps_per_beat=cond.steps_per_beat,
                              progress=False)
    rows = condition_corpus(songs, cond, cache_dir_for(corpus, cond), progress=False)
    data = build_window_data(songs, rows, load_dances(corpus, ("train",)))
    if len(set(data.songs)) < 2:
        raise ValueError(f"{corpus}: a style prior needs the dances of at least two training songs")
    with torch.no_grad():
        record = prior_record(fit_model_style_prior(model, data, seed), data)
    kept = {k: v for k, v in meta.items() if k != "config"}  # save_generator writes the new one
    save_generator(model, out, {**kept, "style_prior": record})
    return record
