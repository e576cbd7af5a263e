"""generator.evaluate on a toy corpus with two untrained tiny generators (one per conditioner)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from generator import evaluate as ev
from generator.sampling.checkpoint import write_untrained_checkpoint
from motionbeat.core import contract
from motionbeat.datasets.toy import write_toy_corpus
from motionbeat.encoder.config import config_for as encoder_config_for
from motionbeat.encoder.model import MotionBeat, save_checkpoint
from motionbeat.metrics.scoring import distribution_scores

SECONDS = 6.0
"""Scored span: shorter than the 8 s toy songs, so the cut is exercised."""
SPLITS = ("train", "train", "train", "test", "test")
"""Three train songs (random clips, reference pool) and two held-out songs, 2 dancers each."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    write_toy_corpus(root, SPLITS, seconds=8.0)
    return root


@pytest.fixture(scope="module")
def generators(tmp_path_factory):
    """Stems of an untrained tiny MotionBeat-conditioned and a librosa-conditioned generator."""
    folder = tmp_path_factory.mktemp("ckpt")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        save_checkpoint(MotionBeat(encoder_config_for("tiny")), folder / "motionbeat")
    mb = write_untrained_checkpoint(folder / "generator", size="tiny", conditioner="motionbeat",
                                    encoder_checkpoint=folder / "motionbeat")
    lib = write_untrained_checkpoint(folder / "generator-librosa", size="tiny")
    return [mb, lib]


@pytest.fixture(scope="module")
def run(corpus, generators, tmp_path_factory):
    """The CLI, once: (markdown path, report dict)."""
    out = tmp_path_factory.mktemp("out") / "generator_eval.md"
    argv = ["--corpus", str(corpus), "--generators", *map(str, generators), "--seconds", str(SECONDS),
            "--threads", "1", "--out", str(out), "--quiet", "--raw-rows", "--sampler", "sde-dpm++",
            "--beat-guidance", "0.1", "--beat-warp", "0.25"]
    before = torch.get_num_threads()
    try:
        assert ev.main(argv) == 0  # sets torch to 1 thread
    finally:
        torch.set_num_threads(before)
    return out, json.loads(out.with_suffix(".json").read_text())


@pytest.fixture(scope="module")
def held_out(corpus):
    return ev.load_held_out(corpus, "test", SECONDS)


def test_table_has_every_row_with_finite_numbers(run):
    out, report = run
    labels = [r["label"] for r in report["rows"]]
    assert labels == [
        ev.GROUND_TRUTH,
        "generator (MotionBeat, untrained)",
        "generator (MotionBeat, untrained), raw (no clean-up)",
        "generator (librosa features, untrained)",
        "generator (librosa features, untrained), raw (no clean-up)",
        ev.CHOREOGRAPHER,
        ev.RANDOM_CLIPS,
    ]
    text = out.read_text()
    for label in labels:
        assert f"| {label} |" in text
    for key in ("FID_k", "FID_g", "Div_k", "Div_g", "BAS_motion", "python -m generator.evaluate"):
        assert key in text
    for row in report["rows"]:
        # 2 held-out songs x 2 ground-truth dances each: every row has 4 dances
        assert row["n_dances"] == 4 and len(row["dances"]) == 4
        for key in ("pfc", "bas", "bas_motion", "fid_k", "fid_g", "div_k", "div_g",
                    "fid_g_varying", "div_g_varying", "max_turn"):
            assert row[key] is not None and math.isfinite(row[key]), (row["label"], key)
        for dance in row["dances"]:
            assert dance["duration_s"] == pytest.approx(SECONDS)
    assert report["songs"][0]["span_s"] == pytest.approx(SECONDS)
    assert report["reference"]["pool"] == "train" and report["reference"]["dances"] == 6
    assert set(report["reference"]["constant_features"]) == {"kinetic", "geometric"}
    assert report["seeds"] == [0, 1]
    assert 0.0 <= report["reference"]["max_turn"] <= 180.0  # the toy dancers face one way
    assert "max turn °/frame" in text and "fastest turn in the reference pool" in text
    assert report["command"].startswith("python -m generator.evaluate --corpus")


def test_raw_rows_are_the_same_samples_before_the_clean_up(run):
    _, report = run
    rows = {r["label"]: r for r in report["rows"]}
    for name in ("generator (MotionBeat, untrained)", "generator (librosa features, untrained)"):
        cleaned, raw = rows[name], rows[f"{name}, raw (no clean-up)"]
        assert [d["name"] for d in cleaned["dances"]] == [d["name"] for d in raw["dances"]]
        # the clean-up moves the root and the legs, so the feet's contact score changes
        assert [d["pfc"] for d in cleaned["dances"]] != [d["pfc"] for d in raw["dances"]]
        assert 0.0 <= raw["max_turn"] <= 180.0
        assert raw["wall_s"] == cleaned["wall_s"] > 0.0  # one sampling run made both rows


