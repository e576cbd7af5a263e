"""Diffusion around the denoiser, through diffusers schedulers (the denoiser never sees them).

Forward process (Ho et al., NeurIPS 2020), with the cosine schedule of Nichol & Dhariwal (2021)
as EDGE uses: q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I). The denoiser predicts the
clean sample, x̂_0 = f(x_t, t, music) (EDGE, Tseng et al. CVPR 2023), so every scheduler is built
with ``prediction_type="sample"``:

* training: :class:`diffusers.DDPMScheduler` draws x_t (``add_noise``) and the loss compares x̂_0
  with x_0 (:mod:`generator.model.losses`);
* sampling, always on "trailing" timesteps so the first step starts from pure noise (Lin et al.
  WACV 2024), by one of :data:`~generator.model.config.SAMPLERS`:

  - ``"ddim"``: :class:`diffusers.DDIMScheduler`, eta = 0 (Song et al., ICLR 2021), deterministic;
  - ``"dpm++"``: :class:`diffusers.DPMSolverMultistepScheduler`, DPM-Solver++(2M) (Lu et al.
    2022), deterministic, good in ~10-25 steps;
  - ``"ddpm"``: DDIM with eta = 1, i.e. each step draws x_{t'} ~ q(x_{t'} | x_t, x̂_0), the DDPM
    posterior (Song et al. 2021, Eq. 16; Ho et al. 2020): EDGE's sampler (50 such steps);
  - ``"sde-dpm++"``: the SDE form of DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Sec. 5),
    which also draws fresh noise at each step.

  The two stochastic samplers forget part of the path at every step, so an early guided
  prediction commits the dance less: on the validation songs they give more varied poses and
  cleaner feet than ``"dpm++"`` at the same guidance, and a worse kinetic FID, so the shipped
  checkpoints keep ``"dpm++"`` (docs/generator.md, "Sampling defaults").

Classifier-free guidance (Ho & Salimans 2022): x̂_0 = x̂_0(∅) + w (x̂_0(music) - x̂_0(∅)), the
conditional and null rows batched in one call; the null condition is learned and used for a
``cond_dropout`` fraction of training rows.

Inpainting (EDGE Sec. 3.3; Lugmayr et al., RePaint, CVPR 2022 without resampling): with a
known mask m and known clean values v, at every step the clean prediction is replaced on the mask,
x̂_0 <- m v + (1 - m) x̂_0, and after the scheduler step the sample is replaced by the known values
noised to the next timestep, x_{t'} <- m (sqrt(abar_t') v + sqrt(1 - abar_t') n) + (1 - m) x_{t'},
with n the initial noise (so a deterministic sampler keeps the known part exactly on its
trajectory). The last prediction holds v exactly where m = 1.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler
from torch import nn

from generator.model.config import SAMPLERS, GeneratorConfig
from generator.model.denoiser import Condition, Denoiser
from generator.model.losses import diffusion_losses

SamplingScheduler = DDIMScheduler | DPMSolverMultistepScheduler

EMA_WARMUP_OFFSET: float = 10.0
"""EMA warm-up: decay_n = min(decay, (1 + n) / (EMA_WARMUP_OFFSET + n)) (as diffusers' EMAModel)."""


# --------------------------------------------------------------------------- schedulers


def make_training_scheduler(config: GeneratorConfig) -> DDPMScheduler:
    """DDPM noise for training: clean-sample prediction, no clipping (frames are z-scored)."""
    return DDPMScheduler(
        num_train_timesteps=config.num_train_timesteps,
        beta_schedule=config.beta_schedule,
        prediction_type="sample",
        clip_sample=False,
    )


class AncestralDDIMScheduler(DDIMScheduler):
    """DDIM with eta = 1 by default: the step's noise std is the DDPM posterior's,
    sigma_t = sqrt((1 - abar_t') / (1 - abar_t)) sqrt(1 - abar_t / abar_t') (Song et al. 2021,
    Eq. 16), so each step samples q(x_t' | x_t, x̂_0) as EDGE's ``ddim_sample`` (eta 1) does."""

    def step(self, *args, eta: float = 1.0, **kwargs):
        return super().step(*args, eta=eta, **kwargs)


def make_sampling_scheduler(config: GeneratorConfig, kind: str | None = None) -> SamplingScheduler:
    """A sampler over the training process, one of :data:`SAMPLERS` (default ``config.sampler``)."""
    kind = kind or config.sampler
    common = {
        "num_train_timesteps": config.num_train_timesteps,
        "beta_schedule": config.beta_schedule,
        "prediction_type": "sample",
        "timestep_spacing": "trailing",
    }
    if kind in ("ddim", "ddpm"):
        cls = DDIMScheduler if kind == "ddim" else AncestralDDIMScheduler
        return cls(**common, clip_sample=False, set_alpha_to_one=True)
    if kind in ("dpm++", "sde-dpm++"):
        algorithm = "dpmsolver++" if kind == "dpm++" else "sde-dpmsolver++"
        return DPMSolverMultistepScheduler(**common, algorithm_type=algorithm, solver_order=2)
    raise ValueError(f"unknown sampler {kind!r}; choose one of {SAMPLERS}")


def is_stochastic(scheduler: SamplingScheduler) -> bool:
    """True for a sampler that draws fresh noise at each step (one of
    :data:`generator.model.config.STOCHASTIC_SAMPLERS`)."""
    if isinstance(scheduler, AncestralDDIMScheduler):
        return True
    return getattr(scheduler.config, "algorithm_type", "").startswith("sde")


# ----------------------------------------------------------------------------- training


@dataclass
class TrainingOutput:
    """One training step's result: ``loss`` to back-propagate and its ``terms`` before their
    loss weights (weighted per window by its timestep when the config sets it)."""

    loss: torch.Tensor
    terms: dict[str, torch.Tensor]
    timesteps: torch.Tensor
    prediction: torch.Tensor


def timestep_weights(
    scheduler: DDPMScheduler, t: torch.Tensor, snr_gamma: float = 0.0, noise_power: float = 0.0
) -> torch.Tensor:
    """(B,) loss weights of timesteps ``t`` for x_0-prediction, mean 1 over all t.

    w(t) = u(t) / E_s[u(s)] with u(t) = min(SNR_t, gamma)^[gamma > 0] (1 - abar_t)^p and
    SNR_t = abar_t / (1 - abar_t). The first factor is Min-SNR-gamma (Hang et al., "Efficient
    Diffusion Training via Min-SNR Weighting Strategy", ICCV 2023, Eq. 7 and Table 1's x_0 row):
    it weighs the noisy steps less. The second, the noise variance 1 - abar_t to the power p,
    weighs them more (p = 1 gives each step the weight of its x_t's noise). Both off (gamma = 0,
    p = 0) is EDGE's uniform weighting. The division keeps the loss's scale under the uniform t
    of training.
    """
    abar = scheduler.alphas_cumprod.to(torch.float64)  # (N,)
    u = torch.ones_like(abar)
    if snr_gamma > 0:
        u = u * (abar / (1.0 - abar)).clamp(max=snr_gamma)
    if noise_power > 0:
        u = u * (1.0 - abar) ** noise_power
    return (u / u.mean()).to(torch.float32)[t.cpu()].to(t.device)  # (B,)


def training_step(
    denoiser: Denoiser,
    scheduler: DDPMScheduler,
    motion: torch.Tensor,
    music: torch.Tensor,
    phase: torch.Tensor | None = None,
    frame_mask: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    timestep_weighting: bool = True,
    style: torch.Tensor | None = None,
) -> TrainingOutput:
    """Noise a batch, predict it back, score it with the EDGE objective.

    t ~ U{0, ..., N-1}, n ~ N(0, I), x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) n, x_0 the normalised
    motion; each row's music is replaced by the null condition with probability ``cond_dropout``.

    Args:
        motion: (B, T, D) physical frames (contract layout, contacts in [0, 1]).
        music: (B, T, C) frozen encoder features aligned with the frames.
        phase: (B, T, 2) beat and bar phase in [0, 1), or None.
        frame_mask: (B, T) bool, True on real frames, or None.
        timestep_weighting: weight each window by :func:`timestep_weights` when the config's
            ``loss_snr_gamma`` or ``loss_noise_power`` is set (False: every t alike, the
            validation loss).
        style: (B, style_dim) each window's dance style, for a model with a style input; each
            row is withheld with probability ``style_dropout`` (drawn after everything above,
            so a model without one draws the same numbers as before).
    """
    cfg = denoiser.config
    batch = motion.shape[0]
    device = motion.device
    x0 = denoiser.normalize(motion)  # (B, T, D)
    t = torch.randint(0, cfg.num_train_timesteps, (batch,), generator=generator).to(device)  # (B,)
    noise = torch.randn(x0.shape, generator=generator).to(device)  # (B, T, D)
    x_t = scheduler.add_noise(x0, noise, t)  # (B, T, D)
    cond_mask = (torch.rand(batch, generator=generator) >= cfg.cond_dropout).to(device)  # (B,)
    if cfg.style_dim and style is not None:
        keep = (torch.rand(batch, generator=generator) >= cfg.style_dropout).to(device)  # (B,)
        style = torch.where(keep[:, None], style.to(device), torch.nan)  # (B, K), NaN = withheld
    pred = denoiser(x_t, t, music, phase, frame_mask, cond_mask, style)  # (B, T, D)
    weight = None
    if timestep_weighting and (cfg.loss_snr_gamma > 0 or cfg.loss_noise_power > 0):
        weight = timestep_weights(scheduler, t, cfg.loss_snr_gamma, cfg.loss_noise_power)  # (B,)
    loss, terms = diffusion_losses(
        pred,
        x0,
        denoiser.denormalize(pred),
        motion,
        cfg.loss_weights,
        cfg.contact_threshold,
        frame_mask,
        weight,
    )
    return TrainingOutput(loss, terms, t, pred)


class EMA:
    """Exponential moving average of a denoiser's weights, kept as a full module copy.

    theta_ema <- d_n theta_ema + (1 - d_n) theta, d_n = min(decay, (1 + n) / (10 + n)) (warm-up as
    diffusers' EMAModel; EDGE uses 0.9999). Buffers (the normalisation statistics) are copied as
    they are. ``ema.module`` is a ready :class:`Denoiser` for sampling and saving; diffusers'
    EMAModel tracks parameters only, which would lose the buffers.
    """

    def __init__(self, model: nn.Module, decay: float | None = None, warmup: bool = True):
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = float(decay if decay is not None else model.config.ema_decay)
        self.warmup = warmup
        self.num_updates = 0

    def current_decay(self) -> float:
        if not self.warmup:
            return self.decay
        n = self.num_updates
        return min(self.decay, (1 + n) / (EMA_WARMUP_OFFSET + n))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        decay = self.current_decay()
        ema_params = list(self.module.parameters())
        params = [p.detach() for p in model.parameters()]
        torch._foreach_lerp_(ema_params, params, 1.0 - decay)
        for ema_b, b in zip(self.module.buffers(), model.buffers(), strict=True):
            ema_b.copy_(b)
        self.num_updates += 1

    def state_dict(self) -> dict:
        return {
            "module": self.module.state_dict(),
            "num_updates": self.num_updates,
            "decay": self.decay,
        }

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["module"])
        self.num_updates = int(state["num_updates"])
        self.decay = float(state["decay"])


