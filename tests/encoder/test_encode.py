"""The frozen encoder: per-frame features at the motion rate, phases, determinism, caching."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.datasets.songs import load_corpus_songs, rhythm_from_beats
from motionbeat.datasets.toy import write_toy_corpus
from motionbeat.encoder import encode as en
from motionbeat.encoder.config import config_for
from motionbeat.encoder.model import MotionBeat, save_checkpoint

SECONDS = 8.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    write_toy_corpus(root, ("train", "test"), seconds=SECONDS)
    return root


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = MotionBeat(config_for("tiny"))
    stem = tmp_path_factory.mktemp("ckpt") / "mb-tiny"
    save_checkpoint(model, stem)
    return stem


@pytest.fixture(scope="module")
def encoder(checkpoint):
    return en.FrozenEncoder(checkpoint, device="cpu")


@pytest.fixture(scope="module")
def song(corpus):
    rec = json.loads((corpus / "manifest.json").read_text())["songs"][0]
    audio = au.load_audio(corpus / rec["audio"])
    rhythm = rhythm_from_beats(rec["beat_times"], rec["downbeat_times"], rec["beats_per_bar"],
                               audio.duration)
    return audio, rhythm


def test_features_at_the_motion_rate_with_phases(encoder, song, checkpoint):
    audio, rhythm = song
    music = encoder.encode(audio, rhythm=rhythm)
    t = round(audio.duration * contract.FPS)
    assert music.features.shape == (t, encoder.feature_dim) == (t, 64)
    assert music.features.dtype == np.float32 and np.isfinite(music.features).all()
    assert music.beat_phase.shape == music.bar_phase.shape == (t,)
    for phase in (music.beat_phase, music.bar_phase):
        assert phase.min() >= 0.0 and phase.max() < 1.0
    # exact beats at k * period: the phase of frame f is frac(f / fps / period)
    period = 60.0 / music.tempo_bpm
    expected = np.mod(np.arange(t) / contract.FPS / period, 1.0)
    np.testing.assert_allclose(music.beat_phase[:-10], expected[:-10], atol=1e-4)
    assert music.tempo_bpm == pytest.approx(rhythm.tempo_bpm)
    weights = checkpoint.with_name(checkpoint.name + ".safetensors").read_bytes()
    assert music.model_hash == hashlib.sha256(weights).hexdigest()[: en.HASH_CHARS]
    # features are constant within a token and change between tokens
    assert len(np.unique(music.features[:, 0])) > t // 8


def test_encoding_is_deterministic(encoder, checkpoint, song):
    audio, rhythm = song
    a = encoder.encode(audio, rhythm=rhythm)
    b = encoder.encode(audio, rhythm=rhythm)
    c = en.FrozenEncoder(checkpoint, device="cpu").encode(audio, rhythm=rhythm)
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.features, c.features)
    assert not encoder.model.training
    # (FrameFeatures, Rhythm) and a file path give the same result as Audio
    features = au.frame_features(audio)
    np.testing.assert_array_equal(encoder.encode((features, rhythm)).features, a.features)
    from_path = encoder.encode(audio.path)  # tracked beats: same length, own rhythm
    assert from_path.features.shape == a.features.shape


def test_a_three_second_song(encoder, song):
    audio, _ = song
    short = au.audio_from_array(audio.samples[: 3 * audio.sr], audio.sr)
    music = encoder.encode(short)
    assert music.features.shape == (3 * contract.FPS, encoder.feature_dim)
    assert np.isfinite(music.features).all()


def test_short_songs_are_one_window_and_long_songs_blend_windows(encoder, song):
    audio, rhythm = song
    tokens = au.beat_tokens(au.frame_features(audio), rhythm, encoder.config.steps_per_beat)
    k = encoder.config.beats_per_clip
    assert tokens.num_beats > k  # an 8 s song at >= 96 BPM has more than 8 beats
    starts = en.window_starts(tokens.num_beats, k)
    assert starts[0] == 0 and starts[-1] == tokens.num_beats - k
    assert all(0 < b - a <= k // 2 for a, b in zip(starts, starts[1:], strict=False))
    assert en.window_starts(5, k) == [0]
    w = en.window_weights(32)
    assert (w > 0).all() and np.allclose(w, w[::-1])
    # a song of <= K beats: exactly the model on all its tokens at once
    s = tokens.steps_per_beat
    n = 6 * s
    head = au.BeatTokens(
        mel=tokens.mel[:n], onset=tokens.onset[:n], beat_phase=tokens.beat_phase[:n],
        bar_phase=tokens.bar_phase[:n], bar_position=tokens.bar_position[:n],
        beat_index=tokens.beat_index[:n], time_edges=tokens.time_edges[: n + 1],
        steps_per_beat=s, beats_per_bar=tokens.beats_per_bar, fps=tokens.fps,
        num_frames=int(np.floor(tokens.frame_edges[n])),
    )
    with torch.no_grad():
        direct = encoder.model.audio_token_features(
            torch.as_tensor(head.mel)[None], torch.as_tensor(head.beat_phase)[None],
            torch.as_tensor(head.bar_phase)[None])[0].numpy()
    np.testing.assert_allclose(encoder.encode_tokens(head), direct, rtol=1e-5, atol=1e-5)
    # a long song: several windows, blended; every token gets finite features
    full = encoder.encode_tokens(tokens)
    assert full.shape == (len(tokens.beat_phase), encoder.feature_dim)
    assert np.isfinite(full).all()


def test_frame_owner_partitions_frames(song, encoder):
    audio, rhythm = song
    tokens = au.beat_tokens(au.frame_features(audio), rhythm, 4)
    owner = en.frame_owner(tokens, tokens.num_frames)
    assert len(owner) == tokens.num_frames and (np.diff(owner) >= 0).all()
    ranges = tokens.frame_range
    assert all(ranges[owner[f], 0] <= f < ranges[owner[f], 1] for f in range(0, len(owner), 7))


def test_encode_corpus_caches_and_resumes(corpus, encoder, tmp_path):
    out = tmp_path / "features"
    index = en.encode_corpus(corpus, out, encoder, progress=False)
    meta = json.loads(index.read_text())
    assert meta["model_hash"] == encoder.model_hash and meta["feature_dim"] == 64
    songs = load_corpus_songs(corpus)
    assert [e["song_id"] for e in meta["songs"]] == [s.song_id for s in songs]
    for entry, s in zip(meta["songs"], songs, strict=True):
        music = en.EncodedMusic.load(out / entry["file"])
        assert music.features.shape == (round(s.duration * contract.FPS), 64)
        # the corpus' own (exact) beats are used
        np.testing.assert_allclose(music.beat_times, s.beat_times)
        direct = encoder.encode_features(s.frame_features(), s.rhythm())
        np.testing.assert_array_equal(music.features, direct.features)
    stamp = (out / meta["songs"][0]["file"]).stat().st_mtime_ns
    encoder.encode_corpus(corpus, out, progress=False)
    assert (out / meta["songs"][0]["file"]).stat().st_mtime_ns == stamp  # skipped


def test_cli_encodes_one_song(checkpoint, corpus, tmp_path, capsys):
    flac = sorted((corpus / "audio").glob("*.flac"))[0]
    out = tmp_path / "song.npz"
    assert en.main(["--checkpoint", str(checkpoint), "--song", str(flac), "--out", str(out)]) == 0
    assert "frames x 64" in capsys.readouterr().out
    assert en.EncodedMusic.load(out).num_frames == round(SECONDS * contract.FPS)
