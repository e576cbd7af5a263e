"""Bodies: turn SMPL poses (axis-angle, metres, y-up) into meshes to draw.

Three bodies share one small protocol, :class:`Body`:

* :class:`MannequinBody` - the free wooden mannequin of ``mannequin-x`` (Apache-2.0). Its
  skeleton is SMPL-X's, which is not SMPL's: with the same pose its feet sit about 2 cm higher
  than the SMPL skeleton's (measured by :func:`mannequin_foot_offset`, stated in
  ``docs/render.md``). The body corrects this by *retargeting its legs*: pelvis, spine root,
  hips, knees, ankles and toes are placed exactly on the SMPL skeleton of
  :mod:`motionbeat.core.contract`, and the leg segments of the rest mesh are stretched to SMPL's bone
  lengths (an affine map per bone, the same least-squares construction mannequin-x uses for its
  own shape changes). The upper body keeps the mannequin's proportions.
* :class:`SMPLBody` - the SMPL mesh through ``smplx`` when the user has the licensed model
  files (option or the ``MOTIONBEAT_SMPL_DIR`` environment variable). Plain ``.npz`` files are
  read with pickles off; ``.pkl`` files through a restricted unpickler (numpy and scipy sparse
  only).
* :class:`SkeletonBody` - spheres on the joints and capsules on the bones of the contract
  skeleton: fast, licence free, exact joint positions.

Every body is posed by linear blend skinning (Magnenat-Thalmann et al. 1988; SMPL's ``lbs``):
with world joint transforms ``G_j = [R_j | p_j - R_j b_j]`` (``b_j`` the rest joint),
``v' = (sum_k w_vk G_jk) [v; 1]``. Normals take the blended rotation, ``n' ~ (sum_k w_vk R_jk) n``,
renormalised. The blend is one sparse (V x J) by dense (J x 12T) product per chunk of frames.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import scipy.sparse
import torch
import trimesh

from motionbeat.core import contract, kinematics

SMPL_DIR_ENV = "MOTIONBEAT_SMPL_DIR"
"""Environment variable naming a SMPL model file or a folder that holds one."""

BODY_NAMES: tuple[str, ...] = ("mannequin", "smpl", "skeleton")
"""Names accepted by :func:`make_body` and ``--body``."""

POSE_CHUNK_FRAMES = 16
"""Frames posed per batch; bounds the memory of the (V, 12T) blend to a few tens of MB."""

# Joints of the mannequin that are put exactly on the SMPL skeleton (the legs and the spine
# root, a set closed under "parent of"): the feet then land where the SMPL skeleton's do.
_J = contract.JOINT_INDEX
MANNEQUIN_SMPL_JOINTS: tuple[int, ...] = tuple(
    _J[n]
    for n in (
        "Pelvis",
        "L_Hip",
        "R_Hip",
        "Spine1",
        "L_Knee",
        "R_Knee",
        "L_Ankle",
        "R_Ankle",
        "L_Foot",
        "R_Foot",
    )
)

WOOD_COLOR = (0.80, 0.60, 0.40)
WOOD_JOINT_COLOR = (0.52, 0.34, 0.20)
SMPL_COLOR = (0.72, 0.76, 0.86)
SKELETON_LEFT_COLOR = (0.30, 0.55, 0.90)
SKELETON_RIGHT_COLOR = (0.92, 0.40, 0.32)
SKELETON_CENTRE_COLOR = (0.82, 0.82, 0.80)

# Skeleton body geometry, metres.
SKELETON_JOINT_RADIUS = 0.038
SKELETON_BONE_RADIUS = 0.024
SKELETON_HEAD_RADIUS = 0.095
SKELETON_HEAD_LIFT = 0.07
"""Head sphere centre above the SMPL head joint (which sits at the base of the skull)."""
SKELETON_HAND_RADIUS = 0.03


class BodyError(ValueError):
    """A body cannot be built: a missing or unreadable model file, a bad option."""


@dataclass(frozen=True)
class PosedMesh:
    """Posed vertices and unit vertex normals, (T, V, 3) float32 each (or (V, 3) for one frame)."""

    vertices: np.ndarray
    normals: np.ndarray


@runtime_checkable
class Body(Protocol):
    """What the scene needs from a body.

    Attributes:
        name: "mannequin", "smpl" or "skeleton".
        faces: (F, 3) int32 triangle indices, counter-clockwise seen from outside.
        vertex_joints: (V,) SMPL joint (0..23) that moves each vertex most; used to colour
            the feet on contact.
        vertex_colors: (V, 3) float32 RGB in [0, 1].
    """

    name: str
    faces: np.ndarray
    vertex_joints: np.ndarray
    vertex_colors: np.ndarray

    def pose(self, poses: np.ndarray, trans: np.ndarray) -> PosedMesh:
        """Pose (T, 24, 3) axis-angle and (T, 3) pelvis positions (or one frame: (24, 3), (3,))."""
        ...

    def joints(self, poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
        """(T, 24, 3) positions of the 24 SMPL joints on this body, metres, y-up."""
        ...


# ------------------------------------------------------------------------------ helpers


def _as_batch(poses, trans) -> tuple[np.ndarray, np.ndarray, bool]:
    """Check shapes; return (T, 24, 3), (T, 3) float32 and whether the input was one frame."""
    poses = np.asarray(poses, dtype=np.float32)
    trans = np.asarray(trans, dtype=np.float32)
    single = poses.shape == (contract.NUM_JOINTS, 3)
    if single:
        poses, trans = poses[None], trans[None]
    if poses.ndim == 2 and poses.shape[-1] == contract.NUM_JOINTS * 3:
        poses = poses.reshape(-1, contract.NUM_JOINTS, 3)  # (T, 72) -> (T, 24, 3)
    if poses.ndim != 3 or poses.shape[1:] != (contract.NUM_JOINTS, 3):
        raise BodyError(
            f"poses must be (T, {contract.NUM_JOINTS}, 3) axis-angle, got {poses.shape}"
        )
    if trans.shape != (poses.shape[0], 3):
        raise BodyError(f"trans must be ({poses.shape[0]}, 3) to match poses, got {trans.shape}")
    return poses, trans, single


def _unbatch(posed: PosedMesh, single: bool) -> PosedMesh:
    return PosedMesh(posed.vertices[0], posed.normals[0]) if single else posed


def rotation_matrices(axis_angle: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrices (Rodrigues, via roma)."""
    with torch.no_grad():
        return kinematics.axis_angle_to_matrix(
            torch.from_numpy(np.ascontiguousarray(axis_angle))
        ).numpy()