# ----------------------------------------------------------------------------- sampling


def guided_condition(
    denoiser: Denoiser,
    music: torch.Tensor,
    phase: torch.Tensor | None,
    frame_mask: torch.Tensor | None,
    guidance_weight: float,
    style: torch.Tensor | None = None,
) -> Condition:
    """Condition rows for :func:`guided_denoise`: B music rows, then B null rows when w != 1
    (the same ``style`` (B, K) in both)."""
    batch = music.shape[0]
    if guidance_weight == 1.0:
        return denoiser.encode_condition(music, phase, frame_mask, style=style)
    cond_mask = torch.cat([torch.ones(batch), torch.zeros(batch)]).bool().to(music.device)  # (2B,)

    def twice(x):
        return None if x is None else torch.cat([x, x])

    return denoiser.encode_condition(twice(music), twice(phase), twice(frame_mask), cond_mask,
                                     twice(style))


def guided_denoise(
    denoiser: Denoiser,
    x_t: torch.Tensor,
    t: torch.Tensor | int,
    cond: Condition,
    guidance_weight: float,
    frame_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """(B, T, D) x_t -> (B, T, D) guided x̂_0 = x̂_0(∅) + w (x̂_0(music) - x̂_0(∅)).

    ``cond`` comes from :func:`guided_condition` with the same w (2B rows unless w == 1).
    """
    if guidance_weight == 1.0:
        return denoiser.denoise(x_t, t, cond, frame_mask)
    mask2 = None if frame_mask is None else torch.cat([frame_mask, frame_mask])
    both = denoiser.denoise(torch.cat([x_t, x_t]), t, cond, mask2)  # (2B, T, D)
    cond_x0, uncond_x0 = both.chunk(2)  # 2 x (B, T, D)
    return uncond_x0 + guidance_weight * (cond_x0 - uncond_x0)


@dataclass
class Inpainting:
    """Known clean values to keep, in the denoiser's normalised space.

    Attributes:
        mask: (..., D) float in [0, 1] (1 = known) broadcastable to the sample.
        values: same shape as the sample, the clean known values (ignored where mask = 0).
    """

    mask: torch.Tensor
    values: torch.Tensor

    def clean(self, x0: torch.Tensor) -> torch.Tensor:
        """x̂_0 <- m v + (1 - m) x̂_0."""
        return torch.lerp(x0, self.values, self.mask)

    def noised(self, x: torch.Tensor, noise: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
        """x <- m (sqrt(abar) v + sqrt(1 - abar) n) + (1 - m) x."""
        known = alpha_bar.sqrt() * self.values + (1 - alpha_bar).sqrt() * noise
        return torch.lerp(x, known, self.mask)


def run_sampler(
    scheduler: SamplingScheduler,
    noise: torch.Tensor,
    predict_x0: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    num_steps: int,
    inpainting: Inpainting | None = None,
    generator: torch.Generator | None = None,
    callback: Callable[[int, int], None] | None = None,
    step_noise: Callable[[], torch.Tensor] | None = None,
) -> torch.Tensor:
    """The reverse loop: x_T = noise, then ``num_steps`` steps on x̂_0 = predict_x0(x_t, t).

    ``predict_x0`` may act on any layout of the sample (long-form sampling folds overlapping windows
    inside it); the scheduler only sees the whole tensor. Returns the last clean prediction x̂_0
    (after inpainting), which the deterministic samplers' final step returns as the sample too.
    ``callback(done, total)`` is called after each denoiser evaluation (progress reports).
    A stochastic sampler (:func:`is_stochastic`) takes each step's fresh noise from
    ``step_noise()`` (same shape as ``noise``) when given, else draws it from ``generator``.
    """
    draw = step_noise if step_noise is not None and is_stochastic(scheduler) else None
    scheduler.set_timesteps(num_steps, device=noise.device)
    timesteps = scheduler.timesteps
    alphas_cumprod = scheduler.alphas_cumprod.to(noise.device)
    x = noise * scheduler.init_noise_sigma
    if inpainting is not None:
        x = inpainting.noised(x, noise, alphas_cumprod[timesteps[0]])
    x0 = x
    for i, t in enumerate(timesteps):
        x0 = predict_x0(scheduler.scale_model_input(x, t), t)  # (same shape as x)
        if inpainting is not None:
            x0 = inpainting.clean(x0)
        if callback is not None:
            callback(i + 1, len(timesteps))
        if i == len(timesteps) - 1:
            break
        fresh = None if draw is None else draw().to(x.device)  # (same shape as x)
        x = scheduler.step(x0, t, x, generator=generator, variance_noise=fresh).prev_sample
        if inpainting is not None:
            x = inpainting.noised(x, noise, alphas_cumprod[timesteps[i + 1]])
    return x0


@torch.no_grad()
def sample(
    denoiser: Denoiser,
    scheduler: SamplingScheduler,
    music: torch.Tensor,
    phase: torch.Tensor | None = None,
    *,
    num_steps: int | None = None,
    guidance_weight: float | None = None,
    frame_mask: torch.Tensor | None = None,
    known_mask: torch.Tensor | None = None,
    known_frames: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Sample one window per row: (B, T, C) music -> (B, T, D) physical frames.

    T should be at most ``window_frames`` (the length the model was trained on); for any length
    use :func:`generator.sampling.longform.sample_long`.

    Args:
        music, phase, frame_mask: as :meth:`Denoiser.encode_condition`.
        num_steps, guidance_weight: default to the config's ``sample_steps``, ``guidance_weight``.
        known_mask: (B, T, D) bool/float, 1 where the frame channel is given (inpainting).
        known_frames: (B, T, D) physical frames holding the given values.
        generator: seeds the initial noise.
    Returns:
        (B, T, D) physical frames; channels under ``known_mask`` equal ``known_frames`` exactly.
    """
    cfg = denoiser.config
    num_steps = num_steps or cfg.sample_steps
    w = cfg.guidance_weight if guidance_weight is None else float(guidance_weight)
    batch, num_frames, _ = music.shape
    noise = torch.randn((batch, num_frames, cfg.frame_dim), generator=generator).to(music.device)
    cond = guided_condition(denoiser, music, phase, frame_mask, w)
    inpainting = make_inpainting(denoiser, known_mask, known_frames)

    def predict(x_t, t):
        return guided_denoise(denoiser, x_t, t, cond, w, frame_mask)

    out = denoiser.denormalize(
        run_sampler(scheduler, noise, predict, num_steps, inpainting, generator)
    )
    return restore_known(out, known_mask, known_frames)


def make_inpainting(
    denoiser: Denoiser, known_mask: torch.Tensor | None, known_frames: torch.Tensor | None
) -> Inpainting | None:
    """(..., T, D) mask (bool or float in [0, 1]) and physical frames -> normalised Inpainting."""
    if known_mask is None:
        return None
    if known_frames is None:
        raise ValueError("known_mask needs known_frames")
    mask = known_mask.to(known_frames.dtype)
    values = torch.where(mask > 0, denoiser.normalize(known_frames), torch.zeros_like(known_frames))
    return Inpainting(mask, values)


def restore_known(
    frames: torch.Tensor, known_mask: torch.Tensor | None, known_frames: torch.Tensor | None
) -> torch.Tensor:
    """Put the given values back bit-exactly where the mask is set (normalising loses ~1 ulp)."""
    if known_mask is None:
        return frames
    hard = known_mask if known_mask.dtype == torch.bool else known_mask >= 1
    return torch.where(hard, known_frames, frames)


def random_frame_mask(
    batch: int,
    num_frames: int,
    min_frames: int = 1,
    prob: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(B, T) bool training mask: with probability ``prob`` a row keeps only a random prefix.

    Feeding such masks to :func:`training_step` now and then teaches the denoiser the padded,
    masked windows that sampling uses for songs shorter than a window.
    """
    lengths = torch.randint(min_frames, num_frames + 1, (batch,), generator=generator)  # (B,)
    shorten = torch.rand(batch, generator=generator) < prob  # (B,)
    lengths = torch.where(shorten, lengths, torch.full_like(lengths, num_frames))
    return torch.arange(num_frames)[None, :] < lengths[:, None]  # (B, T)
