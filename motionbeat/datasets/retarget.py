"""Retargeting another skeleton's motion to SMPL's 24 joints (rotations, root, axes, units).

The source is a skeleton with world joint positions per frame (BVH: by its own forward
kinematics; positions-only captures: as recorded) and, for BVH, world joint rotations. A joint
map (:mod:`motionbeat.datasets.joint_maps`) says which source joint each SMPL joint is.

**Axes and units.** The up axis is the dominant component of the rest pose's head-minus-ankles
vector: +y is kept, +z is turned to +y by ``kinematics.z_up_to_y_up``; anything else is refused.
Units come from the rest skeleton's height h (lowest to highest joint, which is about 0.9 of a
person's height): h < 4 is metres, h < 100 inches (a 1.7 m person's joints span about 60 in),
else centimetres (and h >= 1000 millimetres). The root translation is scaled to SMPL's legs:
``s = SMPL rest pelvis height above its ankles / the source's`` (in source units), so a dancer
with longer legs does not slide SMPL's feet; the detected unit is recorded beside it.

**Rotations** (world rotation G_j of every SMPL joint, SMPL joints in parent-first order). Let
the targets of SMPL joint j be its nearest *mapped* descendants c (its children, or further down
when a child is unmapped); v_c = SMPL rest vector from j to c, w_c(t) = source vector between
the mapped joints at frame t, r_c = the same in the source rest pose (all channels zero):

* two or more targets (pelvis, upper spine): G_j = the rotation that best takes the unit v_c to
  the unit w_c (Kabsch / orthogonal Procrustes by SVD with the determinant fixed; Kabsch,
  Acta Cryst. A32, 1976);
* one target: rest-pose alignment, then an exact swing. A_j = the smallest rotation taking v to
  r (what turns SMPL's rest bone into the source's rest bone: a T-pose arm onto an A-pose arm).
  With the source joint's world rotation W_j(t) (its rest is the identity), G~ = W_j(t) A_j
  carries the source's twist; G_j = minrot(G~ v -> w(t)) G~ then points the bone exactly at the
  source child. Without source rotations (positions only) G~ = G_parent: no twist is invented.
* no target (a leaf: head, toes, hands): G_j = W_j(t) A_parent, or G_parent without rotations;
* unmapped joints: G_j = G_parent (the identity local rotation).

Local rotations are R_j = G_parent^T G_j; the pelvis position is the mapped source root's times
s. When the source's bone proportions equal SMPL's, SMPL's forward kinematics reproduces every
mapped source joint exactly (the tests hold it to 1 mm); otherwise bone *directions* are exact
and positions differ by the bone-length differences.
"""

from __future__ import annotations

import numpy as np
import torch

from motionbeat.core import contract, kinematics
from motionbeat.core.motion import Motion
from motionbeat.datasets import joint_maps
from motionbeat.datasets.bvh_file import BVH, bvh_forward_kinematics, rest_positions

EPS: float = 1e-9
"""Vectors shorter than this (source units) carry no direction."""
UNIT_METRES: dict[str, float] = {"m": 1.0, "cm": 0.01, "in": 0.0254, "mm": 0.001}
HEIGHT_LIMITS: tuple[tuple[float, str], ...] = ((4.0, "m"), (100.0, "in"), (1000.0, "cm"))
"""(upper limit of the rest joint span, unit) in increasing order; larger spans are mm."""
FOOT_NAMES: tuple[str, ...] = ("L_Ankle", "R_Ankle", "L_Foot", "R_Foot")
Z_UP_TO_Y_UP: np.ndarray = kinematics.Y_UP_TO_Z_UP.numpy().astype(np.float64).T
"""(3, 3) M with y-up = M @ z-up: (x, y, z) -> (x, z, -y), the inverse of Y_UP_TO_Z_UP."""


class RetargetError(ValueError):
    """The source skeleton cannot be retargeted (unknown up axis, missing core joints)."""


# ----------------------------------------------------------------------------- rotation maths
def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., 3) -> unit vectors (zero where shorter than EPS) and the (...,) ok mask."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    ok = n[..., 0] > EPS
    return np.where(n > EPS, v / np.maximum(n, EPS), 0.0), ok


