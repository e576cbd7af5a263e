"""Training on a toy corpus: end to end, saved files, resume exactness, the CLI."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from generator import train as tr
from generator.model.conditioning import MusicCondition
from generator.model.config import GENERATOR_SIZES
from generator.sampling.checkpoint import checkpoint_paths
from generator.sampling.pipeline import DanceGenerator
from motionbeat.core import contract

FAST = tr.TrainOptions(batch_size=4, val_windows=4, warmup_steps=1, progress=False, threads=1)


@pytest.fixture(scope="module")
def trained(toy_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "generator"
    result = tr.train(toy_corpus, out, size="tiny", conditioner="librosa", steps=4, seed=0,
                      options=FAST)
    return out, result


def test_training_writes_weights_config_state_and_history(trained, toy_corpus):
    out, result = trained
    weights, config = checkpoint_paths(out)
    assert result.steps == 4 and result.weights == weights and weights.is_file()
    assert config.is_file() and json.loads(config.read_text())["conditioner"] == "librosa"
    assert all(p.is_file() for p in tr.state_paths(out))
    assert tr.state_paths(out)[0].name == "generator.state.safetensors"  # .gitignore'd pattern
    blob = torch.load(tr.state_paths(out)[1], weights_only=True)
    assert int(blob["step"]) == 4 and any(k.startswith("optimizer.") for k in blob)
    history = json.loads(tr.history_path(out).read_text())
    assert history["total_steps"] == 4 and history["history"][-1]["step"] == 4
    last = history["history"][-1]
    assert np.isfinite(last["train_loss"]) and np.isfinite(last["val_ema_loss"])
    assert history["seconds_per_step"] > 0
    # the conditioning of every train / val song was cached under the corpus
    caches = list((toy_corpus / "cache").glob("generator-librosa-*/*.npz"))
    assert len(caches) == 4


def test_normalisation_comes_from_the_training_data(trained):
    out, _ = trained
    gen = DanceGenerator.load(out, device="cpu")
    model = gen.model
    assert gen.trained_steps == 4 and not gen.untrained
    # the toy dancers stand with the pelvis near 0.9 m and log-mel sits far below 0 dB
    assert 0.7 < float(model.feat_mean[contract.ROOT_POS.start + contract.UP_AXIS]) < 1.1
    assert float(model.music_mean[:-1].mean()) < -10.0
    assert float(model.feat_std.min()) >= tr.MOTION_STD_FLOOR - 1e-6


def test_trained_checkpoint_generates(trained, click_tracks):
    out, _ = trained
    motion = DanceGenerator.load(out, device="cpu").generate(click_tracks["short"], steps=2)
    assert motion.num_frames == 3 * contract.FPS and np.isfinite(motion.poses).all()


def test_resume_continues_exactly(trained, toy_corpus, tmp_path):
    out, _ = trained
    part = tmp_path / "part"
    # half of a 4-step schedule, then resumed to the end: the same weights as one run
    tr.train(toy_corpus, part, size="tiny", conditioner="librosa", steps=2, seed=0,
             options=replace(FAST, schedule_steps=4))
    resumed = tr.train(toy_corpus, part, size="tiny", conditioner="librosa", steps=4, seed=0,
                       options=FAST, resume=True)
    assert resumed.steps == 4
    one, two = load_file(checkpoint_paths(out)[0]), load_file(resumed.weights)
    for key, value in one.items():
        torch.testing.assert_close(two[key], value, rtol=0, atol=0)
    # resuming with another config is refused
    with pytest.raises(ValueError, match="another config"):
        tr.train(toy_corpus, part, size="compact", conditioner="librosa", steps=5, options=FAST,
                 resume=True)
    # with none named, the run's own (tiny, librosa) are taken, not the defaults
    assert tr.saved_config(part).d_model == GENERATOR_SIZES["tiny"].d_model
    again = tr.train(toy_corpus, part, steps=5, seed=0, resume=True,
                     options=replace(FAST, schedule_steps=5))
    assert again.steps == 5
    assert json.loads(tr.history_path(part).read_text())["size"] == "tiny"
    assert tr.saved_config(tmp_path / "never-trained") is None


def test_init_starts_from_a_checkpoint(trained, toy_corpus, tmp_path):
    out, _ = trained
    start = tmp_path / "start"
    for src, dst in zip(checkpoint_paths(out), checkpoint_paths(start), strict=True):
        dst.write_bytes(src.read_bytes())
    config = json.loads(checkpoint_paths(start)[1].read_text())
    config["guidance_weight"] = 1.7  # a sampling default chosen after training
    checkpoint_paths(start)[1].write_text(json.dumps(config))
    # a step at learning rate 0 leaves the loaded weights as they are: the result is the start
    still = tmp_path / "still"
    result = tr.train(toy_corpus, still, size="tiny", conditioner="librosa", steps=1, seed=1,
                      init=start, options=replace(FAST, lr=0.0))
    one, two = load_file(checkpoint_paths(start)[0]), load_file(result.weights)
    assert one.keys() == two.keys()
    for key, value in one.items():
        torch.testing.assert_close(two[key], value, rtol=0, atol=0)
    gen = DanceGenerator.load(still, device="cpu")
    assert gen.trained_steps == 4 + 1 and gen.config.guidance_weight == 1.7
    history = json.loads(tr.history_path(still).read_text())
    assert history["init"]["checkpoint"] == "start" and history["init"]["trained_steps"] == 4
    # from scratch, the same step gives other weights
    scratch = tr.train(toy_corpus, tmp_path / "scratch", size="tiny", conditioner="librosa",
                       steps=1, seed=1, options=replace(FAST, lr=0.0))
    fresh = load_file(scratch.weights)
    assert any(not torch.equal(fresh[key], value) for key, value in one.items())
    with pytest.raises(ValueError, match="d_model"):
        tr.train(toy_corpus, tmp_path / "other", size="compact", conditioner="librosa",
                 steps=1, init=start, options=FAST)
    # the loss may change (fine-tuning with another objective): the run keeps its own
    tuned = tr.train(toy_corpus, tmp_path / "tuned", size="tiny", conditioner="librosa", steps=1,
                     init=start, options=FAST,
                     config_overrides={"loss_snr_gamma": 5.0, "loss_root_turn": 1.0})
    tuned_config = DanceGenerator.load(tuned.weights.with_suffix(""), device="cpu").config
    assert tuned_config.loss_snr_gamma == 5.0 and tuned_config.loss_root_turn == 1.0
    assert tuned_config.guidance_weight == 1.7
    with pytest.raises(ValueError, match="no such generator checkpoint"):
        tr.train(toy_corpus, tmp_path / "none", size="tiny", conditioner="librosa", steps=1,
                 init=tmp_path / "missing", options=FAST)


def test_init_gives_the_size_and_conditioner(trained, toy_corpus, tmp_path, capsys):
    out, _ = trained
    # no size or conditioner given: the start's (tiny, librosa), not the defaults (small,
    # motionbeat), so a step at learning rate 0 gives back the start's weights
    derived = tr.train(toy_corpus, tmp_path / "derived", steps=1, init=out,
                       options=replace(FAST, lr=0.0))
    one, two = load_file(checkpoint_paths(out)[0]), load_file(derived.weights)
    for key, value in one.items():
        torch.testing.assert_close(two[key], value, rtol=0, atol=0)
    history = json.loads(tr.history_path(tmp_path / "derived").read_text())
    assert history["size"] == "tiny" and history["conditioner"] == "librosa"
    # given ones still win, and are checked against the start
    with pytest.raises(ValueError, match="d_model"):
        tr.train(toy_corpus, tmp_path / "other", size="compact", steps=1, init=out,
                 options=FAST)
    # a model of no registered size cannot be continued under any --size: said so
    odd = tmp_path / "odd"
    for src, dst in zip(checkpoint_paths(out), checkpoint_paths(odd), strict=True):
        dst.write_bytes(src.read_bytes())
    config = json.loads(checkpoint_paths(odd)[1].read_text())
    config["d_model"] = 48
    checkpoint_paths(odd)[1].write_text(json.dumps(config))
    with pytest.raises(ValueError, match="none of the registered sizes"):
        tr.train(toy_corpus, tmp_path / "odd-run", steps=1, init=odd, options=FAST)
    # the command line: --init alone
    cli = tmp_path / "cli"
    assert tr.main(["--corpus", str(toy_corpus), "--out", str(cli), "--init", str(out),
                    "--steps", "1", "--batch-size", "2", "--quiet"]) == 0
    assert DanceGenerator.load(cli, device="cpu").config.conditioner == "librosa"


def test_cli_refuses_init_with_resume(toy_corpus, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        tr.main(["--corpus", str(toy_corpus), "--out", str(tmp_path / "g"), "--resume",
                 "--init", str(tmp_path / "start")])
    assert exit_info.value.code == 2
    assert "--init" in capsys.readouterr().err


def test_cli_timestep_weighting(toy_corpus, tmp_path, capsys):
    for flag in ("--snr-gamma", "--noise-power", "--kinetic-weight"):
        with pytest.raises(SystemExit) as exit_info:
            tr.main(["--corpus", str(toy_corpus), "--out", str(tmp_path / "g"), flag, "-1"])
        assert exit_info.value.code == 2 and flag in capsys.readouterr().err
    out = tmp_path / "weighted"
    assert tr.main(["--corpus", str(toy_corpus), "--out", str(out), "--size", "tiny",
                    "--conditioner", "librosa", "--steps", "1", "--batch-size", "2",
                    "--noise-power", "0.5", "--kinetic-weight", "30", "--quiet"]) == 0
    config = DanceGenerator.load(out, device="cpu").config
    assert config.loss_noise_power == 0.5 and config.loss_snr_gamma == 0.0
    assert config.loss_kinetic == 30.0
    history = json.loads(out.with_suffix(".train.json").read_text())["history"]
    assert "train_kinetic" in history[-1]


def test_lr_schedule_warms_up_then_decays():
    opts = tr.TrainOptions(lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    lrs = [tr.lr_at(s, 1000, opts) for s in range(1000)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:], strict=False))
    assert lrs[-1] == pytest.approx(0.1, abs=1e-4)


def test_windows_are_padded_and_masked_for_short_dances():
    rows = MusicCondition(
        features=np.ones((40, 3), np.float32), phase=np.zeros((40, 2), np.float32),
        duration=40 / contract.FPS, tempo_bpm=120.0, beats_per_bar=4, beat_times=np.zeros(0),
    )
    motion = np.random.default_rng(0).normal(size=(50, contract.FRAME_DIM)).astype(np.float32)
    data = tr.WindowData([motion], [0], [rows], np.array([40]))
    batch = data.sample(np.random.default_rng(0), 2, contract.WINDOW_FRAMES)
    assert batch["motion"].shape == (2, contract.WINDOW_FRAMES, contract.FRAME_DIM)
    assert batch["mask"][:, :40].all() and not batch["mask"][:, 40:].any()
    other = [c for c in range(contract.FRAME_DIM) if c not in tr.HORIZONTAL_ROOT]
    first = batch["motion"][0, :40]  # (40, D)
    np.testing.assert_array_equal(first[:, other], motion[:40, other])
    # the root's horizontal position is centred over the real frames, its path unchanged
    x, z = tr.HORIZONTAL_ROOT
    np.testing.assert_allclose(first[:, [x, z]].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.diff(first[:, x]), np.diff(motion[:40, x]), atol=1e-5)


def test_cli_trains_and_reports(toy_corpus, tmp_path, capsys):
    out = tmp_path / "cli" / "g"
    code = tr.main(["--corpus", str(toy_corpus), "--out", str(out), "--size", "tiny",
                    "--conditioner", "librosa", "--steps", "2", "--batch-size", "2",
                    "--threads", "1", "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "s/step" in printed and str(checkpoint_paths(out)[0]) in printed


def test_cli_refuses_a_folder_without_corpus(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        tr.main(["--corpus", str(tmp_path), "--out", str(tmp_path / "g")])
    assert exit_info.value.code == 2
    assert "manifest.json" in capsys.readouterr().err


def test_cli_missing_encoder_is_one_line(toy_corpus, tmp_path, capsys):
    code = tr.main(["--corpus", str(toy_corpus), "--out", str(tmp_path / "g"), "--size", "tiny",
                    "--encoder", str(tmp_path / "no-encoder"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no-encoder.safetensors" in err and "Traceback" not in err


def test_training_on_motionbeat_features(toy_corpus, encoder_checkpoint, tmp_path):
    out = tmp_path / "mb" / "generator"
    result = tr.train(toy_corpus, out, size="tiny", conditioner="motionbeat",
                      encoder=encoder_checkpoint, steps=2, options=FAST)
    gen = DanceGenerator.load(out, device="cpu")
    assert gen.config.conditioner == "motionbeat" and gen.config.music_dim == 64
    # continued with no encoder named: the one the checkpoint's config points at
    more = tmp_path / "more" / "generator"
    tr.train(toy_corpus, more, steps=1, init=out, options=FAST)
    assert DanceGenerator.load(more, device="cpu").config.encoder_hash == gen.config.encoder_hash
    assert gen.config.encoder_hash in str(list((toy_corpus / "cache").glob("generator-motionbeat-*")))
    assert result.steps == 2 and gen.trained_steps == 2
