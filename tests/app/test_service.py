"""The app's library without a server: request checks, limits, clean-up, one direct request."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from matplotlib.figure import Figure

from app.plot import beat_figure
from app.request import (
    MAX_STEPS,
    DanceSettings,
    InputError,
    Limits,
    check_settings,
    check_song,
    dance_span,
)
from app.service import (
    EXPORT_SUFFIXES,
    DanceService,
    available_bodies,
    purge_old_requests,
    safe_stem,
)
from generator.model.style import STYLE_NAMES
from generator.sampling.checkpoint import write_untrained_checkpoint
from motionbeat.audio import (
    MAX_BPM,
    EmptyAudioError,
    SilentAudioError,
    UndecodableAudioError,
    analyse_rhythm,
    load_audio,
)
from motionbeat.core.motion import load_motion
from render.bodies import SMPL_DIR_ENV, write_synthetic_smpl

BODIES = ("mannequin", "skeleton")
LIMITS = Limits(max_upload_mb=1.0, max_duration=8.0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (DanceSettings(start=-1.0), "start must be 0 s or later"),
        (DanceSettings(start="soon"), "start must be a number"),
        (DanceSettings(duration=-2.0), "duration must be positive"),
        (DanceSettings(seed=-1), "seed must be a whole number"),
        (DanceSettings(seed=1.5), "seed must be a whole number"),
        (DanceSettings(steps=0), "sampling steps must be a whole number"),
        (DanceSettings(steps=MAX_STEPS + 1), "sampling steps must be a whole number"),
        (DanceSettings(guidance=-0.5), "guidance must be from 0"),
        (DanceSettings(guidance=float("nan")), "guidance must be a finite number"),
        (DanceSettings(body="smpl"), "Unknown body 'smpl'"),
        (DanceSettings(foot_lock="yes"), "foot lock switch must be true or false"),
        (DanceSettings(beat_guidance=-0.01), "beat lock must be from 0 to 0.1"),
        (DanceSettings(beat_guidance=0.5), "beat lock must be from 0 to 0.1"),
        (DanceSettings(beat_guidance="lots"), "beat lock must be a number"),
        (DanceSettings(bpm=20), "tempo must be from 40 to 240 BPM"),
        (DanceSettings(bpm=-120), "tempo must be from 40 to 240 BPM"),
        (DanceSettings(bpm="fast"), "tempo must be a number"),
        (DanceSettings(style_scale=-1), "style spread must be from 0 to 4"),
        (DanceSettings(style_scale=4.5), "style spread must be from 0 to 4"),
        (DanceSettings(style_scale="wild"), "style spread must be a number"),
        (DanceSettings(beat_warp=0.6), "beat timing must be from 0 to 0.5 beats"),
        (DanceSettings(beat_warp=-0.1), "beat timing must be from 0 to 0.5 beats"),
    ],
)
def test_bad_settings_are_refused_with_a_message(settings, message):
    with pytest.raises(InputError, match=message):
        check_settings(settings, BODIES)


def test_settings_defaults_are_filled_in():
    settings = check_settings(DanceSettings(start=None, duration=None, seed=3.0, steps=5.0, body=""), BODIES)
    assert settings == DanceSettings(0.0, 0.0, 3, None, 5, "mannequin", True)
    assert not check_settings(DanceSettings(foot_lock=False), BODIES).foot_lock
    assert check_settings(DanceSettings(bpm=0), BODIES).bpm is None  # the form's "find it"
    assert check_settings(DanceSettings(bpm="128"), BODIES).bpm == 128.0
    assert isinstance(settings.seed, int) and isinstance(settings.steps, int)


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [(0.0, 0.0, (0.0, 6.0)), (2.0, 0.0, (2.0, 4.0)), (1.0, 3.0, (1.0, 3.0)), (2.0, 4.03, (2.0, 4.0))],
)
def test_dance_span_inside_the_song(start, duration, expected):
    got = dance_span(6.0, DanceSettings(start=start, duration=duration), LIMITS, "s.wav")
    assert (got.start, got.duration) == pytest.approx(expected)
    assert got.notice == ""


@pytest.mark.parametrize(
    ("song_s", "start", "duration", "notice"),
    [
        (20.0, 0.0, 0.0, "s.wav: the song lasts 20 s, and this server makes dances of up to 8 s, so this "
         "dance covers 0 s to 8 s of the song; set a start to dance another part."),
        (20.0, 2.0, 9.0, "a dance of 9 s was asked for, and this server makes dances of up to 8 s, so this "
         "dance covers 2 s to 10 s"),
        (700.0, 65.0, 0.0, "the song lasts 11 min 40 s, and this server makes dances of up to 8 s, so this "
         "dance covers 1 min 5 s to 1 min 13 s"),
    ],
)
def test_a_dance_over_the_limit_is_cut_to_it_with_a_notice(song_s, start, duration, notice):
    got = dance_span(song_s, DanceSettings(start=start, duration=duration), LIMITS, "s.wav")
    assert (got.start, got.duration) == (start, LIMITS.max_duration)
    assert notice in got.notice


@pytest.mark.parametrize(
    ("song_s", "start", "duration", "message"),
    [
        (6.0, 7.0, 0.0, "beyond the end of the song"),
        (6.0, 5.5, 0.0, "less than the 1 s a dance needs"),
        (6.0, 2.0, 5.0, "the song ends at 6.0 s"),
        (20.0, 2.0, 0.5, "at least 1 s"),
    ],
)
def test_dance_span_refusals(song_s, start, duration, message):
    with pytest.raises(InputError, match=message):
        dance_span(song_s, DanceSettings(start=start, duration=duration), LIMITS, "s.wav")


def test_check_song_refusals(songs, tmp_path):
    with pytest.raises(InputError, match="No song given"):
        check_song(None, LIMITS)
    with pytest.raises(InputError, match="did not arrive"):
        check_song(tmp_path / "gone.wav", LIMITS)
    with pytest.raises(InputError, match=r"\.txt files are not supported; use one of wav"):
        check_song(songs["unsupported"], LIMITS)
    with pytest.raises(InputError, match="this server takes songs up to 1 MB"):
        check_song(songs["big"], LIMITS)
    with pytest.raises(EmptyAudioError, match="empty.wav: the file is empty"):
        check_song(songs["empty"], LIMITS)
    with pytest.raises(SilentAudioError, match="silence.wav: the song is silent"):
        check_song(songs["silent"], LIMITS)
    with pytest.raises(UndecodableAudioError, match="corrupt.mp3: not a readable mp3"):
        check_song(songs["corrupt"], LIMITS)
    assert check_song(songs["good"], LIMITS).duration == pytest.approx(4.0)


def test_safe_stem():
    assert safe_stem("../../etc/my song (live).mp3") == "my_song_live"
    assert safe_stem("...wav") == "song"
    assert len(safe_stem("x" * 200 + ".wav")) == 40


def test_purge_old_requests(tmp_path):
    old, new = tmp_path / "req-old", tmp_path / "req-new"
    for folder in (old, new):
        folder.mkdir()
        (folder / "dance.mp4").write_bytes(b"x")
    (tmp_path / "keep-me").mkdir()
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    assert purge_old_requests(tmp_path, max_age_s=600) == 1
    assert not old.exists() and new.exists() and (tmp_path / "keep-me").exists()


def test_smpl_is_offered_only_with_its_files(monkeypatch, tmp_path):
    monkeypatch.delenv(SMPL_DIR_ENV, raising=False)
    assert available_bodies() == ("mannequin", "skeleton")
    write_synthetic_smpl(tmp_path / "SMPL_NEUTRAL.npz")
    monkeypatch.setenv(SMPL_DIR_ENV, str(tmp_path))
    assert available_bodies() == ("mannequin", "smpl", "skeleton")


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="max_duration"):
        Limits(max_duration=0)
    assert Limits().max_duration == 600.0  # whole songs of up to 10 minutes by default


def test_one_request_through_the_library(checkpoint, songs, tmp_path):
    service = DanceService.from_checkpoint(
        checkpoint, device="cpu", work_dir=tmp_path / "work", limits=LIMITS, video_size=128, bodies=BODIES
    )
    assert service.default("steps") >= 1 and service.default("guidance") >= 0
    assert service.warm_up() > 0
    tempo = analyse_rhythm(load_audio(songs["good"])).tempo_bpm
    heard = round(tempo) * 2 if 2 * round(tempo) <= MAX_BPM else round(tempo) / 2  # other octave
    seen: list[tuple[float, str]] = []
    result = service.generate(
        songs["good"],
        DanceSettings(start=1.0, duration=2.0, seed=4, steps=2, body="skeleton", foot_lock=False,
                      beat_guidance=0.05, bpm=heard, beat_warp=0.25),
        progress=lambda fraction, desc: seen.append((fraction, desc)),
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    descs = " | ".join(d for _, d in seen)
    for stage in ("listening to the music", "dancing (diffusion sampling) (step 2 of 2)",
                  "rendering the video (frame 60 of 60)", "scoring and writing the motion files"):
        assert stage in descs, descs
    assert not list(result.folder.parent.glob("warm-up-*"))  # the warm-up leaves nothing behind
    assert service.active_requests() == 0 and result.notice == "" and "notice" not in result.scores()

    assert result.video.name == "dance_me_dance_seed4.mp4" and result.video.stat().st_size > 0
    assert [p.suffix for p in result.files] == list(EXPORT_SUFFIXES)
    motion = load_motion(result.files[0])
    assert motion.start_offset == pytest.approx(1.0)
    assert motion.duration == pytest.approx(2.0)
    assert motion.source_song == "dance me.wav"  # never the server's temporary path
    assert motion.meta["app"]["seed"] == 4
    assert motion.meta["app"]["foot_lock"] is False and motion.meta["generator"]["foot_lock"] is False
    assert motion.meta["app"]["beat_guidance"] == 0.05 == motion.meta["generator"]["beat_guidance"]
    assert motion.meta["app"]["beat_warp"] == 0.25 == motion.meta["generator"]["beat_warp"]
    # the tempo hint steers both the dance's beat grid and the scores' music beats
    assert motion.meta["app"]["bpm"] == heard == motion.meta["generator"]["bpm_hint"]
    assert motion.meta["tempo_bpm"] == pytest.approx(heard, rel=0.03)
    assert result.rhythm.tempo_bpm == pytest.approx(heard, rel=0.03)
    scores = result.scores()
    assert 0.0 <= scores["BAS"] <= 1.0 and scores["PFC"] >= 0.0
    assert scores["seed"] == 4 and scores["duration_s"] == pytest.approx(2.0)
    assert isinstance(result.figure, Figure)
    assert all(p.parent == result.folder for p in (result.video, *result.files))
    service.close()
    assert result.folder.exists()  # a work_dir given by the caller is the caller's to remove


def test_beat_figure_marks_both_beat_kinds(checkpoint, songs):
    from motionbeat.audio import analyse_rhythm, load_audio
    from motionbeat.core.motion import Motion

    audio = load_audio(songs["good"])
    rhythm = analyse_rhythm(audio)
    t = np.arange(90) / 30.0
    trans = np.zeros((90, 3), np.float32)
    trans[:, 1] = 0.9 + 0.05 * np.abs(np.sin(np.pi * 2 * t))  # bounces twice a second
    motion = Motion(np.zeros((90, 24, 3), np.float32), trans, 30, start_offset=0.5)
    fig = beat_figure(motion, rhythm)
    ax = fig.axes[0]
    labels = {text.get_text() for text in ax.get_legend().get_texts()}
    assert {"music beat", "motion speed", "motion beat"} <= labels
    assert ax.get_xlim() == pytest.approx((0.5, 3.5))


def test_the_style_spread_reaches_the_dance_and_needs_a_style_input(checkpoint, songs, tmp_path):
    styled = write_untrained_checkpoint(tmp_path / "styled", size="tiny", style_dim=len(STYLE_NAMES),
                                        style_scale=1.5)
    service = DanceService.from_checkpoint(styled, device="cpu", work_dir=tmp_path / "work",
                                           limits=LIMITS, video_size=64, bodies=BODIES)
    assert service.default("style_scale") == 1.5  # the checkpoint's own
    dances = {}
    for scale in (None, 0.0, 3.0):
        result = service.generate(songs["good"], DanceSettings(duration=1.0, steps=1, body="skeleton",
                                                               style_scale=scale))
        dances[scale] = load_motion(result.files[0])
        assert dances[scale].meta["app"]["style_scale"] == scale
        assert dances[scale].meta["generator"]["style_scale"] == (1.5 if scale is None else scale)
    styles = {k: np.array(list(m.meta["generator"]["style"].values())) for k, m in dances.items()}
    # the same seed's draw, scaled about the music's mean: 0 is the mean, 3 twice 1.5's step from it
    np.testing.assert_allclose(styles[3.0] - styles[0.0], 2 * (styles[None] - styles[0.0]), atol=2e-3)
    assert not np.allclose(styles[3.0], styles[0.0])
    service.close()

    plain = DanceService.from_checkpoint(checkpoint, device="cpu", work_dir=tmp_path / "plain",
                                         limits=LIMITS, video_size=64, bodies=BODIES)
    assert plain.default("style_scale") is None
    with pytest.raises(InputError, match="no style input"):
        plain.generate(songs["good"], DanceSettings(duration=1.0, steps=1, style_scale=1.0))
    assert not list((tmp_path / "plain").glob("*"))  # nothing of the refused request stays
    plain.close()
