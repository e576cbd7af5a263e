"""The song-in, dance-out pipeline on an untrained tiny checkpoint and synthetic click tracks."""

import math

import numpy as np
import pytest
import torch

from generator.cleanup.leg_ik import LEGS
from generator.sampling import checkpoint, constraints, pipeline
from generator.sampling.checkpoint import GeneratorCheckpointError
from generator.sampling.pipeline import DanceGenerator
from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.core.motion import Motion, load_motion
from motionbeat.encoder.encode import file_hash

FAST = {"steps": 2}
"""Two denoising steps: the tests check plumbing, not dance quality."""


@pytest.fixture(scope="module")
def gen(untrained_checkpoint):
    return DanceGenerator.load(untrained_checkpoint, device="cpu")


def test_load_reads_config_hash_and_marks_untrained(gen, untrained_checkpoint):
    assert gen.config.conditioner == "librosa"
    assert gen.untrained and gen.trained_steps == 0
    weights, config = checkpoint.checkpoint_paths(untrained_checkpoint)
    assert gen.model_hash == file_hash(weights) and config.is_file()
    assert gen.device == torch.device("cpu")
    # seeded: the same arguments write the same weights
    again = checkpoint.write_untrained_checkpoint(untrained_checkpoint.parent / "again", seed=0)
    assert file_hash(checkpoint.checkpoint_paths(again)[0]) == gen.model_hash


def test_short_song_whole_by_default_with_metadata(gen, click_tracks):
    stages = []
    motion = gen.generate(click_tracks["short"], seed=3, progress=lambda s, f: stages.append((s, f)),
                          **FAST)
    assert isinstance(motion, Motion)
    assert motion.num_frames == 3 * contract.FPS and motion.fps == contract.FPS
    assert motion.source_song == str(click_tracks["short"])
    assert motion.start_offset == 0.0 and motion.model_hash == gen.model_hash
    assert motion.meta["generator"]["seed"] == 3 and motion.meta["generator"]["steps"] == 2
    assert np.isfinite(motion.poses).all() and motion.trans[:, contract.UP_AXIS].min() > 0.5
    # progress: features then sampling, each from 0 to 1, never going back
    names = [s for s, _ in stages]
    assert names[0] == "features" and names[-1] == "sampling"
    assert names.index("sampling") > max(i for i, s in enumerate(names) if s == "features")
    for stage in ("features", "sampling"):
        fractions = [f for s, f in stages if s == stage]
        assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)


def test_seed_decides_the_dance(gen, click_tracks):
    a = gen.generate(click_tracks["short"], seed=0, **FAST)
    b = gen.generate(click_tracks["short"], seed=0, **FAST)
    c = gen.generate(click_tracks["short"], seed=1, **FAST)
    np.testing.assert_array_equal(a.poses, b.poses)
    assert np.abs(a.poses - c.poses).max() > 1e-4


def test_beat_guidance_is_recorded_and_changes_only_the_upper_body(gen, click_tracks):
    from generator.sampling.joint_groups import JOINT_GROUPS

    assert gen.config.beat_guidance == 0.0  # the checkpoint's default: off
    plain = gen.generate(click_tracks["short"], seed=2, foot_lock=False, **FAST)
    nudged = gen.generate(click_tracks["short"], seed=2, foot_lock=False, beat_guidance=0.5, **FAST)
    assert plain.meta["generator"]["beat_guidance"] == 0.0
    assert nudged.meta["generator"]["beat_guidance"] == 0.5
    # two steps: the first nudge moves x_t, so the last prediction differs everywhere a little,
    # and the upper body most (the last nudge acts on it alone)
    upper = [contract.JOINT_INDEX[j] for j in JOINT_GROUPS["upper_body"]]
    others = [j for j in range(contract.NUM_JOINTS) if j not in upper]
    change = np.abs(nudged.poses - plain.poses).reshape(plain.num_frames, contract.NUM_JOINTS, 3)
    assert change[:, upper].mean() > 3 * change[:, others].mean() > 0


