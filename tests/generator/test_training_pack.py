"""Training packs: the codecs, a pack of the toy corpus read back against the corpus, training
from a pack (without the packages a GPU machine lacks), the time budget, the device script."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from generator import pack as pack_cli
from generator import train as tr
from generator.model.conditioning import _load_rows
from generator.sampling.checkpoint import checkpoint_paths
from generator.sampling.pipeline import DanceGenerator
from generator.train import pack as pk
from motionbeat.core import contract

FAST = tr.TrainOptions(batch_size=4, val_windows=4, warmup_steps=1, progress=False, threads=1)
REPO = Path(__file__).resolve().parents[2]
MISSING_ON_THE_GPU_MACHINE = ("librosa", "soundfile", "imageio_ffmpeg", "mir_eval", "smplx",
                              "trimesh", "pygltflib", "pyrender", "mannequin", "gradio", "numba")
"""Packages the project uses that the lent GPU machines' Python lacks (their package list in the
device tool's notes), less ``roma`` and ``diffusers``, which travel as wheels."""


@pytest.fixture(scope="module")
def librosa_pack(toy_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "librosa"
    info = pk.write_pack(toy_corpus, out, conditioner="librosa")
    return out, info


def test_quantised_codec_round_trip_within_half_a_step():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(0, 0.01, (2, 50, 5)), axis=1) + rng.uniform(-3, 3, (2, 1, 5))
    step = pk.POSE_STEP_RAD
    enc = pk.encode_quantised(x, step, np.int16)
    assert enc.shape == (2, 5, 50) and enc.dtype == np.int16  # channel major
    back = pk.decode_quantised(enc, step)
    assert back.shape == x.shape and back.dtype == np.float32
    assert np.abs(back - x).max() <= step / 2 + 1e-6
    # a value beyond int16 at this step is refused, not wrapped round
    with pytest.raises(pk.PackError, match="does not fit int16"):
        pk.encode_quantised(np.array([[40.0]]), step, np.int16)


def test_pack_reads_back_the_corpus(librosa_pack, toy_corpus):
    out, info = librosa_pack
    assert pk.is_pack(out) and info["format"] == pk.PACK_FORMAT
    assert [s["split"] for s in info["songs"]] == ["train", "train", "train", "val"]
    assert info["conditioner"] == "librosa" and info["encoder"] is None
    assert info["bytes"] == sum((out / p["file"]).stat().st_size for p in info["parts"])
    pack = pk.read_pack(out)
    reference = tr.load_dances(toy_corpus, ("train", "val"))
    cache = next((toy_corpus / "cache").glob(f"generator-{info['cache_key']}"))
    for song in pack.songs:
        got, want = pack.dances[song.song_id], reference[song.song_id]
        assert got.shape == want.shape and got.dtype == np.float32
        # rotations within the quantisation's reach (6-D entries move ~ the angle), the root
        # within half a millimetre, the contact bits exact
        assert np.abs(got[..., contract.ROTATIONS] - want[..., contract.ROTATIONS]).max() < 2e-3
        assert np.abs(got[..., contract.ROOT_POS] - want[..., contract.ROOT_POS]).max() <= 5.1e-4
        assert np.array_equal(got[..., contract.CONTACTS], want[..., contract.CONTACTS])
        rows = pack.rows[song.song_id]
        with np.load(cache / f"{song.song_id}.npz") as z:
            cached = _load_rows(cache / f"{song.song_id}.npz", str(z["key"]))
        # 8 bits per value: within half a step of (max - min) / 255 per channel of the song
        half_step = (cached.features.max(axis=0) - cached.features.min(axis=0)) / 510  # (C,)
        assert (np.abs(rows.features - cached.features) <= half_step * (1 + 1e-5) + 1e-6).all()
        assert not np.array_equal(rows.features, cached.features)  # it is quantised
        wrapped = np.abs((rows.phase - cached.phase + 0.5) % 1.0 - 0.5)  # circular distance
        assert wrapped.max() < 1e-3 and rows.phase.min() >= 0 and rows.phase.max() < 1
        assert np.array_equal(rows.beat_times, cached.beat_times)
        assert (rows.duration, rows.tempo_bpm, rows.beats_per_bar) == (
            cached.duration, cached.tempo_bpm, cached.beats_per_bar)


