"""Joint-name maps from other skeletons to SMPL's 24 joints, and the user's own map file.

A map is ``{SMPL joint name: source joint name}`` over :data:`contract.JOINT_NAMES`; SMPL
joints it leaves out are *unmapped* (they follow their parent, see
:mod:`motionbeat.datasets.retarget`). Source names are compared without a namespace prefix
(``mixamorig:Hips``, ``mixamorig1:Hips`` and ``Hips`` are the same joint) and without case.

Shipped maps (the rigs' published joint names):

* ``mixamo``: Adobe Mixamo rigs (``mixamorig:Hips``, ``Spine``, ``Spine1``, ``Spine2``, ...);
  SMPL's hand joint is the middle finger's first bone (``LeftHandMiddle1``).
* ``bandai_namco``: the Bandai-Namco Research motion dataset (``Hips``, ``Spine``, ``Chest``,
  ``Neck``, ``Head``, ``Shoulder_L``, ``UpperArm_L``, ...). It has two spine joints where SMPL
  has three; SMPL's ``Spine3`` is unmapped.
* ``cmu``: the CMU mocap BVH conversions (``Hips``, ``LHipJoint``, ``LeftUpLeg``,
  ``LowerBack``, ``Spine``, ``Spine1``, ``Neck``, ``Neck1``, ``Head``, ...).
* ``lafan1``: Ubisoft LAFAN1 (``Hips``, ``LeftUpLeg``, ..., ``LeftToe``, ``Spine``,
  ``Spine1``, ``Spine2``, ``Neck``, ``Head``, ...).
* ``smpl``: the project's own BVH export (SMPL names).

User map file (JSON): either the flat map ``{"Pelvis": "root", "L_Hip": "lhip", ...}``, or
``{"joints": {...the map...}, "source_joint_names": [...]}`` where ``source_joint_names``
names the columns of a positions file that carries no names (e.g. Dance with Melody).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from motionbeat.core import contract

JOINT_MAP_FILE: str = "joint_map.json"
"""A user map inside a dataset folder is picked up under this name."""


def _sided(base: dict[str, str], left: str, right: str, sided: dict[str, str]) -> dict[str, str]:
    """``base`` plus each ``sided`` pair written once with ``{s}`` for the side."""
    out = dict(base)
    for smpl, name in sided.items():
        out[f"L_{smpl}"] = name.format(s=left)
        out[f"R_{smpl}"] = name.format(s=right)
    return out


MIXAMO: dict[str, str] = _sided(
    {"Pelvis": "Hips", "Spine1": "Spine", "Spine2": "Spine1", "Spine3": "Spine2", "Neck": "Neck",
     "Head": "Head"},
    "Left", "Right",
    {"Hip": "{s}UpLeg", "Knee": "{s}Leg", "Ankle": "{s}Foot", "Foot": "{s}ToeBase",
     "Collar": "{s}Shoulder", "Shoulder": "{s}Arm", "Elbow": "{s}ForeArm", "Wrist": "{s}Hand",
     "Hand": "{s}HandMiddle1"},
)
BANDAI_NAMCO: dict[str, str] = _sided(
    {"Pelvis": "Hips", "Spine1": "Spine", "Spine2": "Chest", "Neck": "Neck", "Head": "Head"},
    "L", "R",
    {"Hip": "UpperLeg_{s}", "Knee": "LowerLeg_{s}", "Ankle": "Foot_{s}", "Foot": "Toes_{s}",
     "Collar": "Shoulder_{s}", "Shoulder": "UpperArm_{s}", "Elbow": "LowerArm_{s}",
     "Wrist": "Hand_{s}"},
)
CMU: dict[str, str] = _sided(
    {"Pelvis": "Hips", "Spine1": "LowerBack", "Spine2": "Spine", "Spine3": "Spine1",
     "Neck": "Neck", "Head": "Head"},
    "Left", "Right",
    {"Hip": "{s}UpLeg", "Knee": "{s}Leg", "Ankle": "{s}Foot", "Foot": "{s}ToeBase",
     "Collar": "{s}Shoulder", "Shoulder": "{s}Arm", "Elbow": "{s}ForeArm", "Wrist": "{s}Hand",
     "Hand": "{s}HandIndex1"},
)
LAFAN1: dict[str, str] = _sided(
    {"Pelvis": "Hips", "Spine1": "Spine", "Spine2": "Spine1", "Spine3": "Spine2", "Neck": "Neck",
     "Head": "Head"},
    "Left", "Right",
    {"Hip": "{s}UpLeg", "Knee": "{s}Leg", "Ankle": "{s}Foot", "Foot": "{s}Toe",
     "Collar": "{s}Shoulder", "Shoulder": "{s}Arm", "Elbow": "{s}ForeArm", "Wrist": "{s}Hand"},
)
SMPL: dict[str, str] = {name: name for name in contract.JOINT_NAMES}

SHIPPED_MAPS: dict[str, dict[str, str]] = {
    "smpl": SMPL, "mixamo": MIXAMO, "lafan1": LAFAN1, "cmu": CMU, "bandai_namco": BANDAI_NAMCO,
}
"""Every shipped map by name; :func:`detect_joint_map` tries them in this order."""


class JointMapError(ValueError):
    """A joint map is malformed or does not fit the skeleton it is used on."""


def plain_name(name: str) -> str:
    """A joint name without namespace prefix and case: ``mixamorig:LeftArm`` -> ``leftarm``."""
    return name.rsplit(":", 1)[-1].strip().lower()


def resolve(joint_map: dict[str, str], names: Iterable[str]) -> dict[int, int]:
    """``{SMPL joint index: source joint index}`` for the map's joints present in ``names``."""
    index = {}
    for i, name in enumerate(names):
        index.setdefault(plain_name(name), i)
    return {contract.JOINT_INDEX[smpl]: index[plain_name(src)]
            for smpl, src in joint_map.items() if plain_name(src) in index}


