"""The music style prior (generator.model.style_prior): the song's summary by hand, the fit on a
known linear map, the draw given a song, fitting it into a checkpoint, training and sampling."""

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from generator import train as tr
from generator.model.config import config_for
from generator.model.denoiser import Denoiser
from generator.model.style import STYLE_DIM
from generator.model.style_prior import fit_style_prior, song_summary, summary_dim
from generator.sampling.checkpoint import checkpoint_paths
from generator.sampling.pipeline import DanceGenerator
from generator.train.fit_style_prior import main
from generator.train.prior import add_music_prior
from tests.generator.conftest import MUSIC_DIM, randomize_zero_init

FAST = tr.TrainOptions(batch_size=4, val_windows=4, warmup_steps=1, progress=False, threads=1)


def test_a_song_summary_by_hand():
    features = np.array([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(song_summary(features, 120.0),
                               [2.0, 4.0, 1.0, 2.0, math.log(120.0)], rtol=1e-6)
    assert summary_dim(2) == 5
    with pytest.raises(ValueError, match="tempo"):
        song_summary(features, 0.0)
    with pytest.raises(ValueError, match="features"):
        song_summary(np.zeros((0, 2)), 120.0)


def known_songs(songs: int = 120, dances_per_song: int = 2, noise: float = 0.3, seed: int = 0):
    """Summaries (N, 6) and styles (N, K) whose first two style entries are a known linear map
    of the song's summary plus dancer noise of std ``noise``; the others are noise alone."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (songs, 6))  # per song
    w = np.zeros((6, STYLE_DIM))
    w[0, 0], w[1, 1], w[2, 1] = 1.0, 0.6, -0.6
    z = np.repeat(x @ w, dances_per_song, axis=0) + rng.normal(0, noise, (songs * dances_per_song, STYLE_DIM))
    groups = np.repeat(np.arange(songs), dances_per_song)
    return np.repeat(x, dances_per_song, axis=0), z, groups, w


def test_the_fit_finds_a_known_map_and_the_dancers_spread():
    x, z, groups, w = known_songs()
    prior = fit_style_prior(x, z, groups, np.zeros(STYLE_DIM), np.ones(STYLE_DIM))
    # summaries are standardised before the map: compare the map on the raw scale
    raw_weight = prior.weight / prior.summary_std[:, None]
    np.testing.assert_allclose(raw_weight[:, :2], w[:, :2], atol=0.1)
    # the song-driven entries are predicted out of fold, the noise-only ones are not
    assert prior.cv_r2[0] > 0.8 and prior.cv_r2[1] > 0.8
    assert np.all(prior.cv_r2[2:] < 0.1)
    # what is left is the dancers' own spread: about the noise's std on every entry
    spread = np.sqrt(np.diag(prior.chol @ prior.chol.T))
    np.testing.assert_allclose(spread, 0.3, rtol=0.2)
    with pytest.raises(ValueError, match="two songs"):
        fit_style_prior(x[:2], z[:2], np.zeros(2), np.zeros(STYLE_DIM), np.ones(STYLE_DIM))


def test_songs_that_say_nothing_get_the_dataset_draw():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (240, 6))
    z = rng.normal(0, 1, (240, STYLE_DIM))
    prior = fit_style_prior(x, z, np.repeat(np.arange(120), 2), np.zeros(STYLE_DIM),
                            np.ones(STYLE_DIM))
    assert np.all(prior.cv_r2 < 0.05)
    assert np.abs(prior.weight).max() < 0.2  # cross-validation chose a strong penalty
    np.testing.assert_allclose(np.sqrt(np.diag(prior.chol @ prior.chol.T)), 1.0, rtol=0.15)


def music_prior_model() -> Denoiser:
    x, z, groups, _ = known_songs(noise=0.1)
    model = Denoiser(config_for("tiny", music_dim=MUSIC_DIM, style_dim=STYLE_DIM,
                                style_prior="music"))
    summaries = np.zeros((len(x), summary_dim(MUSIC_DIM)))
    summaries[:, :6] = x
    model.set_style_statistics(z * 0.5 - 1.0)  # physical styles: std 0.5, mean -1 (about)
    prior = fit_style_prior(summaries, z * 0.5 - 1.0, groups, model.style_mean.numpy(),
                            model.style_std.numpy())
    model.set_style_prior(prior)
    return model


def test_the_draw_is_centred_on_the_song():
    model = music_prior_model()
    loud, quiet = np.zeros(summary_dim(MUSIC_DIM)), np.zeros(summary_dim(MUSIC_DIM))
    loud[0], quiet[0] = 2.0, -2.0
    gen = torch.Generator().manual_seed(0)
    a = model.draw_style(gen, 4000, summary=torch.as_tensor(loud)).numpy()
    b = model.draw_style(gen, 4000, summary=torch.as_tensor(quiet)).numpy()
    # entry 0 follows summary 0: two songs 4 summary units apart, 4 * 0.5 = 2 log m/s apart
    assert a[:, 0].mean() - b[:, 0].mean() == pytest.approx(2.0, abs=0.2)
    assert abs(a[:, 3].mean() - b[:, 3].mean()) < 0.1  # an entry no song predicts
    # within a song the draw spreads as the dancers did (0.1 * 0.5), not as all dances
    assert a[:, 0].std() == pytest.approx(0.05, rel=0.25)
    # the scale multiplies the whole step away from the mean, the song's part included
    wide = model.draw_style(gen, 4000, scale=2.0, summary=torch.as_tensor(loud)).numpy()
    mean = model.style_mean.numpy()
    np.testing.assert_allclose(wide.mean(0) - mean, 2 * (a.mean(0) - mean), atol=0.05)
    with pytest.raises(ValueError, match="summary"):
        model.draw_style()
    with pytest.raises(ValueError, match="style input"):
        config_for("tiny", style_prior="music")
    with pytest.raises(ValueError, match="style_prior"):
        config_for("tiny", style_dim=STYLE_DIM, style_prior="genre")
    with pytest.raises(ValueError, match="nothing to fit"):
        Denoiser(config_for("tiny", style_dim=STYLE_DIM)).set_style_prior(None)


@pytest.fixture(scope="module")
def styled(toy_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("prior") / "styled"
    tr.train(toy_corpus, out, size="tiny", conditioner="librosa", steps=2, seed=0, options=FAST,
             config_overrides={"style_dim": STYLE_DIM})
    return out


def test_a_prior_is_fitted_into_a_checkpoint_without_touching_its_weights(
        styled, toy_corpus, tmp_path, capsys):
    out = tmp_path / "sub" / "music"
    assert main(["--checkpoint", str(styled), "--corpus", str(toy_corpus), "--out", str(out),
                 "--style-scale", "2"]) == 0
    assert "3 songs" in capsys.readouterr().out
    before, after = load_file(checkpoint_paths(styled)[0]), load_file(checkpoint_paths(out)[0])
    added = set(after) - set(before)
    assert added == {"style_prior_summary_mean", "style_prior_summary_std", "style_prior_weight",
                     "style_prior_chol"}
    for key, value in before.items():
        torch.testing.assert_close(after[key], value, rtol=0, atol=0)
    assert not torch.equal(after["style_prior_chol"], torch.eye(STYLE_DIM))
    gen = DanceGenerator.load(out, device="cpu")
    assert gen.config.style_prior == "music" and gen.config.style_scale == 2.0
    with safe_open(str(checkpoint_paths(out)[0]), "pt") as f:
        meta = json.loads(f.metadata()["generator"])
    assert meta["style_prior"]["songs"] == 3 and set(meta["style_prior"]["cv_r2"]) >= {"arms"}
    # a checkpoint without a style input, a folder that is no corpus: one line each
    plain = tmp_path / "plain"
    tr.train(toy_corpus, plain, size="tiny", conditioner="librosa", steps=1, seed=0, options=FAST)
    assert main(["--checkpoint", str(plain), "--corpus", str(toy_corpus), "--out",
                 str(tmp_path / "x")]) == 2
    assert main(["--checkpoint", str(styled), "--corpus", str(tmp_path), "--out",
                 str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert "no style input" in err and "not a corpus" in err
    assert main(["--checkpoint", str(styled), "--corpus", str(toy_corpus), "--out",
                 str(tmp_path / "z"), "--style-scale", "-1"]) == 2
    err = capsys.readouterr().err
    assert "style_scale" in err
    assert not any(checkpoint_paths(tmp_path / n)[0].exists() for n in "xyz")


def test_sampling_with_the_music_prior(styled, toy_corpus, click_tracks, tmp_path, monkeypatch):
    out = tmp_path / "music"
    add_music_prior(styled, toy_corpus, out)
    gen = DanceGenerator.load(out, device="cpu")
    with torch.no_grad():  # a trained model reads its style; these 2 steps have barely begun
        gen.model.style_in.weight.normal_(0.0, 0.5)
        randomize_zero_init(gen.model)
    seen = []
    draw = gen.model.draw_style

    def spy(*args, **kwargs):
        seen.append(kwargs["summary"])
        return draw(*args, **kwargs)

    monkeypatch.setattr(gen.model, "draw_style", spy)
    a = gen.generate(click_tracks["short"], steps=2, seed=0, foot_lock=False)
    assert a.meta["generator"]["style_prior"] == "music"
    # the draw saw the song: its summary is the danced rows' features and tempo
    assert seen[0].shape == (summary_dim(gen.config.music_dim),)
    assert float(seen[0][-1]) == pytest.approx(math.log(a.meta["tempo_bpm"]), abs=1e-5)
    again = gen.generate(click_tracks["short"], steps=2, seed=0, foot_lock=False)
    np.testing.assert_array_equal(a.poses, again.poses)


def test_training_fits_the_prior_and_a_start_drops_its_own(styled, toy_corpus, tmp_path):
    out = tmp_path / "trained"
    tr.train(toy_corpus, out, size="tiny", conditioner="librosa", steps=1, seed=0, options=FAST,
             config_overrides={"style_dim": STYLE_DIM, "style_prior": "music"})
    weights = load_file(checkpoint_paths(out)[0])
    assert float(weights["style_prior_summary_std"].min()) > 0
    assert float(weights["style_prior_summary_mean"].abs().max()) > 0
    assert json.loads(tr.history_path(out).read_text())["style_prior"]["songs"] == 3
    # a run from it with the dataset prior keeps every weight and drops the prior's buffers
    back = tr.train(toy_corpus, tmp_path / "back", steps=1, seed=1, init=out,
                    options=replace(FAST, lr=0.0), config_overrides={"style_dim": STYLE_DIM})
    two = load_file(back.weights)
    assert not any(k.startswith("style_prior_") for k in two)
    torch.testing.assert_close(two["style_in.weight"], weights["style_in.weight"], rtol=0, atol=0)


def test_training_a_music_prior_on_one_song_is_refused(tmp_path):
    from motionbeat.datasets.toy import write_toy_corpus

    corpus = tmp_path / "one-song"
    write_toy_corpus(corpus, ("train", "val"), seconds=8.0)
    with pytest.raises(ValueError, match="one song only; use --style-prior dataset"):
        tr.train(corpus, tmp_path / "out", size="tiny", conditioner="librosa", steps=1, seed=0,
                 options=FAST, config_overrides={"style_dim": STYLE_DIM, "style_prior": "music"})
    assert not list((tmp_path).glob("out*"))  # nothing written