def test_parts_and_float16_music(librosa_pack, toy_corpus, tmp_path):
    small = pk.write_pack(toy_corpus, tmp_path / "p", conditioner="librosa", part_bytes=1,
                          music_bits=16)
    assert len(small["parts"]) == len(small["songs"]) == 4  # a part closes after each song
    assert small["bytes"] > librosa_pack[1]["bytes"]  # twice the bytes for the features
    a, b = pk.read_pack(tmp_path / "p", ("val",)), pk.read_pack(librosa_pack[0], ("val",))
    assert len(a.songs) == 1 and [s.song_id for s in a.songs] == [s.song_id for s in b.songs]
    sid = a.songs[0].song_id
    assert np.array_equal(a.dances[sid], b.dances[sid])
    cache = next((toy_corpus / "cache").glob(f"generator-{small['cache_key']}"))
    with np.load(cache / f"{sid}.npz") as z:
        cached = z["features"]
    assert np.abs(a.rows[sid].features - cached).max() <= 2.0**-11 * np.abs(cached).max()
    with pytest.raises(pk.PackError, match="music_bits"):
        pk.write_pack(toy_corpus, tmp_path / "q", conditioner="librosa", music_bits=12)


def test_a_folder_that_is_no_pack_or_of_another_format_is_refused(librosa_pack, tmp_path):
    with pytest.raises(pk.PackError, match="not a training pack"):
        pk.read_pack(tmp_path)
    shutil.copytree(librosa_pack[0], tmp_path / "old")
    index = tmp_path / "old" / pk.PACK_INDEX
    index.write_text(json.dumps({**json.loads(index.read_text()), "format": 0}))
    with pytest.raises(pk.PackError, match="format 0"):
        pk.read_pack(tmp_path / "old")


def test_training_on_a_pack_matches_training_on_the_corpus(librosa_pack, toy_corpus, tmp_path):
    """Same seed, same windows: the losses differ only by the quantisation."""
    a = tr.train(toy_corpus, tmp_path / "corpus", size="tiny", conditioner="librosa", steps=3,
                 options=FAST)
    b = tr.train(librosa_pack[0], tmp_path / "pack", size="tiny", steps=3, options=FAST)
    ha, hb = a.history[-1], b.history[-1]
    for key in ("train_loss", "val_ema_loss"):
        assert hb[key] == pytest.approx(ha[key], rel=0.02)
    assert checkpoint_paths(tmp_path / "pack")[0].is_file()
    assert DanceGenerator.load(tmp_path / "pack", device="cpu").config.conditioner == "librosa"


def test_motionbeat_pack_needs_no_encoder_weights(toy_corpus, encoder_checkpoint, tmp_path):
    from motionbeat.encoder.encode import file_hash
    from motionbeat.encoder.model import checkpoint_paths as encoder_paths

    info = pk.write_pack(toy_corpus, tmp_path / "mb", conditioner="motionbeat",
                         encoder=encoder_checkpoint)
    weights = encoder_paths(encoder_checkpoint)[0]
    assert info["encoder"]["hash"] == file_hash(weights)
    # train with the encoder's weights out of reach: the pack holds its features
    hidden = weights.with_name("hidden.safetensors")
    weights.rename(hidden)
    try:
        tr.train(tmp_path / "mb", tmp_path / "gen", size="tiny", steps=2, options=FAST)
    finally:
        hidden.rename(weights)
    gen = DanceGenerator.load(tmp_path / "gen", device="cpu")  # finds and checks the encoder
    assert gen.config.encoder_hash == info["encoder"]["hash"]
    assert gen.config.music_dim == info["music_dim"]
    with pytest.raises(ValueError, match="holds motionbeat features"):
        tr.train(tmp_path / "mb", tmp_path / "x", size="tiny", conditioner="librosa", steps=1,
                 options=FAST)


def test_time_budget_ends_the_run_early(librosa_pack, tmp_path, monkeypatch):
    monkeypatch.setattr(tr.loop, "BUDGET_PROBE_STEPS", 2)
    opts = tr.TrainOptions(**{**FAST.__dict__, "time_budget_s": 1e-3})
    result = tr.train(librosa_pack[0], tmp_path / "g", size="tiny", steps=50, options=opts)
    # the budget is spent before the probe: the run stops at the probe's step and saves
    assert result.steps == tr.TIMING_SKIP_STEPS + 2
    history = json.loads(tr.history_path(tmp_path / "g").read_text())
    assert history["total_steps"] == result.steps and history["history"][-1]["step"] == result.steps
    with pytest.raises(ValueError, match="time_budget_s"):
        tr.train(librosa_pack[0], tmp_path / "h", size="tiny", steps=2,
                 options=tr.TrainOptions(**{**FAST.__dict__, "time_budget_s": 0}))


