"""A dance's style: how fast each part of the body moves over the whole dance.

Why. The generator sees 5-second windows; a song is danced by windows that overlap by half. On
the corpus' validation songs its seeds spread as much as the corpus dancers do over the first
5 s (mean kinetic-feature distance between two dances of the same song 7.6 against 7.8), but
over 30 s they average out (2.9 against 8.4; docs/generator.md, "Where the diversity goes: the
long form"): each window picks its energy afresh, while a recorded dancer keeps one. The style
is that dancer-level choice, made once per dance and given to every window.

What. For a dance of T frames with world joint positions p_t[j] (forward kinematics of its
contract frames; y is up) and velocities v_t[j] = (p_{t+1}[j] - p_t[j]) * fps:

    s = log(SPEED_FLOOR + [ mean_t |v_t[root]_xz|,          root travel over the floor
                            mean_t |v_t[root]_y|,           bounce
                            mean_t,j |v_t[j] - v_t[root]|,  for j in the torso, arms, legs ])

in log metres per second: :data:`STYLE_NAMES`, :data:`STYLE_DIM` = 5. Speeds relative to the
root separate the body's own movement from its travel. Training gives each window its whole
dance's style; sampling draws one per dance from a Gaussian fitted to the training dances'
styles (:meth:`generator.model.denoiser.Denoiser.draw_style`; its spread times the config's
``style_scale``), so the seed's choice holds for the whole song. Classifier-free guidance keeps
the same style in both branches: it steers the music's effect, not the style's.
"""

from __future__ import annotations

import numpy as np
import torch

from motionbeat.core import contract, kinematics

SPEED_FLOOR: float = 0.01
"""m/s added before the log: a body part at rest (below 1 cm/s) reads as about log 0.01."""

TORSO: tuple[int, ...] = tuple(
    contract.JOINT_INDEX[n] for n in ("Spine1", "Spine2", "Spine3", "Neck", "Head")
)
ARMS: tuple[int, ...] = tuple(
    contract.JOINT_INDEX[f"{side}_{part}"] for side in ("L", "R")
    for part in ("Collar", "Shoulder", "Elbow", "Wrist", "Hand")
)
LEGS: tuple[int, ...] = tuple(
    contract.JOINT_INDEX[f"{side}_{part}"] for side in ("L", "R")
    for part in ("Hip", "Knee", "Ankle", "Foot")
)
STYLE_NAMES: tuple[str, ...] = ("root_travel", "root_bounce", "torso", "arms", "legs")
"""What each style entry measures (log m/s), in order."""
STYLE_DIM: int = len(STYLE_NAMES)
STYLE_SEED_OFFSET: int = 104_729
"""Added to the seed of the generator that draws a dance's style, so the style does not take
numbers from the noise's stream (the 10000th prime)."""
STYLE_SEED_STRIDE: int = 1_000_003
"""A dance's seed is multiplied by this (a prime above any song's length in milliseconds)
before the song's length is added: each (seed, song) pair has its own style draw."""


def style_seed(seed: int, song_seconds: float) -> int:
    """The seed of the generator that draws the style of a dance with ``seed`` of a song
    ``song_seconds`` long (its decoded length, exact in milliseconds)."""
    return (seed * STYLE_SEED_STRIDE + round(song_seconds * 1000) + STYLE_SEED_OFFSET) % 2**63


def dance_style(frames: np.ndarray | torch.Tensor, fps: float = contract.FPS) -> np.ndarray:
    """(T, D) contract frames (physical units) of one dance -> (STYLE_DIM,) float32 style.

    A dance of one frame has no velocity: every entry is log(SPEED_FLOOR).
    """
    x = torch.as_tensor(np.asarray(frames, dtype=np.float32))
    if x.ndim != 2 or x.shape[-1] != contract.FRAME_DIM:
        raise ValueError(f"expected (T, {contract.FRAME_DIM}) frames, got {tuple(x.shape)}")
    if x.shape[0] < 2:
        return np.full(STYLE_DIM, np.log(SPEED_FLOOR), np.float32)
    rot6d = x[:, contract.ROTATIONS].unflatten(-1, (contract.NUM_JOINTS, contract.ROT6D_DIM))
    joints = kinematics.forward_kinematics(
        kinematics.rot6d_to_matrix(rot6d), x[:, contract.ROOT_POS]
    )  # (T, 24, 3)
    vel = (joints[1:] - joints[:-1]) * fps  # (T-1, 24, 3) m/s
    root = vel[:, 0]  # (T-1, 3)
    floor_axes = [a for a in range(3) if a != contract.UP_AXIS]
    own = (vel - root[:, None]).norm(dim=-1)  # (T-1, 24) speed relative to the root
    speeds = torch.stack([
        root[:, floor_axes].norm(dim=-1).mean(),
        root[:, contract.UP_AXIS].abs().mean(),
        own[:, list(TORSO)].mean(),
        own[:, list(ARMS)].mean(),
        own[:, list(LEGS)].mean(),
    ])  # (STYLE_DIM,)
    return torch.log(SPEED_FLOOR + speeds).numpy().astype(np.float32)


def style_statistics(styles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, K) styles of the training dances -> mean (K,), std (K,) and the lower Cholesky factor
    (K, K) of the standardised styles' covariance: a style is drawn as
    mean + std * (L n), n ~ N(0, I). Fewer than two dances: std 1 and L = I."""
    s = np.asarray(styles, np.float64)
    if s.ndim != 2 or s.shape[1] != STYLE_DIM:
        raise ValueError(f"expected (N, {STYLE_DIM}) styles, got {s.shape}")
    if s.shape[0] < 2:
        mean = s.mean(axis=0) if len(s) else np.full(STYLE_DIM, np.log(SPEED_FLOOR))
        return mean.astype(np.float32), np.ones(STYLE_DIM, np.float32), np.eye(STYLE_DIM, dtype=np.float32)
    mean, std = s.mean(axis=0), np.maximum(s.std(axis=0), 1e-3)
    z = (s - mean) / std  # (N, K)
    cov = np.cov(z, rowvar=False) + 1e-4 * np.eye(STYLE_DIM)  # jitter keeps it positive definite
    return mean.astype(np.float32), std.astype(np.float32), np.linalg.cholesky(cov).astype(np.float32)
