"""Exports: BVH of the SMPL skeleton, and the project's own ``.npz`` / AIST++ ``.pkl``.

BVH (Biovision Hierarchy) conventions used here
------------------------------------------------
* Skeleton: the 24 SMPL joints of :mod:`motionbeat.core.contract`, named as there, with the
  neutral rest offsets. Leaf joints (head, toes, hands) end in an ``End Site``.
* Axes: the project's own, **y up**, +z the way the rest pose faces, +x the body's left.
  BVH has no axis field; y-up is what BVH tools assume.
* Units: **metres** by default (``units="m"``), so Blender's importer at its default
  *Scale 1.0* makes a 1.7 m dancer; ``units="cm"`` multiplies every length by 100 for tools
  that expect centimetres (MotionBuilder, Maya; import those into Blender at Scale 0.01).
* Channels: the root has ``Xposition Yposition Zposition`` (the pelvis position, root OFFSET
  zero so absolute and offset-relative readings agree) then rotations; every joint rotates
  with ``Zrotation Xrotation Yrotation`` in degrees. Listed channels compose left to right,
  ``R = Rz(a) Rx(b) Ry(c)`` (intrinsic Z-X-Y), the reading of Blender and most tools.
  Angles are unwrapped over time so curves do not jump by 360 degrees.
* Blender (File > Import > Motion Capture (.bvh)): keep *Forward -Z* and *Up Y* (the
  defaults). Blender then stands the dancer on its ground plane (z = 0), z up, facing -Y (the
  Front view), at the right size with Scale 1.0 for a metre file. Tick *Scale FPS* or set the
  scene to the file's frame rate (30 fps).

The round trip (:func:`read_bvh`, :func:`bvh_joint_positions`) re-reads a file with its own
small parser and forward kinematics; ``tests/render/test_export.py`` and ``docs/render.md``
compare its joint positions with :meth:`Motion.joints`.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.core.motion import Motion, MotionFileError

EULER_ORDER = "ZXY"
"""Rotation channel order (intrinsic): R = Rz @ Rx @ Ry."""
UNIT_SCALE = {"m": 1.0, "cm": 100.0}
DECIMALS = 6
END_SITE_LENGTH = 0.06
"""Metres from a leaf joint to its End Site (display only; BVH needs one per leaf)."""
_AXIS = {"X": 0, "Y": 1, "Z": 2}


class ExportError(ValueError):
    """An export failed: unknown format, bad units, unreadable BVH."""


def publish_permissions(path: str | os.PathLike) -> None:
    """Give a temporary file (created 0600) the permissions a new file would get (umask)."""
    umask = os.umask(0)
    os.umask(umask)
    Path(path).chmod(0o666 & ~umask)


def _children() -> list[list[int]]:
    kids: list[list[int]] = [[] for _ in contract.PARENTS]
    for j, parent in enumerate(contract.PARENTS):
        if parent >= 0:
            kids[parent].append(j)
    return kids


def _dfs_order() -> list[int]:
    """SMPL joints in the depth-first order of the BVH hierarchy (and of each MOTION line)."""
    kids, order, stack = _children(), [], [0]
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(reversed(kids[j]))
    return order


def _end_site(joint: int) -> np.ndarray:
    """End Site offset of a leaf: along its own bone, :data:`END_SITE_LENGTH` long."""
    bone = contract.REST_OFFSETS[joint].astype(np.float64)
    if joint == contract.JOINT_INDEX["Head"]:
        bone = np.array([0.0, 1.0, 0.0])
    return END_SITE_LENGTH * bone / np.linalg.norm(bone)


def write_bvh(motion: Motion, path: str | os.PathLike, units: str = "m") -> Path:
    """Write ``motion`` as a BVH of the SMPL skeleton (see the module notes); returns the path."""
    if units not in UNIT_SCALE:
        raise ExportError(f"units must be one of {sorted(UNIT_SCALE)}, got {units!r}")
    scale = UNIT_SCALE[units]
    kids, order = _children(), _dfs_order()
    rot_channels = " ".join(f"{axis}rotation" for axis in EULER_ORDER)
    fmt = f"{{:.{DECIMALS}f}}"

    lines = ["HIERARCHY"]

    def emit(j: int, depth: int):
        pad = "  " * depth
        kind = "ROOT" if contract.PARENTS[j] < 0 else "JOINT"
        offset = np.zeros(3) if kind == "ROOT" else contract.REST_OFFSETS[j] * scale
        lines.append(f"{pad}{kind} {contract.JOINT_NAMES[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET " + " ".join(fmt.format(v) for v in offset))
        if kind == "ROOT":
            lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition {rot_channels}")
        else:
            lines.append(f"{pad}  CHANNELS 3 {rot_channels}")
        for k in kids[j]:
            emit(k, depth + 1)
        if not kids[j]:
            site = _end_site(j) * scale
            lines.append(f"{pad}  End Site")
            lines.append(f"{pad}  {{")
            lines.append(f"{pad}    OFFSET " + " ".join(fmt.format(v) for v in site))
            lines.append(f"{pad}  }}")
        lines.append(f"{pad}}}")

    emit(0, 0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gimbal lock: still an exact decomposition
        euler = Rotation.from_rotvec(motion.poses.reshape(-1, 3).astype(np.float64)).as_euler(
            EULER_ORDER, degrees=True
        )
    euler = euler.reshape(motion.num_frames, contract.NUM_JOINTS, 3)  # (T, 24, 3)
    euler = np.unwrap(euler, period=360.0, axis=0)[:, order]  # (T, 24, 3) in file order
    values = np.concatenate(
        [motion.trans.astype(np.float64) * scale, euler.reshape(motion.num_frames, -1)], axis=1
    )  # (T, 3 + 72)
    lines += ["MOTION", f"Frames: {motion.num_frames}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="ascii", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
        np.savetxt(fh, values, fmt=f"%.{DECIMALS}f", delimiter=" ")
        publish_permissions(tmp)
    return path


# ----------------------------------------------------------------------------- reading


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


def read_bvh(path: str | os.PathLike) -> BVH:
    """Parse a BVH file (any hierarchy, any rotation order)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise ExportError(f"{path}: cannot read ({err.strerror or err})") from None
    head, sep, motion_text = text.partition("MOTION")
    if not sep:
        raise ExportError(f"{path.name}: not a BVH file (no MOTION section)")
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
        raise ExportError(f"{path.name}: malformed BVH ({err})") from None
    width = sum(len(c) for c in channels)
    if values.shape != (num_frames, width):
        raise ExportError(
            f"{path.name}: expected {num_frames} frames of {width} values, got {values.shape}"
        )
    return BVH(
        names=tuple(names),
        parents=tuple(parents),
        offsets=np.array(offsets, dtype=np.float64),
        channels=tuple(channels),
        frame_time=frame_time,
        values=values,
    )