def test_a_bpm_hint_sets_the_beat_grid_the_dance_follows(gen, click_tracks):
    plain = gen.generate(click_tracks["long"], duration=10.0, **FAST)
    heard = round(plain.meta["tempo_bpm"]) / 2  # a listener who counts every other click
    half = gen.generate(click_tracks["long"], duration=10.0, bpm=heard, **FAST)
    assert plain.meta["generator"]["bpm_hint"] is None
    assert half.meta["generator"]["bpm_hint"] == heard
    assert half.meta["tempo_bpm"] == pytest.approx(heard, rel=0.02)
    # every other click: the beat phase the model was given, and the dance with it, changed
    assert len(half.meta["beat_times"]) == pytest.approx(len(plain.meta["beat_times"]) / 2, abs=1)
    assert np.abs(half.poses - plain.poses).max() > 1e-4


def test_half_time_dances_a_fast_song_on_every_other_beat(gen, click_tracks):
    from generator.sampling.options import dance_rhythm, sampling_options

    song = au.load_audio(click_tracks["long"])  # clicks at 120 BPM
    opts = sampling_options(gen.config, 0, None, None, 0.0, None)
    assert gen.config.halftime_above_bpm == opts.halftime_above_bpm == 0.0  # off by default
    assert dance_rhythm(song, opts) is None  # the conditioner's own analyse_rhythm
    slow = sampling_options(gen.config, 0, None, None, 0.0, None, halftime_above_bpm=130.0)
    fast = sampling_options(gen.config, 0, None, None, 0.0, None, halftime_above_bpm=100.0)
    assert dance_rhythm(song, slow).tempo_bpm == pytest.approx(120.0, rel=0.02)
    halved = dance_rhythm(song, fast)
    assert halved.tempo_bpm == pytest.approx(60.0, rel=0.02)
    # every other click, the set with the louder bar-starting clicks (the click track's k % 4 == 0)
    assert np.min(np.abs(halved.beat_times[:, None] - np.arange(0.0, 40.0, 1.0)[None]), axis=1).max() < 0.05
    told = sampling_options(gen.config, 0, None, None, 0.0, None, bpm=120.0, halftime_above_bpm=100.0)
    assert dance_rhythm(song, told).tempo_bpm == pytest.approx(120.0, rel=0.02)  # a user's tempo wins
    motion = gen.generate(click_tracks["long"], duration=10.0, halftime_above_bpm=100.0, **FAST)
    assert motion.meta["generator"]["halftime_above_bpm"] == 100.0
    assert motion.meta["tempo_bpm"] == pytest.approx(60.0, rel=0.02)
    with pytest.raises(ValueError, match="halftime_above_bpm"):
        gen.generate(click_tracks["short"], halftime_above_bpm=-1.0, **FAST)


def test_excerpt_start_and_duration(gen, click_tracks):
    motion = gen.generate(click_tracks["long"], start=2.0, duration=5.0, **FAST)
    assert motion.num_frames == 5 * contract.FPS and motion.start_offset == 2.0
    beats = motion.meta["beat_times"]
    assert beats and min(beats) >= 2.0 and max(beats) < 7.0
    # past the end: clipped to the song
    tail = gen.generate(click_tracks["long"], start=38.0, duration=10.0, **FAST)
    assert tail.num_frames == 2 * contract.FPS and tail.start_offset == 38.0


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"start": -1.0}, "start"),
        ({"start": 3.0}, "past the end"),
        ({"start": math.nan}, "start"),
        ({"duration": 0.0}, "duration"),
        ({"duration": 0.01}, "one frame"),
        ({"steps": 0}, "steps"),
        ({"guidance": -1.0}, "guidance"),
        ({"beat_guidance": -0.1}, "beat_guidance"),
        ({"beat_guidance": math.inf}, "beat_guidance"),
        ({"bpm": 300.0}, "bpm must be from 40 to 240"),
        ({"bpm": 0.0}, "bpm"),
        ({"seed": 1.5}, "seed"),
        ({"sampler": "euler"}, "sampler"),
    ],
)
def test_bad_options_are_clear_value_errors(gen, click_tracks, options, match):
    with pytest.raises(ValueError, match=match):
        gen.generate(click_tracks["short"], **options)


