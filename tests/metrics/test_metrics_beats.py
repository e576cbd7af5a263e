"""Motion beats, BAS (both directions) and the beat hit metrics."""

import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from scipy.signal import argrelextrema

from motionbeat.core import contract
from motionbeat.metrics import (
    bas,
    bas_motion,
    bcs,
    beat_alignment,
    beat_f1,
    beat_hit_scores,
    bhs,
    motion_beats,
    motion_beats_fact,
)

SIGMA_S = 0.05  # 3 frames at 60 fps


def _smooth_random(rng, num_frames, scale=0.02):
    noise = rng.normal(0.0, scale, (num_frames, contract.NUM_JOINTS, 3))
    kernel = np.hanning(15) / np.hanning(15).sum()
    walk = np.cumsum(noise, axis=0)
    return np.apply_along_axis(lambda x: np.convolve(x, kernel, mode="same"), 0, walk)


def _pulsing_clip(fps, period=0.5371, phase=0.1234, amp=0.4, duration=8.0):
    """All joints translate along x with speed amp * (1 - cos(2 pi (t - phase) / period)):
    speed zero (a motion beat) at t = phase + k * period, the same continuous motion at any fps."""
    t = np.arange(int(duration * fps)) / fps
    s = t - phase
    x = amp * (s - np.sin(2 * np.pi * s / period) * period / (2 * np.pi))
    joints = np.zeros((t.size, contract.NUM_JOINTS, 3))
    joints[:, :, 0] = x[:, None]
    joints[:, :, 2] = 0.1 * np.arange(contract.NUM_JOINTS)[None, :]
    return joints


# ------------------------------------------------------------------- hand-computed BAS


def test_beats_on_beats_score_one():
    beats = np.array([0.5, 1.0, 1.7, 2.2])
    assert bas(beats, beats) == pytest.approx(1.0)
    assert bas_motion(beats, beats) == pytest.approx(1.0)


def test_known_offset():
    music = np.array([1.0, 2.0, 3.0])
    motion = music + 0.03
    # exp(-d^2 / (2 sigma^2)) = exp(-0.0009 / 0.005) = exp(-0.18) = 0.83527...
    assert bas(music, motion, SIGMA_S) == pytest.approx(math.exp(-0.18))
    assert bas_motion(music, motion, SIGMA_S) == pytest.approx(math.exp(-0.18))
    assert bas(music, motion) == pytest.approx(math.exp(-0.18))  # default sigma is 0.05 s


def test_directions_differ():
    music = np.array([1.0, 2.0, 3.0])
    motion = np.array([1.0])
    # music direction: beats at 2 and 3 are 1 s and 2 s from the only motion beat
    expected = (1.0 + math.exp(-1.0 / 0.005) + math.exp(-4.0 / 0.005)) / 3.0
    assert bas(music, motion) == pytest.approx(expected)
    assert bas_motion(music, motion) == pytest.approx(1.0)


def test_empty_sets():
    music = np.array([1.0, 2.0])
    assert bas(music, np.array([])) == 0.0
    assert bas_motion(music, np.array([])) == 0.0  # FACT: 0 without motion beats
    assert bas_motion(np.array([]), np.array([1.0])) == 0.0
    assert math.isnan(bas(np.array([]), np.array([1.0])))


def test_beat_alignment_on_own_beats_is_one():
    joints = _pulsing_clip(contract.FPS)
    assert beat_alignment(joints, contract.FPS, motion_beats(joints, contract.FPS))["bas"] == 1.0
    own_fact = motion_beats_fact(joints, contract.FPS)
    assert beat_alignment(joints, contract.FPS, own_fact)["bas_motion"] == 1.0


def test_music_beats_past_the_clip_are_dropped():
    joints = _pulsing_clip(contract.FPS, duration=2.0)
    beats = motion_beats(joints, contract.FPS)
    out = beat_alignment(joints, contract.FPS, np.concatenate([beats, [5.0, 9.0]]))
    assert out["bas"] == 1.0
    assert out["n_music_beats"] == beats.size


def test_pulsing_clip_beats_where_the_speed_vanishes():
    period, phase = 0.5371, 0.1234
    for fps in (contract.FPS, contract.AISTPP_FPS):
        beats = motion_beats(_pulsing_clip(fps), fps)
        inner = beats[(beats > 0.5) & (beats < 7.5)]  # away from the smoothing's edge effects
        k = np.round((inner - phase) / period)
        # half a frame of sampling, plus the references' fixed 1/120-s early reading
        tolerance = 0.5 / fps + 0.5 / contract.AISTPP_FPS + 1e-9
        assert np.all(np.abs(inner - (phase + k * period)) <= tolerance)