def _axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """(T,) angles in radians about a coordinate axis -> (T, 3, 3) right-handed rotations."""
    c, s = np.cos(angle), np.sin(angle)
    a, b = [(1, 2), (2, 0), (0, 1)][axis]  # the plane the rotation turns: (y, z), (z, x), (x, y)
    mat = np.zeros((len(angle), 3, 3))
    mat[:, axis, axis] = 1.0
    mat[:, a, a], mat[:, a, b], mat[:, b, a], mat[:, b, b] = c, -s, s, c
    return mat


def _channel_rotations(bvh: BVH) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations (T, J, 3, 3) and root positions (T, 3) from the channel values."""
    num_frames = bvh.values.shape[0]
    rot = np.tile(np.eye(3), (num_frames, len(bvh.names), 1, 1))
    root_pos = np.zeros((num_frames, 3))
    column = 0
    for j, chans in enumerate(bvh.channels):
        for chan in chans:
            axis, kind = chan[0].upper(), chan[1:].lower()
            value = bvh.values[:, column]
            column += 1
            if kind == "position":
                if bvh.parents[j] < 0:
                    root_pos[:, _AXIS[axis]] = value
                continue
            rot[:, j] = rot[:, j] @ _axis_rotation(_AXIS[axis], np.radians(value))
    return rot, root_pos


def bvh_joint_positions(bvh: BVH) -> np.ndarray:
    """(T, J, 3) world joint positions of a parsed BVH, in file units, by forward kinematics.

    p_root = OFFSET_root + position channels; p_j = p_parent + R_parent @ OFFSET_j,
    R_j = R_parent @ R_local_j (channels composed left to right).
    """
    rot, root_pos = _channel_rotations(bvh)
    world_rot = np.empty_like(rot)
    pos = np.empty(rot.shape[:2] + (3,))
    for j, parent in enumerate(bvh.parents):
        if parent < 0:
            world_rot[:, j] = rot[:, j]
            pos[:, j] = bvh.offsets[j] + root_pos
        else:
            world_rot[:, j] = world_rot[:, parent] @ rot[:, j]
            pos[:, j] = pos[:, parent] + world_rot[:, parent] @ bvh.offsets[j]
    return pos


def load_bvh_motion(path: str | os.PathLike, units: str = "m") -> Motion:
    """Read a BVH of the SMPL skeleton (as :func:`write_bvh` makes) back into a :class:`Motion`."""
    bvh = read_bvh(path)
    missing = set(contract.JOINT_NAMES) - set(bvh.names)
    if missing:
        raise ExportError(
            f"{Path(path).name}: not an SMPL-skeleton BVH (missing {sorted(missing)})"
        )
    rot, root_pos = _channel_rotations(bvh)
    index = [bvh.names.index(n) for n in contract.JOINT_NAMES]
    poses = Rotation.from_matrix(rot[:, index].reshape(-1, 3, 3)).as_rotvec()
    return Motion(
        poses=poses.reshape(-1, contract.NUM_JOINTS, 3),
        trans=(root_pos + bvh.offsets[index[0]]) / UNIT_SCALE[units],
        fps=1.0 / bvh.frame_time,
    )


def bvh_round_trip_error(motion: Motion, path: str | os.PathLike, units: str = "m") -> float:
    """Largest distance, metres, between :meth:`Motion.joints` and the joints FK'd from ``path``."""
    bvh = read_bvh(path)
    index = [bvh.names.index(n) for n in contract.JOINT_NAMES]
    positions = bvh_joint_positions(bvh)[:, index] / UNIT_SCALE[units]
    return float(np.linalg.norm(positions - motion.joints(), axis=-1).max())


# ------------------------------------------------------------------------------ dispatch

EXPORT_SUFFIXES = (".bvh", ".npz", ".pkl")


def export_motion(motion: Motion, path: str | os.PathLike, units: str = "m") -> Path:
    """Write ``motion`` by suffix: ``.bvh`` (:func:`write_bvh`), ``.npz`` or AIST++ ``.pkl``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        return write_bvh(motion, path, units=units)
    if suffix in (".npz", ".pkl"):
        try:
            return motion.save(path)
        except MotionFileError as err:
            raise ExportError(str(err)) from None
    raise ExportError(f"{path.name}: unknown export format (use {', '.join(EXPORT_SUFFIXES)})")