def test_audio_errors_propagate_with_their_classes(gen, click_tracks, tmp_path):
    with pytest.raises(au.SilentAudioError, match="silent"):
        gen.generate(click_tracks["silent"])
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(au.EmptyAudioError):
        gen.generate(empty)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"not audio at all" * 100)
    with pytest.raises(au.UndecodableAudioError):
        gen.generate(junk)
    with pytest.raises(FileNotFoundError):
        gen.generate(tmp_path / "missing.wav")


def test_decoded_audio_input(gen, click_tracks):
    audio = au.load_audio(click_tracks["short"])
    from_audio = gen.generate(audio, **FAST)
    from_path = gen.generate(click_tracks["short"], **FAST)
    np.testing.assert_array_equal(from_audio.poses, from_path.poses)
    assert from_audio.source_song == str(click_tracks["short"])


def test_generate_many_batches_and_matches_single_runs(gen, click_tracks):
    songs = [click_tracks["short"], click_tracks["long"]]
    for lock, atol in ((False, 1e-4), (True, 1e-3)):  # a contact near its threshold may tip a pin
        batch = gen.generate_many(songs, seed=5, foot_lock=lock, **FAST)
        assert [m.num_frames for m in batch] == [3 * contract.FPS, 40 * contract.FPS]
        for song, motion in zip(songs, batch, strict=True):
            alone = gen.generate(song, seed=5, foot_lock=lock, **FAST)
            np.testing.assert_allclose(motion.poses, alone.poses, atol=atol)
            assert motion.source_song == str(song)
    stochastic = {"sampler": "sde-dpm++", "foot_lock": False, **FAST}
    batch = gen.generate_many(songs, seed=5, **stochastic)
    for song, motion in zip(songs, batch, strict=True):
        alone = gen.generate(song, seed=5, **stochastic)
        np.testing.assert_allclose(motion.poses, alone.poses, atol=1e-4)
        assert motion.meta["generator"]["sampler"] == "sde-dpm++"
    assert gen.generate_many([]) == []
    with pytest.raises(TypeError):
        gen.generate_many(click_tracks["short"])


def test_variants_finish_one_sampling_run_once_per_setting(gen, click_tracks, monkeypatch):
    song = click_tracks["short"]
    runs = []
    sample = gen._sample
    monkeypatch.setattr(gen, "_sample", lambda *args: runs.append(1) or sample(*args))
    cleaned, raw = gen.generate_many_variants([song], foot_locks=(True, False), seed=3, **FAST)
    assert len(runs) == 1
    assert cleaned[0].meta["generator"]["foot_lock"] and not raw[0].meta["generator"]["foot_lock"]
    # each equals its own generate() call, and the clean-up moved the root
    np.testing.assert_allclose(raw[0].poses, gen.generate(song, seed=3, foot_lock=False, **FAST).poses,
                               atol=1e-5)
    np.testing.assert_allclose(cleaned[0].trans, gen.generate(song, seed=3, **FAST).trans, atol=1e-5)
    assert not np.allclose(cleaned[0].trans, raw[0].trans)
    assert gen.generate_many_variants([], foot_locks=(True, False)) == [[], []]
    with pytest.raises(ValueError, match="at least one"):
        gen.generate_many_variants([song], foot_locks=())


def test_ten_minute_song(gen, tmp_path, make_click_track):
    song = make_click_track(tmp_path / "ten.wav", 600.0)
    motion = gen.generate(song, **FAST)
    assert motion.num_frames == 600 * contract.FPS and np.isfinite(motion.poses).all()