def world_transforms(
    local_rot: np.ndarray, root_pos: np.ndarray, offsets: np.ndarray, parents: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Forward kinematics returning world rotations as well as positions.

    R_w[j] = R_w[parent] @ R_local[j];  p[j] = p[parent] + R_w[parent] @ offset[j];  p[root] = root.
    Parents must precede children.

    Args:
        local_rot: (T, J, 3, 3) local rotations. root_pos: (T, 3). offsets: (J, 3).
    Returns:
        rotations (T, J, 3, 3) and positions (T, J, 3).
    """
    num_frames, num_joints = local_rot.shape[:2]
    rot = np.empty_like(local_rot)
    pos = np.empty((num_frames, num_joints, 3), dtype=local_rot.dtype)
    for j, parent in enumerate(parents):
        if parent < 0:
            rot[:, j] = local_rot[:, j]
            pos[:, j] = root_pos
            continue
        rot[:, j] = rot[:, parent] @ local_rot[:, j]
        pos[:, j] = pos[:, parent] + rot[:, parent] @ offsets[j]
    return rot, pos


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(T, V, 3) vertices -> (T, V, 3) unit normals, area-weighted mean of the face normals."""
    with torch.no_grad():
        verts = torch.from_numpy(np.ascontiguousarray(vertices, dtype=np.float32))
        tri = torch.from_numpy(faces.astype(np.int64))
        v0, v1, v2 = verts[:, tri[:, 0]], verts[:, tri[:, 1]], verts[:, tri[:, 2]]  # (T, F, 3)
        face_n = torch.linalg.cross(v1 - v0, v2 - v0)  # (T, F, 3), length = 2 * area
        normals = torch.zeros_like(verts)
        for corner in range(3):
            normals.index_add_(1, tri[:, corner], face_n)
        return torch.nn.functional.normalize(normals, dim=-1).numpy()


class _LinearBlendSkin:
    """Linear blend skinning with a sparse weight matrix.

    Args:
        rest_vertices: (V, 3) bind-pose vertices. rest_normals: (V, 3).
        joint_index: (V, K) joints influencing each vertex. joint_weight: (V, K), rows sum to 1.
        bind_joints: (J, 3) joint positions in the bind pose.
    """

    def __init__(self, rest_vertices, rest_normals, joint_index, joint_weight, bind_joints):
        num_verts, influences = joint_index.shape
        self.num_joints = bind_joints.shape[0]
        self.rest_vertices = np.asarray(rest_vertices, dtype=np.float32)
        self.rest_normals = np.asarray(rest_normals, dtype=np.float32)
        self.bind_joints = np.asarray(bind_joints, dtype=np.float32)
        rows = np.repeat(np.arange(num_verts), influences)
        self.weights = scipy.sparse.csr_matrix(
            (joint_weight.ravel().astype(np.float32), (rows, joint_index.ravel())),
            shape=(num_verts, self.num_joints),
        )  # (V, J)

    def __call__(self, rot: np.ndarray, pos: np.ndarray) -> PosedMesh:
        """World joint rotations (T, J, 3, 3) and positions (T, J, 3) -> posed mesh."""
        num_frames = rot.shape[0]
        shift = pos - np.einsum("tjab,jb->tja", rot, self.bind_joints)  # (T, J, 3)
        affine = np.concatenate([rot, shift[..., None]], axis=-1)  # (T, J, 3, 4)
        flat = affine.transpose(1, 0, 2, 3).reshape(self.num_joints, num_frames * 12)  # (J, 12T)
        blended = np.asarray(self.weights @ flat, dtype=np.float32)  # (V, 12T)
        blended = blended.reshape(-1, num_frames, 3, 4).transpose(1, 0, 2, 3)  # (T, V, 3, 4)
        linear = blended[..., :3]  # (T, V, 3, 3)
        verts = np.einsum("tvij,vj->tvi", linear, self.rest_vertices) + blended[..., 3]
        normals = np.einsum("tvij,vj->tvi", linear, self.rest_normals)
        normals /= np.maximum(np.linalg.norm(normals, axis=-1, keepdims=True), 1e-8)
        return PosedMesh(verts.astype(np.float32), normals.astype(np.float32))


def _chunked(pose_fn, poses: np.ndarray, trans: np.ndarray) -> PosedMesh:
    """Apply ``pose_fn`` to chunks of :data:`POSE_CHUNK_FRAMES` frames and stack the results."""
    if poses.shape[0] <= POSE_CHUNK_FRAMES:
        return pose_fn(poses, trans)
    parts = [
        pose_fn(poses[i : i + POSE_CHUNK_FRAMES], trans[i : i + POSE_CHUNK_FRAMES])
        for i in range(0, poses.shape[0], POSE_CHUNK_FRAMES)
    ]
    return PosedMesh(
        np.concatenate([p.vertices for p in parts]), np.concatenate([p.normals for p in parts])
    )


def smpl_world_transforms(poses: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World rotations (T, 24, 3, 3) and positions (T, 24, 3) of the contract skeleton.

    The positions equal :meth:`motionbeat.core.motion.Motion.joints`.
    """
    return world_transforms(
        rotation_matrices(poses), trans, contract.REST_OFFSETS, contract.PARENTS
    )


def _affine_bone_maps(
    old_offsets: np.ndarray, new_offsets: np.ndarray, parents: Sequence[int]
) -> np.ndarray:
    """(J, 3, 3) linear maps taking each joint's child offsets from ``old`` to ``new``.

    T_j = I + (N'_j - N_j) pinv(N_j), with N_j the (3, children) matrix of old child offsets:
    the least-squares linear map with T_j N_j = N'_j that changes nothing orthogonal to the
    bones (identity for leaves). This is mannequin-x's ``joint_shape_transforms`` construction.
    """
    maps = np.repeat(np.eye(3)[None], len(parents), axis=0)
    children: list[list[int]] = [[] for _ in parents]
    for j, parent in enumerate(parents):
        if parent >= 0:
            children[parent].append(j)
    for j, kids in enumerate(children):
        if kids:
            old = old_offsets[kids].T.astype(np.float64)  # (3, C)
            new = new_offsets[kids].T.astype(np.float64)
            maps[j] += (new - old) @ np.linalg.pinv(old)
    return maps


# ---------------------------------------------------------------------------- mannequin


class MannequinBody:
    """The wooden mannequin of mannequin-x, with legs retargeted onto the SMPL skeleton.

    mannequin-x exposes posed vertices but not its skinning weights; this class reads them
    from the model object once (checked against ``Mannequin.vertices`` in
    ``tests/render/test_render_bodies.py``) and skins with its own sparse blend, about fifteen
    times faster than the library's dense one (2.5 ms against 38 ms a frame on the 2-core CPU).
    """

    name = "mannequin"

    def __init__(self):
        try:
            from mannequin import Mannequin
        except ImportError as err:  # pragma: no cover - a declared dependency
            raise BodyError(
                "the mannequin body needs the mannequin-x package (pip install mannequin-x)"
            ) from err
        model = Mannequin("wooden")
        try:
            joint_index = np.asarray(model._skin_joint_indices)  # (V, K)
            joint_weight = np.asarray(model._skin_weights)  # (V, K)
            rest_vertices = np.asarray(model._identity["skin_vertices"], dtype=np.float64)  # (V, 3)
            bind = np.asarray(model._identity["skin_bind_positions"], dtype=np.float64)  # (J, 3)
            weights = model._weights
            part_names = list(weights.skin_part_names)
            part_starts = list(weights.skin_part_vertex_starts)
            part_counts = list(weights.skin_part_vertex_counts)
        except (AttributeError, KeyError, TypeError) as err:  # pragma: no cover - version guard
            raise BodyError(
                f"this mannequin-x version stores its skin differently ({err}); render was "
                "written against mannequin-x 0.3"
            ) from None
        self.model = model
        self.parents: tuple[int, ...] = tuple(int(p) for p in model.parents)
        names = model.joint_names
        if tuple(names[: contract.NUM_JOINTS]) != contract.JOINT_NAMES:
            raise BodyError(f"unexpected mannequin joints {names[: contract.NUM_JOINTS]}")
        num_joints = len(self.parents)

        # Rest local rotations: identity on the body, the relaxed hand mean on the fingers.
        rest = model.joint_transforms(model.rest_pose())  # (J, 4, 4)
        rest_world = rest[:, :3, :3].astype(np.float64)
        self.rest_local = np.repeat(np.eye(3)[None], num_joints, axis=0)
        for j, parent in enumerate(self.parents):
            if parent >= 0:
                self.rest_local[j] = rest_world[parent].T @ rest_world[j]
        self.rest_local[: contract.NUM_JOINTS] = np.eye(3)

        # Target rest joints: SMPL's for the retargeted legs, the mannequin's offsets elsewhere.
        own_offsets = bind - np.where(
            np.array(self.parents)[:, None] >= 0, bind[list(self.parents)], 0.0
        )
        own_offsets[0] = 0.0
        smpl_rest = kinematics.rest_joints().astype(np.float64)  # (24, 3), pelvis at 0
        offsets = own_offsets.copy()
        for j in MANNEQUIN_SMPL_JOINTS:
            if self.parents[j] >= 0:
                offsets[j] = smpl_rest[j] - smpl_rest[self.parents[j]]
        target = np.zeros_like(bind)
        target[0] = bind[0]
        for j in range(1, num_joints):
            target[j] = target[self.parents[j]] + offsets[j]
        self.offsets = offsets.astype(np.float32)  # (J, 3)

        # Stretch the rest mesh onto the new bones: v' = sum_k w_k (b'_k + T_k (v - b_k)).
        maps = _affine_bone_maps(own_offsets, offsets, self.parents)  # (J, 3, 3)
        rel = rest_vertices[:, None, :] - bind[joint_index]  # (V, K, 3)
        moved = np.einsum("vkab,vkb->vka", maps[joint_index], rel) + target[joint_index]
        vertices = np.sum(moved * joint_weight[..., None], axis=1)  # (V, 3)
        self.faces = np.asarray(model.faces, dtype=np.int32)
        normals = trimesh.Trimesh(vertices, self.faces, process=False).vertex_normals
        self._skin = _LinearBlendSkin(vertices, normals, joint_index, joint_weight, target)

        dominant = joint_index[np.arange(len(joint_index)), np.argmax(joint_weight, axis=1)]
        self.vertex_joints = self._to_smpl_joint(dominant)
        colors = np.tile(np.array(WOOD_COLOR, np.float32), (len(vertices), 1))
        for name, start, count in zip(part_names, part_starts, part_counts, strict=True):
            if name.startswith("joint_"):
                colors[start : start + count] = WOOD_JOINT_COLOR
        self.vertex_colors = colors

    def _to_smpl_joint(self, joints: np.ndarray) -> np.ndarray:
        """Map mannequin joints to SMPL joints: fingers and hands go to their wrist."""
        out = np.asarray(joints).copy()
        for j in np.unique(out):
            k = int(j)
            while k >= contract.NUM_JOINTS or k in (_J["L_Hand"], _J["R_Hand"]):
                k = self.parents[k]
            out[out == j] = k
        return out.astype(np.int64)

    def _transforms(self, poses: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World rotations and positions of all mannequin joints for SMPL poses."""
        num_frames = poses.shape[0]
        local = np.broadcast_to(
            self.rest_local.astype(np.float32), (num_frames, *self.rest_local.shape)
        ).copy()
        body = contract.JOINT_INDEX["L_Hand"]  # SMPL joints 0..21 drive the body
        local[:, :body] = rotation_matrices(poses[:, :body])
        return world_transforms(local, trans, self.offsets, self.parents)

    def pose(self, poses, trans) -> PosedMesh:
        poses, trans, single = _as_batch(poses, trans)
        return _unbatch(
            _chunked(lambda p, t: self._skin(*self._transforms(p, t)), poses, trans), single
        )

    def joints(self, poses, trans) -> np.ndarray:
        poses, trans, _ = _as_batch(poses, trans)
        return self._transforms(poses, trans)[1][:, : contract.NUM_JOINTS]


def mannequin_foot_offset() -> dict[str, float]:
    """Measure how far the mannequin's feet sit from the SMPL skeleton's, in the rest pose.

    Both skeletons are put in the zero pose with the pelvis at the origin. Returns metres:
    ``uncorrected_mean_y`` / ``uncorrected_max_3d``: the mannequin-x skeleton's own ankle and
    toe joints against SMPL's (positive y: the mannequin's feet are higher);
    ``corrected_max_3d``: the same after :class:`MannequinBody`'s retargeting;
    ``sole_below_toe``: how far the mannequin's sole reaches below the SMPL toe joints.
    """
    from mannequin import Mannequin

    model = Mannequin("wooden")
    own = model.joint_transforms(model.rest_pose())[: contract.NUM_JOINTS, :3, 3]
    own = own - own[0]
    smpl = kinematics.rest_joints()
    feet = list(contract.FOOT_JOINTS)
    body = MannequinBody()
    zero_pose = np.zeros((contract.NUM_JOINTS, 3), np.float32)
    corrected = body.joints(zero_pose, np.zeros(3, np.float32))[0]
    sole = body.pose(zero_pose, np.zeros(3, np.float32)).vertices[:, contract.UP_AXIS].min()
    return {
        "uncorrected_mean_y": float(np.mean(own[feet, 1] - smpl[feet, 1])),
        "uncorrected_max_3d": float(np.linalg.norm(own[feet] - smpl[feet], axis=-1).max()),
        "corrected_max_3d": float(np.linalg.norm(corrected[feet] - smpl[feet], axis=-1).max()),
        "sole_below_toe": float(smpl[[contract.L_TOE, contract.R_TOE], 1].mean() - sole),
    }


# ---------------------------------------------------------------------------------- SMPL

_SMPL_FILE_NAMES = (
    "SMPL_{G}.npz",
    "SMPL_{G}.pkl",
    "smpl/SMPL_{G}.npz",
    "smpl/SMPL_{G}.pkl",
    "basicModel_{g}_lbs_10_207_0_v1.0.0.pkl",
    "basicmodel_{g}_lbs_10_207_0_v1.1.0.pkl",
)
DEFAULT_NUM_BETAS = 10
_SMPL_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")
_GENDER_SHORT = {"neutral": "neutral", "male": "m", "female": "f"}


def find_smpl_model(model_path: str | os.PathLike | None = None, gender: str = "neutral") -> Path:
    """Locate a SMPL model file from ``model_path`` or ``$MOTIONBEAT_SMPL_DIR``.

    A path may name the file itself or a folder holding ``SMPL_NEUTRAL.npz`` / ``.pkl``
    (also under ``smpl/``) or the original ``basicModel_neutral_lbs_10_207_0_v1.0.0.pkl``.
    """
    if gender not in _GENDER_SHORT:
        raise BodyError(f"gender must be one of {sorted(_GENDER_SHORT)}, got {gender!r}")
    source = model_path if model_path is not None else os.environ.get(SMPL_DIR_ENV)
    if not source:
        raise BodyError(
            "the SMPL body needs the SMPL model files, which are licensed and not shipped "
            f"(https://smpl.is.tue.mpg.de): set {SMPL_DIR_ENV} to their folder or pass the file "
            "(--smpl PATH); or use --body mannequin, which needs no licensed files"
        )
    path = Path(source).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise BodyError(f"SMPL model path {path} does not exist")
    names = [n.format(G=gender.upper(), g=_GENDER_SHORT[gender]) for n in _SMPL_FILE_NAMES]
    for name in names:
        for candidate in (path / name, path / name.lower()):
            if candidate.is_file():
                return candidate
    raise BodyError(f"no SMPL {gender} model in {path} (looked for {', '.join(names)})")


class _SMPLUnpickler(pickle.Unpickler):
    """Admits numpy arrays, scipy sparse matrices and plain containers; nothing that runs code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
        ("copy_reg", "_reconstructor"),
        ("copyreg", "_reconstructor"),
        ("__builtin__", "object"),
        ("builtins", "object"),
    }
    _SPARSE = {"csc_matrix", "csr_matrix", "coo_matrix"}

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        if module.startswith("scipy.sparse") and name in self._SPARSE:
            return getattr(scipy.sparse, name)
        if module.startswith("chumpy"):
            raise BodyError(
                "this SMPL .pkl stores chumpy objects; convert it once to plain arrays "
                "(smplx's tools/clean_ch.py, or save the arrays to SMPL_NEUTRAL.npz)"
            )
        raise BodyError(f"refusing to load {module}.{name} from a SMPL .pkl (arrays only)")


def _load_smpl_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read the SMPL arrays from ``.npz`` (no pickles) or ``.pkl`` (restricted unpickler)."""
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:  # only the arrays SMPL needs
                arrays = {k: data[k] for k in _SMPL_KEYS if k in data.files}
        elif path.suffix == ".pkl":
            with open(path, "rb") as fh:
                arrays = _SMPLUnpickler(io.BytesIO(fh.read()), encoding="latin1").load()
        else:
            raise BodyError(f"{path.name}: a SMPL model must be .npz or .pkl")
    except BodyError:
        raise
    except (OSError, ValueError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile) as err:
        raise BodyError(f"{path.name}: unreadable SMPL model ({err})") from None
    if not isinstance(arrays, dict):
        raise BodyError(f"{path.name}: not a SMPL model (expected a dict of arrays)")
    missing = [k for k in _SMPL_KEYS if k not in arrays]
    if missing:
        raise BodyError(f"{path.name}: not a SMPL model (missing {missing})")
    out = {}
    for key in _SMPL_KEYS:
        value = arrays[key]
        out[key] = np.asarray(value.todense() if scipy.sparse.issparse(value) else value)
    num_verts = out["v_template"].shape[0]
    if out["weights"].shape != (num_verts, contract.NUM_JOINTS) or out["J_regressor"].shape != (
        contract.NUM_JOINTS,
        num_verts,
    ):
        raise BodyError(
            f"{path.name}: not a 24-joint SMPL model (weights {out['weights'].shape}, "
            f"J_regressor {out['J_regressor'].shape})"
        )
    return out


class SMPLBody:
    """The SMPL mesh (Loper et al. 2015) posed by ``smplx`` (its ``lbs``, pose correctives on).

    The pelvis is put at the motion's ``trans``, as in :meth:`Motion.joints`: SMPL's own
    translation is ``trans - J_0(betas)``, J_0 the rest pelvis of the model.

    Args:
        model_path: file or folder; ``$MOTIONBEAT_SMPL_DIR`` when None.
        gender: "neutral", "male" or "female".
        betas: shape coefficients (zeros by default).
    """

    name = "smpl"

    def __init__(
        self, model_path: str | os.PathLike | None = None, gender: str = "neutral", betas=None
    ):
        import smplx
        from smplx.utils import Struct

        self.path = find_smpl_model(model_path, gender)
        arrays = _load_smpl_arrays(self.path)
        wanted = DEFAULT_NUM_BETAS if betas is None else max(DEFAULT_NUM_BETAS, np.size(betas))
        num_betas = min(arrays["shapedirs"].shape[-1], wanted)
        with contextlib.redirect_stdout(io.StringIO()):  # smplx prints a note about 10 betas
            self.model = smplx.SMPL(
                str(self.path),
                data_struct=Struct(**arrays),
                num_betas=num_betas,
                gender=gender,
                create_betas=False,
                create_global_orient=False,
                create_body_pose=False,
                create_transl=False,
            )
        betas_t = torch.zeros(1, self.model.num_betas)
        if betas is not None:
            given = torch.as_tensor(np.asarray(betas, np.float32)).reshape(1, -1)
            if given.shape[1] > self.model.num_betas:
                raise BodyError(
                    f"the model has {self.model.num_betas} shape coefficients, got {given.shape[1]}"
                )
            betas_t[:, : given.shape[1]] = given
        self.betas = betas_t
        self.faces = np.asarray(arrays["f"], dtype=np.int32)
        self.vertex_joints = np.argmax(arrays["weights"], axis=1).astype(np.int64)
        self.vertex_colors = np.tile(np.array(SMPL_COLOR, np.float32), (len(self.vertex_joints), 1))
        with torch.no_grad():
            shaped = self.model.v_template + torch.einsum(
                "vcb,b->vc", self.model.shapedirs, self.betas[0]
            )
            self.rest_pelvis = (self.model.J_regressor[0] @ shaped).numpy()  # (3,)

    def _lbs(self, poses: np.ndarray, trans: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        from smplx.lbs import lbs

        m = self.model
        with torch.no_grad():
            full_pose = torch.from_numpy(poses.reshape(poses.shape[0], -1))  # (T, 72)
            verts, joints = lbs(
                self.betas.expand(poses.shape[0], -1),
                full_pose,
                m.v_template,
                m.shapedirs,
                m.posedirs,
                m.J_regressor,
                m.parents,
                m.lbs_weights,
            )  # (T, V, 3), (T, 24, 3)
            shift = torch.from_numpy(trans - self.rest_pelvis)[:, None, :]  # (T, 1, 3)
            return verts + shift, joints + shift

    def pose(self, poses, trans) -> PosedMesh:
        poses, trans, single = _as_batch(poses, trans)

        def pose_chunk(p, t):
            verts = self._lbs(p, t)[0].numpy()
            return PosedMesh(verts, vertex_normals(verts, self.faces))

        return _unbatch(_chunked(pose_chunk, poses, trans), single)

    def joints(self, poses, trans) -> np.ndarray:
        poses, trans, _ = _as_batch(poses, trans)
        return self._lbs(poses, trans)[1].numpy()


# ------------------------------------------------------------------------------ skeleton


def _side_color(joint: int) -> tuple[float, float, float]:
    name = contract.JOINT_NAMES[joint]
    if name.startswith("L_"):
        return SKELETON_LEFT_COLOR
    if name.startswith("R_"):
        return SKELETON_RIGHT_COLOR
    return SKELETON_CENTRE_COLOR


class SkeletonBody:
    """Spheres on the joints and capsules on the bones of the contract skeleton (rigid parts)."""

    name = "skeleton"

    def __init__(self):
        parts_v, parts_n, parts_f, owner, colour_of = [], [], [], [], []
        count = 0

        def add(mesh: trimesh.Trimesh, joint: int, colour_joint: int):
            nonlocal count
            parts_v.append(np.asarray(mesh.vertices, np.float32))
            parts_n.append(np.asarray(mesh.vertex_normals, np.float32))
            parts_f.append(np.asarray(mesh.faces) + count)
            owner.append(np.full(len(mesh.vertices), joint))
            colour_of.append(np.full(len(mesh.vertices), colour_joint))
            count += len(mesh.vertices)

        hands = (_J["L_Hand"], _J["R_Hand"])
        for j in range(contract.NUM_JOINTS):
            radius = SKELETON_HAND_RADIUS if j in hands else SKELETON_JOINT_RADIUS
            add(trimesh.creation.icosphere(subdivisions=2, radius=radius), j, j)
        head = trimesh.creation.icosphere(subdivisions=3, radius=SKELETON_HEAD_RADIUS)
        head.apply_translation([0.0, SKELETON_HEAD_LIFT, 0.0])
        add(head, _J["Head"], _J["Head"])
        for j, parent in enumerate(contract.PARENTS):
            if parent < 0:
                continue
            offset = contract.REST_OFFSETS[j].astype(np.float64)
            length = float(np.linalg.norm(offset))
            bone = trimesh.creation.capsule(
                height=length, radius=SKELETON_BONE_RADIUS, count=[10, 6]
            )
            align = trimesh.geometry.align_vectors([0.0, 0.0, 1.0], offset / length)
            bone.apply_transform(align)
            bone.apply_translation(offset / 2)
            add(bone, parent, j)  # rides with the parent's frame; coloured by the child's side

        self.faces = np.concatenate(parts_f).astype(np.int32)
        self._local_vertices = np.concatenate(parts_v)  # (V, 3) in the owning joint's frame
        self._local_normals = np.concatenate(parts_n)
        self._owner = np.concatenate(owner)  # (V,)
        colour_joint = np.concatenate(colour_of)
        self.vertex_joints = self._owner.astype(np.int64)
        self.vertex_colors = np.array([_side_color(int(j)) for j in colour_joint], np.float32)

    def _pose_chunk(self, poses, trans) -> PosedMesh:
        rot, pos = smpl_world_transforms(poses, trans)
        r = rot[:, self._owner]  # (T, V, 3, 3)
        verts = np.einsum("tvab,vb->tva", r, self._local_vertices) + pos[:, self._owner]
        normals = np.einsum("tvab,vb->tva", r, self._local_normals)
        return PosedMesh(verts.astype(np.float32), normals.astype(np.float32))

    def pose(self, poses, trans) -> PosedMesh:
        poses, trans, single = _as_batch(poses, trans)
        return _unbatch(_chunked(self._pose_chunk, poses, trans), single)

    def joints(self, poses, trans) -> np.ndarray:
        poses, trans, _ = _as_batch(poses, trans)
        return smpl_world_transforms(poses, trans)[1]


# ------------------------------------------------------------------------------ factory


def make_body(
    name: str = "mannequin", smpl_path: str | os.PathLike | None = None, **options
) -> Body:
    """Build a body by name: "mannequin" (default), "smpl" (needs model files) or "skeleton"."""
    if name == "mannequin":
        return MannequinBody()
    if name == "smpl":
        return SMPLBody(smpl_path, **options)
    if name == "skeleton":
        return SkeletonBody()
    raise BodyError(f"unknown body {name!r}; choose one of {', '.join(BODY_NAMES)}")


# -------------------------------------------------------------------- synthetic SMPL file

SYNTHETIC_LIMB_RADIUS = 0.05
SYNTHETIC_BONE_RADIUS = {
    "Spine1": 0.12,
    "Spine2": 0.12,
    "Spine3": 0.12,
    "L_Hip": 0.085,
    "R_Hip": 0.085,
    "Neck": 0.055,
    "L_Collar": 0.055,
    "R_Collar": 0.055,
    "Head": 0.05,
    "L_Shoulder": 0.055,
    "R_Shoulder": 0.055,
    "L_Knee": 0.065,
    "R_Knee": 0.065,
}
"""Capsule radius, metres, of the bone ending at each joint (others: SYNTHETIC_LIMB_RADIUS)."""
SYNTHETIC_TORSO_SCALE = (1.3, 1.0, 0.8)
"""Torso capsules are widened left-right and flattened front-back (rest-pose world axes)."""
SYNTHETIC_HEAD = (0.1, 0.08)
"""Head sphere radius and its lift above the SMPL head joint, metres."""


def write_synthetic_smpl(
    path: str | os.PathLike, sphere_subdivisions: int = 1, capsule_count: int = 8
) -> Path:
    """Write a small, valid, licence-free SMPL-format ``.npz`` for tests and benchmarks.

    It is *not* a human body model: a capsule figure on the contract skeleton. Each joint
    has a sphere whose vertex mean is the joint, and ``J_regressor`` averages those vertices,
    so the model's rest joints are exactly :data:`contract.REST_OFFSETS` (pelvis at 0).
    Sphere vertices follow their joint; a capsule around each bone blends from the parent to
    the child joint along its length. ``shapedirs`` holds a height and a width direction;
    ``posedirs`` is zero. Arrays and their shapes are SMPL's: v_template (V, 3),
    shapedirs (V, 3, 10), posedirs (V, 3, 207), J_regressor (24, V), weights (V, 24),
    kintree_table (2, 24), f (F, 3).
    """
    from motionbeat.core.fileio import atomic_path

    rest = kinematics.rest_joints().astype(np.float64)
    verts, faces, weights = [], [], []
    regressor_rows: list[tuple[int, int, int]] = []  # (joint, first vertex, count)
    count = 0

    def add(mesh, w):
        nonlocal count
        verts.append(np.asarray(mesh.vertices))
        faces.append(np.asarray(mesh.faces) + count)
        weights.append(w)
        count += len(mesh.vertices)

    def rigid(j: int, num: int) -> np.ndarray:
        w = np.zeros((num, contract.NUM_JOINTS))
        w[:, j] = 1.0
        return w

    for j in range(contract.NUM_JOINTS):  # joint spheres: their vertex means are the joints
        sphere = trimesh.creation.icosphere(
            subdivisions=sphere_subdivisions, radius=0.8 * SYNTHETIC_LIMB_RADIUS
        )
        sphere.apply_translation(rest[j])
        regressor_rows.append((j, count, len(sphere.vertices)))
        add(sphere, rigid(j, len(sphere.vertices)))
    head_radius, head_lift = SYNTHETIC_HEAD
    head = trimesh.creation.icosphere(subdivisions=sphere_subdivisions + 1, radius=head_radius)
    head.apply_translation(rest[_J["Head"]] + [0.0, head_lift, 0.0])
    add(head, rigid(_J["Head"], len(head.vertices)))
    torso = {_J["Spine1"], _J["Spine2"], _J["Spine3"]}
    for j, parent in enumerate(contract.PARENTS):
        if parent < 0:
            continue
        start, end = rest[parent], rest[j]
        length = float(np.linalg.norm(end - start))
        radius = SYNTHETIC_BONE_RADIUS.get(contract.JOINT_NAMES[j], SYNTHETIC_LIMB_RADIUS)
        capsule = trimesh.creation.capsule(
            height=length, radius=radius, count=[capsule_count, capsule_count]
        )
        capsule.apply_transform(
            trimesh.geometry.align_vectors([0.0, 0.0, 1.0], (end - start) / length)
        )
        if j in torso:
            capsule.vertices = capsule.vertices * SYNTHETIC_TORSO_SCALE
        capsule.apply_translation((start + end) / 2)
        along = np.clip((capsule.vertices - start) @ (end - start) / length**2, 0.0, 1.0)
        blend = np.clip(
            (along - 0.7) / 0.3, 0.0, 1.0
        )  # rigid with the parent, blending at the child
        w = np.zeros((len(capsule.vertices), contract.NUM_JOINTS))
        w[:, parent] = 1.0 - blend
        w[:, j] += blend
        add(capsule, w)

    v_template = np.concatenate(verts).astype(np.float64)
    num_verts = len(v_template)
    regressor = np.zeros((contract.NUM_JOINTS, num_verts))
    for j, first, n in regressor_rows:
        regressor[j, first : first + n] = 1.0 / n
    num_betas, num_pose_basis = 10, (contract.NUM_JOINTS - 1) * 9
    shapedirs = np.zeros((num_verts, 3, num_betas))
    shapedirs[:, :, 0] = 0.05 * v_template  # taller / shorter about the pelvis
    shapedirs[:, 0, 1] = 0.05 * v_template[:, 0]  # wider / narrower
    kintree = np.array(
        [[2**32 - 1 if p < 0 else p for p in contract.PARENTS], range(contract.NUM_JOINTS)]
    )
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            v_template=v_template,
            shapedirs=shapedirs,
            posedirs=np.zeros((num_verts, 3, num_pose_basis)),
            J_regressor=regressor,
            weights=np.concatenate(weights),
            kintree_table=kintree.astype(np.int64),
            f=np.concatenate(faces).astype(np.int64),
        )
    return path
