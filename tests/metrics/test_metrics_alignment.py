"""Alignment that sees the song: beat phase, BEC, phase locking and the own/other gap."""

import math

import numpy as np
import pytest

from motionbeat.core import contract
from motionbeat.metrics import (
    beat_phase,
    cross_scores,
    envelope_correlation,
    lagged_correlation,
    motion_rhythm,
    multiple_correlation,
    own_other,
    own_other_per_dance,
    pair_scores,
    phase_locking,
)

FPS = contract.FPS
TEMPOS = (92.0, 101.0, 110.0, 119.0, 128.0, 137.0)  # BPM, one song each
SECONDS = 30.0


def _song_beats(bpm, first):
    return np.arange(first, SECONDS + 2.0, 60.0 / bpm)  # (K,)


def _beat_dance(beats, seconds=SECONDS, fps=FPS):
    """(T, 24, 3): every joint swings x = 0.3 cos(pi (k + phi)), so it stops exactly on beat k
    and moves fastest half-way between beats."""
    t = np.arange(int(seconds * fps)) / fps
    k = np.searchsorted(beats, t, side="right") - 1
    x = 0.3 * np.cos(np.pi * (k + beat_phase(t, beats)))
    joints = np.zeros((t.size, contract.NUM_JOINTS, 3))
    joints[:, :, 0] = x[:, None]
    return joints


def _noise_dance(rng, seconds=SECONDS, fps=FPS):
    """(T, 24, 3) smooth random walk: no beat structure at all."""
    noise = rng.normal(0.0, 0.02, (int(seconds * fps), contract.NUM_JOINTS, 3))
    kernel = np.hanning(15) / np.hanning(15).sum()
    walk = np.cumsum(noise, axis=0)
    return np.apply_along_axis(lambda x: np.convolve(x, kernel, mode="same"), 0, walk)


@pytest.fixture(scope="module")
def songs():
    rng = np.random.default_rng(7)
    return [_song_beats(bpm, rng.uniform(0.0, 0.4)) for bpm in TEMPOS]


# ------------------------------------------------------------------------- hand-computed


def test_beat_phase_by_hand():
    beats = np.array([1.0, 2.0, 4.0])
    # 1.5: half of [1, 2]; 3: half of [2, 4]; 4.5: last interval 2 extended -> 0.25;
    # 0.5: first interval 1 extended backwards -> -0.5 mod 1 = 0.5
    got = beat_phase(np.array([1.0, 1.5, 3.0, 4.5, 0.5, 2.0]), beats)
    np.testing.assert_allclose(got, [0.0, 0.5, 0.5, 0.25, 0.5, 0.0], atol=1e-12)
    assert np.isnan(beat_phase(np.array([1.0]), np.array([1.0]))).all()


def test_lagged_correlation_identical_shifted_and_half_period():
    t = np.arange(120)
    a = np.cos(2 * np.pi * t / 12)  # 10 whole periods of 12 samples
    corr = lagged_correlation(a, a, 2)
    assert corr[2] == pytest.approx(1.0)  # identical envelopes: 1 at lag 0
    assert corr[2] == corr.max()
    anti = lagged_correlation(a, np.cos(2 * np.pi * (t - 6) / 12), 0)  # half a period late
    assert anti[0] == pytest.approx(-1.0)  # the minimum a correlation can take
    late = lagged_correlation(a, np.cos(2 * np.pi * (t - 3) / 12), 3)  # b[t + 3] = a[t]
    assert late[3 + 3] == pytest.approx(1.0) and late[3] == pytest.approx(0.0, abs=1e-12)
    assert lagged_correlation(a, np.full(120, 2.0), 1).tolist() == [0.0, 0.0, 0.0]  # constant side


def test_envelope_correlation_on_beat_half_beat_and_constant():
    period = 0.5  # 120 BPM
    beats = np.arange(0.0, 10.0, period)
    times = np.arange(int(10 * FPS)) / FPS
    on = envelope_correlation(times, np.cos(2 * np.pi * times / period), beats, FPS)
    assert on["bec"] == pytest.approx(1.0) and on["bec_lag"] == pytest.approx(1.0)
    half = envelope_correlation(times, np.cos(2 * np.pi * (times - period / 2) / period), beats, FPS)
    assert half["bec"] == pytest.approx(-1.0)
    # the lag window (0.1 s = 3 frames) forgives only a fifth of this beat: cos(2 pi 0.3) = -0.309
    # (to 0.01: the 297-sample overlap at lag 3 is not a whole number of periods)
    assert half["bec_lag"] == pytest.approx(math.cos(2 * np.pi * (0.25 - 0.1) / period), abs=0.01)
    assert envelope_correlation(times, np.ones_like(times), beats, FPS)["bec"] == 0.0
    assert math.isnan(envelope_correlation(times, times, beats[:1], FPS)["bec"])