def test_same_motion_at_30_and_60_fps():
    period, phase = 0.5371, 0.1234
    music = phase + period * np.arange(1, 14) + 0.02
    low = beat_alignment(_pulsing_clip(contract.FPS), contract.FPS, music)
    high = beat_alignment(_pulsing_clip(contract.AISTPP_FPS), contract.AISTPP_FPS, music)
    assert low["bas"] == pytest.approx(high["bas"], abs=0.03)
    assert low["bas_motion"] == pytest.approx(high["bas_motion"], abs=0.03)
    assert low["n_motion_beats"] == high["n_motion_beats"]


# ----------------------------------------- agreement with the reference definitions, 60 fps


def _bailando_reference(keypoints, music_idx):
    """Bailando utils/beat_align_score.py calc_db + BA, frame indices at 60 fps."""
    kinetic_vel = np.mean(np.sqrt(np.sum((keypoints[1:] - keypoints[:-1]) ** 2, axis=2)), axis=1)
    kinetic_vel = gaussian_filter(kinetic_vel, 5)
    motion = argrelextrema(kinetic_vel, np.less)[0]
    music = music_idx[music_idx < len(kinetic_vel)]
    return sum(np.exp(-np.min((motion - b) ** 2) / 2 / 9) for b in music) / len(music)


def _fact_reference(keypoints, music_idx):
    """mint tools/calculate_beat_scores.py motion_peak_onehot + alignment_score (sigma 3)."""
    velocity = np.zeros_like(keypoints)
    velocity[1:] = keypoints[1:] - keypoints[:-1]
    envelope = np.sum(np.linalg.norm(velocity, axis=2), axis=1)
    motion = argrelextrema(envelope, np.less, axis=0, order=10)[0]
    if motion.size == 0:
        return 0.0
    scores = [np.exp(-(np.min(np.abs(music_idx - m)) ** 2) / 2 / 3**2) for m in motion]
    return sum(scores) / len(scores)


def test_agrees_with_bailando_and_fact_at_60_fps():
    rng = np.random.default_rng(0)
    fps = contract.AISTPP_FPS
    for _ in range(5):
        joints = _smooth_random(rng, 400)
        music_idx = np.sort(rng.choice(np.arange(0, 398), size=20, replace=False))
        out = beat_alignment(joints, fps, music_idx / fps)
        assert out["bas"] == pytest.approx(_bailando_reference(joints, music_idx), abs=1e-9)
        assert out["bas_motion"] == pytest.approx(_fact_reference(joints, music_idx), abs=1e-9)
        assert out["n_motion_beats"] > 5


# ----------------------------------------------------------------------- beat hit metrics


def test_beat_hit_scores_by_hand():
    music = np.array([1.0, 2.0, 3.0, 4.0])
    motion = np.array([1.02, 2.2, 3.0])  # 2 of 3 within 0.1 s of a music beat
    assert bcs(music, motion) == pytest.approx(0.75)
    assert bhs(music, motion, tolerance_s=0.1) == pytest.approx(0.5)
    assert bhs(music, motion, tolerance_s=0.25) == pytest.approx(0.75)
    assert beat_f1(0.75, 0.5) == pytest.approx(0.6)  # 2 * 0.375 / 1.25

    out = beat_hit_scores(
        [music, np.array([1.0, 2.0])], [motion, np.array([1.0, 2.0])], tolerance_s=0.1
    )
    assert out["bcs"] == pytest.approx(0.875)  # mean(0.75, 1)
    assert out["bhs"] == pytest.approx(0.75)  # mean(0.5, 1)
    assert out["csd"] == pytest.approx(0.125)  # population std of (0.75, 1)
    assert out["hsd"] == pytest.approx(0.25)
    assert out["f1"] == pytest.approx(2 * 0.875 * 0.75 / 1.625)
    assert out["tolerance_s"] == 0.1 and out["n_samples"] == 2


def test_local_minima_match_argrelextrema_without_ties():
    from scipy.signal import argrelextrema

    from motionbeat.metrics.beats import local_minima

    rng = np.random.default_rng(5)
    for order in (1, 3, 10):
        env = rng.random(400)
        (expected,) = argrelextrema(env, np.less, order=order)
        np.testing.assert_array_equal(local_minima(env, order), expected)


def test_flat_minima_count_once_at_their_centre():
    from motionbeat.metrics.beats import local_minima

    env = np.array([3.0, 2.0, 1.0, 1.0, 2.0, 3.0, 0.5, 0.5, 0.5, 4.0, 4.0])
    np.testing.assert_array_equal(local_minima(env), [2.5, 7.0])
    assert local_minima(np.zeros(20)).size == 0  # a motionless clip has no beat
