"""Skeleton naming for exports: the SMPL names of the contract, or Mixamo's bone names.

Both rigs are the same 24-joint skeleton of :mod:`motionbeat.core.contract` (same parents, same
rest offsets, same rest pose: SMPL's T-pose, every bone frame aligned with the world axes at
rest); only the joint names differ. ``docs/render.md`` states how the axes and the rest pose
map onto a Mixamo character.

Mixamo has no joint where SMPL's hand joint sits (the knuckles, about 9 cm past the wrist):
it is named after the bone that starts there, ``mixamorig:LeftHandMiddle1``.
"""

from __future__ import annotations

from collections.abc import Sequence

from motionbeat.core import contract
from motionbeat.datasets.joint_maps import MIXAMO

MIXAMO_PREFIX = "mixamorig:"
MIXAMO_BONES: dict[str, str] = MIXAMO
"""SMPL joint name -> Mixamo bone name, without the ``mixamorig:`` prefix (the dataset loaders' map)."""

RIGS: dict[str, tuple[str, ...]] = {
    "smpl": contract.JOINT_NAMES,
    "mixamo": tuple(MIXAMO_PREFIX + MIXAMO_BONES[name] for name in contract.JOINT_NAMES),
}
"""Joint names of each rig, in contract joint order."""
RIG_NAMES: tuple[str, ...] = tuple(RIGS)
DEFAULT_RIG = "smpl"


class RigError(ValueError):
    """An unknown rig, or joint names that belong to no rig."""


def joint_names(rig: str = DEFAULT_RIG) -> tuple[str, ...]:
    """The rig's joint names in contract order (``contract.JOINT_NAMES`` for ``"smpl"``)."""
    if rig not in RIGS:
        raise RigError(f"unknown rig {rig!r}; choose one of {', '.join(RIG_NAMES)}")
    return RIGS[rig]


def contract_order(names: Sequence[str]) -> list[int]:
    """Positions in ``names`` of the contract joints, in contract order, whichever rig named them.

    Raises :class:`RigError` when ``names`` lacks a joint of every rig.
    """
    missing: set[str] = set()
    for rig in RIG_NAMES:
        wanted = RIGS[rig]
        missing = set(wanted) - set(names)
        if not missing:
            return [list(names).index(n) for n in wanted]
    raise RigError(
        f"not a {'/'.join(RIG_NAMES)} skeleton (missing {sorted(set(contract.JOINT_NAMES) - set(names))})"
    )
