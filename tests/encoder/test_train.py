"""Training (save, resume, reload), ablations, and the evaluation run on a toy corpus."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from motionbeat.encoder import ablations
from motionbeat.encoder import eval_probes as probes
from motionbeat.encoder import eval_retrieval as retrieval
from motionbeat.encoder import evaluate as ev
from motionbeat.encoder import train as tr
from motionbeat.encoder import training_state as state
from motionbeat.encoder.config import config_for
from motionbeat.encoder.model import MotionBeat, load_checkpoint

FAST = tr.TrainOptions(batch_size=8, val_batches=2, val_clips=16, stats_clips=64,
                       warmup_steps=1, progress=False, threads=1)


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "mb"
    result = tr.train(config_for("tiny"), corpus, out, steps=3, seed=0, options=FAST)
    return out, result


def test_lr_schedule_warms_up_then_decays():
    opts = tr.TrainOptions(lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    lrs = [tr.lr_at(s, 1000, opts) for s in range(1000)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:], strict=False))
    assert lrs[-1] == pytest.approx(0.1, abs=1e-4)
    assert tr.lr_at(0, 5, opts) == pytest.approx(1.0)  # warm-up shrinks to schedule / 10


def test_ablation_configs_round_trip():
    for name, overrides in ablations.ABLATIONS.items():
        cfg = ablations.config_with_ablation("tiny", name)
        assert ablations.ablation_of(cfg) == name
        for key, value in overrides.items():
            assert getattr(cfg, key) == value
    assert not ablations.config_with_ablation("tiny", "logmel_baseline").hard_negatives_enabled
    assert ablations.ablation_of(config_for("tiny", use_sral=False, use_phase_rotation=False)) == "custom"
    with pytest.raises(KeyError):
        ablations.config_with_ablation("tiny", "no_such_thing")


def test_training_saves_weights_state_and_history(trained):
    out, result = trained
    assert result.steps == 3 and result.weights.is_file() and result.config.is_file()
    model = load_checkpoint(out)
    assert model.config == config_for("tiny")
    # the input statistics were set from the corpus and saved with the weights
    std = model.audio_encoder.input_std
    assert not torch.allclose(std, torch.ones_like(std))
    state_weights, state_optim = state.state_paths(out)
    assert state_weights.is_file() and state_optim.is_file()
    blob = torch.load(state_optim, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in blob.values())
    assert int(blob["step"]) == 3 and any(k.startswith("optimizer.") for k in blob)
    history = json.loads(state.history_path(out).read_text())
    assert history["total_steps"] == 3 and history["history"]
    last = history["history"][-1]
    assert last["step"] == 3 and math.isfinite(last["val_total"])
    assert 0.0 <= last["val_r1_music_to_dance"] <= 1.0
    # final weights differ from a fresh initialisation with the same seed
    torch.manual_seed(0)
    fresh = MotionBeat(config_for("tiny")).state_dict()
    trained_state = load_file(str(result.weights))
    assert any(not torch.equal(fresh[k], trained_state[k]) for k in fresh if "input_" not in k)


def test_resume_continues_the_same_run(corpus, tmp_path):
    opts = tr.TrainOptions(**{**FAST.__dict__, "schedule_steps": 4})
    cfg = config_for("tiny")
    straight = tr.train(cfg, corpus, tmp_path / "a", steps=4, seed=1, options=opts)
    tr.train(cfg, corpus, tmp_path / "b", steps=2, seed=1, options=opts)
    resumed = tr.train(cfg, corpus, tmp_path / "b", steps=4, seed=1, resume=True, options=opts)
    assert resumed.steps == straight.steps == 4
    a, b = load_file(str(straight.weights)), load_file(str(resumed.weights))
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
    steps = [h["step"] for h in json.loads(state.history_path(tmp_path / "b").read_text())["history"]]
    assert steps == sorted(steps) and steps[-1] == 4
    with pytest.raises(ValueError, match="another config"):
        tr.train(config_for("tiny", use_sral=False), corpus, tmp_path / "b", steps=5, seed=1,
                 resume=True, options=opts)


@pytest.mark.parametrize("ablation", ["no_hard_negatives", "logmel_baseline"])
def test_ablations_train(corpus, tmp_path, ablation):
    cfg = ablations.config_with_ablation("tiny", ablation)
    result = tr.train(cfg, corpus, tmp_path / ablation, steps=1, seed=0, options=FAST)
    assert ablations.ablation_of(load_checkpoint(tmp_path / ablation).config) == ablation
    assert math.isfinite(result.history[-1]["val_total"])


def test_cli_trains_and_names_ablation_checkpoints(corpus, tmp_path, capsys):
    out = tmp_path / "cli"
    code = tr.main(["--corpus", str(corpus), "--size", "tiny", "--ablation", "no_contact",
                    "--out", str(out), "--steps", "1", "--batch-size", "8", "--quiet",
                    "--threads", "1", "--group-size", "4", "--same-song", "2"])
    assert code == 0 and "1 steps" in capsys.readouterr().out
    assert ablations.ablation_of(load_checkpoint(out).config) == "no_contact"
    options = json.loads(state.history_path(out).read_text())["options"]
    assert (options["group_size"], options["same_song"]) == (4, 2)


# --- evaluation ---------------------------------------------------------------------------------
def test_song_hit_rate_by_hand():
    songs = np.array([0, 0, 0, 1])
    # the true item first: every top hit is its own song
    assert retrieval.song_hit_rate(np.eye(4), songs) == {"song@1": 1.0, "chance": (9 + 1) / 16}
    # every query's top item is clip 3 (song 1): only the song-1 query hits
    sim = np.zeros((4, 4))
    sim[:, 3] = 1.0
    assert retrieval.song_hit_rate(sim, songs)["song@1"] == 0.25
    # a wrong clip of the right song still counts
    sim = np.zeros((4, 4))
    sim[0, 1] = sim[1, 2] = sim[2, 0] = sim[3, 3] = 1.0
    assert retrieval.song_hit_rate(sim, songs)["song@1"] == 1.0
    table = retrieval.retrieval_table(np.eye(4), np.eye(4), np.zeros((0, 4)), np.zeros((0, 4)), songs)
    assert table["music_to_dance"]["song@1"] == 1.0 and "song@1" in table["dance_to_music"]


def test_retrieval_table_on_perfect_and_shuffled_pairs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x, bank = x[:20], x[20:]  # the query bank: other clips (training clips in the real run)
    table = retrieval.retrieval_table(x, x, bank, bank)
    for key in ("music_to_dance", "dance_to_music", "music_to_dance_qb", "dance_to_music_qb"):
        assert table[key]["R@1"] == 1.0 and table[key]["medr"] == 1.0
        assert table[key]["gallery_size"] == 20
    shuffled = retrieval.retrieval_table(x, x[::-1], bank, bank)
    assert shuffled["music_to_dance"]["R@1"] < 0.2


def test_beat_picking_and_f_measure():
    fps = 30
    beats = np.arange(1.0, 9.0, 0.5)
    labels = probes.beat_labels(300, beats, fps)
    assert labels.sum() == len(beats) and labels[30] == 1
    # a plateau of 4 frames starting on each beat: the beat is placed at its first frame
    prob = np.zeros(300)
    for b in beats:
        f = int(round(b * fps))
        prob[f:f + 4] = 0.9
    found = probes.pick_beats(prob, 0.5, fps)
    np.testing.assert_allclose(found, beats, atol=0.5 / fps)
    assert probes.beat_f_measure(beats, found, 0.0) == pytest.approx(1.0)
    assert probes.beat_f_measure(beats, found + 0.1, 0.0) == 0.0  # outside +-70 ms
    assert probes.beat_f_measure(beats, found, 5.0) == pytest.approx(1.0)
    assert probes.beat_f_measure(beats, np.zeros(0), 0.0) == 0.0


def test_probes_learn_separable_signals():
    rng = np.random.default_rng(1)
    fps = 30
    songs = []
    for _ in range(4):
        beats = np.arange(0.5, 9.5, 0.5)
        labels = probes.beat_labels(300, beats, fps)
        feats = rng.normal(size=(300, 3)) + 4.0 * labels[:, None]
        songs.append((feats, beats))
    b = probes.beat_probe(songs[:3], songs[3:], fps, trim_seconds=0.0)
    assert b["f1"] > 0.9
    x = np.concatenate([rng.normal(size=(30, 4)) + 3 * np.eye(4)[i] for i in range(3)])
    y = np.repeat(["a", "b", "c"], 30)
    g = probes.genre_probe(x[::2], y[::2], x[1::2], y[1::2])
    assert g["accuracy"] > 0.9 and g["classes"] == 3


def test_evaluation_writes_one_table(corpus, trained, tmp_path):
    out, _ = trained
    report = tmp_path / "docs" / "motionbeat_eval.md"
    opts = ev.EvalOptions(trim_seconds=0.0, bank_clips=64, progress=False)
    payload = ev.evaluate(corpus, [out], report, opts, command="pytest")
    text = report.read_text()
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 3  # header, rule, the checkpoint, log-mel, beat tracker
    assert "M→D QB R@1" in table[0] and "Beat F1" in table[0] and "Genre acc" in table[0]
    assert "MotionBeat (full)" in table[2]
    meta = payload["meta"]
    assert meta["gallery_size"] >= 2 and f"**{meta['gallery_size']}**" in text
    row = payload["rows"][0]
    assert set(row["retrieval"]) == {"music_to_dance", "dance_to_music", "music_to_dance_qb",
                                     "dance_to_music_qb"}
    assert row["beat_f1"] is not None and 0.0 <= row["beat_f1"] <= 1.0
    assert row["genre_accuracy"] is not None
    saved = json.loads(report.with_suffix(".json").read_text())
    assert saved["rows"][0]["retrieval"] == row["retrieval"]
