"""Own song vs other songs through the protocol: `generator.score` and `generator.evaluate`."""

import json

import numpy as np
import pytest
from metrics_songs import click_song

from generator import evaluate as ev
from generator import score as score_cli
from motionbeat.core import contract
from motionbeat.core.motion import Motion
from motionbeat.datasets.toy import write_toy_corpus
from motionbeat.metrics import MEASURES


def _arm_dance(seconds, beats, song):
    """Arms swing so that they stop exactly on every beat of ``beats`` (any tempo)."""
    t = np.arange(int(round(seconds * contract.FPS))) / contract.FPS
    k = np.searchsorted(beats, t, side="right") - 1
    k = np.clip(k, 0, beats.size - 2)
    phase = np.pi * (k + (t - beats[k]) / (beats[k + 1] - beats[k]))
    poses = np.zeros((t.size, contract.NUM_JOINTS, 3))
    for name, sign in (("L_Shoulder", 1.0), ("R_Shoulder", -1.0)):
        poses[:, contract.JOINT_INDEX[name], 2] = sign * 0.6 * np.cos(phase)
    return Motion(poses, np.tile([0.0, 0.95, 0.0], (t.size, 1)), contract.FPS, source_song=str(song))


@pytest.fixture(scope="module")
def two_songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    out = []
    for name, bpm in (("a.wav", 120.0), ("b.wav", 93.0)):
        beats = click_song(folder / name, bpm)
        dance = _arm_dance(10.0, beats, folder / name).save(folder / f"{name}.npz")
        out.append((folder / name, dance))
    return out


def test_score_cli_reports_own_vs_other(two_songs, tmp_path, capsys):
    (song_a, dance_a), (song_b, dance_b) = two_songs
    out = tmp_path / "scores.json"
    assert score_cli.main([str(dance_a), str(dance_b), "--audio", str(song_a), str(song_b),
                           "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "own song vs other songs (2 dances, 2 songs" in text
    assert "2000 resamples" in text
    data = json.loads(out.read_text())
    assert set(data["own_other"]) == set(MEASURES)
    for measure in ("bas", "bec", "phase_r"):
        found = data["own_other"][measure]
        assert found["own"] > 0.8 and found["gap"] > 0.4, (measure, found)
    # each file carries its score against the other song; the own score is the headline one
    assert data["files"][0]["bec"] > 0.8 and data["files"][0]["bec_other"] < 0.3
    assert data["files"][0]["bec"] - data["files"][0]["bec_other"] > 0.5


def test_score_cli_one_song_has_no_other(two_songs):
    (song_a, dance_a), _ = two_songs
    assert "own_other" not in score_cli.score_files([dance_a, dance_a], [song_a, song_a])
    pair = score_cli.score_files([dance_a, dance_a], [song_a, two_songs[1][0]], own_other=False)
    assert "own_other" not in pair


def test_evaluate_rows_without_generators_has_gap_columns(tmp_path):
    corpus = tmp_path / "toy"
    write_toy_corpus(corpus, ("train", "train", "test", "test", "test"), seconds=8.0)
    out = tmp_path / "eval.md"
    argv = ["--corpus", str(corpus), "--rows", "ground_truth", "random", "--reference", "test",
            "--seconds", "6", "--threads", "1", "--out", str(out), "--quiet"]
    assert ev.main(argv) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert [r["kind"] for r in report["rows"]] == ["ground_truth", "random"]
    text = out.read_text()
    assert "## Own song vs other songs" in text and "BEC gap" in text
    truth, clips = report["rows"]
    for measure in MEASURES:
        assert truth[f"{measure}_own"] == pytest.approx(truth[measure], abs=1e-9)  # the same own score
        assert truth[f"{measure}_gap_lo"] <= truth[f"{measure}_gap"] <= truth[f"{measure}_gap_hi"]
    assert all("bec_other" in d for d in truth["dances"])
    with pytest.raises(ev.EvaluationError, match="row kinds"):
        ev.evaluate(corpus, row_kinds=("ground truth",))
