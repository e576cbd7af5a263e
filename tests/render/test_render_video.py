"""Video: H.264 + AAC + faststart, the song lined up with start_offset, atomic writes, the CLI."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from motionbeat.core.motion import Motion
from render import bench, bodies, video
from render.__main__ import main as cli_main
from render.scene import RenderError
from render.video import ffmpeg, parallel

SIZE = 64
SAMPLE_RATE = 16000


@pytest.fixture(scope="module", autouse=True)
def needs_egl():
    from render.bodies import SkeletonBody
    from render.scene import DanceScene

    try:
        DanceScene(SkeletonBody(), 16).close()
    except RenderError as err:
        if "EGL" in str(err):
            pytest.skip(f"headless OpenGL (EGL) cannot start here: {err}")
        raise


def make_song(path, seconds: float, silent_first: float = 0.0):
    """A stereo wav: ``silent_first`` seconds of silence, then a 440 Hz tone."""
    tone = f"sine=frequency=440:duration={seconds - silent_first:.3f}:sample_rate={SAMPLE_RATE}"
    args = [
        video.ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        tone,
    ]
    if silent_first:
        args += ["-af", f"adelay=delays={round(silent_first * 1000)}:all=1"]
    subprocess.run([*args, "-ac", "2", str(path)], check=True)
    return path


def decoded_audio(path) -> np.ndarray:
    raw = subprocess.run(
        [
            video.ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-f",
            "s16le",
            "-",
        ],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768


def dance(seconds: float = 0.5, offset: float = 0.0) -> Motion:
    m = bench.synthetic_dance(seconds, travel=0.0)
    return Motion(m.poses, m.trans, fps=m.fps, start_offset=offset)


def test_mp4_is_browser_ready_with_odd_file_names(tmp_path):
    song = make_song(tmp_path / "sóng – mix 1.wav", 3.0)
    out = tmp_path / "out dir ü" / "dançe: 1.mp4"
    result = video.render_video(
        dance(0.5), song, out, body="skeleton", size=SIZE, contacts=True, beats=[0.1]
    )
    assert result == out and out.is_file()
    info = video.probe(out)
    assert (info.video_codec, info.audio_codec, info.pix_fmt) == ("h264", "aac", "yuv420p")
    assert (info.width, info.height, info.fps) == (SIZE, SIZE, 30.0)
    assert info.duration == pytest.approx(0.5, abs=0.05)
    boxes = video.mp4_top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary left behind


@pytest.mark.parametrize(
    "offset, silent_first, loud_at_start", [(1.0, 1.0, True), (0.0, 1.0, False), (-0.5, 0.0, False)]
)
def test_song_starts_at_the_motion_offset(tmp_path, offset, silent_first, loud_at_start):
    """Frame 0 plays with the song at ``start_offset`` (negative: before the song starts)."""
    song = make_song(tmp_path / "song.wav", 3.0, silent_first=silent_first)
    out = video.render_video(
        dance(0.8, offset), song, tmp_path / "o.mp4", body="skeleton", size=SIZE
    )
    audio = decoded_audio(out)
    head = np.sqrt(np.mean(audio[int(0.05 * SAMPLE_RATE) : int(0.25 * SAMPLE_RATE)] ** 2))
    assert (head > 0.05) == loud_at_start
    assert len(audio) / SAMPLE_RATE == pytest.approx(0.8, abs=0.06)  # cut at the motion's end


def test_short_song_is_padded_only_to_the_motion_end(tmp_path):
    song = make_song(tmp_path / "short.wav", 0.3)
    out = video.render_video(dance(1.0), song, tmp_path / "o.mp4", body="skeleton", size=SIZE)
    assert video.probe(out).duration == pytest.approx(1.0, abs=0.06)
    assert len(decoded_audio(out)) / SAMPLE_RATE == pytest.approx(1.0, abs=0.06)


def test_silent_video_without_a_song(tmp_path):
    out = video.render_video(dance(0.3), None, tmp_path / "o.mp4", body="skeleton", size=SIZE)
    info = video.probe(out)
    assert info.audio_codec is None and info.video_codec == "h264"


def test_parallel_pieces_join_into_one_video(tmp_path, monkeypatch):
    """Pieces rendered in two processes join into the very frames one process makes."""
    monkeypatch.setattr(parallel, "MIN_PIECE_SECONDS", 0.2)  # 1 s -> 5 pieces of 6 frames
    assert len(video.piece_bounds(30, 30.0, 2)) == 5
    song = make_song(tmp_path / "song.wav", 2.0)
    common = {"body": "skeleton", "size": SIZE, "crf": 0}  # lossless: frames compare exactly
    out = video.render_video(dance(1.0), song, tmp_path / "p.mp4", workers=2, **common)
    info = video.probe(out)
    assert info.duration == pytest.approx(1.0, abs=0.06) and info.audio_codec == "aac"
    single = video.render_video(dance(1.0), song, tmp_path / "s.mp4", workers=1, **common)
    pieces, whole = decoded_frames(out), decoded_frames(single)
    assert len(pieces) == len(whole) == 30
    for a, b in zip(pieces, whole, strict=True):
        np.testing.assert_array_equal(a, b)


def decoded_frames(path) -> list[np.ndarray]:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]


def test_bad_inputs_are_named_and_nothing_is_written(tmp_path, monkeypatch):
    song = make_song(tmp_path / "song.wav", 1.0)
    out = tmp_path / "o.mp4"
    with pytest.raises(RenderError, match="no such audio file"):
        video.render_video(dance(), tmp_path / "missing.wav", out, size=SIZE)
    with pytest.raises(RenderError, match="no such motion file"):
        video.render_video(tmp_path / "missing.npz", song, out, size=SIZE)
    with pytest.raises(RenderError, match="must end in"):
        video.render_video(dance(), song, tmp_path / "o.avi", size=SIZE)
    with pytest.raises(RenderError, match="even"):
        video.render_video(dance(), song, out, size=65)
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    with pytest.raises(RenderError, match="cannot write"):
        video.render_video(dance(), song, blocker / "o.mp4", size=SIZE)
    monkeypatch.delenv(bodies.SMPL_DIR_ENV, raising=False)
    with pytest.raises(RenderError, match=bodies.SMPL_DIR_ENV):
        video.render_video(dance(), song, out, body="smpl", size=SIZE)
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("not a song")
    with pytest.raises(RenderError, match="ffmpeg"):
        video.render_video(dance(), not_audio, out, body="skeleton", size=SIZE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file", "notes.wav", "song.wav"]


def test_encoder_failure_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(ffmpeg, "X264_PRESET", "no-such-preset")
    with pytest.raises(RenderError, match="ffmpeg"):
        video.render_video(dance(), None, tmp_path / "o.mp4", body="skeleton", size=SIZE)
    assert list(tmp_path.iterdir()) == []


def test_smpl_body_with_a_synthetic_model(tmp_path):
    model = bodies.write_synthetic_smpl(tmp_path / "SMPL_NEUTRAL.npz")
    out = video.render_video(
        dance(0.2), None, tmp_path / "s.mp4", body="smpl", size=SIZE, smpl_path=model
    )
    assert video.probe(out).video_codec == "h264"


def test_cli_renders_exports_and_reports_errors(tmp_path, capsys):
    motion_path = dance(0.3).save(tmp_path / "my dance.npz")
    song = make_song(tmp_path / "song.wav", 1.0)
    beats = tmp_path / "beats.txt"
    beats.write_text("0.0\n0.5\n")
    out = tmp_path / "v.mp4"
    code = cli_main(
        [
            str(motion_path),
            "--audio",
            str(song),
            "--out",
            str(out),
            "--body",
            "skeleton",
            "--size",
            str(SIZE),
            "--contacts",
            "--beats",
            str(beats),
            "--quiet",
            "--export",
            str(tmp_path / "d.bvh"),
            "--export",
            str(tmp_path / "d.pkl"),
        ]
    )
    assert code == 0
    assert out.is_file() and (tmp_path / "d.bvh").is_file() and (tmp_path / "d.pkl").is_file()
    aist = tmp_path / "d.pkl"  # AIST++-style motions render too
    assert (
        cli_main(
            [
                str(aist),
                "--out",
                str(tmp_path / "a.mp4"),
                "--body",
                "skeleton",
                "--size",
                str(SIZE),
                "--quiet",
            ]
        )
        == 0
    )
    assert cli_main([str(tmp_path / "nope.npz"), "--out", str(out), "--quiet"]) == 2
    assert "no such motion file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main([str(motion_path)])  # nothing to do
