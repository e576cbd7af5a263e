"""Denoiser: shapes, masks, the learned null condition for classifier-free guidance."""

import torch

from generator.model.denoiser import Denoiser
from motionbeat.core import contract

W = contract.WINDOW_FRAMES
D = contract.FRAME_DIM


def _inputs(batch, frames, music_dim, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, frames, D, generator=gen)
    music = torch.randn(batch, frames, music_dim, generator=gen)
    phase = torch.rand(batch, frames, 2, generator=gen)
    return x, music, phase


@torch.no_grad()
def test_shapes_for_windows_short_and_odd_lengths(tiny_model, tiny_config):
    for frames in (W, 10, 7, 1):
        x, music, phase = _inputs(3, frames, tiny_config.music_dim)
        t = torch.tensor([0, 500, 999])
        assert tiny_model(x, t, music, phase).shape == (3, frames, D)


@torch.no_grad()
def test_cached_condition_equals_one_call(tiny_model, tiny_config):
    x, music, phase = _inputs(2, W, tiny_config.music_dim)
    cond = tiny_model.encode_condition(music, phase)
    torch.testing.assert_close(tiny_model.denoise(x, 300, cond), tiny_model(x, 300, music, phase))


@torch.no_grad()
def test_dropped_condition_uses_the_null_condition(tiny_model, tiny_config):
    x, music_a, phase_a = _inputs(2, W, tiny_config.music_dim, seed=1)
    _, music_b, phase_b = _inputs(2, W, tiny_config.music_dim, seed=2)
    drop = torch.zeros(2, dtype=torch.bool)
    keep = torch.ones(2, dtype=torch.bool)
    null_a = tiny_model(x, 200, music_a, phase_a, cond_mask=drop)
    null_b = tiny_model(x, 200, music_b, phase_b, cond_mask=drop)
    torch.testing.assert_close(null_a, null_b)  # the music is not seen at all
    cond_a = tiny_model(x, 200, music_a, phase_a, cond_mask=keep)
    cond_b = tiny_model(x, 200, music_b, phase_b, cond_mask=keep)
    assert (cond_a - cond_b).abs().max() > 1e-4  # ... but it is when kept
    assert (cond_a - null_a).abs().max() > 1e-4
    cond = tiny_model.encode_condition(music_a, phase_a, cond_mask=drop)
    expected = tiny_model.null_token + tiny_model._positions(cond.tokens.shape[1], "cpu")
    torch.testing.assert_close(cond.tokens, expected.expand_as(cond.tokens))
    # rows are independent: dropping row 1 leaves row 0 alone
    mixed = tiny_model(x, 200, music_a, phase_a, cond_mask=torch.tensor([True, False]))
    torch.testing.assert_close(mixed[0], cond_a[0])
    torch.testing.assert_close(mixed[1], null_a[1])


@torch.no_grad()
def test_padding_does_not_change_real_frames(tiny_model, tiny_config):
    """A short sequence padded to a window with a frame mask gives the same real frames
    whatever the padding holds."""
    real = 40
    x, music, phase = _inputs(1, W, tiny_config.music_dim)
    mask = torch.arange(W)[None] < real
    out1 = tiny_model(x, 100, music, phase, frame_mask=mask)
    x2, music2 = x.clone(), music.clone()
    x2[:, real:] = 5.0
    music2[:, real:] = -3.0
    out2 = tiny_model(x2, 100, music2, phase, frame_mask=mask)
    torch.testing.assert_close(out1[:, :real], out2[:, :real])


def test_untrained_model_predicts_the_rest_pose_mean(tiny_config):
    model = Denoiser(tiny_config).eval()
    x, music, phase = _inputs(1, W, tiny_config.music_dim)
    with torch.no_grad():
        frames = model.denormalize(model(x, 999, music, phase))
    torch.testing.assert_close(frames, model.feat_mean.expand_as(frames))
    mean = torch.randn(D)
    std = torch.rand(D) + 0.5
    model.set_normalization(mean, std)
    y = torch.randn(4, D)
    torch.testing.assert_close(model.denormalize(model.normalize(y)), y)
