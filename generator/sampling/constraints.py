"""Editing constraints taken from a motion (keyframes, kept joints), fitted to an excerpt."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from generator.sampling.editing import Constraint, inbetween_constraint, joint_constraint
from motionbeat.core import contract
from motionbeat.core.motion import Motion

KEYFRAME_EVERY_S: float = 2.0
"""Seconds between the keyframes :func:`keyframe_constraint` takes from a motion."""


def keyframe_constraint(source: Motion, every: float = KEYFRAME_EVERY_S) -> Constraint:
    """In-betweening: the poses (root position and rotations) of ``source`` every ``every``
    seconds from its first frame, and its last frame; the rest is left to the model.

    The constraint has the source's length (at :data:`contract.FPS`); frame 0 of the source
    lines up with frame 0 of the generated excerpt.
    """
    if not (math.isfinite(every) and every > 0):
        raise ValueError(f"keyframes must be a positive number of seconds apart, got {every}")
    frames = source.resampled(contract.FPS).to_features()  # (T, D)
    count = frames.shape[0]
    step = max(1, round(every * contract.FPS))
    keys = sorted(set(range(0, count, step)) | {count - 1})
    return inbetween_constraint(count, {k: frames[k] for k in keys})


def keep_joints_constraint(source: Motion, joints: str | Sequence[str] = "lower_body") -> Constraint:
    """Keep ``joints`` of ``source`` (a :data:`generator.sampling.joint_groups.JOINT_GROUPS` name such as
    ``"lower_body"``, or joint names) for all its frames and generate the rest."""
    return joint_constraint(source.resampled(contract.FPS).to_features(), joints)


def fit_constraint(constraint: Constraint, num_frames: int) -> Constraint:
    """The constraint cropped, or padded with unconstrained frames, to ``num_frames``."""
    have = constraint.num_frames
    if have == num_frames:
        return constraint
    if have > num_frames:
        return Constraint(constraint.mask[:num_frames], constraint.values[:num_frames])
    pad = num_frames - have
    mask = torch.cat([constraint.mask, constraint.mask.new_zeros(pad, contract.FRAME_DIM)])
    values = torch.cat([constraint.values, constraint.values.new_zeros(pad, contract.FRAME_DIM)])
    return Constraint(mask, values)
