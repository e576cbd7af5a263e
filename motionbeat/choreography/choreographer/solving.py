"""Solving, the choreographer's last stage: channels and foot tracks to SMPL poses (:func:`solve_pose`).

The pelvis over the feet by the support weight, legs and arms by analytic two-bone inverse
kinematics (:func:`two_bone_ik`), hands kept out of the torso, spine, neck and head from the
channels; with the body measures, joint limits and pole vectors it uses.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from motionbeat.choreography import moves as mv
from motionbeat.choreography.choreographer.style import DancerStyle
from motionbeat.core import contract, kinematics

J = contract.JOINT_INDEX
OFF = contract.REST_OFFSETS.astype(np.float64)

# ------------------------------------------------------------------------------ constants
STAND_HEIGHT: float = float(
    -(OFF[J["L_Hip"]] + OFF[J["L_Knee"]] + OFF[J["L_Ankle"]] + OFF[J["L_Foot"]])[1]
)
"""Pelvis height with straight legs and the toe joint on the floor (about 0.956 m)."""
REACH_MARGIN: float = 0.985
"""Legs extend to at most this share of their full length (a straight knee looks locked)."""
WEIGHT_GAIN: float = 0.75
"""How far the pelvis travels toward the supporting foot (1 = right over its toe)."""
WEIGHT_SMOOTH_S: float = 0.09
"""Gaussian smoothing of the support weight, seconds: the body shifts just before a lift."""
MAX_HEEL: float = 0.6
"""Largest heel raise of a planted foot, rad."""
KNEE_MAX: float = math.radians(150.0)
ELBOW_MAX: float = math.radians(145.0)
HEIGHT_SOFTMIN_M: float = 0.01
"""Softness of the reach limit on pelvis height, m."""

# Torso as an elliptic cylinder around the spine, in the chest frame and relative to the
# shoulder (outward from the midline, up, forward), used to keep the hands out of the body.
TORSO_HALF_WIDTH: float = 0.2
TORSO_HALF_DEPTH: float = 0.16
TORSO_CENTRE_Z: float = 0.03
TORSO_TOP: float = 0.02
TORSO_BOTTOM: float = -0.7
HEAD_RADIUS: float = 0.14
HEAD_TOP: float = 0.4

POLE_LOW = np.array([0.35, -0.3, -1.0])
"""Elbow direction (outward, up, forward) for hanging arms: back and a little out."""
POLE_FRONT = np.array([1.0, -0.6, -0.15])
"""Elbow direction for hands in front of the body: out and down."""
POLE_HIGH = np.array([1.0, 0.0, -0.3])
"""Elbow direction for raised arms: out to the side."""

SPINE_SPLIT: tuple[float, float, float] = (0.35, 0.35, 0.3)
"""Share of the spine channels taken by Spine1, Spine2, Spine3."""
NECK_SHARE: float = 0.4
"""Share of the head channels taken by the neck (the rest by the head joint)."""
HEAD_STABILISE: float = 0.6
"""Share of the torso's pitch and roll that the neck undoes to keep the gaze level."""

# Joint ranges for the channels, rad.
SPINE_PITCH_RANGE = (-0.45, 0.7)
SPINE_ROLL_MAX = 0.4
SPINE_YAW_MAX = 0.7
HEAD_PITCH_RANGE = (-0.5, 0.55)
HEAD_ROLL_MAX = 0.4
HEAD_YAW_MAX = 0.8


