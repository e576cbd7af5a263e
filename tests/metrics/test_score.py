"""The scoring protocol and the `python -m generator.score` command."""

import json
import math

import numpy as np
import pytest
from metrics_songs import SONG_S, click_song

from generator import score as score_cli
from motionbeat.core import contract
from motionbeat.core.motion import Motion
from motionbeat.metrics.scoring import pfc_windowed

BPM = 120.0
BEAT_S = 60.0 / BPM


def _arm_dance(seconds, beats_at, fps=contract.FPS, start_offset=0.0, song=None, beat_s=BEAT_S,
               meta=None):
    """Arms swing so their speed drops to zero exactly at each beat; feet and root never move."""
    t = np.arange(int(round(seconds * fps))) / fps + start_offset
    phase = np.pi * (t - beats_at) / beat_s  # speed of cos(phase) is zero at every beat
    poses = np.zeros((t.size, contract.NUM_JOINTS, 3))
    for name, sign in (("L_Shoulder", 1.0), ("R_Shoulder", -1.0)):
        poses[:, contract.JOINT_INDEX[name], 2] = sign * 0.6 * np.cos(phase)
    trans = np.tile([0.0, 0.95, 0.0], (t.size, 1))
    return Motion(poses, trans, fps, source_song=song, start_offset=start_offset, meta=meta or {})


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    path = tmp_path_factory.mktemp("songs") / "click song ü.wav"
    beats = click_song(path)
    return path, beats


def test_beats_on_beats_score_high_and_offbeat_low(song, tmp_path):
    path, beats = song
    on = _arm_dance(8.0, beats[0], start_offset=2.0, song=str(path)).save(tmp_path / "on.npz")
    off = _arm_dance(8.0, beats[0] + BEAT_S / 2, start_offset=2.0, song=str(path)).save(tmp_path / "off.npz")
    report = score_cli.score_files([on, off])
    on_s, off_s = report["files"]
    assert on_s["bas"] > 0.9 and on_s["bas_motion"] > 0.9
    assert off_s["bas"] < 0.2  # half a beat = 0.25 s away: exp(-0.25^2 / (2 * 0.05^2)) ~ 4e-6
    # static feet and a still root give PFC 0
    assert on_s["pfc"] == 0.0 and on_s["pfc_clips"] == 1
    assert report["mean"]["bas"] == pytest.approx((on_s["bas"] + off_s["bas"]) / 2)
    # a root that never turns has a fastest turn of 0 degrees
    assert on_s["max_turn"] == 0.0 and report["mean"]["max_turn"] == 0.0


def test_a_dance_made_with_a_tempo_hint_is_scored_on_its_beats(song, tmp_path):
    """Motion beats on every beat and every midpoint: half of them miss the 120 BPM clicks, none
    miss the 240 BPM grid the dance was made for (``bpm_hint`` in its metadata)."""
    path, beats = song
    dance = {"seconds": 8.0, "beats_at": beats[0], "start_offset": 2.0, "song": str(path),
             "beat_s": BEAT_S / 2}
    plain = _arm_dance(**dance).save(tmp_path / "plain.npz")
    hinted = _arm_dance(**dance, meta={"generator": {"bpm_hint": 2 * BPM}}).save(tmp_path / "h.npz")
    report = score_cli.score_files([plain, hinted], own_other=False)
    plain_s, hinted_s = report["files"]
    assert plain_s["bas_motion"] == pytest.approx(0.5, abs=0.1)
    assert hinted_s["bas_motion"] > 0.9


def test_fastest_turn_is_reported_per_file_and_as_the_largest(song, tmp_path, capsys):
    path, beats = song
    still = _arm_dance(4.0, beats[0], song=str(path))
    poses = still.poses.copy()
    poses[60:, 0, contract.UP_AXIS] = np.radians(90.0)  # snaps a quarter turn at frame 60
    snap = Motion(poses, still.trans, still.fps, source_song=str(path))
    files = [still.save(tmp_path / "still.npz"), snap.save(tmp_path / "snap.npz")]
    report = score_cli.score_files(files)
    assert [f["max_turn"] for f in report["files"]] == pytest.approx([0.0, 90.0], abs=1e-3)
    assert report["mean"]["max_turn"] == pytest.approx(90.0, abs=1e-3)
    assert score_cli.main([str(f) for f in files]) == 0
    assert "turn°" in capsys.readouterr().out


