"""Beat guidance: its reward is the metrics' BEC, and its nudge raises it and moves only the upper
body."""

import numpy as np
import pytest
import torch

from generator.model import diffusion
from generator.model.losses import frames_to_joints
from generator.sampling import longform
from generator.sampling.beat_guidance import beat_correlation, beat_guided
from generator.sampling.joint_groups import channel_mask
from motionbeat.core import contract
from motionbeat.metrics.alignment import beat_phase, envelope_correlation, motion_pulse

FPS = contract.FPS
W = contract.WINDOW_FRAMES
BEAT_HZ = 2.0
"""Beat rate of the toy songs (120 BPM)."""


def _bobbing(frames: int, hz: float, amplitude: float = 0.05, seed: int = 0,
             walk: float = 0.01) -> np.ndarray:
    """(T, 24, 3) a random walk (steps of ``walk`` m) plus the whole body bobbing up and down
    at ``hz``: its speed pulses at 2 hz, still at the top and the bottom of each bob."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / FPS
    joints = np.cumsum(rng.normal(size=(frames, 24, 3)) * walk, axis=0)
    joints[:, :, contract.UP_AXIS] += amplitude * np.sin(2 * np.pi * hz * t)[:, None]
    return joints


def _beats(offset: float = 0.1, seconds: float = 60.0) -> np.ndarray:
    """Music beats at BEAT_HZ, the first ``offset`` beats before 0 s, with a slower stretch."""
    gaps = np.full(int(seconds * BEAT_HZ), 1 / BEAT_HZ)
    gaps[6:9] *= 1.3  # the tempo drifts for a while: the phase follows beat by beat
    return np.concatenate([[-offset / BEAT_HZ], -offset / BEAT_HZ + np.cumsum(gaps)])


def _phase(frames: int, offset: float = 0.1) -> np.ndarray:
    """(T,) the generator's phase input: the beat phase at each frame's time."""
    return beat_phase(np.arange(frames) / FPS, _beats(offset))


def _bec(joints: np.ndarray, offset: float = 0.1) -> float:
    """The metrics' BEC (lag 0) of a dance against the beats of :func:`_beats`."""
    times, pulse = motion_pulse(joints, FPS)
    return envelope_correlation(times, pulse, _beats(offset), FPS)["bec"]


def _t(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float64)


@pytest.mark.parametrize("amplitude", [0.0, 0.003, 0.05])
@pytest.mark.parametrize("hz", [BEAT_HZ / 2, BEAT_HZ * 0.37])
def test_reward_is_the_metrics_bec(amplitude, hz):
    joints, phase = _bobbing(W, hz, amplitude), _phase(W)
    got = beat_correlation(_t(joints)[None], _t(phase)[None])
    # the same but for the phase between frames, interpolated here, exact in the metric
    assert got.item() == pytest.approx(_bec(joints), abs=2e-3)


def test_padded_frames_do_not_count():
    real = 100
    joints, phase = _bobbing(W, BEAT_HZ, 0.003, seed=1), _phase(W)
    joints[real:] = np.random.default_rng(2).normal(size=(W - real, 24, 3))  # padding: junk
    valid = torch.arange(W)[None] < real
    got = beat_correlation(_t(joints)[None], _t(phase)[None], valid)
    whole = beat_correlation(_t(joints[:real])[None], _t(phase[:real])[None])
    assert got.item() == pytest.approx(whole.item(), abs=1e-6)
    assert abs(beat_correlation(_t(joints)[None], _t(phase)[None]).item() - whole.item()) > 0.05


