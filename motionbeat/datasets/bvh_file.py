"""BVH (Biovision Hierarchy) files: a parser for any hierarchy and its forward kinematics.

The parser reads the HIERARCHY (ROOT / JOINT / End Site, OFFSET, CHANNELS) and the MOTION
section (``Frames:``, ``Frame Time:``, one line of channel values per frame). It lives here,
below ``render``, so that the dataset loaders (:mod:`motionbeat.datasets.bvh`) and the BVH
export (``render.export``, which re-exports it) share one parser.

Conventions (those of the BVH format as Blender, MotionBuilder and the CMU / LAFAN1 releases
read it):

* rotation channels are degrees, composed left to right in the order listed, each about the
  joint's parent-frame axis after the previous ones: ``CHANNELS 3 Zrotation Xrotation
  Yrotation`` is ``R = Rz(a) Rx(b) Ry(c)`` (intrinsic Z-X-Y);
* forward kinematics: ``R_world[j] = R_world[parent] @ R_local[j]``, ``p[j] = p[parent] +
  R_world[parent] @ OFFSET[j]``, and the root at ``OFFSET[root] + position channels``;
* positions are in file units, with the file's own up axis (BVH has no axis or unit field).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

AXES: dict[str, int] = {"X": 0, "Y": 1, "Z": 2}
"""Index of each channel axis letter."""


class BVHError(ValueError):
    """A BVH file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class BVH:
    """A parsed BVH file.

    Attributes:
        names: joint names in file order. parents: parent index per joint (-1 for the root).
        offsets: (J, 3) in file units. channels: per joint, its channel names.
        frame_time: seconds per frame. values: (T, C) all channels, in file order.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    channels: tuple[tuple[str, ...], ...]
    frame_time: float
    values: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time


def read_bvh(path: str | os.PathLike) -> BVH:
    """Parse a BVH file (any hierarchy, any rotation order); :class:`BVHError` names the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise BVHError(f"{path}: cannot read ({err.strerror or err})") from None
    head, sep, motion_text = text.partition("MOTION")
    if not sep:
        raise BVHError(f"{path.name}: not a BVH file (no MOTION section)")
    tokens = head.split()
    names, parents, offsets, channels = [], [], [], []
    stack: list[int] = []
    i = 0
    try:
        while i < len(tokens):
            tok = tokens[i]
            if tok in ("ROOT", "JOINT"):
                names.append(tokens[i + 1])
                parents.append(stack[-1] if stack else -1)
                offsets.append(None)
                channels.append(())
                i += 2
            elif tok == "End":  # End Site { OFFSET x y z }
                i = tokens.index("}", i) + 1
            elif tok == "{":
                stack.append(len(names) - 1)
                i += 1
            elif tok == "}":
                stack.pop()
                i += 1
            elif tok == "OFFSET":
                offsets[-1] = [float(v) for v in tokens[i + 1 : i + 4]]
                i += 4
            elif tok == "CHANNELS":
                count = int(tokens[i + 1])
                channels[-1] = tuple(tokens[i + 2 : i + 2 + count])
                i += 2 + count
            else:
                i += 1
        lines = motion_text.strip().splitlines()
        num_frames = int(lines[0].split(":")[1])
        frame_time = float(lines[1].split(":")[1])
        values = np.loadtxt(lines[2 : 2 + num_frames], ndmin=2) if num_frames else np.zeros((0, 0))
    except (IndexError, ValueError) as err:
        raise BVHError(f"{path.name}: malformed BVH ({err})") from None
    if not names or any(o is None for o in offsets):
        raise BVHError(f"{path.name}: malformed BVH (no joints, or a joint without OFFSET)")
    width = sum(len(c) for c in channels)
    if values.shape != (num_frames, width):
        raise BVHError(
            f"{path.name}: expected {num_frames} frames of {width} values, got {values.shape}"
        )
    if not frame_time > 0:
        raise BVHError(f"{path.name}: Frame Time must be positive, got {frame_time}")
    return BVH(
        names=tuple(names),
        parents=tuple(parents),
        offsets=np.array(offsets, dtype=np.float64),
        channels=tuple(channels),
        frame_time=frame_time,
        values=values,
    )


def axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """(T,) angles in radians about a coordinate axis -> (T, 3, 3) right-handed rotations."""
    c, s = np.cos(angle), np.sin(angle)
    a, b = [(1, 2), (2, 0), (0, 1)][axis]  # the plane the rotation turns: (y, z), (z, x), (x, y)
    mat = np.zeros((len(angle), 3, 3))
    mat[:, axis, axis] = 1.0
    mat[:, a, a], mat[:, a, b], mat[:, b, a], mat[:, b, b] = c, -s, s, c
    return mat


def channel_rotations(bvh: BVH) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations (T, J, 3, 3) and root position channels (T, 3) from the channel values."""
    num_frames = bvh.values.shape[0]
    rot = np.tile(np.eye(3), (num_frames, len(bvh.names), 1, 1))  # (T, J, 3, 3)
    root_pos = np.zeros((num_frames, 3))
    column = 0
    for j, chans in enumerate(bvh.channels):
        for chan in chans:
            axis, kind = chan[0].upper(), chan[1:].lower()
            value = bvh.values[:, column]
            column += 1
            if kind == "position":
                if bvh.parents[j] < 0:
                    root_pos[:, AXES[axis]] = value
                continue
            rot[:, j] = rot[:, j] @ axis_rotation(AXES[axis], np.radians(value))
    return rot, root_pos


def bvh_forward_kinematics(bvh: BVH) -> tuple[np.ndarray, np.ndarray]:
    """World joint positions (T, J, 3), file units, and world rotations (T, J, 3, 3).

    p_root = OFFSET_root + position channels; p_j = p_parent + R_parent @ OFFSET_j,
    R_j = R_parent @ R_local_j (channels composed left to right).
    """
    rot, root_pos = channel_rotations(bvh)
    world_rot = np.empty_like(rot)  # (T, J, 3, 3)
    pos = np.empty(rot.shape[:2] + (3,))  # (T, J, 3)
    for j, parent in enumerate(bvh.parents):
        if parent < 0:
            world_rot[:, j] = rot[:, j]
            pos[:, j] = bvh.offsets[j] + root_pos
        else:
            world_rot[:, j] = world_rot[:, parent] @ rot[:, j]
            pos[:, j] = pos[:, parent] + world_rot[:, parent] @ bvh.offsets[j]
    return pos, world_rot


def bvh_joint_positions(bvh: BVH) -> np.ndarray:
    """(T, J, 3) world joint positions of a parsed BVH, in file units (:func:`bvh_forward_kinematics`)."""
    return bvh_forward_kinematics(bvh)[0]


def rest_positions(bvh: BVH) -> np.ndarray:
    """(J, 3) joint positions of the rest pose (every channel zero, root at its OFFSET)."""
    pos = np.zeros((len(bvh.names), 3))
    for j, parent in enumerate(bvh.parents):
        pos[j] = bvh.offsets[j] + (pos[parent] if parent >= 0 else 0.0)
    return pos
