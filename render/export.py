"""Exports: BVH of the SMPL skeleton, the project's own ``.npz`` / AIST++ ``.pkl``, and (by
dispatch to :mod:`render.gltf_export`) a skinned, animated ``.glb``.

BVH (Biovision Hierarchy) conventions used here
------------------------------------------------
* Skeleton: the 24 SMPL joints of :mod:`motionbeat.core.contract`, named as there
  (``rig="smpl"``) or with Mixamo's bone names (``rig="mixamo"``, :mod:`render.rigs`), with the
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

The round trip (:func:`read_bvh`, :func:`bvh_joint_positions`) re-reads a file with the
project's BVH parser and forward kinematics (:mod:`motionbeat.datasets.bvh_file`);
``tests/render/test_render_export.py`` and ``docs/render.md``
compare its joint positions with :meth:`Motion.joints`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.core.motion import Motion, MotionFileError
from motionbeat.datasets.bvh_file import BVH, BVHError, bvh_joint_positions, channel_rotations
from motionbeat.datasets.bvh_file import read_bvh as _read_bvh
from render.rigs import DEFAULT_RIG, RigError, contract_order, joint_names

EULER_ORDER = "ZXY"
"""Rotation channel order (intrinsic): R = Rz @ Rx @ Ry."""
UNIT_SCALE = {"m": 1.0, "cm": 100.0}
DECIMALS = 6
END_SITE_LENGTH = 0.06
"""Metres from a leaf joint to its End Site (display only; BVH needs one per leaf)."""


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


def write_bvh(motion: Motion, path: str | os.PathLike, units: str = "m", rig: str = DEFAULT_RIG) -> Path:
    """Write ``motion`` as a BVH of the SMPL skeleton (see the module notes); returns the path."""
    if units not in UNIT_SCALE:
        raise ExportError(f"units must be one of {sorted(UNIT_SCALE)}, got {units!r}")
    try:
        names = joint_names(rig)
    except RigError as err:
        raise ExportError(str(err)) from None
    scale = UNIT_SCALE[units]
    kids, order = _children(), _dfs_order()
    rot_channels = " ".join(f"{axis}rotation" for axis in EULER_ORDER)
    fmt = f"{{:.{DECIMALS}f}}"

    lines = ["HIERARCHY"]

    def emit(j: int, depth: int):
        pad = "  " * depth
        kind = "ROOT" if contract.PARENTS[j] < 0 else "JOINT"
        offset = np.zeros(3) if kind == "ROOT" else contract.REST_OFFSETS[j] * scale
        lines.append(f"{pad}{kind} {names[j]}")
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


def read_bvh(path: str | os.PathLike) -> BVH:
    """Parse a BVH file (any hierarchy, any rotation order); the parser is
    :func:`motionbeat.datasets.bvh_file.read_bvh`, its errors raised here as :class:`ExportError`."""
    try:
        return _read_bvh(path)
    except BVHError as err:
        raise ExportError(str(err)) from None


_channel_rotations = channel_rotations


def _contract_index(bvh: BVH, path) -> list[int]:
    try:
        return contract_order(bvh.names)
    except RigError as err:
        raise ExportError(f"{Path(path).name}: {err}") from None


def load_bvh_motion(path: str | os.PathLike, units: str = "m") -> Motion:
    """Read a BVH of the SMPL skeleton (as :func:`write_bvh` makes, either rig) into a :class:`Motion`."""
    bvh = read_bvh(path)
    index = _contract_index(bvh, path)
    rot, root_pos = _channel_rotations(bvh)
    poses = Rotation.from_matrix(rot[:, index].reshape(-1, 3, 3)).as_rotvec()
    return Motion(
        poses=poses.reshape(-1, contract.NUM_JOINTS, 3),
        trans=(root_pos + bvh.offsets[index[0]]) / UNIT_SCALE[units],
        fps=1.0 / bvh.frame_time,
    )


def bvh_round_trip_error(motion: Motion, path: str | os.PathLike, units: str = "m") -> float:
    """Largest distance, metres, between :meth:`Motion.joints` and the joints FK'd from ``path``."""
    bvh = read_bvh(path)
    index = _contract_index(bvh, path)
    positions = bvh_joint_positions(bvh)[:, index] / UNIT_SCALE[units]
    return float(np.linalg.norm(positions - motion.joints(), axis=-1).max())


# ------------------------------------------------------------------------------ dispatch

EXPORT_SUFFIXES = (".bvh", ".npz", ".pkl", ".glb")
EXPORT_FORMATS: tuple[str, ...] = tuple(s.lstrip(".") for s in EXPORT_SUFFIXES)
"""Format names (``--formats npz,pkl,bvh,glb``), one per suffix."""


def export_motion(
    motion: Motion,
    path: str | os.PathLike,
    units: str = "m",
    rig: str = DEFAULT_RIG,
    body: str = "mannequin",
    smpl_path: str | os.PathLike | None = None,
) -> Path:
    """Write ``motion`` by suffix: ``.bvh`` (:func:`write_bvh`), ``.npz``, AIST++ ``.pkl`` or ``.glb``.

    ``rig`` names the skeleton of BVH and GLB files; ``body`` (and ``smpl_path`` for
    ``"smpl"``) is the GLB's mesh (:func:`render.gltf_export.write_glb`).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        return write_bvh(motion, path, units=units, rig=rig)
    if suffix == ".glb":
        from render.gltf_export import write_glb

        try:
            joint_names(rig)
        except RigError as err:
            raise ExportError(str(err)) from None
        return write_glb(motion, path, body=body, rig=rig, smpl_path=smpl_path)
    if suffix in (".npz", ".pkl"):
        try:
            return motion.save(path)
        except MotionFileError as err:
            raise ExportError(str(err)) from None
    raise ExportError(f"{path.name}: unknown export format (use {', '.join(EXPORT_SUFFIXES)})")
