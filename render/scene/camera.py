"""The camera of a dance: :class:`CameraPath`, :func:`plan_camera` and its geometry helpers.

Camera (:func:`plan_camera`). It looks at the dancer from the mean facing direction, turned
:data:`CAMERA_AZIMUTH_DEG` to the side and raised :data:`CAMERA_ELEVATION_DEG`. The distance
is the smallest that keeps every joint (padded by :data:`BODY_PADDING`) of every frame inside
the frame with a margin, and stays fixed for the whole dance (no zoom pumping). The camera
stays put when the whole dance fits from one place at most :data:`STATIC_CAMERA_SLACK` times
farther than a following camera needs; otherwise it follows the pelvis, smoothed by a
Gaussian of :data:`FOLLOW_SMOOTHING_S` seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motionbeat.core import contract

CAMERA_YFOV_DEG = 38.0
CAMERA_ELEVATION_DEG = 11.0
CAMERA_AZIMUTH_DEG = 25.0
FRAME_MARGIN = 0.08
"""Fraction of the half field of view kept free at the frame edges."""
BODY_PADDING = 0.14
"""Metres added around every joint for the body's thickness (head, hands, feet)."""
MIN_CAMERA_DISTANCE = 2.2
STATIC_CAMERA_SLACK = 1.35
FOLLOW_SMOOTHING_S = 1.0
CAMERA_ZNEAR = 0.05
CAMERA_ZFAR = 300.0


@dataclass(frozen=True)
class CameraPath:
    """Per-frame camera.

    Attributes:
        eye, target: (T, 3) metres. yfov: vertical field of view, radians.
        distance: eye-to-target metres (fixed). follows: whether the target moves.
        poses: (T, 4, 4) camera-to-world, OpenGL convention (the camera looks along its -z).
    """

    eye: np.ndarray
    target: np.ndarray
    yfov: float
    distance: float
    follows: bool
    poses: np.ndarray

    def pose(self, frame: int) -> np.ndarray:
        return self.poses[frame]


def _look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(T, 3) eyes and targets -> (T, 4, 4) camera-to-world poses, y up."""
    back = eye - target
    back /= np.linalg.norm(back, axis=-1, keepdims=True)
    right = np.cross([0.0, 1.0, 0.0], back)
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    up = np.cross(back, right)
    poses = np.tile(np.eye(4), (len(eye), 1, 1))
    poses[:, :3, 0], poses[:, :3, 1], poses[:, :3, 2], poses[:, :3, 3] = right, up, back, eye
    return poses


def screen_boxes(
    camera: CameraPath, joints: np.ndarray, size: int, padding: float = 0.3
) -> np.ndarray:
    """(T, 4) integer boxes (x, y, width, height), GL pixels from the bottom left, that hold
    each frame's joints (T, N, 3) padded by ``padding`` metres, clipped to the frame."""
    world_to_cam = np.linalg.inv(camera.poses)  # (T, 4, 4)
    cam = np.einsum("tab,tnb->tna", world_to_cam[:, :3, :3], joints) + world_to_cam[:, None, :3, 3]
    depth = np.maximum(-cam[..., 2], CAMERA_ZNEAR)  # (T, N)
    focal = size / 2 / math.tan(camera.yfov / 2)  # pixels per unit of x / depth
    px = size / 2 + focal * cam[..., :2] / depth[..., None]  # (T, N, 2)
    pad = focal * padding / depth + 2  # (T, N)
    lo = np.floor((px - pad[..., None]).min(axis=1)).clip(0, size)
    hi = np.ceil((px + pad[..., None]).max(axis=1)).clip(0, size)
    return np.concatenate([lo, hi - lo], axis=-1).astype(int)


