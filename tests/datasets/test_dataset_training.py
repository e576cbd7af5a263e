"""Tiny end-to-end runs from each fixture dataset: conversion, both trainers, both evaluations."""

from __future__ import annotations

import json

import pytest

from generator import evaluate as gen_eval
from generator import train as gen_train
from generator.sampling.checkpoint import write_untrained_checkpoint
from motionbeat.datasets import registry
from motionbeat.encoder import evaluate as enc_eval
from motionbeat.encoder import train as enc_train
from motionbeat.encoder.config import config_for
from motionbeat.encoder.model import load_checkpoint

ENCODER_ARGS = ["--size", "tiny", "--steps", "1", "--batch-size", "8", "--group-size", "4",
                "--same-song", "2", "--threads", "1", "--quiet"]
GENERATOR_ARGS = ["--size", "tiny", "--conditioner", "librosa", "--steps", "2", "--batch-size", "2",
                  "--threads", "1", "--quiet"]


@pytest.fixture(params=["finedance", "bvh", "positions"])
def dataset(request):
    return request.param, request.getfixturevalue(f"{request.param}_root")


def test_both_models_train_from_the_dataset(dataset, tmp_path, capsys):
    name, root = dataset
    corpus = registry.dataset_corpus(name, root)
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert manifest["dataset"] == name and manifest["splits"]["train"] >= 4
    assert registry.dataset_corpus(name, root) == corpus  # converted once, then reused
    songs = registry.load_dataset_songs(name, root, ("train",))
    assert songs and all(s.motion.shape[-1] == 151 for s in songs)
    assert enc_train.main(["--corpus", str(root), "--dataset", name, "--out", str(tmp_path / "mb"),
                           *ENCODER_ARGS]) == 0
    assert load_checkpoint(tmp_path / "mb").config == config_for("tiny")
    assert gen_train.main(["--corpus", str(root), "--dataset", name, "--out", str(tmp_path / "g"),
                           *GENERATOR_ARGS]) == 0
    assert "s/step" in capsys.readouterr().out


def test_finedance_genres_and_lodge_clip_are_in_the_corpus(finedance_root):
    songs = registry.load_dataset_songs("finedance", finedance_root)
    by_split = {s.split: s for s in songs}
    assert set(by_split) == {"train", "val", "test"}
    assert {s.genre for s in songs} == {"Popping"}
    test = [s for s in songs if s.split == "test"]
    assert [s.song_id for s in test] == ["063@0"]
    assert abs(test[0].duration - 1024 / 30) < 0.05  # the music is cut to the 1024-frame clip


def test_generator_evaluate_follows_the_lodge_protocol(finedance_root, tmp_path):
    stem = write_untrained_checkpoint(tmp_path / "g", size="tiny")
    out = tmp_path / "eval.md"
    argv = ["--corpus", str(finedance_root), "--dataset", "finedance", "--generators", str(stem),
            "--seconds", "4", "--threads", "1", "--out", str(out), "--quiet", "--steps", "2"]
    assert gen_eval.main(argv) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["dataset"]["protocol"]["name"] == "Lodge (FineDance)"
    assert [s["song_id"] for s in report["songs"]] == ["063@0"]
    assert {r["label"] for r in report["rows"]} >= {"ground truth", "random clips (other songs, train split)"}


def test_encoder_evaluate_and_the_deprecated_aistpp_alias(bvh_root, tmp_path):
    stem = tmp_path / "mb"
    assert enc_train.main(["--corpus", str(bvh_root), "--dataset", "bvh", "--out", str(stem),
                           *ENCODER_ARGS]) == 0
    out = tmp_path / "eval.md"
    assert enc_eval.main(["--corpus", str(bvh_root), "--dataset", "bvh", "--checkpoints", str(stem),
                          "--out", str(out), "--held-out", "test", "--no-reference", "--quiet",
                          "--threads", "1", "--trim-seconds", "0"]) == 0
    assert "MotionBeat" in out.read_text()
    with pytest.raises(SystemExit):  # --aistpp is --dataset aistpp: contradicting --dataset fails
        enc_train.main(["--corpus", str(bvh_root), "--dataset", "bvh", "--aistpp"])