def test_on_beat_scores_high_off_beat_negative_other_tempo_low_still_body_zero():
    t = np.arange(W) / FPS
    phase = _t(np.mod(t * BEAT_HZ, 1.0))[None]  # beats at 0, 0.5, 1, ... s
    bob = BEAT_HZ / 2  # the body stops twice a bob: at sin(2 pi bob t) = +-1

    def dance(hz, shift_s=0.0):
        joints = np.zeros((W, 24, 3))
        joints[..., contract.UP_AXIS] = 0.1 * np.cos(2 * np.pi * hz * (t - shift_s))[:, None]
        return _t(joints)[None]

    assert beat_correlation(dance(bob), phase).item() > 0.9  # stops on the beats
    assert beat_correlation(dance(bob, 0.5 / BEAT_HZ), phase).item() < -0.9  # half-way
    assert abs(beat_correlation(dance(bob * 1.37), phase).item()) < 0.3
    assert beat_correlation(torch.zeros(1, W, 24, 3, dtype=torch.float64), phase).item() == 0.0


def test_nudge_raises_the_reward_and_moves_only_pose_and_root(tiny_model):
    torch.manual_seed(0)
    n, real = 2, 120
    x0 = tiny_model.normalize(tiny_model.feat_mean.expand(n, W, -1)) + 0.3 * torch.randn(
        n, W, contract.FRAME_DIM
    )  # (N, W, D) a rest pose with noise, normalised
    phase = torch.from_numpy(np.stack([_phase(W), _phase(W) / 4], axis=-1)).float()
    phase = phase.expand(n, W, 2)
    valid = torch.ones(n, W, dtype=torch.bool)
    valid[1, real:] = False  # the second window is a short song's, padded

    def reward(x):
        return beat_correlation(frames_to_joints(tiny_model.denormalize(x)), phase[..., 0], valid)

    assert beat_guided(x0, tiny_model, phase, 0.0, valid) is x0
    x = x0
    for _ in range(20):
        step = beat_guided(x, tiny_model, phase, 0.05, valid)
        change = step - x  # (N, W, D)
        moved = change[..., channel_mask("upper_body")]  # (N, W, 90)
        rms = moved.square().sum(dim=(1, 2)).div(torch.tensor([W, real]) * moved.shape[-1]).sqrt()
        torch.testing.assert_close(rms, torch.full((n,), 0.05))  # a fixed-size step per window
        x = step
    assert (reward(x) > reward(x0) + 0.2).all()
    moved = (x != x0).any(dim=1).any(dim=0)  # (D,) channels changed anywhere
    upper = channel_mask("upper_body")
    assert moved.any() and not (moved & ~upper).any()  # no root, legs or contacts
    # (the hands' rotations move no joint position: the reward has no gradient there)
    assert torch.equal(x[1, real:], x0[1, real:])


def test_sampling_with_beat_guidance(tiny_model, tiny_config):
    sampler = diffusion.make_sampling_scheduler(tiny_config)
    music = torch.randn(200, tiny_config.music_dim, generator=torch.Generator().manual_seed(0))
    phase = torch.from_numpy(np.stack([_phase(200), _phase(200) / 4], axis=-1)).float()

    def run(strength):
        return longform.sample_long(tiny_model, sampler, music, phase, beat_guidance=strength,
                                    generator=torch.Generator().manual_seed(1))

    plain, guided = run(0.0), run(0.2)
    assert torch.isfinite(guided).all() and not torch.allclose(plain, guided)
    torch.testing.assert_close(run(0.2), guided)  # deterministic
    chunked = longform.sample_long(tiny_model, sampler, music, phase, beat_guidance=0.2,
                                   max_windows_per_call=1, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(chunked, guided)  # window by window: the same dance
    with pytest.raises(ValueError, match="phase"):
        longform.sample_long(tiny_model, sampler, music, None, beat_guidance=0.2)


def test_no_beat_grid_no_nudge(tiny_model):
    """A song with no beat (a constant phase) and a window of two real frames give no reward,
    hence no gradient: the windows come back unchanged and finite."""
    torch.manual_seed(1)
    x0 = torch.randn(2, W, contract.FRAME_DIM)
    phase = torch.zeros(2, W, 2)
    valid = torch.ones(2, W, dtype=torch.bool)
    valid[1, 2:] = False
    phase[1] = torch.from_numpy(np.stack([_phase(W), _phase(W)], axis=-1)).float()
    out = beat_guided(x0, tiny_model, phase, 0.05, valid)
    assert torch.isfinite(out).all() and torch.equal(out, x0)