def test_phase_locking_by_hand():
    beats = np.arange(0.0, 10.0, 0.5)
    assert phase_locking(beats[1:10], beats) == pytest.approx(1.0)
    assert phase_locking(beats[1:10] + 0.125, beats) == pytest.approx(1.0)  # steady quarter beat late
    assert phase_locking(np.array([1.0, 1.25]), beats) == pytest.approx(0.0, abs=1e-12)  # phases 0, 1/2
    assert phase_locking(np.array([1.0, 1.125]), beats) == pytest.approx(math.sqrt(2) / 2)  # 0, 1/4
    assert math.isnan(phase_locking(np.array([]), beats))


def test_own_other_by_hand():
    scores = np.array([[1.0, 0.2], [0.4, 0.8]])
    mine, other = own_other_per_dance(scores, np.array([0, 1]))
    assert mine.tolist() == [1.0, 0.8] and other.tolist() == [0.2, 0.4]
    out = own_other(scores, np.array([0, 1]), resamples=200)
    assert out["own"] == pytest.approx(0.9) and out["other"] == pytest.approx(0.3)
    assert out["gap"] == pytest.approx(0.6)
    # a resample drawing one song twice has no "other" and is dropped; drawing both gives 0.6
    assert out["gap_lo"] == pytest.approx(0.6) and out["gap_hi"] == pytest.approx(0.6)
    # NaN entries are skipped: dance 0 has only song 2 as other
    out = own_other(np.array([[1.0, np.nan, 0.0], [0.5, 0.5, 0.5]]), np.array([0, 1]))
    assert out["other"] == pytest.approx((0.0 + 0.5) / 2) and out["gap"] == pytest.approx((1.0 + 0.0) / 2)


def test_own_other_is_seeded():
    rng = np.random.default_rng(0)
    scores, own = rng.random((12, 6)), np.repeat(np.arange(6), 2)
    assert own_other(scores, own, seed=3) == own_other(scores, own, seed=3)
    assert own_other(scores, own, seed=3)["gap_lo"] != own_other(scores, own, seed=4)["gap_lo"]


# ---------------------------------------------------------------- own vs other on dances


def test_dance_on_its_songs_beats_separates_from_other_tempos(songs):
    dances = [motion_rhythm(_beat_dance(b), FPS) for b in songs]
    x = cross_scores(dances, songs)
    own = np.arange(len(songs))
    for measure in ("bas", "bec", "bec_lag", "bec_any", "phase_r"):
        out = own_other(x[measure], own)
        assert out["own"] > 0.9, measure
        assert out["gap"] > 0.5 and out["gap_lo"] > 0.4, (measure, out)
    # an other song of another tempo: BEC ~ 0, phase locking ~ its sqrt(pi / 4N) floor
    assert np.abs(x["bec"][~np.eye(len(songs), dtype=bool)]).max() < 0.1
    assert x["phase_r"][~np.eye(len(songs), dtype=bool)].max() < 0.2


def test_dance_without_beats_does_not_separate(songs):
    rng = np.random.default_rng(11)
    dances = [motion_rhythm(_noise_dance(rng), FPS) for _ in songs for _ in range(2)]
    x = cross_scores(dances, songs)
    own = np.repeat(np.arange(len(songs)), 2)
    for measure in ("bas", "bec", "bec_lag", "bec_any", "phase_r"):
        out = own_other(x[measure], own)
        assert out["gap_lo"] <= 0.0 <= out["gap_hi"], (measure, out)
        assert abs(out["gap"]) < 0.1, (measure, out)


def test_pair_scores_cut_span_drops_the_tail(songs):
    mr = motion_rhythm(_beat_dance(songs[0]), FPS)
    whole, cut = pair_scores(mr, songs[0]), pair_scores(mr, songs[0], span_s=10.0)
    assert whole["bec"] == pytest.approx(cut["bec"], abs=0.02)
    # only the first 10 s of the song's beats are scored against a 10 s span
    other = pair_scores(mr, np.concatenate([songs[0][songs[0] < 10.0], songs[3][songs[3] >= 10.0]]), 10.0)
    assert other["bas"] == pytest.approx(cut["bas"]) and other["bas"] > 0.9


def test_bec_any_forgives_a_steady_phase_offset_by_hand():
    period = 0.5
    beats = np.arange(0.0, 10.0, period)
    times = np.arange(int(10 * FPS)) / FPS
    early = np.cos(2 * np.pi * times / period + 2 * np.pi / 3)  # stops a third of a beat early
    out = envelope_correlation(times, early, beats, FPS)
    assert out["bec"] == pytest.approx(math.cos(2 * np.pi / 3), abs=1e-9)  # -0.5
    assert out["bec_any"] == pytest.approx(1.0)
    # the multiple correlation: y = 2 u - v + 3 is explained exactly; y orthogonal to u, v is not
    u, v = np.cos(np.arange(12) * np.pi / 6), np.sin(np.arange(12) * np.pi / 6)
    assert multiple_correlation(2 * u - v + 3, np.stack([u, v], 1)) == pytest.approx(1.0)
    assert multiple_correlation(np.cos(np.arange(12) * np.pi / 3), np.stack([u, v], 1)) == pytest.approx(
        0.0, abs=1e-12)
    assert multiple_correlation(np.ones(12), np.stack([u, v], 1)) == 0.0
