"""The EGL scene and its camera. Frames are tiny (64-128 px) to keep the tests fast."""

from __future__ import annotations

import math

import numpy as np
import pytest

from motionbeat.core import contract
from render import bench, scene
from render.bodies import MannequinBody, SkeletonBody
from render.scene import DanceScene, RenderError

SIZE = 96


@pytest.fixture(scope="module")
def skeleton_scene():
    try:
        stage = DanceScene(SkeletonBody(), SIZE)
    except RenderError as err:
        if "EGL" in str(err):
            pytest.skip(f"headless OpenGL (EGL) cannot start here: {err}")
        raise
    yield stage
    stage.close()


def project(camera: scene.CameraPath, points: np.ndarray, frame: int) -> np.ndarray:
    """(N, 3) world points -> (N, 2) normalised device coordinates for a square frame."""
    world_to_cam = np.linalg.inv(camera.pose(frame))
    cam = points @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    depth = -cam[:, 2]
    return cam[:, :2] / (depth[:, None] * math.tan(camera.yfov / 2))


@pytest.mark.parametrize("travel", [0.0, 3.0])
def test_camera_frames_every_joint_of_every_frame(travel):
    motion = bench.synthetic_dance(16.0, travel=travel)
    joints = motion.joints()
    camera = scene.plan_camera(joints, motion.fps)
    assert camera.follows == (travel > 1.0)
    assert camera.distance >= scene.MIN_CAMERA_DISTANCE
    for frame in range(0, motion.num_frames, 7):
        ndc = project(camera, joints[frame], frame)
        assert np.abs(ndc).max() < 1.0 - scene.FRAME_MARGIN / 2
    if not camera.follows:
        assert np.allclose(camera.eye, camera.eye[0])


def test_camera_looks_at_the_dancers_front():
    motion = bench.synthetic_dance(2.0, travel=0.0)  # faces +x (yaw 90 degrees) on average
    camera = scene.plan_camera(motion.joints(), motion.fps)
    view = camera.eye[0] - camera.target[0]
    yaw = math.degrees(math.atan2(view[0], view[2]))
    facing = math.degrees(scene.facing_yaw(motion.joints()))
    assert abs(((yaw - facing - scene.CAMERA_AZIMUTH_DEG) + 180) % 360 - 180) < 1.0


def test_beat_flash_decays_after_each_beat():
    times = np.array([0.0, 0.99, 1.0, 1.0 + scene.FLASH_DECAY_S, 5.0])
    flash = scene.beat_flash(times, [1.0, 3.0])
    assert flash[0] == 0.0 and flash[1] == 0.0
    assert flash[2] == pytest.approx(1.0)
    assert flash[3] == pytest.approx(math.exp(-1.0))
    assert flash[4] == pytest.approx(math.exp(-2.0 / scene.FLASH_DECAY_S))
    assert not scene.beat_flash(times, None).any()


def test_contacts_follow_the_contract_speed():
    motion = bench.synthetic_dance(2.0, travel=0.0)
    joints = motion.joints()
    joints[:, contract.L_ANKLE] += np.arange(len(joints))[:, None] * 0.1  # left foot flies off
    joints[:, contract.L_TOE] += np.arange(len(joints))[:, None] * 0.1
    contacts = scene.foot_contacts(joints, motion.fps)
    assert contacts.shape == (motion.num_frames, 2)
    assert not contacts[:, 0].any()


def test_frames_show_a_body_on_a_floor(skeleton_scene):
    motion = bench.synthetic_dance(0.5, travel=0.0)
    frames = list(skeleton_scene.frames(motion, beats=[0.1], contacts=True))
    assert len(frames) == motion.num_frames
    image = frames[0]
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
    background = np.array(scene.BACKGROUND) * 255
    top_rows, bottom_rows = image[:3].reshape(-1, 3), image[-3:].reshape(-1, 3)
    assert np.abs(top_rows.mean(0) - background).max() < 12  # sky
    assert np.abs(bottom_rows.mean(0) - np.array(scene.FLOOR_COLOR) * 255).max() < 30  # floor
    differs = np.abs(image.astype(int) - background).sum(-1) > 60  # body pixels
    columns = np.flatnonzero(differs[: SIZE * 2 // 3].any(0))
    assert columns.size and abs(columns.mean() - SIZE / 2) < SIZE / 5  # a figure mid-frame


def test_antialias_modes(skeleton_scene):
    motion = bench.synthetic_dance(0.2, travel=0.0)
    images = {}
    for mode in scene.ANTIALIAS_MODES:
        with DanceScene(SkeletonBody(), SIZE, antialias=mode) as stage:
            images[mode] = next(stage.frames(motion))
    for mode in ("fxaa", "msaa"):
        diff = np.abs(images[mode].astype(int) - images["none"].astype(int))
        assert 0 < diff.mean() < 4  # smoothing of edges only
    with pytest.raises(RenderError, match="antialias"):
        DanceScene(SkeletonBody(), SIZE, antialias="ssao")


def test_mannequin_renders_and_pieces_join(skeleton_scene):
    motion = bench.synthetic_dance(0.4, travel=2.0)
    with DanceScene(MannequinBody(), 64) as stage:
        whole = list(stage.frames(motion))
        tail = list(stage.frames(motion, start=5))
    assert len(tail) == motion.num_frames - 5
    np.testing.assert_array_equal(whole[5], tail[0])


def test_bad_size():
    with pytest.raises(RenderError, match="size"):
        DanceScene(SkeletonBody(), 8)