def test_same_dance_at_60_fps_scores_the_same(song, tmp_path):
    path, beats = song
    a = _arm_dance(6.0, beats[0], fps=contract.FPS).save(tmp_path / "a.npz")
    b = _arm_dance(6.0, beats[0], fps=contract.AISTPP_FPS).save(tmp_path / "b.npz")
    fa, fb = score_cli.score_files([a, b], audio=[path, path])["files"]
    assert fa["bas"] == pytest.approx(fb["bas"], abs=0.05)


def test_pfc_is_mean_over_five_second_clips():
    rng = np.random.default_rng(0)
    frames = contract.WINDOW_FRAMES * 2 + 10
    motion = Motion(rng.normal(scale=0.1, size=(frames, 24, 3)), rng.normal(size=(frames, 3)) * 0.1)
    value, clips = pfc_windowed(motion)
    assert clips == 2 and math.isfinite(value) and value > 0


def test_cli_writes_json_and_table(song, tmp_path, capsys):
    path, beats = song
    motion = _arm_dance(4.0, beats[0]).save(tmp_path / "d.npz")
    out = tmp_path / "scores.json"
    assert score_cli.main([str(motion), "--audio", str(path), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data["files"][0]) >= {"pfc", "bas", "bas_motion", "file", "song"}
    assert set(data["mean"]) >= {"pfc", "bas", "bas_motion"}
    assert "PFC" in capsys.readouterr().out


def test_cli_reference_set_gives_fid(song, tmp_path):
    path, beats = song
    ref = tmp_path / "ref"
    ref.mkdir()
    rng = np.random.default_rng(1)
    for i in range(4):
        n = 90
        Motion(rng.normal(scale=0.3, size=(n, 24, 3)), rng.normal(size=(n, 3)) * 0.2).save(ref / f"r{i}.pkl")
    dances = [_arm_dance(3.0, beats[0] + k * 0.1).save(tmp_path / f"g{k}.npz") for k in range(3)]
    report = score_cli.score_files(dances, audio=[path] * 3, reference=ref)
    assert {"fid_k", "fid_g", "div_k", "div_g"} <= report["mean"].keys()
    assert report["mean"]["n_ref"] == 4 and report["mean"]["fid_k"] > 0


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("count", "2 motion file(s) but 1 song"),
        ("nosong", "names no song"),
        ("missing_song", "was not found"),
        ("too_long", "runs to"),
        ("wrong_fps", "wrong fps"),
        ("bad_motion", "unreadable"),
    ],
)
def test_cli_errors_are_clear(song, tmp_path, capsys, case, message):
    path, beats = song
    dance = _arm_dance(4.0, beats[0]).save(tmp_path / "d.npz")
    args = {
        "count": [str(dance), str(dance), "--audio", str(path)],
        "nosong": [str(dance)],
        "missing_song": [str(_arm_dance(2.0, 0.0, song="nowhere.wav").save(tmp_path / "m.npz"))],
        "too_long": [str(_arm_dance(SONG_S + 1, 0.0).save(tmp_path / "long.npz")), "--audio", str(path)],
        # 8 s at 30 fps written as AIST++ .pkl is 60 fps; read as 15 fps it lasts 32 s
        "wrong_fps": [str(_arm_dance(8.0, 0.0).save(tmp_path / "w.pkl")), "--audio", str(path),
                      "--pkl-fps", "15"],
        "bad_motion": [str(tmp_path / "bad.npz"), "--audio", str(path)],
    }[case]
    (tmp_path / "bad.npz").write_bytes(b"junk")
    assert score_cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