def test_constraints_keep_joints_and_keyframes(gen, click_tracks):
    source = gen.generate(click_tracks["long"], seed=9, duration=4.0, **FAST)
    kept = constraints.keep_joints_constraint(source, "lower_body")
    edited = gen.generate(click_tracks["long"], seed=1, duration=6.0, constraint=kept, **FAST)
    assert edited.num_frames == 6 * contract.FPS
    frames, src = edited.to_features(), source.to_features()
    lower = kept.mask[0].numpy()
    rot = np.zeros(contract.FRAME_DIM, bool)
    rot[contract.ROTATIONS] = True
    # the kept channels of the first 4 s are the source's; the rest of the body is new
    np.testing.assert_allclose(frames[:120, lower & rot], src[:, lower & rot], atol=1e-4)
    assert np.abs(frames[:120, ~lower & rot] - src[:, ~lower & rot]).max() > 1e-3
    keys = constraints.keyframe_constraint(source, every=1.0)
    assert keys.mask.any(dim=1).nonzero().flatten().tolist() == [0, 30, 60, 90, 119]
    inbetween = gen.generate(click_tracks["long"], duration=4.0, constraint=keys, **FAST)
    np.testing.assert_allclose(inbetween.trans[[0, 60, 119]], source.trans[[0, 60, 119]],
                               atol=1e-5)
    # the beat warp leaves a constrained dance's timing alone: its keyframes stay where given
    warped = gen.generate(click_tracks["long"], duration=4.0, constraint=keys, beat_warp=0.5, **FAST)
    np.testing.assert_allclose(warped.trans, inbetween.trans, atol=1e-6)
    assert warped.meta["generator"]["beat_warp"] == 0.0


def test_missing_checkpoint_names_file_and_command(tmp_path):
    with pytest.raises(GeneratorCheckpointError) as err:
        DanceGenerator.load(tmp_path / "nothing")
    message = str(err.value)
    assert "nothing.safetensors" in message and "python -m generator.train" in message


def test_damaged_checkpoint_is_a_checkpoint_error(untrained_checkpoint, tmp_path):
    import shutil

    weights, config = checkpoint.checkpoint_paths(untrained_checkpoint)
    stem = tmp_path / "broken"
    shutil.copy(config, stem.with_suffix(".json"))
    (tmp_path / "broken.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(GeneratorCheckpointError, match="broken.safetensors"):
        DanceGenerator.load(stem)


def test_module_level_generate_uses_a_cached_default(untrained_checkpoint, click_tracks,
                                                     monkeypatch):
    monkeypatch.setattr(pipeline, "DEFAULT_CHECKPOINT", str(untrained_checkpoint))
    pipeline.default_generator.cache_clear()
    try:
        motion = pipeline.generate(click_tracks["short"], **FAST)
        assert motion.num_frames == 3 * contract.FPS
        assert pipeline.default_generator() is pipeline.default_generator()
    finally:
        pipeline.default_generator.cache_clear()


def test_motion_file_round_trip_keeps_song_and_offset(gen, click_tracks, tmp_path):
    motion = gen.generate(click_tracks["long"], start=1.0, duration=2.0, **FAST)
    back = load_motion(motion.save(tmp_path / "dance.npz"))
    assert back.source_song == motion.source_song and back.start_offset == 1.0
    assert back.model_hash == gen.model_hash and back.meta["tempo_bpm"] > 0


def test_song_with_no_clear_beat(gen, tmp_path):
    """A slowly swelling chord with no onsets at all still gets a dance of its full length."""
    import soundfile as sf

    sr, seconds = 22050, 8.0
    t = np.arange(int(sr * seconds)) / sr
    swell = 0.5 * (1.0 - np.cos(2.0 * np.pi * t / seconds))  # one smooth rise and fall
    chord = sum(np.sin(2.0 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3.0
    path = tmp_path / "drone.wav"
    sf.write(path, (0.3 * swell * chord).astype(np.float32), sr)
    motion = gen.generate(path, **FAST)
    assert motion.num_frames == round(seconds * contract.FPS)
    assert np.isfinite(motion.poses).all() and np.isfinite(motion.trans).all()


def test_foot_lock_changes_only_the_root_and_legs(gen, click_tracks):
    raw = gen.generate(click_tracks["short"], foot_lock=False, **FAST)
    locked = gen.generate(click_tracks["short"], **FAST)
    changed = [0] + [j for leg in LEGS for j in leg]  # root (turn snaps, generator.cleanup.turns) and legs
    others = [j for j in range(contract.NUM_JOINTS) if j not in changed]
    np.testing.assert_array_equal(raw.poses[:, others], locked.poses[:, others])
    np.testing.assert_allclose(raw.trans[:, contract.UP_AXIS], locked.trans[:, contract.UP_AXIS])
    assert locked.meta["generator"]["foot_lock"] and not raw.meta["generator"]["foot_lock"]