def min_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3) unit a, b -> (..., 3, 3) the smallest rotation R with R a = b (Rodrigues).

    Axis a x b, cos = a.b; R = I + [k]x + [k]x^2 / (1 + cos) with k = a x b. For b = -a the
    turn is pi about any axis perpendicular to a.
    """
    a, b = np.broadcast_arrays(a, b)
    k = np.cross(a, b)  # (..., 3)
    c = np.sum(a * b, axis=-1)[..., None, None]  # (..., 1, 1)
    kx = np.zeros(a.shape[:-1] + (3, 3))
    kx[..., 0, 1], kx[..., 0, 2], kx[..., 1, 2] = -k[..., 2], k[..., 1], -k[..., 0]
    kx = kx - np.swapaxes(kx, -1, -2)
    eye = np.broadcast_to(np.eye(3), kx.shape)
    rot = eye + kx + kx @ kx / np.maximum(1.0 + c, EPS)
    opposite = (c[..., 0, 0] < -1.0 + 1e-9)
    if np.any(opposite):  # pi about an axis perpendicular to a
        perp = np.cross(a[opposite], np.array([1.0, 0.0, 0.0]))
        perp = np.where(np.linalg.norm(perp, axis=-1, keepdims=True) < 1e-6,
                        np.cross(a[opposite], np.array([0.0, 1.0, 0.0])), perp)
        perp /= np.linalg.norm(perp, axis=-1, keepdims=True)
        rot[opposite] = 2.0 * perp[..., :, None] * perp[..., None, :] - np.eye(3)
    return rot


def kabsch(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(..., K, 3) src, dst -> (..., 3, 3) rotation R minimising sum_k |R src_k - dst_k|^2.

    H = sum_k dst_k src_k^T = U S V^T; R = U diag(1, 1, det(U V^T)) V^T (Kabsch 1976).
    """
    h = np.swapaxes(dst, -1, -2) @ src  # (..., 3, 3)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(u @ vt))  # (...,)
    fix = np.broadcast_to(np.eye(3), h.shape).copy()
    fix[..., 2, 2] = np.where(d == 0, 1.0, d)
    return u @ fix @ vt


# ------------------------------------------------------------------------------- the skeleton
def mapped_descendants(found: dict[int, int]) -> list[list[int]]:
    """Per SMPL joint, its nearest mapped descendants (children, or further down past unmapped)."""
    children: list[list[int]] = [[] for _ in contract.PARENTS]
    for j, p in enumerate(contract.PARENTS):
        if p >= 0:
            children[p].append(j)

    def nearest(j: int) -> list[int]:
        return [c for k in children[j] for c in ([k] if k in found else nearest(k))]

    return [nearest(j) for j in range(contract.NUM_JOINTS)]


def up_axis(rest: np.ndarray, found: dict[int, int]) -> tuple[str, np.ndarray]:
    """('y' | 'z', (3, 3) M taking source axes to y-up) from (J, 3) source rest positions."""
    j = contract.JOINT_INDEX
    top = next((found[j[n]] for n in ("Head", "Neck", "Spine3", "Spine2") if j[n] in found), None)
    feet = [found[j[n]] for n in ("L_Ankle", "R_Ankle") if j[n] in found]
    if top is None or not feet:
        raise RetargetError("cannot tell the up axis: no head/neck/spine or no ankles are mapped")
    up = rest[top] - rest[feet].mean(axis=0)  # (3,)
    axis = int(np.argmax(np.abs(up)))
    if axis == 1 and up[1] > 0:
        return "y", np.eye(3)
    if axis == 2 and up[2] > 0:
        return "z", Z_UP_TO_Y_UP
    raise RetargetError(f"the rest pose stands along {'-' if up[axis] < 0 else '+'}{'xyz'[axis]}; "
                        "only y-up and z-up skeletons are supported")


def detect_units(span: float) -> str:
    """Unit of a skeleton whose rest joints span ``span`` vertically (module docstring)."""
    return next((unit for limit, unit in HEIGHT_LIMITS if span < limit), "mm")


def leg_height(rest_y_up: np.ndarray, found: dict[int, int]) -> float:
    """Rest height of the mapped pelvis above the lowest mapped foot joint, source units."""
    feet = [found[contract.JOINT_INDEX[n]] for n in FOOT_NAMES if contract.JOINT_INDEX[n] in found]
    return float(rest_y_up[found[0], contract.UP_AXIS] - rest_y_up[feet, contract.UP_AXIS].min())


SMPL_REST: np.ndarray = kinematics.rest_joints().astype(np.float64)
"""(24, 3) SMPL rest joint positions, metres, root at the origin."""
_SMPL_FEET: list[int] = [contract.JOINT_INDEX[n] for n in FOOT_NAMES]
SMPL_LEG_HEIGHT: float = float(SMPL_REST[0, 1] - SMPL_REST[_SMPL_FEET, 1].min())
"""SMPL rest pelvis height above its lowest foot joint, metres."""


