"""A dance's style drawn from its song: a Gaussian whose mean follows the music.

Why. On the corpus, a song decides most of how it is danced: the two dances of a training song
differ by 5 to 32 % of the spread of styles over all training dances (variance within songs /
total, per style entry: root travel 0.12, bounce 0.14, torso 0.32, arms 0.11, legs 0.05;
`generator.train.data.WindowData.compute_styles` on the mma-only corpus' 294 training dances).
Drawing every dance's style from one Gaussian over all dances (:mod:`generator.model.style`)
gives a ballad a rock dancer's energy as often as a rock song's, and adds spread within songs
but none between them (docs/generator.md, "The eighth round").

What. A song is summarised by the mean and the standard deviation over time of the generator's
own music features, and its log tempo (:func:`song_summary`, S = 2 C + 1 numbers). Ridge
regression maps the standardised summary x to the standardised style z = (s - mean) / std:

    W = argmin_W  sum_dances |z - x W|^2 + lambda |W|_F^2        (W: (S, K))

with lambda chosen from :data:`RIDGE_LAMBDAS` by :data:`PRIOR_FOLDS`-fold cross-validation that
keeps each song's dances in one fold (a song's second dance would otherwise leak its style).
The residuals' covariance is that of the out-of-fold residuals (honest: the in-sample ones
shrink with the fit), through its lower Cholesky factor L. A dance's style is then drawn as

    s = mean + std * scale * (x W + L n),    n ~ N(0, I),

which with W = 0 and L the Cholesky factor of all styles' covariance is the dataset draw. On the
validation songs the linear summary explains a fifth to a half of the style's variance (R^2:
root travel 0.21, bounce 0.40, arms 0.42, legs 0.45, torso none), measured with the shipped
generators' features before this module existed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RIDGE_LAMBDAS: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)
"""Candidate ridge penalties (on standardised summaries and styles; 294 dances of 147 songs
chose 100-300 for the shipped generators' features)."""
PRIOR_FOLDS: int = 5
"""Cross-validation folds over songs for the ridge penalty and the residual covariance."""
SUMMARY_STD_FLOOR: float = 1e-6
"""A summary entry constant over the training songs is divided by this instead of 0."""
STYLE_PRIOR_PREFIX: str = "style_prior_"
"""Names of the denoiser buffers that hold a fitted prior begin with this."""
COV_JITTER: float = 1e-4
"""Added to the residual covariance's diagonal so its Cholesky factor exists."""


def summary_dim(music_dim: int) -> int:
    """Length of :func:`song_summary` for ``music_dim`` features per frame."""
    return 2 * music_dim + 1


def song_summary(features: np.ndarray, tempo_bpm: float) -> np.ndarray:
    """(T, C) raw music features of a song and its tempo -> (2 C + 1,) float32 summary:
    mean over time, standard deviation over time, log tempo (BPM)."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] == 0:
        raise ValueError(f"expected (T, C) features with T > 0, got {f.shape}")
    if not (tempo_bpm > 0 and np.isfinite(tempo_bpm)):
        raise ValueError(f"tempo must be a positive number of BPM, got {tempo_bpm}")
    return np.concatenate([f.mean(axis=0), f.std(axis=0), [np.log(tempo_bpm)]]).astype(np.float32)


@dataclass(frozen=True)
class StylePrior:
    """The fitted map from a song's summary to its dances' style (module docstring).

    Attributes:
        summary_mean, summary_std: (S,) standardisation of the summaries.
        weight: (S, K) ridge weights, standardised summary -> standardised style.
        chol: (K, K) lower Cholesky factor of the out-of-fold residuals' covariance.
        ridge_lambda: the penalty cross-validation chose.
        cv_r2: (K,) out-of-fold R^2 of each style entry (1 - residual / total sum of squares).
    """

    summary_mean: np.ndarray
    summary_std: np.ndarray
    weight: np.ndarray
    chol: np.ndarray
    ridge_lambda: float
    cv_r2: np.ndarray


def _ridge(x: np.ndarray, z: np.ndarray, lam: float) -> np.ndarray:
    """(N, S), (N, K) -> (S, K) ridge weights."""
    return np.linalg.solve(x.T @ x + lam * np.eye(x.shape[1]), x.T @ z)


def fit_style_prior(
    summaries: np.ndarray,
    styles: np.ndarray,
    groups: np.ndarray,
    style_mean: np.ndarray,
    style_std: np.ndarray,
    seed: int = 0,
) -> StylePrior:
    """Fit :class:`StylePrior` to (N, S) song summaries and (N, K) styles of N dances; ``groups``
    (N,) names each dance's song (a song's dances share a fold); ``style_mean`` / ``style_std``
    (K,) standardise the styles as the denoiser's style input does. Needs dances of at least
    two songs; fewer folds than :data:`PRIOR_FOLDS` when there are fewer songs."""
    x = np.asarray(summaries, np.float64)
    s = np.asarray(styles, np.float64)
    groups = np.asarray(groups)
    if x.ndim != 2 or s.ndim != 2 or not len(x) == len(s) == len(groups):
        raise ValueError(f"expected (N, S) summaries, (N, K) styles and (N,) groups, got "
                         f"{x.shape}, {s.shape}, {groups.shape}")
    songs = np.unique(groups)
    if len(songs) < 2:
        raise ValueError(f"a style prior needs dances of at least two songs, got {len(songs)}")
    mu, sd = x.mean(axis=0), np.maximum(x.std(axis=0), SUMMARY_STD_FLOOR)
    xs = (x - mu) / sd  # (N, S)
    z = (s - np.asarray(style_mean, np.float64)) / np.asarray(style_std, np.float64)  # (N, K)
    folds = min(PRIOR_FOLDS, len(songs))
    song_fold = dict(zip(songs, np.random.default_rng(seed).permutation(len(songs)) % folds,
                         strict=True))
    fold = np.array([song_fold[g] for g in groups])  # (N,)

    def out_of_fold(lam: float) -> np.ndarray:
        pred = np.empty_like(z)
        for k in range(folds):
            held = fold == k
            pred[held] = xs[held] @ _ridge(xs[~held], z[~held], lam)
        return z - pred  # (N, K) residuals

    errors = {lam: float((out_of_fold(lam) ** 2).sum()) for lam in RIDGE_LAMBDAS}
    lam = min(errors, key=errors.get)
    resid = out_of_fold(lam)
    cov = np.atleast_2d(np.cov(resid, rowvar=False)) + COV_JITTER * np.eye(z.shape[1])
    total = ((z - z.mean(axis=0)) ** 2).sum(axis=0)
    return StylePrior(
        summary_mean=mu.astype(np.float32), summary_std=sd.astype(np.float32),
        weight=_ridge(xs, z, lam).astype(np.float32),
        chol=np.linalg.cholesky(cov).astype(np.float32), ridge_lambda=lam,
        cv_r2=(1.0 - (resid ** 2).sum(axis=0) / np.maximum(total, 1e-12)).astype(np.float32),
    )
