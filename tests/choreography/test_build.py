"""The corpus build: a tiny corpus in seconds, deterministic, resumable, split by song; report."""

import json

import numpy as np
import pytest

from motionbeat.choreography import build, report
from motionbeat.core import contract
from motionbeat.datasets import manifest

TINY = {
    "hours": 0.01,
    "seed": 3,
    "sources": ("mma",),
    "soundfont": "TimGM6mb.sf2",
    "song_bars": 4,
    "progress": False,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    build.build_corpus(out, **TINY)
    return out


def test_manifest_and_shards(corpus):
    m = manifest.load_manifest(corpus)
    assert m["num_songs"] >= 2 and m["dance_hours"] >= TINY["hours"]
    assert m["fps"] == contract.FPS
    for song in m["songs"]:
        for key in (
            "song_id",
            "source",
            "licence",
            "tempo_bpm",
            "beat_times",
            "downbeat_times",
            "beats_per_bar",
            "groove",
            "split",
            "dances",
            "audio",
            "shard",
            "sections",
        ):
            assert key in song, key
        assert song["split"] in ("train", "val", "test")
        assert (corpus / song["audio"]).is_file()
        beats = np.asarray(song["beat_times"])
        np.testing.assert_allclose(np.diff(beats), 60.0 / song["tempo_bpm"], atol=1e-3)
        with np.load(corpus / song["shard"], allow_pickle=False) as z:
            d, t = z["poses"].shape[:2]
            assert z["poses"].shape == (d, t, contract.NUM_JOINTS, 3)
            assert z["trans"].shape == (d, t, 3) and z["contacts"].shape == (d, t, 4)
            assert float(z["fps"]) == contract.FPS and d == len(song["dances"]) == build.MMA_DANCERS
        for dance in song["dances"]:
            assert {"dance_id", "seed", "style", "frames", "moves"} <= set(dance)
    dances = list(manifest.iter_dances(corpus))
    assert len(dances) == m["num_dances"]
    assert all(motion.fps == contract.FPS for _, _, motion in dances)


def test_split_is_by_song():
    ids = [f"song-{i}" for i in range(400)]
    splits = [build.split_of(s, 0) for s in ids]
    assert splits == [build.split_of(s, 0) for s in ids]  # stable
    share = {k: splits.count(k) / len(ids) for k in ("train", "val", "test")}
    assert 0.75 < share["train"] < 0.95 and share["val"] > 0.02 and share["test"] > 0.02


def test_deterministic_and_resumable(corpus, tmp_path):
    m = manifest.load_manifest(corpus)
    first = m["songs"][0]
    # a second build from the same seed reproduces a song bit for bit
    build.build_corpus(tmp_path, **TINY)
    with np.load(corpus / first["shard"]) as a, np.load(tmp_path / first["shard"]) as b:
        np.testing.assert_array_equal(a["poses"], b["poses"])
    # resuming skips finished songs and redoes a missing one
    record = tmp_path / "songs" / f"{first['song_id']}.json"
    other = tmp_path / "songs" / f"{m['songs'][1]['song_id']}.json"
    mtime = other.stat().st_mtime_ns
    record.unlink()
    build.build_corpus(tmp_path, **TINY)
    assert record.is_file() and other.stat().st_mtime_ns == mtime
    assert json.loads(record.read_text())["song_id"] == first["song_id"]


def test_cli_and_report(corpus, tmp_path, capsys):
    out = tmp_path / "cli"
    assert (
        build.main(
            [
                "--out",
                str(out),
                "--hours",
                "0.004",
                "--seed",
                "5",
                "--sources",
                "mma",
                "--soundfont",
                "TimGM6mb.sf2",
                "--song-bars",
                "4",
                "--mma-dancers",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    assert "dance hours" in capsys.readouterr().out
    built = manifest.load_manifest(out)
    assert built["dancers_per_song"]["mma"] == 3
    assert all(len(s["dances"]) == 3 for s in built["songs"])
    with pytest.raises(ValueError, match="dancer"):
        build.build_corpus(tmp_path / "none", **{**TINY, "mma_dancers": 0})
    with pytest.raises(SystemExit):  # argparse: one error line, exit code 2
        build.main(["--out", str(tmp_path / "none"), "--debian-dancers", "0"])
    assert "at least 1" in capsys.readouterr().err
    md = tmp_path / "docs" / "corpus.md"
    numbers = report.make_report(corpus, md, max_clips=20)
    text = md.read_text()
    assert "PFC" in text and "BAS" in text and "Div_k" in text and "1.332" in text
    assert (tmp_path / "docs" / "img" / "corpus_tempo.png").is_file()
    assert numbers["checks"]["planted_toe_speed_max"] < 1e-3
    assert np.isfinite(numbers["overall"]["pfc"])
    note = tmp_path / "build_note.md"
    note.write_text("### Building it\n\nIt took a while.\n")
    md2 = tmp_path / "docs" / "corpus2.md"
    assert report.main([str(corpus), "--out", str(md2), "--max-clips", "10",
                        "--build-note-file", str(note)]) == 0
    assert "It took a while." in md2.read_text()