def test_pack_training_runs_without_the_packages_the_gpu_machine_lacks(librosa_pack, tmp_path):
    code = (
        "import sys\n"
        f"for m in {MISSING_ON_THE_GPU_MACHINE!r}: sys.modules[m] = None\n"
        "from generator.train.cli import main\n"
        f"raise SystemExit(main(['--pack', {str(librosa_pack[0])!r}, '--out', "
        f"{str(tmp_path / 'g')!r}, '--size', 'tiny', '--steps', '2', '--batch-size', '2', "
        "'--threads', '1', '--quiet']))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert checkpoint_paths(tmp_path / "g")[0].is_file()


def test_cli_pack_errors(librosa_pack, tmp_path, capsys):
    with pytest.raises(SystemExit):
        pack_cli.main(["--corpus", str(tmp_path), "--out", str(tmp_path / "p")])
    assert "not a corpus" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        tr.main(["--pack", str(tmp_path), "--out", str(tmp_path / "g")])
    assert exit_info.value.code == 2 and "not a training pack" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tr.main(["--pack", str(librosa_pack[0]), "--dataset", "aistpp", "--out", "x"])
    assert "--dataset and --aistpp go with --corpus" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tr.main(["--pack", str(librosa_pack[0]), "--time-budget", "0", "--out", "x"])
    assert "--time-budget must be positive" in capsys.readouterr().err


def test_device_script_hands_back_parts_that_join_to_the_weights(librosa_pack, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "OUT": str(out), "PACK": str(librosa_pack[0]), "SIZE": "tiny",
           "MINUTES": "1", "STEPS": "2", "BATCH": "2", "NAME": "gpu", "PART_BYTES": "200K",
           "EXTRA": "--threads 1", "WHEELS": str(tmp_path / "none"), "PYTHON": sys.executable,
           "RUN_DIR": str(tmp_path / "run")}
    run = subprocess.run(["bash", str(REPO / "scripts" / "device_train.sh")], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    parts = sorted(out.glob("gpu.safetensors.part-*"))
    assert len(parts) >= 2 and all(p.stat().st_size <= 200 * 1024 for p in parts)
    assert {p.name for p in out.iterdir()} >= {"gpu.json", "gpu.train.json", "gpu.log",
                                               "gpu.safetensors.sha256"}
    assert not list(out.glob("*.state.*"))  # the training state stays on the machine
    here = tmp_path / "here"  # the weights joined again, as docs/generator.md says
    here.mkdir()
    (here / "gpu.safetensors").write_bytes(b"".join(p.read_bytes() for p in parts))
    shutil.copy(out / "gpu.json", here / "gpu.json")
    shutil.copy(out / "gpu.safetensors.sha256", here)
    subprocess.run(["sha256sum", "--quiet", "-c", "gpu.safetensors.sha256"], cwd=here, check=True)
    assert DanceGenerator.load(here / "gpu", device="cpu").trained_steps == 2


def test_device_tree_slims_and_restores_the_tracked_weights(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    def tree(*args):
        return subprocess.run(["bash", str(REPO / "scripts" / "device_tree.sh"), *args],
                              cwd=tmp_path, capture_output=True, text=True)

    git("init", "-q")
    weights = tmp_path / "checkpoints" / "g.safetensors"
    weights.parent.mkdir()
    weights.write_bytes(b"w" * 204800)
    (tmp_path / "code.py").write_text("x = 1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    assert tree("size").stdout.strip() == "working tree that travels: 0.20 MiB"
    assert tree("slim").returncode == 0 and not weights.exists()
    assert tree("size").stdout.strip() == "working tree that travels: 0.00 MiB"
    assert tree("restore").returncode == 0 and weights.read_bytes() == b"w" * 204800
    weights.write_bytes(b"changed")  # uncommitted weights are never deleted
    slim = tree("slim")
    assert slim.returncode == 2 and "differ from the committed ones" in slim.stderr
    assert weights.read_bytes() == b"changed"
