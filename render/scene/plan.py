"""Planning a dance into frames: everything per frame that needs the whole dance, worked out once.

:func:`plan_dance` gives a :class:`DancePlan`: the joints, the camera path
(:func:`render.scene.camera.plan_camera`), the beat flash, the feet in contact, the soft
shadow blobs and the body's box on screen, so pieces of one dance rendered apart join seamlessly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from motionbeat.core import contract, kinematics
from motionbeat.core.motion import Motion
from render.scene.camera import CameraPath, plan_camera, screen_boxes

SHADOW_RADIUS_BODY = 0.42
SHADOW_RADIUS_FOOT = 0.17
SHADOW_STRENGTH = 0.55
SHADOW_FADE_HEIGHT = 0.6
"""A blob's strength falls as exp(-height / this), height of its joint above the floor."""
FLASH_DECAY_S = 0.12


def beat_flash(
    times: np.ndarray, beats: Sequence[float] | None, decay: float = FLASH_DECAY_S
) -> np.ndarray:
    """Flash strength in [0, 1] at each time: exp(-(t - b) / decay) after the latest beat b <= t."""
    times = np.asarray(times, dtype=np.float64)
    if beats is None or len(beats) == 0:
        return np.zeros_like(times)
    beats = np.sort(np.asarray(beats, dtype=np.float64))
    idx = np.searchsorted(beats, times, side="right") - 1
    since = times - beats[np.clip(idx, 0, None)]
    return np.where(idx >= 0, np.exp(-np.clip(since, 0.0, None) / decay), 0.0)


def foot_contacts(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2) left / right foot in contact: either of its joints slower than the contract speed."""
    with torch.no_grad():
        c = kinematics.foot_contacts(
            torch.from_numpy(np.ascontiguousarray(joints, np.float32)), fps
        ).numpy()
    order = {j: i for i, j in enumerate(contract.FOOT_JOINTS)}
    left = np.maximum(c[:, order[contract.L_ANKLE]], c[:, order[contract.L_TOE]])
    right = np.maximum(c[:, order[contract.R_ANKLE]], c[:, order[contract.R_TOE]])
    return np.stack([left, right], axis=-1) > 0.5


def _shadow_blobs(joints: np.ndarray) -> np.ndarray:
    """(T, 3, 4) soft shadow blobs (x, z, radius, strength) under the pelvis and the two feet."""
    up = contract.UP_AXIS
    specs = [
        (joints[:, 0], SHADOW_RADIUS_BODY, 0.6),
        (joints[:, [contract.L_ANKLE, contract.L_TOE]].mean(1), SHADOW_RADIUS_FOOT, 1.0),
        (joints[:, [contract.R_ANKLE, contract.R_TOE]].mean(1), SHADOW_RADIUS_FOOT, 1.0),
    ]
    blobs = []
    for point, radius, weight in specs:
        height = np.clip(point[:, up] - contract.FLOOR_HEIGHT, 0.0, None)
        if weight < 1.0:  # the pelvis stands about a metre up: measure from standing height
            height = np.clip(height - 0.9, 0.0, None)
        strength = SHADOW_STRENGTH * weight * np.exp(-height / SHADOW_FADE_HEIGHT)
        blobs.append(
            np.column_stack([point[:, 0], point[:, 2], np.full(len(point), radius), strength])
        )
    return np.stack(blobs, axis=1)


@dataclass(frozen=True)
class DancePlan:
    """Everything about a dance's frames that needs the whole dance, worked out once.

    Attributes:
        joints: (T, 24, 3) contract-skeleton joints. camera: the camera path.
        flash: (T,) beat flash in [0, 1]. contacts: (T, 2) feet in contact, or None.
        shadows: (T, 3, 4) shadow blobs. boxes: (T, 4) the body's box on screen (GL pixels).
    """

    joints: np.ndarray
    camera: CameraPath
    flash: np.ndarray
    contacts: np.ndarray | None
    shadows: np.ndarray
    boxes: np.ndarray


def plan_dance(
    motion: Motion,
    size: int,
    beats: Sequence[float] | None = None,
    contacts: bool = False,
    camera: CameraPath | None = None,
) -> DancePlan:
    """Plan a whole dance for frames of ``size`` pixels (see :class:`DancePlan`)."""
    joints = motion.joints()  # (T, 24, 3), skeleton of the contract
    camera = camera or plan_camera(joints, motion.fps)
    times = motion.start_offset + np.arange(motion.num_frames) / motion.fps
    return DancePlan(
        joints=joints,
        camera=camera,
        flash=beat_flash(times, beats),
        contacts=foot_contacts(joints, motion.fps) if contacts else None,
        shadows=_shadow_blobs(joints).astype(np.float32),
        boxes=screen_boxes(camera, joints, size),
    )
