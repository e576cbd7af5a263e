"""generator.bench on a 5-second synthetic song with an untrained tiny generator."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
import torch

from generator import bench
from generator.sampling.checkpoint import write_untrained_checkpoint
from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.encoder.config import config_for as encoder_config_for
from motionbeat.encoder.model import MotionBeat, save_checkpoint

SECONDS = 5.0


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Stems of untrained tiny generators, by conditioner."""
    folder = tmp_path_factory.mktemp("ckpt")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        save_checkpoint(MotionBeat(encoder_config_for("tiny")), folder / "motionbeat")
    return {
        "librosa": write_untrained_checkpoint(folder / "generator-librosa", size="tiny"),
        "motionbeat": write_untrained_checkpoint(folder / "generator", size="tiny", conditioner="motionbeat",
                                                 encoder_checkpoint=folder / "motionbeat"),
    }


def test_synthetic_song(tmp_path):
    path = bench.synthetic_song(tmp_path / "song.wav", SECONDS)
    info = sf.info(path)
    assert info.samplerate == au.SAMPLE_RATE and info.duration == pytest.approx(SECONDS, abs=1e-3)


def test_cli_writes_a_table_with_every_stage(checkpoints, tmp_path):
    out = tmp_path / "generator_bench.md"
    argv = ["--checkpoint", str(checkpoints["librosa"]), "--seconds", str(SECONDS), "--threads", "1",
            "--repeats", "1", "--out", str(out), "--quiet"]
    assert bench.main(argv) == 0
    text = out.read_text()
    for stage in bench.STAGES:
        assert f"| {stage} |" in text
    assert "python -m generator.bench" in text and "1 thread(s)" in text
    result = json.loads(out.with_suffix(".json").read_text())
    assert result["song_seconds"] == pytest.approx(SECONDS, abs=1e-3)
    assert result["motion_frames"] == round(SECONDS * contract.FPS)
    assert result["threads"] == 1 and result["conditioner"] == "librosa"
    rows = {r["stage"]: r for r in result["rows"]}
    assert list(rows) == list(bench.STAGES)
    for stage, row in rows.items():
        assert row["first_s"] >= 0
        if stage != "pipeline features stage":  # measured inside generate(), no RSS reading of its own
            assert row["peak_rss_mib"] > 0
        if stage != "load checkpoint":
            assert row["warm_s"] >= 0 and row["warm_per_music_s"] >= 0
    for stage in ("decode", "front end + rhythm", "encoder"):  # torch-free with librosa features
        assert rows[stage]["traced_peak_mib"] > 0
    total = rows["total song -> motion"]
    parts = sum(rows[s]["first_s"] for s in bench.STAGE_SUM)
    assert total["first_s"] == pytest.approx(parts)


def test_motionbeat_checkpoint_times_the_encoder(checkpoints, tmp_path):
    song = bench.synthetic_song(tmp_path / "song.wav", SECONDS)
    result = bench.bench(checkpoints["motionbeat"], song, repeats=1)
    assert result["conditioner"] == "motionbeat"
    assert result["encoder_row"] == "FrozenEncoder.encode_features"
    encoder = next(r for r in result["rows"] if r["stage"] == "encoder")
    assert encoder["warm_s"] >= 0 and encoder["traced_peak_mib"] is None  # torch: not traced
