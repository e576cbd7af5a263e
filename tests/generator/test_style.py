"""A dance's style (generator.model.style): its measure by hand, the draw, the model's input,
training with it (from scratch and added to a checkpoint) and sampling with it."""

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from generator import train as tr
from generator.model.conditioning import MusicCondition
from generator.model.config import config_for
from generator.model.denoiser import Denoiser
from generator.model.style import (
    SPEED_FLOOR,
    STYLE_DIM,
    STYLE_NAMES,
    dance_style,
    style_statistics,
)
from generator.sampling.checkpoint import checkpoint_paths
from generator.sampling.options import sampling_options
from generator.sampling.pipeline import DanceGenerator
from motionbeat.core import contract, kinematics
from tests.generator.conftest import MUSIC_DIM, randomize_zero_init

FAST = tr.TrainOptions(batch_size=4, val_windows=4, warmup_steps=1, progress=False, threads=1)
REST = math.log(SPEED_FLOOR)


def frames_of(poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """(T, 24, 3) axis-angle and (T, 3) root -> (T, D) contract frames."""
    return kinematics.motion_to_features(torch.as_tensor(poses, dtype=torch.float32),
                                         torch.as_tensor(trans, dtype=torch.float32),
                                         contract.FPS).numpy()


def rows_lasting(seconds: float) -> MusicCondition:
    """Music rows of a song ``seconds`` long (what the dataset style draw reads of a song)."""
    return MusicCondition(np.zeros((4, MUSIC_DIM), np.float32), np.zeros((4, 2), np.float32),
                          seconds, 120.0, 4, np.zeros(0))


def test_a_still_dance_rests_everywhere():
    frames = frames_of(np.zeros((60, 24, 3)), np.tile([0.0, 0.9, 0.0], (60, 1)))
    np.testing.assert_allclose(dance_style(frames), np.full(STYLE_DIM, REST), atol=1e-5)
    assert dance_style(frames[:1]).tolist() == pytest.approx([REST] * STYLE_DIM)


def test_travel_and_bounce_are_the_root_alone():
    t = np.arange(90) / contract.FPS
    # 1 m/s along x at a still pose: only the travel moves, log(1 + floor)
    trans = np.stack([t, np.full_like(t, 0.9), np.zeros_like(t)], axis=1)
    style = dance_style(frames_of(np.zeros((90, 24, 3)), trans))
    np.testing.assert_allclose(style, [math.log(1.0 + SPEED_FLOOR)] + [REST] * 4, atol=1e-4)
    # up and down at 0.5 m/s (a triangle wave): only the bounce
    height = 0.9 + 0.5 * np.abs(((t * 1.0) % 0.2) - 0.1)
    trans = np.stack([np.zeros_like(t), height, np.zeros_like(t)], axis=1)
    style = dance_style(frames_of(np.zeros((90, 24, 3)), trans))
    assert style[STYLE_NAMES.index("root_bounce")] == pytest.approx(math.log(0.5 + SPEED_FLOOR), abs=0.02)
    assert style[STYLE_NAMES.index("root_travel")] == pytest.approx(REST, abs=1e-4)


def test_swinging_arms_move_the_arms_entry_only():
    poses = np.zeros((90, 24, 3))
    swing = 0.8 * np.sin(2 * np.pi * np.arange(90) / 30)  # one swing per second
    for j in (contract.JOINT_INDEX["L_Shoulder"], contract.JOINT_INDEX["R_Shoulder"]):
        poses[:, j, 2] = swing
    style = dance_style(frames_of(poses, np.tile([0.0, 0.9, 0.0], (90, 1))))
    arms = STYLE_NAMES.index("arms")
    assert style[arms] > math.log(0.3)  # the hands travel ~0.5 m per swing
    others = [i for i in range(STYLE_DIM) if i != arms]
    np.testing.assert_allclose(style[others], REST, atol=1e-4)


def test_dance_style_refuses_other_shapes():
    with pytest.raises(ValueError, match="frames"):
        dance_style(np.zeros((10, 7)))


def test_the_draw_follows_the_training_styles():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    pair = rng.multivariate_normal([0.0, 0.0], cov, size=400)
    styles = np.column_stack([pair[:, 0] * 0.3 - 1.0, pair[:, 1] * 0.5 - 2.0,
                              rng.normal(-3, 0.1, (400, STYLE_DIM - 2))]).astype(np.float32)
    model = Denoiser(config_for("tiny", music_dim=MUSIC_DIM, style_dim=STYLE_DIM))
    model.set_style_statistics(styles)
    drawn = model.draw_style(torch.Generator().manual_seed(1), 20000).numpy()
    np.testing.assert_allclose(drawn.mean(0), styles.mean(0), atol=0.02)
    np.testing.assert_allclose(drawn.std(0), styles.std(0), rtol=0.05)
    assert np.corrcoef(drawn[:, 0], drawn[:, 1])[0, 1] == pytest.approx(
        np.corrcoef(styles[:, 0], styles[:, 1])[0, 1], abs=0.03)
    # the same generator seed, the same style
    one, again = (model.draw_style(torch.Generator().manual_seed(1), 1) for _ in range(2))
    torch.testing.assert_close(again, one, rtol=0, atol=0)
    # a scale widens the draw around the same mean
    wide = model.draw_style(torch.Generator().manual_seed(1), 20000, scale=3.0).numpy()
    np.testing.assert_allclose(wide.mean(0), styles.mean(0), atol=0.06)
    np.testing.assert_allclose(wide.std(0), 3 * styles.std(0), rtol=0.05)
    with pytest.raises(ValueError, match="style_scale"):
        config_for("tiny", style_dim=STYLE_DIM, style_scale=-1.0)
    mean, std, chol = style_statistics(styles[:1])
    assert std.tolist() == [1.0] * STYLE_DIM and np.array_equal(chol, np.eye(STYLE_DIM))


def test_the_model_reads_the_style_and_starts_without_it():
    torch.manual_seed(0)
    model = randomize_zero_init(Denoiser(config_for("tiny", music_dim=MUSIC_DIM,
                                                    style_dim=STYLE_DIM))).eval()
    x, music, t = torch.randn(2, 40, contract.FRAME_DIM), torch.randn(2, 40, MUSIC_DIM), 500
    style = torch.randn(2, STYLE_DIM)
    none = model(x, t, music)
    # zero-initialised: the input changes nothing until it is trained
    torch.testing.assert_close(model(x, t, music, style=style), none)
    with torch.no_grad():
        model.style_in.weight.normal_(0.0, 0.5)
    moved = model(x, t, music, style=style)
    assert (moved - none).abs().max() > 1e-3
    # a NaN row is a withheld style: the same as none for that row
    withheld = style.clone()
    withheld[1] = torch.nan
    got = model(x, t, music, style=withheld)
    torch.testing.assert_close(got[1], none[1])
    torch.testing.assert_close(got[0], moved[0])
    # a model without the input ignores a style, and cannot draw one
    plain = Denoiser(config_for("tiny", music_dim=MUSIC_DIM))
    with pytest.raises(ValueError, match="no style input"):
        plain.draw_style()
    with pytest.raises(ValueError, match="style_dim"):
        config_for("tiny", style_dim=3)


@pytest.fixture(scope="module")
def plain_start(toy_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("style") / "plain"
    tr.train(toy_corpus, out, size="tiny", conditioner="librosa", steps=2, seed=0, options=FAST)
    return out


def test_a_style_run_fits_the_draw_to_its_dances(toy_corpus, tmp_path):
    out = tmp_path / "styled"
    tr.train(toy_corpus, out, size="tiny", conditioner="librosa", steps=2, seed=0, options=FAST,
             config_overrides={"style_dim": STYLE_DIM})
    gen = DanceGenerator.load(out, device="cpu")
    assert gen.config.style_dim == STYLE_DIM
    dances = tr.load_dances(toy_corpus, ("train",))
    styles = np.stack([dance_style(f) for per_song in dances.values() for f in per_song])
    # the toy corpus' dances are as long as their songs, so whole dances are the styles
    np.testing.assert_allclose(gen.model.style_mean.numpy(), styles.mean(0), atol=1e-4)
    assert json.loads(tr.history_path(out).read_text())["config"]["style_dim"] == STYLE_DIM


def test_a_style_input_is_added_to_a_checkpoint_without_one(plain_start, toy_corpus, tmp_path):
    # at learning rate 0 the run is the start: every weight it had, and a zero style input
    added = tr.train(toy_corpus, tmp_path / "added", steps=1, seed=1, init=plain_start,
                     options=replace(FAST, lr=0.0), config_overrides={"style_dim": STYLE_DIM})
    one, two = load_file(checkpoint_paths(plain_start)[0]), load_file(added.weights)
    assert set(two) - set(one) == {"style_in.weight", "style_in.bias", "style_mean", "style_std",
                                   "style_chol"}
    for key, value in one.items():
        torch.testing.assert_close(two[key], value, rtol=0, atol=0)
    assert float(two["style_in.weight"].abs().max()) == 0.0
    assert float(two["style_std"].min()) > 0 and not torch.equal(two["style_chol"], torch.eye(STYLE_DIM))
    # taking a style input away is not a fine-tune: refused by name
    with pytest.raises(ValueError, match="style_dim"):
        tr.train(toy_corpus, tmp_path / "removed", steps=1, init=added.weights.with_suffix(""),
                 options=FAST)


def test_sampling_draws_one_style_per_seed(toy_corpus, click_tracks, tmp_path, monkeypatch):
    out = tmp_path / "styled"
    tr.train(toy_corpus, out, size="tiny", conditioner="librosa", steps=2, seed=0, options=FAST,
             config_overrides={"style_dim": STYLE_DIM})
    gen = DanceGenerator.load(out, device="cpu")
    with torch.no_grad():  # a trained model reads its style; these 2 steps have barely begun
        gen.model.style_in.weight.normal_(0.0, 0.5)
        randomize_zero_init(gen.model)
    song = click_tracks["short"]
    a, b = (gen.generate(song, steps=2, seed=s, foot_lock=False) for s in (0, 1))
    again = gen.generate(song, steps=2, seed=0, foot_lock=False)
    style = a.meta["generator"]["style"]
    assert list(style) == list(STYLE_NAMES) and style != b.meta["generator"]["style"]
    assert a.meta["generator"]["style_scale"] == gen.config.style_scale == 1.0
    np.testing.assert_array_equal(a.poses, again.poses)
    assert style == again.meta["generator"]["style"]
    assert not np.allclose(a.poses, b.poses)
    drawn = gen.dance_style(0, rows_lasting(a.meta["song_duration"]))
    # another song (of another length) with the same seed gets another style
    assert not torch.allclose(gen.dance_style(0, rows_lasting(a.meta["song_duration"] + 0.5)), drawn)
    torch.testing.assert_close(drawn, torch.tensor([style[n] for n in STYLE_NAMES]), atol=1e-4,
                               rtol=0)
    # a sampling option sets how far the style is drawn: 0 dances the mean style
    calm = gen.generate(song, steps=2, seed=0, foot_lock=False, style_scale=0.0)
    assert calm.meta["generator"]["style_scale"] == 0.0
    np.testing.assert_allclose([calm.meta["generator"]["style"][n] for n in STYLE_NAMES],
                               gen.model.style_mean.numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="style_scale"):
        gen.generate(song, steps=2, style_scale=-1.0)
    with pytest.raises(ValueError, match="no style input"):
        sampling_options(config_for("tiny"), 0, None, None, 0.0, None, style_scale=1.0)
    # the dance follows its style: the same noise with another style dances otherwise
    monkeypatch.setattr(gen, "dance_style", lambda seed, rows, scale: drawn + 1.0)
    livelier = gen.generate(song, steps=2, seed=0, foot_lock=False)
    assert not np.allclose(livelier.poses, a.poses)
    assert livelier.meta["generator"]["style"]["arms"] == pytest.approx(style["arms"] + 1.0, abs=1e-3)
