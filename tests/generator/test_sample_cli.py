"""``python -m generator.sample``: files per song, folders batched, editing, one-line errors."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from generator import sample
from motionbeat.core import contract
from motionbeat.core.motion import load_motion


def run(args, capsys):
    code = sample.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_writes_npz_pkl_bvh_and_says_where(untrained_checkpoint, click_tracks, tmp_path, capsys):
    out = tmp_path / "out"
    code, printed, err = run([click_tracks["short"], "--checkpoint", untrained_checkpoint,
                              "--out", out, "--no-video", "--steps", "2", "--seed", "4",
                              "--beat-guidance", "0.05", "--bpm", "240", "--quiet"], capsys)
    assert code == 0, err
    for suffix in (".npz", ".pkl", ".bvh"):
        path = out / f"short{suffix}"
        assert path.is_file() and str(path) in printed
    assert not (out / "short.mp4").exists()
    motion = load_motion(out / "short.npz")
    assert motion.num_frames == 3 * contract.FPS and motion.source_song == str(click_tracks["short"])
    assert motion.meta["generator"]["seed"] == 4
    assert motion.meta["generator"]["beat_guidance"] == 0.05
    assert motion.meta["generator"]["bpm_hint"] == 240.0  # the click track is at 120
    assert motion.meta["tempo_bpm"] == pytest.approx(240.0, rel=0.02)  # midpoints added
    aist = load_motion(out / "short.pkl")
    assert abs(aist.num_frames - 3 * contract.AISTPP_FPS) <= 1  # resampled to 60 fps
    assert (out / "short.bvh").read_text().startswith("HIERARCHY")
    assert "untrained" in err


def test_folder_of_songs_is_batched(untrained_checkpoint, click_tracks, tmp_path, capsys,
                                    monkeypatch):
    songs = tmp_path / "songs"
    songs.mkdir()
    shutil.copy(click_tracks["short"], songs / "a.wav")
    shutil.copy(click_tracks["long"], songs / "b.wav")
    (songs / "notes.txt").write_text("not a song")
    calls = []
    original = sample.DanceGenerator.generate_many

    def spy(self, audios, **kwargs):
        calls.append(list(audios))
        return original(self, audios, **kwargs)

    monkeypatch.setattr(sample.DanceGenerator, "generate_many", spy)
    out = tmp_path / "out"
    code, printed, err = run([songs, "--checkpoint", untrained_checkpoint, "--out", out,
                              "--no-video", "--steps", "2", "--start", "1", "--duration", "2",
                              "--quiet"], capsys)
    assert code == 0, err
    assert calls == [[songs / "a.wav", songs / "b.wav"]]
    for stem in ("a", "b"):
        motion = load_motion(out / f"{stem}.npz")
        assert motion.start_offset == 1.0 and motion.num_frames == 2 * contract.FPS


def test_keep_joints_from_a_motion(untrained_checkpoint, click_tracks, tmp_path, capsys):
    first = tmp_path / "first"
    assert run([click_tracks["long"], "--checkpoint", untrained_checkpoint, "--out", first,
                "--no-video", "--steps", "2", "--duration", "3", "--quiet"], capsys)[0] == 0
    second = tmp_path / "second"
    code, _, err = run([click_tracks["long"], "--checkpoint", untrained_checkpoint,
                        "--out", second, "--no-video", "--steps", "2", "--duration", "3",
                        "--seed", "1", "--keep-joints", "lower_body",
                        "--from", first / "long.npz", "--quiet"], capsys)
    assert code == 0, err
    a, b = load_motion(first / "long.npz"), load_motion(second / "long.npz")
    knees = [contract.JOINT_INDEX["L_Knee"], contract.JOINT_INDEX["R_Knee"]]
    np.testing.assert_allclose(a.poses[:, knees], b.poses[:, knees], atol=1e-4)
    np.testing.assert_allclose(a.trans, b.trans, atol=1e-5)
    elbow = contract.JOINT_INDEX["L_Elbow"]
    assert np.abs(a.poses[:, elbow] - b.poses[:, elbow]).max() > 1e-3
    code, _, err = run([click_tracks["long"], "--checkpoint", untrained_checkpoint, "--out",
                        second, "--no-video", "--steps", "2", "--duration", "3",
                        "--inbetween-from", first / "long.npz", "--keyframe-every", "1",
                        "--quiet"], capsys)
    assert code == 0, err
    c = load_motion(second / "long.npz")
    np.testing.assert_allclose(c.trans[[0, 30, 60, 89]], a.trans[[0, 30, 60, 89]], atol=1e-5)


@pytest.mark.parametrize(
    ("make_args", "expected"),
    [
        (lambda t, c: [t["missing"], "--checkpoint", c], "no such song"),
        (lambda t, c: [t["silent"], "--checkpoint", c], "silent"),
        (lambda t, c: [t["short"], "--checkpoint", t["dir"] / "none"], "python -m generator.train"),
        (lambda t, c: [t["short"], "--checkpoint", c, "--start", "10"], "past the end"),
        (lambda t, c: [t["short"], "--checkpoint", c, "--steps", "0"], "steps"),
        (lambda t, c: [t["short"], "--checkpoint", c, "--bpm", "500"], "bpm must be from 40 to 240"),
        (lambda t, c: [t["short"], "--checkpoint", c, "--halftime-above", "-1"], "halftime_above_bpm"),
        (lambda t, c: [t["empty_dir"], "--checkpoint", c], "no audio files"),
        (lambda t, c: [t["short"], "--checkpoint", c, "--inbetween-from", t["missing"]],
         "no such motion file"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(untrained_checkpoint, click_tracks, tmp_path,
                                               capsys, make_args, expected):
    empty = tmp_path / "empty"
    empty.mkdir()
    paths = {**click_tracks, "missing": tmp_path / "missing.wav", "dir": tmp_path,
             "empty_dir": empty}
    args = [*make_args(paths, untrained_checkpoint), "--no-video", "--quiet",
            "--out", tmp_path / "o"]
    code, printed, err = run(args, capsys)
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1 and expected in lines[0], err
    assert "Traceback" not in err and printed == ""


def test_argument_errors_exit_2(click_tracks, capsys):
    with pytest.raises(SystemExit) as exit_info:
        sample.main([str(click_tracks["short"]), "--keep-joints", "lower_body"])
    assert exit_info.value.code == 2 and "--from" in capsys.readouterr().err


def test_module_runs_as_a_command(untrained_checkpoint, click_tracks, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "generator.sample", str(click_tracks["silent"]), "--checkpoint",
         str(untrained_checkpoint), "--no-video", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error:")


def test_renders_a_short_skeleton_video(untrained_checkpoint, click_tracks, tmp_path, capsys):
    from render.video import probe

    out = tmp_path / "video"
    code, printed, err = run([click_tracks["long"], "--checkpoint", untrained_checkpoint,
                              "--out", out, "--steps", "2", "--duration", "2",
                              "--body", "skeleton", "--size", "64", "--quiet"], capsys)
    assert code == 0, err
    video = out / "long.mp4"
    assert video.is_file() and str(video) in printed
    info = probe(video)
    assert info.audio_codec is not None and info.width == 64
    assert info.duration == pytest.approx(2.0, abs=0.2)
