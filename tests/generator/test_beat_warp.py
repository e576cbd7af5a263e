"""The beat warp retimes a dance so its accents fall on the beats; poses and length stay."""

import numpy as np
import pytest
import torch

from generator.cleanup.beat_warp import (
    MAX_RATE,
    warp_anchors,
    warp_dance,
    warp_positions,
    warp_to_beats,
    wrap_phase,
)
from generator.sampling.pipeline import DanceGenerator
from motionbeat.core import contract
from motionbeat.core.kinematics import axis_angle_to_matrix, forward_kinematics
from motionbeat.core.motion import Motion
from motionbeat.metrics.alignment import phase_locking
from motionbeat.metrics.beats import motion_beats

FPS = contract.FPS
BEATS = np.arange(0.0, 12.01, 0.5)  # (25,) 120 BPM, s


def test_wrap_phase_by_hand():
    np.testing.assert_allclose(wrap_phase([0.1, 0.6, -0.7, 0.5]), [0.1, -0.4, 0.3, -0.5])


def test_anchors_by_hand():
    # phases 0.1, 0.1, 0.2, 0.0; the dance itself prefers their circular mean, about 0.1
    accents = np.array([1.05, 1.55, 2.10, 2.50])
    src, out = warp_anchors(accents, BEATS, duration=4.0, max_shift=0.25)  # on the beat
    np.testing.assert_allclose(src, [0.0, 1.05, 1.55, 2.10, 2.50, 4.0])
    np.testing.assert_allclose(out, [0.0, 1.0, 1.5, 2.0, 2.5, 4.0])
    src, out = warp_anchors(accents, BEATS, duration=4.0, max_shift=0.25, target_phase=None)
    preferred = np.angle(np.mean(np.exp(2j * np.pi * np.array([0.1, 0.1, 0.2, 0.0])))) / (2 * np.pi)
    np.testing.assert_allclose(src, [0.0, 1.05, 1.55, 2.10, 2.50, 4.0])
    expected = [0.0, *(accents + 0.5 * wrap_phase(preferred - np.array([0.1, 0.1, 0.2, 0.0]))), 4.0]
    np.testing.assert_allclose(out, expected)
    # an accent further off than max_shift is left where it is (no anchor)
    src, _ = warp_anchors(accents, BEATS, duration=4.0, max_shift=0.15)
    np.testing.assert_allclose(src, [0.0, 1.05, 1.55, 2.50, 4.0])


def test_anchors_never_rush_or_drag_a_move_past_the_rate():
    accents = np.array([1.0, 1.2, 1.25, 3.0])  # phases 0, 0.4, 0.5, 0: the middle two move far
    src, out = warp_anchors(accents, BEATS, duration=4.0, max_shift=0.5)
    rates = np.diff(src) / np.diff(out)
    assert (rates <= MAX_RATE + 1e-9).all() and (rates >= 1 / MAX_RATE - 1e-9).all()
    assert 1.2 not in src or 1.25 not in src  # not both: 0.05 s of dance cannot become 0.25 s
    with pytest.raises(ValueError, match="max_shift"):
        warp_anchors(accents, BEATS, 4.0, max_shift=0.6)


def swinging_arms(seconds: float, period_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Arms swinging with ``period_s``: the body comes to rest twice a period."""
    t = np.arange(round(seconds * FPS)) / FPS
    poses = np.zeros((t.size, contract.NUM_JOINTS, 3), np.float32)
    swing = 0.8 * np.sin(2 * np.pi * t / period_s)
    for joint in ("L_Shoulder", "R_Shoulder"):
        poses[:, contract.JOINT_INDEX[joint], 2] = swing
    trans = np.zeros((t.size, 3), np.float32)
    trans[:, contract.UP_AXIS] = 0.9
    return poses, trans


def accents_of(poses, trans) -> np.ndarray:
    with torch.no_grad():
        joints = forward_kinematics(axis_angle_to_matrix(torch.from_numpy(poses)), torch.from_numpy(trans))
    return motion_beats(joints.numpy(), FPS)


def test_a_drifting_dance_locks_to_the_beat_and_keeps_its_poses_and_length():
    # rests every 0.55 s against beats every 0.5 s: the accents drift through every phase
    poses, trans = swinging_arms(10.0, period_s=1.1)
    before = phase_locking(accents_of(poses, trans), BEATS)
    new_poses, new_trans = warp_to_beats(poses, trans, FPS, BEATS, max_shift=0.5)
    after = phase_locking(accents_of(new_poses, new_trans), BEATS)
    assert before < 0.3 and after > before + 0.4, (before, after)
    assert new_poses.shape == poses.shape and new_trans.shape == trans.shape
    np.testing.assert_allclose(new_poses[[0, -1]], poses[[0, -1]], atol=1e-5)  # starts and ends with the song
    # retimed, not reposed: every new pose lies on the old swing (its angle within the old range)
    arm = contract.JOINT_INDEX["L_Shoulder"]
    assert np.abs(new_poses[:, arm, 2]).max() <= np.abs(poses[:, arm, 2]).max() + 1e-4
    np.testing.assert_array_equal(warp_to_beats(poses, trans, FPS, BEATS, 0.0)[0], poses)


def test_the_pipeline_warps_when_asked_and_records_it(untrained_checkpoint, click_tracks):
    gen = DanceGenerator.load(untrained_checkpoint, device="cpu")
    assert gen.config.beat_warp == 0.0  # off by default
    plain = gen.generate(click_tracks["short"], seed=1, steps=2)
    warped = gen.generate(click_tracks["short"], seed=1, steps=2, beat_warp=0.5)
    assert plain.meta["generator"]["beat_warp"] == 0.0 and warped.meta["generator"]["beat_warp"] == 0.5
    assert warped.num_frames == plain.num_frames
    np.testing.assert_allclose(warped.poses[0], plain.poses[0], atol=1e-5)
    with pytest.raises(ValueError, match="beat_warp must be from 0 to 0.5"):
        gen.generate(click_tracks["short"], seed=1, steps=2, beat_warp=0.75)


def test_warp_dance_carries_the_model_frames_along_the_same_time_map():
    poses, trans = swinging_arms(6.0, period_s=1.1)
    start = 2.0  # the excerpt starts 2 s into the song: the beats are on the song's clock
    motion = Motion(poses, trans, FPS, start_offset=start)
    frames = np.zeros((poses.shape[0], 4), np.float32)
    frames[:, 0] = np.arange(poses.shape[0])  # a channel that names its frame
    frames[:, 1] = 1.0  # a contact held throughout stays held
    warped, carried = warp_dance(motion, frames, BEATS + start, max_shift=0.5)
    positions = warp_positions(poses, trans, FPS, BEATS, 0.5)  # (T,)
    assert (np.diff(positions) > 0).all() and positions[0] == 0 and positions[-1] == poses.shape[0] - 1
    assert np.abs(positions - np.arange(poses.shape[0])).max() > 1.0  # it did retime
    np.testing.assert_allclose(carried[:, 0], positions, atol=1e-4)
    np.testing.assert_array_equal(carried[:, 1], 1.0)
    np.testing.assert_allclose(warped.poses, warp_to_beats(poses, trans, FPS, BEATS, 0.5)[0], atol=1e-6)
    assert warped.start_offset == start and warped.num_frames == motion.num_frames
    same, untouched = warp_dance(motion, frames, BEATS + start, max_shift=0.0)
    assert same is motion and untouched is frames