def facing_yaw(joints: np.ndarray) -> float:
    """Mean facing direction of a dance as a yaw angle about +y (0 = facing +z), radians.

    The body's forward is left x up, left = L_Hip - R_Hip (SMPL: +x is the body's left, +z its
    front). A dance that turns all the way round averages out; then the first frame decides.
    """
    left = joints[:, contract.JOINT_INDEX["L_Hip"]] - joints[:, contract.JOINT_INDEX["R_Hip"]]
    forward = np.cross(left, [0.0, 1.0, 0.0])[:, [0, 2]]  # (T, 2) x, z
    forward /= np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-8)
    mean = forward.mean(axis=0)
    if np.linalg.norm(mean) < 0.3:
        mean = forward[0]
    return float(math.atan2(mean[0], mean[1]))


def _distance_needed(
    points: np.ndarray, target: np.ndarray, basis: np.ndarray, tan_half: float
) -> float:
    """Smallest camera distance that frames ``points`` (T, N, 3) around per-frame ``target`` (T, 3).

    With the eye at target - D f, a point q (relative to the target) has depth D + q.f and
    must satisfy |q.r| + pad <= tan(fov/2) (D + q.f - pad), and likewise for q.u.
    """
    right, up, forward = basis
    rel = points - target[:, None, :]  # (T, N, 3)
    depth = rel @ forward
    need_x = (np.abs(rel @ right) + BODY_PADDING) / tan_half - depth + BODY_PADDING
    need_y = (np.abs(rel @ up) + BODY_PADDING) / tan_half - depth + BODY_PADDING
    return float(max(need_x.max(), need_y.max()))


def plan_camera(joints: np.ndarray, fps: float, yfov_deg: float = CAMERA_YFOV_DEG) -> CameraPath:
    """Camera for a whole dance from its joints (T, 24, 3); see the module docstring."""
    joints = np.asarray(joints, dtype=np.float64)
    yaw = facing_yaw(joints) + math.radians(CAMERA_AZIMUTH_DEG)
    elev = math.radians(CAMERA_ELEVATION_DEG)
    back = np.array(
        [math.sin(yaw) * math.cos(elev), math.sin(elev), math.cos(yaw) * math.cos(elev)]
    )
    forward = -back
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    basis = np.stack([right, up, forward])
    tan_half = math.tan(math.radians(yfov_deg) / 2) * (1.0 - FRAME_MARGIN)

    feet = joints[:, list(contract.FOOT_JOINTS)].copy()
    feet[..., contract.UP_AXIS] = contract.FLOOR_HEIGHT  # keep the floor under the feet in view
    points = np.concatenate([joints, feet], axis=1)  # (T, 28, 3)
    top = np.percentile(joints[..., contract.UP_AXIS].max(axis=1), 98)
    height = 0.5 * (contract.FLOOR_HEIGHT + top)

    pelvis = joints[:, 0, [0, 2]]  # (T, 2)
    lo, hi = points[..., [0, 2]].reshape(-1, 2).min(0), points[..., [0, 2]].reshape(-1, 2).max(0)
    centre = np.array([(lo[0] + hi[0]) / 2, height, (lo[1] + hi[1]) / 2])
    static_target = np.broadcast_to(centre, (len(joints), 3))
    sigma = max(FOLLOW_SMOOTHING_S * fps, 1e-3)
    smooth = gaussian_filter1d(pelvis, sigma, axis=0, mode="nearest")
    follow_target = np.column_stack([smooth[:, 0], np.full(len(joints), height), smooth[:, 1]])

    d_static = _distance_needed(points, static_target, basis, tan_half)
    d_follow = _distance_needed(points, follow_target, basis, tan_half)
    follows = d_static > STATIC_CAMERA_SLACK * max(d_follow, MIN_CAMERA_DISTANCE)
    target = follow_target if follows else np.array(static_target)
    distance = max(d_follow if follows else d_static, MIN_CAMERA_DISTANCE)
    eye = target + distance * back
    return CameraPath(
        eye=eye,
        target=target,
        yfov=math.radians(yfov_deg),
        distance=distance,
        follows=follows,
        poses=_look_at(eye, target),
    )
