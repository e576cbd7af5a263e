"""The denoiser's style input (:mod:`generator.model.style`) and the draw of a dance's style
(:mod:`generator.model.style_prior`): the buffers and the methods :class:`Denoiser` gains when
its config has ``style_dim``. Kept apart so the network's file holds the network; the state-dict
names (``style_in.*``, ``style_mean``, ``style_std``, ``style_chol``, ``style_prior_*``) are the
denoiser's own.
"""

from __future__ import annotations

import torch
from torch import nn

from generator.model.config import GeneratorConfig
from generator.model.style import style_statistics
from generator.model.style_prior import STYLE_PRIOR_PREFIX, StylePrior, summary_dim


def add_style_input(model: nn.Module, cfg: GeneratorConfig) -> nn.Linear | None:
    """Register the style buffers on ``model`` and return its zero-initialised style input
    Linear(style_dim + 1, d_model) (the + 1: a presence flag); None without a style input."""
    if not cfg.style_dim:
        return None
    k, d = cfg.style_dim, cfg.d_model
    model.register_buffer("style_mean", torch.zeros(k))
    model.register_buffer("style_std", torch.ones(k))
    model.register_buffer("style_chol", torch.eye(k))
    style_in = nn.Linear(k + 1, d)  # + 1: the presence flag
    if cfg.style_prior == "music":  # the style given the song (generator.model.style_prior)
        s = summary_dim(cfg.music_dim)
        model.register_buffer("style_prior_summary_mean", torch.zeros(s))
        model.register_buffer("style_prior_summary_std", torch.ones(s))
        model.register_buffer("style_prior_weight", torch.zeros(s, k))
        model.register_buffer("style_prior_chol", torch.eye(k))
    nn.init.zeros_(style_in.weight)
    nn.init.zeros_(style_in.bias)
    return style_in


class StyleInputMixin:
    """Style methods of :class:`generator.model.denoiser.Denoiser` (``self.config`` and the
    buffers of :func:`add_style_input`)."""

    @torch.no_grad()
    def set_style_statistics(self, styles) -> None:
        """Fit the style draw to the (N, style_dim) styles of the training dances."""
        if not self.config.style_dim:
            raise ValueError("this model has no style input (style_dim 0)")
        for buf, value in zip((self.style_mean, self.style_std, self.style_chol),
                              style_statistics(styles), strict=True):
            buf.copy_(torch.as_tensor(value, dtype=buf.dtype))

    @torch.no_grad()
    def set_style_prior(self, prior: StylePrior) -> None:
        """Store the fitted song -> style map (:func:`generator.model.style_prior.fit_style_prior`,
        on styles standardised by this model's style statistics)."""
        if self.config.style_prior != "music":
            raise ValueError(f"this model draws styles from the {self.config.style_prior!r} "
                             "prior, which has nothing to fit")
        for name, value in (("summary_mean", prior.summary_mean), ("summary_std", prior.summary_std),
                            ("weight", prior.weight), ("chol", prior.chol)):
            buf = getattr(self, STYLE_PRIOR_PREFIX + name)
            buf.copy_(torch.as_tensor(value, dtype=buf.dtype).reshape(buf.shape))

    def draw_style(self, generator: torch.Generator | None = None, count: int = 1,
                   scale: float = 1.0, summary: torch.Tensor | None = None,
                   ) -> torch.Tensor:
        """(count, style_dim) styles: mean + std * scale * (x W + L n), n ~ N(0, I) from
        ``generator`` (on the CPU). With the ``"dataset"`` prior x W = 0 and L is the training
        dances' Cholesky factor; with ``"music"`` x is the song's standardised ``summary``
        (:func:`generator.model.style_prior.song_summary`, required) and L the residuals'."""
        if not self.config.style_dim:
            raise ValueError("this model has no style input (style_dim 0)")
        n = torch.randn(count, self.config.style_dim, generator=generator).to(self.style_mean)
        if self.config.style_prior == "dataset":
            z = n @ self.style_chol.T  # (count, K)
        else:
            if summary is None:
                raise ValueError("this model draws styles given the song: pass its summary")
            x = torch.as_tensor(summary, dtype=self.style_mean.dtype, device=self.style_mean.device)
            x = (x.reshape(-1) - self.style_prior_summary_mean) / self.style_prior_summary_std  # (S,)
            z = x @ self.style_prior_weight + n @ self.style_prior_chol.T  # (count, K)
        return self.style_mean + self.style_std * scale * z  # (count, K)

    def _style_vector(self, style: torch.Tensor | None, batch: int, device) -> torch.Tensor:
        """(B, K) physical styles or None -> (B, K + 1) standardised styles and presence flag;
        a row of NaN (or None for all rows) is a withheld style, all zeros."""
        k = self.config.style_dim
        if style is None:
            return torch.zeros(batch, k + 1, device=device)
        style = style.to(device=device, dtype=self.style_mean.dtype).reshape(batch, k)  # (B, K)
        present = ~torch.isnan(style).any(dim=-1, keepdim=True)  # (B, 1)
        z = torch.where(present, (style - self.style_mean) / self.style_std, 0.0)  # (B, K)
        return torch.cat([z, present.to(z.dtype)], dim=-1)  # (B, K + 1)