def detect_joint_map(names: Iterable[str]) -> tuple[str, dict[str, str]]:
    """The shipped map that finds the most of its joints in ``names`` (the earliest on a tie).

    Raises :class:`JointMapError` when none finds the pelvis and both hips, knees and ankles.
    """
    names = list(names)
    scored = [(len(resolve(m, names)), -i, key) for i, (key, m) in enumerate(SHIPPED_MAPS.items())]
    _, _, best = max(scored)
    found = resolve(SHIPPED_MAPS[best], names)
    check_core_joints(found, f"no shipped joint map ({', '.join(SHIPPED_MAPS)}) fits joints "
                             f"{names[:8]}...; give a {JOINT_MAP_FILE}")
    return best, SHIPPED_MAPS[best]


CORE_JOINTS: tuple[str, ...] = ("Pelvis", "L_Hip", "R_Hip", "L_Knee", "R_Knee", "L_Ankle", "R_Ankle")
"""SMPL joints every map must find: without them no floor, legs or facing can be recovered."""


def check_core_joints(found: dict[int, int], message: str) -> None:
    missing = [n for n in CORE_JOINTS if contract.JOINT_INDEX[n] not in found]
    if missing:
        raise JointMapError(f"{message} (missing SMPL joints {missing})")


def load_joint_map(path: str | os.PathLike) -> tuple[dict[str, str], list[str] | None]:
    """A user map file (module docstring) -> (map, source joint names or None)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise JointMapError(f"{path}: unreadable joint map ({err})") from None
    if not isinstance(data, dict):
        raise JointMapError(f"{path}: a joint map is a JSON object")
    names = data.get("source_joint_names")
    joints = data.get("joints", data if "source_joint_names" not in data else {})
    if not isinstance(joints, dict) or not all(isinstance(v, str) for v in joints.values()):
        raise JointMapError(f"{path}: the map must be {{SMPL joint name: source joint name}}")
    unknown = sorted(set(joints) - set(contract.JOINT_NAMES))
    if unknown:
        raise JointMapError(f"{path}: not SMPL joint names: {unknown}; use {list(contract.JOINT_NAMES)}")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise JointMapError(f"{path}: source_joint_names must be a list of strings")
    return dict(joints), names