def world_rotations(
    positions: np.ndarray,
    found: dict[int, int],
    source_rest: np.ndarray,
    source_world: np.ndarray | None = None,
) -> np.ndarray:
    """SMPL world rotations G (T, 24, 3, 3) from source joints (module docstring).

    Args:
        positions: (T, J, 3) source world positions, y-up (any unit).
        found: {SMPL joint: source joint} of the mapped joints.
        source_rest: (J, 3) source rest positions, y-up, same unit.
        source_world: (T, J, 3, 3) source world rotations in y-up axes, or None.
    """
    num = positions.shape[0]
    targets = mapped_descendants(found)
    eye = np.broadcast_to(np.eye(3), (num, 3, 3))
    g = np.zeros((num, contract.NUM_JOINTS, 3, 3))  # (T, 24, 3, 3)
    align = np.zeros((contract.NUM_JOINTS, 3, 3))  # A_j, (24, 3, 3)
    for j, p in enumerate(contract.PARENTS):
        parent_g = g[:, p] if p >= 0 else eye
        parent_a = align[p] if p >= 0 else np.eye(3)
        if j not in found:
            g[:, j], align[j] = parent_g, parent_a
            continue
        src = found[j]
        kids = targets[j]
        if not kids:
            align[j] = parent_a
            g[:, j] = source_world[:, src] @ parent_a if source_world is not None else parent_g
            continue
        v, _ = _unit(SMPL_REST[kids] - SMPL_REST[j])  # (K, 3)
        r, _ = _unit(source_rest[[found[c] for c in kids]] - source_rest[src])  # (K, 3)
        w, ok = _unit(positions[:, [found[c] for c in kids]] - positions[:, src, None])  # (T, K, 3)
        if len(kids) >= 2:
            align[j] = kabsch(v, r)
            g[:, j] = kabsch(np.broadcast_to(v, w.shape), w)
            continue
        align[j] = min_rotation(v[0], r[0]) if np.linalg.norm(r[0]) > 0 else np.eye(3)
        guess = source_world[:, src] @ align[j] if source_world is not None else parent_g  # (T, 3, 3)
        swing = min_rotation(guess @ v[0], w[:, 0])  # (T, 3, 3)
        g[:, j] = np.where(ok[:, 0, None, None], swing @ guess, guess)
    return g


def local_axis_angle(world: np.ndarray) -> np.ndarray:
    """(T, 24, 3, 3) world rotations -> (T, 24, 3) local axis-angle, R_j = G_parent^T G_j."""
    local = world.copy()
    for j, p in enumerate(contract.PARENTS):
        if p >= 0:
            local[:, j] = np.swapaxes(world[:, p], -1, -2) @ world[:, j]
    with torch.no_grad():
        return kinematics.matrix_to_axis_angle(torch.from_numpy(local)).numpy()  # (T, 24, 3)


def retarget(
    positions: np.ndarray,
    names: tuple[str, ...] | list[str],
    source_rest: np.ndarray,
    fps: float,
    joint_map: dict[str, str] | None = None,
    source_world: np.ndarray | None = None,
) -> tuple[Motion, dict]:
    """Any skeleton's motion -> SMPL :class:`Motion` at ``fps`` (not yet floored or resampled).

    Args:
        positions: (T, J, 3) source world joint positions, file axes and units.
        names: the J source joint names. source_rest: (J, 3) rest positions.
        joint_map: ``{SMPL name: source name}``; detected among the shipped maps when None.
        source_world: (T, J, 3, 3) source world rotations (BVH), or None (positions only).
    Returns:
        the motion and what was detected: map name, up axis, unit, root scale.
    """
    map_name = "user"
    if joint_map is None:
        map_name, joint_map = joint_maps.detect_joint_map(names)
    found = joint_maps.resolve(joint_map, names)
    joint_maps.check_core_joints(found, "the joint map does not fit this skeleton")
    axis, m = up_axis(source_rest, found)
    rest = source_rest @ m.T  # (J, 3) y-up
    pos = positions @ m.T  # (T, J, 3)
    world = None if source_world is None else m @ source_world @ m.T  # (T, J, 3, 3) conjugated
    span = float(np.ptp(rest[list(found.values()), contract.UP_AXIS]))
    height = leg_height(rest, found)
    if not height > 0:
        raise RetargetError("the mapped pelvis is not above the feet in the rest pose")
    scale = SMPL_LEG_HEIGHT / height
    g = world_rotations(pos, found, rest, world)
    motion = Motion(local_axis_angle(g), pos[:, found[0]] * scale, fps)
    info = {"joint_map": map_name, "up_axis": axis, "units": detect_units(span),
            "root_scale": scale, "mapped_joints": len(found)}
    return motion, info


def retarget_bvh(bvh: BVH, joint_map: dict[str, str] | None = None) -> tuple[Motion, dict]:
    """A parsed BVH -> SMPL :class:`Motion` at the file's frame rate (:func:`retarget`)."""
    pos, world = bvh_forward_kinematics(bvh)  # (T, J, 3), (T, J, 3, 3)
    return retarget(pos, bvh.names, rest_positions(bvh), bvh.fps, joint_map, world)
