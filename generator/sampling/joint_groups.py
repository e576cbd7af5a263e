"""Named joint sets of the frame layout and the channel masks over them.

Used by editing (which channels a constraint keeps) and by beat guidance (which channels its
nudge may move); SMPL joint names from :mod:`motionbeat.core.contract`.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from motionbeat.core import contract

JOINT_GROUPS: dict[str, tuple[str, ...]] = {
    "lower_body": (
        "Pelvis",
        "L_Hip",
        "R_Hip",
        "L_Knee",
        "R_Knee",
        "L_Ankle",
        "R_Ankle",
        "L_Foot",
        "R_Foot",
    ),
    "upper_body": (
        "Spine1",
        "Spine2",
        "Spine3",
        "Neck",
        "Head",
        "L_Collar",
        "R_Collar",
        "L_Shoulder",
        "R_Shoulder",
        "L_Elbow",
        "R_Elbow",
        "L_Wrist",
        "R_Wrist",
        "L_Hand",
        "R_Hand",
    ),
    "left_arm": ("L_Collar", "L_Shoulder", "L_Elbow", "L_Wrist", "L_Hand"),
    "right_arm": ("R_Collar", "R_Shoulder", "R_Elbow", "R_Wrist", "R_Hand"),
    "left_leg": ("L_Hip", "L_Knee", "L_Ankle", "L_Foot"),
    "right_leg": ("R_Hip", "R_Knee", "R_Ankle", "R_Foot"),
    "torso": ("Pelvis", "Spine1", "Spine2", "Spine3", "Neck", "Head"),
    "full_body": contract.JOINT_NAMES,
}
"""Named joint sets (SMPL names). The pelvis rotation is the body's global orientation."""

GROUPS_WITH_ROOT: frozenset[str] = frozenset({"lower_body", "full_body"})
"""Groups whose mask also holds the root position and the foot contacts by default."""


def joint_channels(joints: Iterable[str | int]) -> list[int]:
    """Frame channels of the 6-D rotations of ``joints`` (names or indices)."""
    channels: list[int] = []
    for joint in joints:
        j = contract.JOINT_INDEX[joint] if isinstance(joint, str) else int(joint)
        if not 0 <= j < contract.NUM_JOINTS:
            raise ValueError(f"joint index {j} outside [0, {contract.NUM_JOINTS})")
        first = contract.ROTATIONS.start + j * contract.ROT6D_DIM
        channels.extend(range(first, first + contract.ROT6D_DIM))
    return channels


def channel_mask(
    joints: Iterable[str | int] | str = (), root: bool | None = None, contacts: bool | None = None
) -> torch.Tensor:
    """(D,) bool mask over the frame layout: rotations of ``joints``, root position, contacts.

    ``joints`` may be a group name of :data:`JOINT_GROUPS`; ``root`` and ``contacts`` default to
    True for groups in :data:`GROUPS_WITH_ROOT` (the lower body carries the root and the feet)
    and to False otherwise.
    """
    group = joints if isinstance(joints, str) else None
    if group is not None:
        if group not in JOINT_GROUPS:
            raise KeyError(f"unknown joint group {group!r}; choose from {sorted(JOINT_GROUPS)}")
        joints = JOINT_GROUPS[group]
    with_root = group in GROUPS_WITH_ROOT
    mask = torch.zeros(contract.FRAME_DIM, dtype=torch.bool)
    mask[joint_channels(joints)] = True
    if with_root if root is None else root:
        mask[contract.ROOT_POS] = True
    if with_root if contacts is None else contacts:
        mask[contract.CONTACTS] = True
    return mask
