"""The generator's training data: dances with the music under them, and the draw of windows.

Data. Every song of the corpus (``motionbeat.choreography.build`` layout; train split for training, val
for validation) is conditioned once by the chosen conditioner (:mod:`generator.model.conditioning`:
frozen MotionBeat features, or log-mel + onset) and cached under
``<corpus>/cache/generator-<conditioner>-<encoder hash>/``. The dances are read from the corpus
shards as 151-wide contract frames (``motionbeat.datasets.songs.motion_frames``). A training window is
W = 5 s of one dance with the music frames under it: a dance is drawn with probability
proportional to its number of window starts, then a start uniformly; a dance shorter than a
window is padded and masked. A fraction ``short_window_prob`` of the rows keeps only a random
prefix (``diffusion.random_frame_mask``), which teaches the masked windows that sampling uses for
songs shorter than a window. The corpus dancers travel (the root's horizontal position has a
std of 2-3 m over the 5-hour corpus, and a long song can carry a dancer tens of metres away), so
every window's horizontal root position (x and z; y is up) is centred on its mean over the
window's real frames (:func:`centre_root`): the model learns how the dancer moves within 5 s, not
where an unbounded floor has taken them. EDGE keeps AIST++'s absolute positions, whose dancers
stay on a small stage; centred windows fused by long-form sampling give the same kind of dance,
travelling locally and staying around the origin.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from generator.model.conditioning import MusicCondition
from generator.model.style import STYLE_DIM, dance_style
from generator.model.style_prior import song_summary
from motionbeat.core import contract

MOTION_STD_FLOOR: float = 0.05
"""Smallest per-channel std of the motion statistics (metres, 6-D rotation units, contact
probability). A channel that hardly moves in training (a joint the dances never turn, a toe
contact that never fires) would otherwise be scaled up to 1000x, and any error on it in
validation or sampling with it; 0.05 caps the scaling at 20x."""
HORIZONTAL_ROOT: tuple[int, int] = (
    contract.ROOT_POS.start + 0,
    contract.ROOT_POS.start + 2,
)
"""Frame channels of the root's horizontal position (x and z: the floor plane, y is up)."""