def _axis_rot(axis: int, ang: np.ndarray) -> np.ndarray:
    """(N,) angles -> (N, 3, 3) rotations about x (0), y (1) or z (2)."""
    ang = np.asarray(ang, dtype=np.float64)
    c, s = np.cos(ang), np.sin(ang)
    r = np.zeros(ang.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    r[..., axis, axis] = 1.0
    r[..., i, i], r[..., j, j] = c, c
    r[..., i, j], r[..., j, i] = -s, s
    return r


def _rodrigues(h: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """Rotation by (N,) angles about the fixed unit axis h (3,) -> (N, 3, 3)."""
    k = np.array([[0, -h[2], h[1]], [h[2], 0, -h[0]], [-h[1], h[0], 0]])
    s, c = np.sin(ang)[:, None, None], np.cos(ang)[:, None, None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def two_bone_ik(
    v: np.ndarray,
    pole: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    hinge: np.ndarray,
    max_flex: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Analytic two-bone IK in the proximal joint's parent frame.

    The middle joint (knee, elbow) is a hinge: its rotation is ``Rot(hinge, theta)`` with
    theta >= 0 flexion. With a = middle-joint offset and b = end offset (rest), the end sits
    at w(theta) = a + Rot(hinge, theta) b from the proximal joint. By Rodrigues,
    a . Rot b = C cos(theta) + S sin(theta) + (a.h)(h.b) with C = a.b - (a.h)(h.b) and
    S = a.(h x b); so |w|^2 = d^2 gives theta = phi + arccos(K / r), phi = atan2(S, C),
    r = sqrt(C^2 + S^2), K = (d^2 - |a|^2 - |b|^2) / 2 - (a.h)(h.b). The proximal rotation
    then maps the frame (w, hinge) onto (v, pole x v), which puts the middle joint toward the
    pole.

    Args:
        v: (N, 3) target of the end joint relative to the proximal joint.
        pole: (N, 3) direction the middle joint should bulge toward.
        a, b, hinge: (3,) offsets and the unit hinge axis.
    Returns:
        proximal (N, 3, 3) and middle (N, 3, 3) local rotations.
    """
    ah, hb = float(a @ hinge), float(hinge @ b)
    c_ = float(a @ b) - ah * hb
    s_ = float(a @ np.cross(hinge, b))
    r = math.hypot(c_, s_)
    phi = math.atan2(s_, c_)
    base = float(a @ a + b @ b) + 2 * ah * hb
    d2_max, d2_min = base + 2 * r, base - 2 * r
    if phi < 0.0:  # the straightest reach would need hyperextension: the limit is theta = 0
        d2_max = float((a + b) @ (a + b))
    d2 = np.clip(np.sum(v * v, axis=-1), d2_min + 0.02 * (d2_max - d2_min), d2_max * 0.9999)
    k = (d2 - float(a @ a + b @ b)) / 2 - ah * hb
    theta = np.clip(phi + np.arccos(np.clip(k / r, -1.0, 1.0)), 0.0, max_flex)  # (N,)
    mid = _rodrigues(hinge, theta)  # (N, 3, 3)
    w = a[None, :] + mid @ b  # (N, 3)
    e1 = _unit(w)
    e2 = _unit(hinge[None, :] - np.sum(hinge[None, :] * e1, -1, keepdims=True) * e1)
    src = np.stack([e1, e2, np.cross(e1, e2)], axis=-1)  # (N, 3, 3) columns
    f1 = _unit(v)
    f2 = np.cross(pole, f1)
    f2 = _unit(f2 - np.sum(f2 * f1, -1, keepdims=True) * f1)
    dst = np.stack([f1, f2, np.cross(f1, f2)], axis=-1)
    return dst @ np.swapaxes(src, -1, -2), mid


def _push_out_of_torso(h: np.ndarray) -> np.ndarray:
    """(N, 3) hand targets (outward, up, forward) from the shoulder, moved out of the torso/head."""
    h = h.copy()
    x = h[:, 0] + mv.SHOULDER_OUT  # distance from the midline toward the hand's own side
    z = h[:, 2] - TORSO_CENTRE_Z
    in_band = (h[:, 1] < TORSO_TOP) & (h[:, 1] > TORSO_BOTTOM)
    rho = np.sqrt((x / TORSO_HALF_WIDTH) ** 2 + (z / TORSO_HALF_DEPTH) ** 2)
    inside = in_band & (rho < 1.0)
    # push out along the ellipse's radius, toward the front when the hand is in front of the midline
    scale = np.where(inside, 1.0 / np.maximum(rho, 0.3), 1.0)
    x_new = np.where(inside & (rho < 0.3), np.maximum(x, 0.0) + 0.3 * TORSO_HALF_WIDTH, x) * scale
    h[:, 0] = x_new - mv.SHOULDER_OUT
    h[:, 2] = z * scale + TORSO_CENTRE_Z
    x = h[:, 0] + mv.SHOULDER_OUT
    head = (h[:, 1] >= TORSO_TOP) & (h[:, 1] < HEAD_TOP)
    r_head = np.hypot(x, h[:, 2] - TORSO_CENTRE_Z)
    inside = head & (r_head < HEAD_RADIUS)
    s = np.where(inside, HEAD_RADIUS / np.maximum(r_head, 1e-3), 1.0)
    h[:, 0] = np.where(inside & (r_head < 1e-3), HEAD_RADIUS, x * s) - mv.SHOULDER_OUT
    h[:, 2] = (h[:, 2] - TORSO_CENTRE_Z) * s + TORSO_CENTRE_Z
    return h


def _softmin(a: np.ndarray, b: np.ndarray, s: float) -> np.ndarray:
    """Smooth min(a, b): b - s softplus((b - a) / s)."""
    return b - s * np.logaddexp(0.0, (b - a) / s)


def solve_pose(perf: dict, style: DancerStyle) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channels and foot tracks -> SMPL poses (T, 24, 3), trans (T, 3), planted (T, 2)."""
    left, right = perf["feet"]
    n = len(perf["bounce"])
    facing = perf["facing_world"]
    # --- pelvis orientation
    r_pelvis = (
        _axis_rot(1, facing + perf["pyaw"])
        @ _axis_rot(0, perf["ppitch"])
        @ _axis_rot(2, perf["proll"])
    )  # (T, 3, 3)
    # --- support weight (0 over the left foot, 1 over the right)
    target = np.where(
        left.planted & ~right.planted, 0.0, np.where(right.planted & ~left.planted, 1.0, 0.5)
    )
    weight = gaussian_filter1d(target, WEIGHT_SMOOTH_S * contract.FPS, mode="nearest")
    weight = np.clip(weight + perf["shift"], 0.0, 1.0)
    share = 0.5 + (weight - 0.5) * WEIGHT_GAIN
    mid = left.ground + (right.ground - left.ground) * share[:, None]  # (T, 2)
    c, s = np.cos(facing), np.sin(facing)
    lx, lz = perf["sway"], perf["surge"] - mv.TOE_Z
    pelvis = np.zeros((n, 3))
    pelvis[:, 0] = mid[:, 0] + c * lx + s * lz
    pelvis[:, 2] = mid[:, 1] - s * lx + c * lz
    pelvis[:, 1] = STAND_HEIGHT - style.crouch + perf["bounce"]
    # --- feet: world orientation and ankle targets
    feet = []
    for side, track, hip, toe_off, heel in (
        (0, left, J["L_Hip"], OFF[J["L_Foot"]], perf["heel_l"]),
        (1, right, J["R_Hip"], OFF[J["R_Foot"]], perf["heel_r"]),
    ):
        pitch = track.pitch + np.clip(heel, 0.0, MAX_HEEL)
        f_rot = _axis_rot(1, track.yaw) @ _axis_rot(0, pitch)  # (T, 3, 3)
        ankle = track.toe - f_rot @ toe_off  # (T, 3)
        feet.append((side, hip, f_rot, ankle))
    # --- reach: lower the pelvis where a straight leg could not reach its ankle target
    # straight-knee reach (theta = 0) of the shorter leg
    leg_len = REACH_MARGIN * min(
        np.linalg.norm(OFF[J["L_Knee"]] + OFF[J["L_Ankle"]]),
        np.linalg.norm(OFF[J["R_Knee"]] + OFF[J["R_Ankle"]]),
    )
    y_max = np.full(n, np.inf)
    for _, hip, _, ankle in feet:
        hip_w = r_pelvis @ OFF[hip]  # (T, 3)
        dh2 = (pelvis[:, 0] + hip_w[:, 0] - ankle[:, 0]) ** 2 + (
            pelvis[:, 2] + hip_w[:, 2] - ankle[:, 2]
        ) ** 2
        y_max = np.minimum(
            y_max, ankle[:, 1] + np.sqrt(np.maximum(leg_len**2 - dh2, 0.04)) - hip_w[:, 1]
        )
    pelvis[:, 1] = _softmin(pelvis[:, 1], y_max, HEIGHT_SOFTMIN_M)
    rot = np.tile(np.eye(3), (n, contract.NUM_JOINTS, 1, 1))  # (T, 24, 3, 3) local rotations
    rot[:, 0] = r_pelvis
    # --- legs
    hinge_knee = np.array([1.0, 0.0, 0.0])
    for side, hip, f_rot, ankle in feet:
        knee, ank = (J["L_Knee"], J["L_Ankle"]) if side == 0 else (J["R_Knee"], J["R_Ankle"])
        hip_w = pelvis + r_pelvis @ OFF[hip]
        r_t = np.swapaxes(r_pelvis, -1, -2)
        v = (r_t @ (ankle - hip_w)[..., None])[..., 0]
        fwd = f_rot[:, :, 2] * np.array([1.0, 0.0, 1.0]) + np.array([0.0, 0.5, 0.0])
        pole = (r_t @ fwd[..., None])[..., 0]
        r_hip, r_knee = two_bone_ik(v, pole, OFF[knee], OFF[ank], hinge_knee, KNEE_MAX)
        rot[:, hip], rot[:, knee] = r_hip, r_knee
        rot[:, ank] = np.swapaxes(r_pelvis @ r_hip @ r_knee, -1, -2) @ f_rot
    # --- spine, neck, head
    sp = np.clip(style.lean + perf["sp"], *SPINE_PITCH_RANGE)
    sr = np.clip(perf["sr"], -SPINE_ROLL_MAX, SPINE_ROLL_MAX)
    sy = np.clip(perf["sy"] - 0.5 * perf["pyaw"], -SPINE_YAW_MAX, SPINE_YAW_MAX)
    for joint, share_ in zip((J["Spine1"], J["Spine2"], J["Spine3"]), SPINE_SPLIT, strict=True):
        rot[:, joint] = (
            _axis_rot(1, share_ * sy) @ _axis_rot(0, share_ * sp) @ _axis_rot(2, -share_ * sr)
        )
    hp = np.clip(perf["hp"] - HEAD_STABILISE * (sp + perf["ppitch"]), *HEAD_PITCH_RANGE)
    hr = np.clip(perf["hr"] + HEAD_STABILISE * (sr - perf["proll"]), -HEAD_ROLL_MAX, HEAD_ROLL_MAX)
    hy = np.clip(perf["hy"] - 0.3 * sy, -HEAD_YAW_MAX, HEAD_YAW_MAX)
    for joint, share_ in ((J["Neck"], NECK_SHARE), (J["Head"], 1.0 - NECK_SHARE)):
        rot[:, joint] = (
            _axis_rot(1, share_ * hy) @ _axis_rot(0, share_ * hp) @ _axis_rot(2, -share_ * hr)
        )
    # --- arms: hand targets in the chest frame, relative to the shoulder
    for side, collar, shoulder, elbow, wrist, hand_key, shrug_key in (
        (0, J["L_Collar"], J["L_Shoulder"], J["L_Elbow"], J["L_Wrist"], "lh", "shrug_l"),
        (1, J["R_Collar"], J["R_Shoulder"], J["R_Elbow"], J["R_Wrist"], "rh", "shrug_r"),
    ):
        sign = mv.SIDE_SIGN[side]
        h = _push_out_of_torso(perf[hand_key])
        target = h * np.array([sign, 1.0, 1.0])  # outward -> x
        up = np.clip(h[:, 1] / 0.5, 0.0, 1.0)
        shrug = np.clip(perf[shrug_key] + 0.2 * up, -0.1, 0.35)
        r_collar = _axis_rot(2, sign * shrug)
        rot[:, collar] = r_collar
        v = (np.swapaxes(r_collar, -1, -2) @ target[..., None])[..., 0]
        # elbows point back when the hands hang, out when the hands are in front or up
        fwd = np.clip((h[:, 2] - 0.1) / 0.25, 0.0, 1.0) * (1.0 - up)
        low = (1.0 - up - fwd)[:, None]
        pole = (
            low * POLE_LOW * [sign, 1, 1]
            + fwd[:, None] * POLE_FRONT * [sign, 1, 1]
            + up[:, None] * POLE_HIGH * [sign, 1, 1]
        )
        pole = (np.swapaxes(r_collar, -1, -2) @ pole[..., None])[..., 0]
        hinge = np.array([0.0, -sign, 0.0])
        r_sh, r_el = two_bone_ik(v, pole, OFF[elbow], OFF[wrist], hinge, ELBOW_MAX)
        rot[:, shoulder], rot[:, elbow] = r_sh, r_el
        rot[:, wrist] = _axis_rot(2, np.full(n, -0.15 * sign))
    with torch.no_grad():
        poses = kinematics.matrix_to_axis_angle(torch.from_numpy(rot)).numpy()
    planted = np.stack([left.planted, right.planted], axis=1)
    return poses.astype(np.float32), pelvis.astype(np.float32), planted

