"""Songs and clip batches through the encoder, for training and evaluation.

:func:`load_songs` reads the songs of a corpus (ours or AIST++), :func:`to_device` moves a
collated batch, :class:`Objective` is the model plus its loss on one training batch, and
:func:`clip_embeddings` embeds every clip of a dataset.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from motionbeat.datasets.batches import clip_batches, collate
from motionbeat.datasets.clips import ClipDataset
from motionbeat.datasets.songs import SongData, load_aistpp_songs, load_corpus_songs
from motionbeat.encoder.contrastive import duplicate_mask, tempo_aware_negative_mask
from motionbeat.encoder.losses import motionbeat_loss
from motionbeat.encoder.model import MotionBeat
from motionbeat.encoder.rhythm_alignment import RhythmTargets


def load_songs(
    corpus: str | os.PathLike,
    splits: Sequence[str],
    steps_per_beat: int,
    *,
    aistpp: bool = False,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> list[SongData]:
    """Songs of our corpus, or of an AIST++ release when ``aistpp``."""
    loader = load_aistpp_songs if aistpp else load_corpus_songs
    return loader(corpus, splits, steps_per_beat=steps_per_beat, cache_dir=cache_dir,
                  progress=progress)


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


class Objective(nn.Module):
    """The model plus its loss as one module, so DDP sees a single forward per step."""

    def __init__(self, model: MotionBeat):
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Batch of :class:`~motionbeat.datasets.clips.ClipDataset` items -> 0-d loss terms."""
        cfg = self.model.config
        beat_phase, bar_phase = batch["beat_phase"], batch["bar_phase"]  # (B, N)
        out = self.model(batch["audio"], batch["motion"], beat_phase, bar_phase)
        valid = torch.ones(beat_phase.shape, dtype=torch.bool, device=beat_phase.device)
        jitter = None
        jm = batch.get("jitter_motion")  # (B, J, N, C)
        if cfg.hard_negatives_enabled and jm is not None and jm.shape[1] > 0:
            enc = self.model.encode_motion(
                jm.flatten(0, 1),  # (B * J, N, C)
                batch["jitter_beat_phase"].flatten(0, 1),
                batch["jitter_bar_phase"].flatten(0, 1),
            )
            jitter = enc.embedding.unflatten(0, jm.shape[:2])  # (B, J, E)
        song, start = batch["song"], batch["start_beat"]
        hard = tempo_aware_negative_mask(batch["tempo"], song, cfg.tempo_tolerance, start)
        targets = RhythmTargets(batch["onset"], batch["contact_pulse"], batch["kinetic_energy"])
        terms = motionbeat_loss(
            cfg, out, bar_phase, valid, hard_mask=hard, motion_jitter=jitter,
            ignore_mask=duplicate_mask(song, start), targets=targets,
        )
        return {name: getattr(terms, name) for name in terms.__dataclass_fields__}


@torch.no_grad()
def clip_embeddings(
    model: MotionBeat,
    dataset: ClipDataset,
    indices: Sequence[int] | None = None,
    batch_size: int = 128,
    device: torch.device | str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """L2-normalised clip embeddings (M, E) of audio and of motion, in eval mode."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    idx = range(len(dataset)) if indices is None else indices
    audio, motion = [], []
    for chunk in clip_batches(idx, batch_size):
        b = to_device(collate([dataset[i] for i in chunk]), device)
        audio.append(model.encode_audio(b["audio"], b["beat_phase"], b["bar_phase"]).embedding)
        motion.append(model.encode_motion(b["motion"], b["beat_phase"], b["bar_phase"]).embedding)
    model.train(was_training)
    width = model.config.embed_dim
    if not audio:
        return np.zeros((0, width), np.float32), np.zeros((0, width), np.float32)
    return (torch.cat(audio).float().cpu().numpy(), torch.cat(motion).float().cpu().numpy())