@dataclass
class WindowData:
    """Dances with the music under them, and the draw of training windows.

    Attributes:
        motions: per dance, (T_d, D) contract frames.
        songs: per dance, the index of its song in ``music``.
        music: per song, its :class:`MusicCondition` (features (T, C), phase (T, 2)).
        lengths: per dance, usable frames min(T_d, T_song).
        styles: per dance, (N_dances, K) style of its usable frames
            (:func:`generator.model.style.dance_style`), once :meth:`compute_styles` has run;
            the windows then carry their dance's style.
    """

    motions: list[np.ndarray]
    songs: list[int]
    music: list[MusicCondition]
    lengths: np.ndarray
    styles: np.ndarray | None = None

    def compute_styles(self) -> np.ndarray:
        """Fill and return :attr:`styles` (forward kinematics of every dance: seconds)."""
        self.styles = np.stack(
            [dance_style(m[: int(n)]) for m, n in zip(self.motions, self.lengths, strict=True)]
        ) if self.motions else np.zeros((0, STYLE_DIM), np.float32)  # (N_dances, K)
        return self.styles

    def song_summaries(self) -> np.ndarray:
        """(N_dances, S) summary of each dance's song (:func:`generator.model.style_prior.song_summary`),
        the input of the music style prior."""
        per_song = [song_summary(m.features, m.tempo_bpm) for m in self.music]
        return np.stack([per_song[i] for i in self.songs]) if self.songs else np.zeros((0, 0), np.float32)

    @property
    def num_frames(self) -> int:
        return int(self.lengths.sum())

    def __len__(self) -> int:
        return len(self.motions)

    def sample(self, rng: np.random.Generator, batch: int, window: int) -> dict[str, np.ndarray]:
        """B windows: ``motion`` (B, W, D), ``music`` (B, W, C), ``phase`` (B, W, 2), ``mask``
        (B, W) bool (False on the padding of dances shorter than W), and ``style`` (B, K) when
        the styles are computed (the same draws either way)."""
        starts_per_dance = np.maximum(self.lengths - window + 1, 1)  # (N_dances,)
        dances = rng.choice(len(self), size=batch, p=starts_per_dance / starts_per_dance.sum())
        width = self.music[0].features.shape[1]
        out = {
            "motion": np.zeros((batch, window, contract.FRAME_DIM), np.float32),
            "music": np.zeros((batch, window, width), np.float32),
            "phase": np.zeros((batch, window, 2), np.float32),
            "mask": np.zeros((batch, window), bool),
        }
        for row, d in enumerate(dances):
            start = int(rng.integers(0, starts_per_dance[d]))
            stop = min(start + window, int(self.lengths[d]))
            n = stop - start
            song = self.music[self.songs[d]]
            out["motion"][row, :n] = self.motions[d][start:stop]
            out["motion"][row, n:] = self.motions[d][stop - 1]  # hold the last pose (masked)
            centre_root(out["motion"][row], n)
            out["music"][row, :n] = song.features[start:stop]
            out["phase"][row, :n] = song.phase[start:stop]
            out["mask"][row, :n] = True
        if self.styles is not None:
            out["style"] = self.styles[dances].astype(np.float32)  # (B, K)
        return out

    def motion_statistics(
        self, max_frames: int, window: int = contract.WINDOW_FRAMES
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and std (D,) of the frames cut into consecutive windows with a
        centred root (:func:`centre_root`), strided past ``max_frames`` frames; the std floored
        at :data:`MOTION_STD_FLOOR`."""
        chunks = []
        for motion, length in zip(self.motions, self.lengths, strict=True):
            for first in range(0, int(length), window):
                chunk = motion[first : min(first + window, int(length))].astype(np.float64)
                chunks.append(centre_root(chunk))  # (<= W, D), as the training windows
        stride = max(1, math.ceil(self.num_frames / max_frames))
        frames = np.concatenate(chunks)[::stride]  # (N, D)
        std = np.maximum(frames.std(axis=0), MOTION_STD_FLOOR)
        return frames.mean(axis=0).astype(np.float32), std.astype(np.float32)


def centre_root(window: np.ndarray, valid: int | None = None) -> np.ndarray:
    """(..., W, D) frames with the root's x and z minus their mean over the first ``valid``
    frames (all by default), in place; returns ``window``."""
    count = window.shape[-2] if valid is None else valid
    for ch in HORIZONTAL_ROOT:
        window[..., :, ch] -= window[..., :count, ch].mean(axis=-1, keepdims=True)
    return window


def load_dances(corpus: str | os.PathLike, splits: Sequence[str]) -> dict[str, np.ndarray]:
    """(D, T, 151) contract frames of every dance of each song of ``splits``, by song id."""
    from motionbeat.datasets.manifest import load_manifest
    from motionbeat.datasets.songs import motion_frames

    corpus = Path(corpus)
    out = {}
    for rec in load_manifest(corpus)["songs"]:
        if rec["split"] not in splits:
            continue
        with np.load(corpus / rec["shard"], allow_pickle=False) as z:
            out[rec["song_id"]] = motion_frames(z["poses"], z["trans"], float(z["fps"]))
    return out


def build_window_data(
    songs: Sequence, rows: dict[str, MusicCondition], dances: dict[str, np.ndarray]
) -> WindowData:
    """Pair each dance with its song's rows."""
    motions, song_index, music, lengths = [], [], [], []
    for song in songs:
        if song.song_id not in dances:
            continue
        music.append(rows[song.song_id])
        for frames in dances[song.song_id]:
            motions.append(np.ascontiguousarray(frames, dtype=np.float32))
            song_index.append(len(music) - 1)
            lengths.append(min(frames.shape[0], music[-1].num_frames))
    return WindowData(motions, song_index, music, np.asarray(lengths, dtype=np.int64))


def to_tensors(batch: dict[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v).to(device, non_blocking=True) for k, v in batch.items()}
