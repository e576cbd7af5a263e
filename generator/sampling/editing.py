"""Editing by inpainting: in-betweening between given poses and joint-wise constraints.

EDGE (Tseng et al., CVPR 2023, Sec. 3.3) edits with diffusion inpainting: a mask m over the
(T, D) frames says which values are given, and at every denoising step the given values, noised
to the current step, replace the sample there (:class:`generator.model.diffusion.Inpainting`). Any
mask over time and channels works; two kinds are named here:

* in-betweening: whole poses given at chosen frame indices (keyframes), the rest generated;
* joint-wise: some joints' rotations (and optionally the root position and foot contacts) kept
  from an input motion for all or some frames, e.g. keep the lower body and generate the upper
  body to the music.

A :class:`Constraint` is a (T, D) bool mask with (T, D) physical values; constraints combine
with ``|``. :func:`edit` samples under one; it runs long-form sampling, so any length works.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from generator.model.denoiser import Denoiser
from generator.model.diffusion import SamplingScheduler
from generator.sampling.joint_groups import channel_mask
from generator.sampling.longform import sample_long
from motionbeat.core import contract


@dataclass(frozen=True)
class Constraint:
    """Given values for sampling: ``mask`` (T, D) bool and ``values`` (T, D) physical frames."""

    mask: torch.Tensor
    values: torch.Tensor

    def __post_init__(self):
        if self.mask.shape != self.values.shape or self.mask.shape[-1] != contract.FRAME_DIM:
            raise ValueError(
                f"mask and values must both be (T, {contract.FRAME_DIM}), "
                f"got {tuple(self.mask.shape)} and {tuple(self.values.shape)}"
            )

    @property
    def num_frames(self) -> int:
        return self.mask.shape[0]

    def __or__(self, other: Constraint) -> Constraint:
        """Both constraints; where both give a value, ``other`` wins."""
        values = torch.where(other.mask, other.values, self.values)
        return Constraint(self.mask | other.mask, values)


def _frames(x) -> torch.Tensor:
    return torch.as_tensor(
        np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.float32
    )


def inbetween_constraint(
    num_frames: int,
    keyframes: Mapping[int, torch.Tensor | np.ndarray],
    channels: torch.Tensor | None = None,
) -> Constraint:
    """Poses given at frame indices: ``keyframes`` maps frame index -> (D,) physical frame.

    Args:
        channels: (D,) bool channels to hold at each keyframe; by default the root position and
            every rotation, leaving the contacts (undefined for a lone pose) to the model.
    """
    if channels is None:
        channels = channel_mask(contract.JOINT_NAMES, root=True, contacts=False)
    mask = torch.zeros(num_frames, contract.FRAME_DIM, dtype=torch.bool)
    values = torch.zeros(num_frames, contract.FRAME_DIM)
    for frame, pose in keyframes.items():
        if not -num_frames <= frame < num_frames:
            raise IndexError(f"keyframe {frame} outside a {num_frames}-frame motion")
        mask[frame] = channels
        values[frame] = _frames(pose).reshape(contract.FRAME_DIM)
    return Constraint(mask, values)


def joint_constraint(
    source: torch.Tensor | np.ndarray,
    joints: Iterable[str | int] | str = "lower_body",
    frames: slice | Iterable[int] | None = None,
    root: bool | None = None,
    contacts: bool | None = None,
) -> Constraint:
    """Keep ``joints`` of a (T, D) source motion (frames from ``Motion.to_features()``).

    Args:
        joints: joint names / indices or a :data:`JOINT_GROUPS` name ("lower_body" holds the
            pelvis, hips, knees, ankles and feet plus the root position and the contacts).
        frames: the frames to hold (a slice or indices); all by default.
        root, contacts: override whether the root position / contacts are held.
    """
    values = _frames(source)  # (T, D)
    channels = channel_mask(joints, root=root, contacts=contacts)  # (D,)
    rows = torch.zeros(values.shape[0], dtype=torch.bool)
    rows[slice(None) if frames is None else frames] = True
    mask = rows[:, None] & channels[None, :]  # (T, D)
    return Constraint(mask, values)


@torch.no_grad()
def edit(
    denoiser: Denoiser,
    scheduler: SamplingScheduler,
    music: torch.Tensor,
    constraint: Constraint,
    phase: torch.Tensor | None = None,
    **sample_kwargs,
) -> torch.Tensor:
    """(T, C) music and a (T, D) constraint -> (T, D) frames that hold the constraint exactly.

    ``sample_kwargs`` go to :func:`generator.sampling.longform.sample_long` (num_steps, guidance_weight,
    generator, ...).
    """
    if constraint.num_frames != music.shape[0]:
        raise ValueError(f"constraint has {constraint.num_frames} frames, music {music.shape[0]}")
    device = music.device
    return sample_long(
        denoiser,
        scheduler,
        music,
        phase,
        known_mask=constraint.mask.to(device),
        known_frames=constraint.values.to(device),
        **sample_kwargs,
    )


def inbetween(
    denoiser: Denoiser,
    scheduler: SamplingScheduler,
    music: torch.Tensor,
    keyframes: Mapping[int, torch.Tensor | np.ndarray],
    phase: torch.Tensor | None = None,
    **sample_kwargs,
) -> torch.Tensor:
    """Dance through given poses: (T, C) music, {frame: (D,) pose} -> (T, D) frames."""
    constraint = inbetween_constraint(music.shape[0], keyframes)
    return edit(denoiser, scheduler, music, constraint, phase, **sample_kwargs)


def keep_joints(
    denoiser: Denoiser,
    scheduler: SamplingScheduler,
    music: torch.Tensor,
    source: torch.Tensor | np.ndarray,
    joints: Iterable[str | int] | str = "lower_body",
    phase: torch.Tensor | None = None,
    **sample_kwargs,
) -> torch.Tensor:
    """Regenerate everything but ``joints`` of a (T, D) source motion: -> (T, D) frames."""
    constraint = joint_constraint(source, joints)
    return edit(denoiser, scheduler, music, constraint, phase, **sample_kwargs)