def test_each_generator_row_names_its_sampling_settings(run, generators):
    out, report = run
    text = out.read_text()
    for row in report["rows"]:
        if row["kind"] != "generator":
            assert row["sampling"] is None
            continue
        config = json.loads(Path(f"{row['checkpoint']}.json").read_text())
        assert row["sampling"] == {"sampler": "sde-dpm++", "steps": config["sample_steps"],
                                   "guidance": config["guidance_weight"], "beat_guidance": 0.1,
                                   "halftime_above_bpm": 0.0, "beat_warp": 0.25}
        assert config["beat_guidance"] == 0.0  # the command line's strength, not the checkpoint's
        assert config["beat_warp"] == 0.0
    for stem in generators:  # one line per checkpoint, its raw row shares it
        assert text.count(f"`{stem}`, sde-dpm++ sampler, ") == 1
    assert text.count("beat guidance 0.1") == len(generators)
    assert text.count("beat warp 0.25 beats") == len(generators)


def test_random_clips_never_use_the_same_song(run, corpus, held_out):
    _, report = run
    random_row = next(r for r in report["rows"] if r["kind"] == "random")
    for dance in random_row["dances"]:
        song = dance["name"].split("#")[0]
        assert dance["from_song"] != song
    # the library function, over many seeds and with a pool that includes the held-out songs
    pool = ev.train_pool(corpus, "train") + ev.train_pool(corpus, "test")
    for seed in range(20):
        clips = ev.random_clips(held_out, pool, [3] * len(held_out), seed=seed)
        for song, motions in zip(held_out, clips, strict=True):
            assert len(motions) == 3
            for m in motions:
                assert m.meta["from_song"] != song.song_id
                assert m.num_frames == song.num_frames and m.start_offset == 0.0


def test_random_clips_need_another_song(held_out, corpus):
    own = [d for d in ev.train_pool(corpus, "test") if d.song_id == held_out[0].song_id]
    with pytest.raises(ev.EvaluationError, match="no dance of another"):
        ev.plan_random_clips(held_out[:1], own, [1])


def test_ground_truth_is_cut_to_the_span(held_out):
    assert [s.song_id for s in held_out] == ["toy-0-003", "toy-0-004"]
    for song in held_out:
        assert song.num_frames == round(SECONDS * contract.FPS)
        assert len(song.dances) == 2
        assert all(m.num_frames == song.num_frames for m in song.dances)


def test_feature_protocol_matches_scoring(held_out):
    """FID / Div here equal motionbeat.metrics.scoring.distribution_scores on the same dances."""
    gen = held_out[0].dances + held_out[1].dances[:1]
    ref = held_out[1].dances + held_out[0].dances[:1]
    kin, geo = ev.motion_features(gen)
    ref_k, ref_g = ev.motion_features(ref)
    row = ev.score_row(ev.Row("x", "test", [list(gen), []]), held_out, ref_k, ref_g)
    expected = distribution_scores(gen, ref)
    for key in ("fid_k", "fid_g", "div_k", "div_g"):
        np.testing.assert_allclose(row.summary[key], expected[key], rtol=1e-9)


def test_spread_labels_and_constant_features():
    assert ev.constant_features(np.array([[1.0, 2.0, 0.0], [1.0, 3.0, 0.0]])) == [0, 2]
    assert ev.varying_features(np.array([[1.0, 2.0, 0.0], [1.0, 3.0, 0.0]])).tolist() == [1]
    assert ev.spread(range(10), 3) == [0, 4, 9]  # round(linspace(0, 9, 3)), half to even
    assert ev.spread(range(10), 10) == list(range(10))
    assert ev.spread(range(4), None) == [0, 1, 2, 3]
    assert ev.generator_label("librosa", "a") == "generator (librosa features)"
    assert ev.generator_label("motionbeat", "a") == "generator (MotionBeat)"
    assert ev.generator_label("librosa", "ckpt/b", taken=["generator (librosa features)"]) == (
        "generator (librosa features) [b]")


def test_missing_checkpoint_fails_before_any_work(corpus, tmp_path, capsys):
    out = tmp_path / "eval.md"
    argv = ["--corpus", str(corpus), "--generators", str(tmp_path / "nothing"), "--out", str(out),
            "--threads", "1", "--quiet"]
    assert ev.main(argv) == 2
    assert "no such generator checkpoint" in capsys.readouterr().err
    assert not out.exists()
