"""Long-form sampling: any length, several songs at once, windows consistent, no seams."""

import pytest
import torch

from generator.model import diffusion
from generator.model.config import STOCHASTIC_SAMPLERS
from generator.model.denoiser import Condition, Denoiser
from generator.sampling import longform
from motionbeat.core import contract

W = contract.WINDOW_FRAMES
D = contract.FRAME_DIM
SMOOTH_PERIOD_FRAMES = 90
"""Period of the toy music signal; slow against the frame rate, so the toy motion is smooth."""
SEAM_TOLERANCE = 0.25
"""Relative slack of the seam checks."""


def test_window_starts_cover_evenly():
    assert longform.window_starts(10, W, W // 2) == [0]
    assert longform.window_starts(W, W, W // 2) == [0]
    starts = longform.window_starts(400, W, W // 2)
    assert starts[0] == 0 and starts[-1] == 400 - W
    hops = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert max(hops) <= W - W // 2  # every overlap is at least half a window
    weights = longform.blend_weights(W, W // 2)
    assert weights.min() > 0 and weights.max() <= 1
    # with a half-window hop the two weights over an overlap sum to one: a linear crossfade
    half = W // 2
    torch.testing.assert_close(weights[half:] + weights[: W - half], torch.ones(W - half))


@pytest.mark.parametrize("frames", [1, 10, W, W + 1, 400])
def test_output_length_equals_the_music_length(tiny_model, tiny_config, frames):
    sampler = diffusion.make_sampling_scheduler(tiny_config)
    gen = torch.Generator().manual_seed(frames)
    music = torch.randn(frames, tiny_config.music_dim, generator=gen)
    phase = torch.rand(frames, 2, generator=gen)
    out = longform.sample_long(tiny_model, sampler, music, phase, generator=gen)
    assert out.shape == (frames, D) and torch.isfinite(out).all()


def test_several_songs_in_one_batch(tiny_model, tiny_config):
    sampler = diffusion.make_sampling_scheduler(tiny_config, "ddim")
    lengths = (10, 200, W)
    musics = [torch.randn(n, tiny_config.music_dim) for n in lengths]
    outs = longform.sample_long(
        tiny_model, sampler, musics, generator=torch.Generator().manual_seed(0)
    )
    assert [o.shape[0] for o in outs] == list(lengths)
    # a song alone gives the same dance as in company, given the same noise on its frames
    result = longform.sample_long(
        tiny_model,
        sampler,
        musics,
        max_windows_per_call=1,
        return_windows=True,
        generator=torch.Generator().manual_seed(0),
    )
    for a, b in zip(outs, result.frames, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kind", STOCHASTIC_SAMPLERS)
def test_stochastic_sampler_song_alone_equals_song_in_a_batch(tiny_model, tiny_config, kind):
    """With a generator per song (initial and step noise), fresh step noise keeps a song's
    dance independent of the songs sampled beside it."""
    lengths = (10, 200)
    gen = torch.Generator().manual_seed(3)
    musics = [torch.randn(n, tiny_config.music_dim, generator=gen) for n in lengths]

    def run(index, seeds):
        return longform.sample_long(
            tiny_model,
            diffusion.make_sampling_scheduler(tiny_config, kind),
            [musics[i] for i in index],
            song_generators=[torch.Generator().manual_seed(seeds[i]) for i in index],
            num_steps=4,
        )

    both = run([0, 1], seeds=(7, 9))
    for i in range(2):
        torch.testing.assert_close(run([i], seeds=(7, 9))[0], both[i], atol=1e-4, rtol=1e-4)
    assert (run([1], seeds=(7, 8))[0] - both[1]).abs().max() > 1e-3  # the seed matters
    with pytest.raises(ValueError, match="song generators"):
        longform.sample_long(
            tiny_model, diffusion.make_sampling_scheduler(tiny_config, kind), musics,
            song_generators=[gen],
        )


class SmoothToy(Denoiser):
    """A stand-in denoiser with window-local behaviour: x̂_0 is a smooth function of the music
    plus a moving average of x_t that is zero-padded at the window edges, so windows disagree
    near their edges the way a real model's context effects do."""

    def denoise(self, x_t, timesteps, cond: Condition, frame_mask=None):
        # the toy reads the per-frame target stashed by encode_condition (one chunk of windows)
        target = self.toy_signal[:, : x_t.shape[1]]  # (B, T, D)
        kernel = torch.ones(D, 1, 9) / 9
        local = torch.nn.functional.conv1d(
            x_t.transpose(1, 2), kernel, padding=4, groups=D
        )  # (B, D, T)
        return target + 0.3 * local.transpose(1, 2)

    def encode_condition(self, music, phase=None, frame_mask=None, cond_mask=None, style=None):
        cond = super().encode_condition(music, phase, frame_mask, cond_mask)
        # per-frame smooth target: channel c follows sin of the music's first feature, scaled
        self.toy_signal = 0.5 * music[..., :1] * self.channel_gain  # (B, T, D)
        return cond


def _toy(tiny_config, frames):
    torch.manual_seed(0)
    toy = SmoothToy(tiny_config).eval()
    toy.channel_gain = torch.linspace(-1.0, 1.0, D)
    t = torch.arange(frames, dtype=torch.float32)
    music = torch.sin(2 * torch.pi * t / SMOOTH_PERIOD_FRAMES)[:, None].repeat(
        1, tiny_config.music_dim
    )
    return toy, music


def _seam_jumps(frames, cuts):
    """Largest frame-to-frame jump at the cut frames, and the 99th percentile elsewhere."""
    jumps = (frames[1:] - frames[:-1]).norm(dim=-1)  # (T-1,), jump i is frame i -> i+1
    at_cuts = torch.stack([jumps[c - 1 : c + 1].max() for c in cuts]).max()
    elsewhere = jumps.clone()
    for c in cuts:
        elsewhere[max(c - 2, 0) : c + 2] = float("nan")
    return at_cuts, torch.nanquantile(elsewhere, 0.99)


def test_consecutive_windows_agree_and_joins_show_no_seam(tiny_config):
    toy, music = _toy(tiny_config, frames=520)
    sampler = diffusion.make_sampling_scheduler(tiny_config, "ddim")
    result = longform.sample_long(
        toy,
        sampler,
        music,
        guidance_weight=1.0,
        num_steps=6,
        return_windows=True,
        generator=torch.Generator().manual_seed(0),
    )
    out, windows, starts = result.frames[0], result.windows[0], result.starts[0]
    assert len(starts) >= 4
    # before the join: consecutive windows' final predictions agree over their overlap
    for k in range(len(starts) - 1):
        shift = starts[k + 1] - starts[k]
        left = windows[k, shift:]  # (W - shift, D)
        right = windows[k + 1, : W - shift]
        assert (left - right).abs().mean() < SEAM_TOLERANCE * (left - left.mean(0)).abs().mean()
    # after the join: the jump where one window hands over to the next is like any other jump
    edges = sorted(set(starts[1:]) | {s + W - 1 for s in starts[:-1]})
    at_edges, typical = _seam_jumps(out, edges)
    assert at_edges <= (1 + SEAM_TOLERANCE) * typical, (at_edges, typical)
    # the measure is sensitive: pasting the windows over each other without a blend shows seams
    pasted = out.clone()
    for k, start in enumerate(starts):
        pasted[start : start + W] = windows[k]  # each window overwrites the previous one's tail
    assert _seam_jumps(pasted, starts[1:])[0] > (1 + SEAM_TOLERANCE) * typical
