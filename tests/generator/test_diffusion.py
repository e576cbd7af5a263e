"""Diffusion: schedulers, a tiny overfit, guidance, inpainting, EMA."""

import pytest
import torch

from generator.model import diffusion
from generator.model.config import SAMPLERS, STOCHASTIC_SAMPLERS
from generator.model.denoiser import Denoiser
from motionbeat.core import contract, kinematics

W = contract.WINDOW_FRAMES
D = contract.FRAME_DIM
OVERFIT_STEPS = 15


def _window(music_dim, batch=1, seed=0):
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(W) / contract.FPS
    poses = 0.3 * torch.sin(
        2 * torch.pi * t[:, None, None] + torch.randn(1, contract.NUM_JOINTS, 3, generator=gen)
    )
    trans = torch.stack([0.2 * torch.sin(t), 0.9 + 0.05 * torch.cos(4 * t), 0.1 * t], dim=-1)
    frames = kinematics.motion_to_features(poses, trans, contract.FPS).expand(batch, -1, -1)
    music = torch.randn(batch, W, music_dim, generator=gen)
    phase = torch.rand(batch, W, 2, generator=gen)
    return frames, music, phase


def test_schedulers_are_clean_sample_predictors(tiny_config):
    train = diffusion.make_training_scheduler(tiny_config)
    assert train.config.prediction_type == "sample"
    assert train.config.num_train_timesteps == tiny_config.num_train_timesteps
    for kind in SAMPLERS:
        sampler = diffusion.make_sampling_scheduler(tiny_config, kind)
        assert sampler.config.prediction_type == "sample"
        sampler.set_timesteps(10)
        assert int(sampler.timesteps[0]) == tiny_config.num_train_timesteps - 1  # from pure noise
        assert diffusion.is_stochastic(sampler) == (kind in STOCHASTIC_SAMPLERS)
    with pytest.raises(ValueError):
        diffusion.make_sampling_scheduler(tiny_config, "euler")


