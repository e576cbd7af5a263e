"""Music conditioners: librosa and MotionBeat features, phases, config fields, corpus cache."""

import shutil

import numpy as np
import pytest
import torch

from generator.model import conditioning as cd
from generator.model.config import LIBROSA_FEATURE_DIM
from generator.sampling.checkpoint import GeneratorCheckpointError, write_untrained_checkpoint
from generator.sampling.pipeline import DanceGenerator
from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.datasets.songs import load_corpus_songs
from motionbeat.encoder.encode import file_hash

BEAT_FRAMES = 15
"""Frames per beat of the 120 BPM click tracks at 30 fps."""


def _circular_distance(phase):
    return np.minimum(phase, 1.0 - phase)


def test_librosa_features_and_phase_of_a_click_track(click_tracks):
    rows = cd.LibrosaConditioner().condition(au.load_audio(click_tracks["long"]))
    frames = 40 * contract.FPS
    assert rows.features.shape == (frames, LIBROSA_FEATURE_DIM) and rows.num_frames == frames
    assert rows.phase.shape == (frames, 2) and rows.phase.dtype == np.float32
    assert rows.phase.min() >= 0.0 and rows.phase.max() < 1.0
    assert rows.tempo_bpm == pytest.approx(120.0, rel=0.02)
    # the beat phase wraps on the clicks: near 0 on beat frames, near 0.5 half-way between
    on_beat = rows.phase[BEAT_FRAMES * 4 : -BEAT_FRAMES * 4 : BEAT_FRAMES, 0]
    between = rows.phase[BEAT_FRAMES * 4 + BEAT_FRAMES // 2 : -BEAT_FRAMES * 4 : BEAT_FRAMES, 0]
    assert np.median(_circular_distance(on_beat)) < 0.1
    assert np.median(np.abs(between - 0.5)) < 0.1
    # the onset channel peaks on the clicks
    onset = rows.features[:, -1]
    assert onset[BEAT_FRAMES * 4 : -BEAT_FRAMES * 4].reshape(-1, BEAT_FRAMES).argmax(1).max() <= 2
    part = rows.sliced(30, 60)
    assert part.num_frames == 30 and part.start_frame == 30
    np.testing.assert_array_equal(part.phase, rows.phase[30:60])


def test_short_song_conditions(click_tracks):
    rows = cd.LibrosaConditioner().condition(au.load_audio(click_tracks["short"]))
    assert rows.features.shape == (3 * contract.FPS, LIBROSA_FEATURE_DIM)
    assert np.isfinite(rows.features).all() and np.isfinite(rows.phase).all()


def test_feature_statistics():
    rng = np.random.default_rng(0)
    rows = [
        cd.MusicCondition(
            features=rng.normal(3.0, 2.0, (n, 4)).astype(np.float32),
            phase=np.zeros((n, 2), np.float32), duration=n / contract.FPS, tempo_bpm=120.0,
            beats_per_bar=4, beat_times=np.zeros(0),
        )
        for n in (300, 500)
    ]
    mean, std = cd.feature_statistics(rows)
    everything = np.concatenate([r.features for r in rows])
    np.testing.assert_allclose(mean, everything.mean(0), rtol=1e-5)
    np.testing.assert_allclose(std, everything.std(0), rtol=1e-4)
    with pytest.raises(ValueError):
        cd.feature_statistics([])


def test_motionbeat_config_records_relative_encoder_and_hash(encoder_checkpoint, tmp_path):
    stem = tmp_path / "gens" / "g"
    cfg = cd.generator_config("tiny", "motionbeat", encoder_checkpoint, generator_stem=stem)
    assert cfg.conditioner == "motionbeat" and cfg.music_dim == 64  # the tiny encoder's width
    assert cfg.encoder_hash == file_hash(encoder_checkpoint.with_suffix(".safetensors"))
    assert not cfg.encoder_checkpoint.startswith("/")
    assert (stem.parent / cfg.encoder_checkpoint).resolve() == encoder_checkpoint.resolve()
    with pytest.raises(cd.ConditioningError, match="unknown conditioner"):
        cd.generator_config("tiny", "mfcc")


def test_motionbeat_generator_end_to_end_and_moved_together(encoder_checkpoint, click_tracks,
                                                            tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for suffix in (".safetensors", ".json"):
        shutil.copy(encoder_checkpoint.with_suffix(suffix), folder / f"motionbeat{suffix}")
    stem = write_untrained_checkpoint(folder / "generator", conditioner="motionbeat",
                                      encoder_checkpoint=folder / "motionbeat")
    assert DanceGenerator.load(stem).config.encoder_checkpoint == "motionbeat"
    moved = tmp_path / "elsewhere"
    shutil.copytree(folder, moved)
    gen = DanceGenerator.load(moved / "generator")
    motion = gen.generate(click_tracks["short"], steps=2)
    assert motion.num_frames == 3 * contract.FPS and motion.meta["generator"]["encoder_hash"]
    # changed encoder weights are refused, naming the encoder
    enc = moved / "motionbeat.safetensors"
    from safetensors.torch import load_file, save_file

    state = load_file(enc)
    first = next(iter(state))
    state[first] = state[first] + 1.0
    save_file(state, enc)
    with pytest.raises(GeneratorCheckpointError, match="changed"):
        DanceGenerator.load(moved / "generator")
    enc.unlink()
    with pytest.raises(GeneratorCheckpointError, match="motionbeat.safetensors"):
        DanceGenerator.load(moved / "generator")


def test_untrained_motionbeat_needs_an_encoder(tmp_path):
    with pytest.raises(ValueError, match="encoder_checkpoint"):
        write_untrained_checkpoint(tmp_path / "g", conditioner="motionbeat")


def test_corpus_rows_are_cached_and_reused(toy_corpus, monkeypatch):
    songs = load_corpus_songs(toy_corpus)
    conditioner = cd.LibrosaConditioner()
    cache = cd.cache_dir_for(toy_corpus, conditioner)
    assert cache.parent.name == "cache" and cache.name.startswith("generator-librosa-")
    first = cd.condition_corpus(songs, conditioner, cache)
    assert sorted(first) == sorted(s.song_id for s in songs)
    assert len(list(cache.glob("*.npz"))) == len(songs)
    for song in songs:
        rows = first[song.song_id]
        assert rows.num_frames == round(song.duration * contract.FPS)
        assert rows.tempo_bpm == pytest.approx(song.tempo_bpm)

    def refuse(song):
        raise AssertionError("recomputed a cached song")

    monkeypatch.setattr(conditioner, "condition_song", refuse)
    again = cd.condition_corpus(songs, conditioner, cache)
    for song_id, rows in first.items():
        np.testing.assert_array_equal(again[song_id].features, rows.features)
        np.testing.assert_array_equal(again[song_id].phase, rows.phase)


def test_corpus_rows_of_the_motionbeat_encoder(toy_corpus, encoder_checkpoint):
    conditioner = cd.MotionBeatConditioner(encoder_checkpoint, device="cpu")
    songs = load_corpus_songs(toy_corpus, ("val",), steps_per_beat=conditioner.steps_per_beat)
    cache = cd.cache_dir_for(toy_corpus, conditioner)
    assert conditioner.model_hash in cache.name
    rows = cd.condition_corpus(songs, conditioner, cache)[songs[0].song_id]
    assert rows.features.shape == (round(songs[0].duration * contract.FPS), 64)
    assert torch.isfinite(torch.from_numpy(rows.features)).all()