def test_ddpm_step_samples_the_posterior_by_hand(tiny_config):
    """One "ddpm" step from t to t' is x_t' = sqrt(abar') x0 + sqrt(1 - abar' - s^2) eps + s n,
    eps = (x_t - sqrt(abar) x0) / sqrt(1 - abar), s^2 = (1 - abar')/(1 - abar) (1 - abar/abar')."""
    sampler = diffusion.make_sampling_scheduler(tiny_config, "ddpm")
    sampler.set_timesteps(4)  # trailing: 999, 749, 499, 249
    t, t_next = int(sampler.timesteps[1]), int(sampler.timesteps[2])
    assert (t, t_next) == (749, 499)
    gen = torch.Generator().manual_seed(0)
    x0, x_t, n = (torch.randn(2, W, D, generator=gen) for _ in range(3))
    abar, abar_next = sampler.alphas_cumprod[t].double(), sampler.alphas_cumprod[t_next].double()
    eps = (x_t.double() - abar.sqrt() * x0) / (1 - abar).sqrt()
    var = (1 - abar_next) / (1 - abar) * (1 - abar / abar_next)
    expected = abar_next.sqrt() * x0 + (1 - abar_next - var).sqrt() * eps + var.sqrt() * n
    got = sampler.step(x0, t, x_t, variance_noise=n).prev_sample
    torch.testing.assert_close(got.double(), expected, atol=1e-5, rtol=1e-5)
    deterministic = diffusion.make_sampling_scheduler(tiny_config, "ddim")
    deterministic.set_timesteps(4)
    plain = deterministic.step(x0, t, x_t).prev_sample  # eta 0: no noise term
    expected0 = abar_next.sqrt() * x0 + (1 - abar_next).sqrt() * eps
    torch.testing.assert_close(plain.double(), expected0, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", SAMPLERS)
def test_step_noise_moves_only_the_stochastic_samplers(tiny_model, tiny_config, kind):
    _, music, phase = _window(tiny_config.music_dim)
    cond = diffusion.guided_condition(tiny_model, music, phase, None, 2.0)

    def predict(x_t, t):
        return diffusion.guided_denoise(tiny_model, x_t, t, cond, 2.0)

    def run(noise_seed):
        step_gen = torch.Generator().manual_seed(noise_seed)
        noise = torch.randn(1, W, D, generator=torch.Generator().manual_seed(0))
        sampler = diffusion.make_sampling_scheduler(tiny_config, kind)
        return diffusion.run_sampler(
            sampler, noise, predict, 4,
            step_noise=lambda: torch.randn(1, W, D, generator=step_gen),
        )

    same, again, other = run(1), run(1), run(2)
    torch.testing.assert_close(same, again)
    moved = (same - other).abs().max().item()
    if kind in STOCHASTIC_SAMPLERS:
        assert moved > 1e-3
    else:
        assert moved == 0.0


def _fixed_loss(model, scheduler, batch, seed=123, draws=8):
    """The objective at ``draws`` fixed timesteps / noises / dropouts (a seeded generator)."""
    batch = [x.expand(draws, *x.shape[1:]) for x in batch]
    with torch.no_grad():
        model.eval()
        loss = diffusion.training_step(
            model, scheduler, *batch, generator=torch.Generator().manual_seed(seed)
        ).loss
        model.train()
    return loss.item()


def test_tiny_overfit_reduces_the_loss(tiny_config):
    torch.manual_seed(0)
    model = Denoiser(tiny_config)
    frames, music, phase = _window(tiny_config.music_dim, batch=1)
    model.set_normalization(frames.reshape(-1, D).mean(0), frames.reshape(-1, D).std(0))
    scheduler = diffusion.make_training_scheduler(tiny_config)
    before = _fixed_loss(model, scheduler, (frames, music, phase))
    optim = torch.optim.AdamW(model.parameters(), lr=5e-3)
    ema = diffusion.EMA(model, decay=0.9)
    gen = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(OVERFIT_STEPS):
        out = diffusion.training_step(model, scheduler, frames, music, phase, generator=gen)
        optim.zero_grad()
        out.loss.backward()
        optim.step()
        ema.update(model)
    after = _fixed_loss(model, scheduler, (frames, music, phase))
    assert after < 0.5 * before, (before, after)
    assert set(out.terms) == {"recon", "velocity", "fk", "foot", "foot_velocity", "root_turn"}
    assert ema.num_updates == OVERFIT_STEPS
    # the average sits between the start and the trained weights, buffers copied
    torch.testing.assert_close(ema.module.feat_std, model.feat_std)
    assert _fixed_loss(ema.module, scheduler, (frames, music, phase)) < before


def test_ema_update_rule(tiny_model):
    ema = diffusion.EMA(tiny_model, decay=0.5, warmup=False)
    with torch.no_grad():
        for p in tiny_model.parameters():
            p.add_(1.0)
    old = [p.clone() for p in ema.module.parameters()]
    ema.update(tiny_model)
    for e, o, p in zip(ema.module.parameters(), old, tiny_model.parameters(), strict=True):
        torch.testing.assert_close(e, 0.5 * o + 0.5 * p)
    state = ema.state_dict()
    other = diffusion.EMA(tiny_model)
    other.load_state_dict(state)
    assert other.num_updates == 1 and other.decay == 0.5


@torch.no_grad()
def test_guidance_combines_conditional_and_null(tiny_model, tiny_config):
    frames, music, phase = _window(tiny_config.music_dim, batch=2)
    x = torch.randn_like(frames)
    w = 2.5
    cond = diffusion.guided_condition(tiny_model, music, phase, None, w)
    guided = diffusion.guided_denoise(tiny_model, x, 400, cond, w)
    with_music = tiny_model(x, 400, music, phase)
    null = tiny_model(x, 400, music, phase, cond_mask=torch.zeros(2, dtype=torch.bool))
    torch.testing.assert_close(guided, null + w * (with_music - null))
    plain = diffusion.guided_condition(tiny_model, music, phase, None, 1.0)
    torch.testing.assert_close(diffusion.guided_denoise(tiny_model, x, 400, plain, 1.0), with_music)


@pytest.mark.parametrize("kind", SAMPLERS)
def test_sampling_shapes_and_inpainting_keeps_known_frames(tiny_model, tiny_config, kind):
    frames, music, phase = _window(tiny_config.music_dim, batch=2)
    sampler = diffusion.make_sampling_scheduler(tiny_config, kind)
    gen = torch.Generator().manual_seed(0)
    out = diffusion.sample(tiny_model, sampler, music, phase, generator=gen)
    assert out.shape == (2, W, D) and torch.isfinite(out).all()
    known = torch.zeros(2, W, D, dtype=torch.bool)
    known[:, :30] = True  # the first second
    known[:, :, contract.ROOT_POS] = True  # and the root path throughout
    edited = diffusion.sample(
        tiny_model, sampler, music, phase, known_mask=known, known_frames=frames
    )
    assert torch.equal(edited[known], frames[known])
    assert not torch.equal(edited[~known], frames[~known])


def test_random_frame_mask():
    gen = torch.Generator().manual_seed(0)
    mask = diffusion.random_frame_mask(64, W, min_frames=5, prob=0.5, generator=gen)
    lengths = mask.sum(1)
    assert mask.shape == (64, W) and lengths.min() >= 5
    assert (lengths == W).any() and (lengths < W).any()
    assert torch.equal(mask, torch.arange(W)[None] < lengths[:, None])  # prefixes


def test_timestep_weights_by_hand(tiny_config):
    scheduler = diffusion.make_training_scheduler(tiny_config)
    all_t = torch.arange(tiny_config.num_train_timesteps)
    abar = scheduler.alphas_cumprod.double()
    snr = abar / (1 - abar)
    # off: every step alike
    assert torch.equal(diffusion.timestep_weights(scheduler, all_t), torch.ones(len(all_t)))
    # Min-SNR-5: mean 1, never rising with the noise, ~0 at pure noise, capped on the clean end
    w = diffusion.timestep_weights(scheduler, all_t, snr_gamma=5.0)
    assert w.mean().item() == pytest.approx(1.0, rel=1e-5)
    assert (w[1:] <= w[:-1] + 1e-6).all() and w[-1] < 1e-6
    capped = snr.clamp(max=5.0)
    assert w[500].item() == pytest.approx((capped[500] / capped.mean()).item(), rel=1e-5)
    assert capped[0] == 5.0 and capped[500] < 5.0  # the cap acts on the cleanest steps only
    # noise power p: (1 - abar_t)^p, never falling with the noise
    w = diffusion.timestep_weights(scheduler, all_t, noise_power=0.5)
    assert w.mean().item() == pytest.approx(1.0, rel=1e-5)
    assert (w[1:] >= w[:-1] - 1e-6).all() and w[0] < 0.05 < 1.0 < w[-1]
    u = (1 - abar).sqrt()
    assert w[250].item() == pytest.approx((u[250] / u.mean()).item(), rel=1e-5)
    # both: the product, normalised
    both = diffusion.timestep_weights(scheduler, all_t, snr_gamma=5.0, noise_power=0.5)
    u = capped * (1 - abar).sqrt()
    assert both[700].item() == pytest.approx((u[700] / u.mean()).item(), rel=1e-5)


def test_timestep_weighting_changes_the_loss_not_the_validation(tiny_config):
    from dataclasses import replace

    torch.manual_seed(0)
    plain = Denoiser(tiny_config)
    frames, music, phase = (x.expand(4, *x.shape[1:]) for x in _window(tiny_config.music_dim))
    scheduler = diffusion.make_training_scheduler(tiny_config)

    def loss(model, **kw):
        return diffusion.training_step(
            model.eval(), scheduler, frames, music, phase,
            generator=torch.Generator().manual_seed(7), **kw
        )

    base = loss(plain)
    for fields in ({"loss_snr_gamma": 5.0}, {"loss_noise_power": 0.5}):
        weighted = Denoiser(replace(tiny_config, **fields))
        weighted.load_state_dict(plain.state_dict())
        out, unweighted = loss(weighted), loss(weighted, timestep_weighting=False)
        assert unweighted.loss.item() == base.loss.item()  # switched off: EDGE's loss to the bit
        assert out.loss.item() != pytest.approx(base.loss.item(), rel=1e-3)
        # by hand for the reconstruction term: each window's squared error times its weight
        w = diffusion.timestep_weights(scheduler, out.timesteps, weighted.config.loss_snr_gamma,
                                       weighted.config.loss_noise_power)  # (B,)
        per_window = (out.prediction - weighted.normalize(frames)).square().mean(dim=(1, 2))  # (B,)
        assert out.terms["recon"].item() == pytest.approx((w * per_window).mean().item(),
                                                          rel=1e-5)
