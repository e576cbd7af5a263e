"""Song cache, beat-synchronous clips and the hard-negative batch sampler, on a toy corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.datasets import clips
from motionbeat.datasets import songs as dataset
from motionbeat.datasets.batches import HardNegativeBatchSampler, collate
from motionbeat.datasets.clips import ClipDataset, canonical_root
from motionbeat.datasets.songs import covered_beats, load_aistpp_songs, load_corpus_songs, rhythm_from_beats
from motionbeat.music.groove_families import groove_family

K = 8  # beats per clip, the configs' default


@pytest.fixture(scope="module")
def songs(corpus):
    return load_corpus_songs(corpus)


def test_groove_families():
    assert groove_family("jazzwaltz") == "waltz"
    assert groove_family("rock-128") == "rock_pop"
    assert groove_family("bossanova") == groove_family("son") == "latin"
    assert groove_family("countryblues") == "blues"
    assert groove_family("westernswing") == "country"
    assert groove_family("folkyjazz") == "jazz_swing"
    assert groove_family("rb") == "funk_soul"
    assert groove_family("") == ""


def test_rhythm_from_beats_numbers_bars_from_the_first_downbeat():
    beats = np.arange(10) * 0.5
    r = rhythm_from_beats(beats, beats[2::4], 4, 5.0)
    assert r.bar_position.tolist() == [2, 3, 0, 1, 2, 3, 0, 1, 2, 3]
    np.testing.assert_allclose(r.downbeat_times, [1.0, 3.0])
    assert r.tempo_bpm == pytest.approx(120.0)


def test_songs_are_pooled_onto_one_token_grid(songs, corpus):
    assert [s.split for s in songs] == ["train"] * 4 + ["val", "test"]
    manifest = json.loads((corpus / "manifest.json").read_text())
    for song, rec in zip(songs, manifest["songs"], strict=True):
        tok = song.tokens
        n = len(tok.beat_phase)
        assert song.motion.shape == (2, n, contract.FRAME_DIM)
        assert song.contact_pulse.shape == song.kinetic_energy.shape == (2, n)
        assert tok.steps_per_beat == au.STEPS_PER_BEAT and tok.beats_per_bar == rec["beats_per_bar"]
        assert tok.num_frames == round(rec["duration"] * contract.FPS)
        assert song.beats_exact and song.genre == groove_family(rec["groove"]["style"])
        # exact beats: the grid's beat edges are the record's beats
        np.testing.assert_allclose(tok.time_edges[:: tok.steps_per_beat][: len(rec["beat_times"])],
                                   rec["beat_times"], atol=1e-6)
        assert (song.kinetic_energy >= 0).all() and (song.contact_pulse >= 0).all()
        first, stop = song.beat_range[0]
        edges = tok.frame_edges[:: tok.steps_per_beat]
        assert edges[first] >= -0.5 and edges[stop] <= tok.num_frames + 0.5
        assert stop - first >= K + 2
    # pooled motion is the mean of the frames each token owns
    song = songs[0]
    with np.load(corpus / "shards" / f"{song.song_id}.npz") as z:
        frames = dataset.motion_frames(z["poses"], z["trans"], float(z["fps"]))  # (D, T, C)
    a, b = song.tokens.frame_range[5]
    np.testing.assert_allclose(song.motion[1, 5], frames[1, a:b].mean(0), rtol=1e-5, atol=1e-6)


def test_cache_is_reused_and_invalidated(corpus, songs, monkeypatch):
    cache = dataset.default_cache_dir(corpus, au.STEPS_PER_BEAT)
    assert sorted(p.stem for p in cache.glob("*.npz")) == sorted(s.song_id for s in songs)

    def boom(*args, **kwargs):
        raise AssertionError("recomputed a cached song")

    monkeypatch.setattr(dataset, "_compute_song", boom)
    again = load_corpus_songs(corpus, ("test",))
    assert [s.song_id for s in again] == [songs[-1].song_id]
    np.testing.assert_array_equal(again[0].motion, songs[-1].motion)
    features = again[0].frame_features()
    assert features.mel.shape == (again[0].tokens.num_frames, au.N_MELS)
    monkeypatch.undo()

    # a changed record (other beats) is recomputed, not read from the stale file
    manifest = json.loads((corpus / "manifest.json").read_text())
    rec = manifest["songs"][-1]
    original = list(rec["beat_times"])
    rec["beat_times"] = [t + 0.05 for t in original]
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    try:
        shifted = load_corpus_songs(corpus, ("test",))[0]
        assert shifted.beat_times[0] == pytest.approx(original[0] + 0.05)
    finally:
        rec["beat_times"] = original
        (corpus / "manifest.json").write_text(json.dumps(manifest))
        load_corpus_songs(corpus, ("test",))
    assert dataset.frontend_version(4) != dataset.frontend_version(2)


def test_clips_and_their_jitter_windows(songs):
    ds = ClipDataset(songs, K, jitter_beats=1, stride_beats=2)
    assert len(ds) > 0
    item = ds[3]
    n = K * au.STEPS_PER_BEAT
    assert item["audio"].shape == (n, au.N_MELS) and item["motion"].shape == (n, contract.FRAME_DIM)
    assert item["jitter_motion"].shape == (2, n, contract.FRAME_DIM)
    assert item["jitter_bar_phase"].shape == (2, n)
    song, dance, start = ds.clip(3)
    # the jitter windows are the same dance one beat earlier and later
    for j, shift in enumerate((-1, 1)):
        window = ds.window(song, dance, start + shift)
        np.testing.assert_array_equal(item["jitter_motion"][j], window["motion"])
        np.testing.assert_array_equal(item["jitter_bar_phase"][j], window["bar_phase"])
    # root x / z relative to the window's first token; height kept
    assert item["motion"][0, clips.ROOT_X] == 0 and item["motion"][0, clips.ROOT_Z] == 0
    assert item["motion"][0, clips.ROOT_X + 1] > 0.5
    raw = ds.songs[song].motion[dance, start * au.STEPS_PER_BEAT]
    np.testing.assert_allclose(item["motion"][0, 7:], raw[7:])
    # exact beats: the local tempo is the song's tempo
    assert item["tempo"] == pytest.approx(ds.songs[song].tempo_bpm, rel=1e-4)
    # every clip and its spare beats lie inside the beats the dance covers
    for i in range(len(ds)):
        s, d, b = ds.clip(i)
        first, stop = ds.songs[s].beat_range[d]
        assert first <= b - 1 and b + K + 1 <= stop
    batch = collate([ds[i] for i in range(4)])
    assert batch["audio"].shape == (4, n, au.N_MELS) and batch["song"].dtype == torch.int64
    gallery = ClipDataset(songs, K, jitter_beats=0, stride_beats=K, first_dance_only=True)
    assert set(gallery.clip_dance.tolist()) == {0} and gallery[0]["jitter_motion"].shape[0] == 0
    mean_a, std_a, mean_m, std_m = ds.input_statistics(max_clips=16)
    assert mean_a.shape == std_a.shape == (au.N_MELS,)
    assert mean_m.shape == std_m.shape == (contract.FRAME_DIM,) and (std_a > 0).all()


def test_canonical_root_and_covered_beats(songs):
    x = np.random.default_rng(0).normal(size=(2, 5, contract.FRAME_DIM)).astype(np.float32)
    y = canonical_root(x)
    assert (y[:, 0, clips.ROOT_X] == 0).all() and (y[:, 0, clips.ROOT_Z] == 0).all()
    np.testing.assert_allclose(y[:, :, clips.ROOT_X] - x[:, :, clips.ROOT_X],
                               -x[:, :1, clips.ROOT_X].repeat(5, 1), atol=1e-6)
    tok = songs[0].tokens
    first, stop = covered_beats(tok, tok.num_frames)
    short_first, short_stop = covered_beats(tok, tok.num_frames // 2)
    assert short_first == first and short_stop < stop
    assert covered_beats(tok, 0) == (0, 0)


def _toy_clips():
    # 3 songs: two at ~120 BPM (within 4 %), one at 90; 10 clips each
    song = np.repeat([0, 1, 2], 10)
    start = np.tile(np.arange(10) * 2, 3)
    tempo = np.repeat([120.0, 122.0, 90.0], 10)
    return song, start, tempo


def test_batches_hold_same_song_and_same_tempo_negatives():
    song, start, tempo = _toy_clips()
    sampler = HardNegativeBatchSampler(song, start, tempo, 8, group_size=4, same_song=1, seed=3)
    assert len(sampler) == 4  # ceil(30 / 8)
    batches = list(sampler)
    assert len(batches) == 4
    for batch in batches:
        assert len(batch) == 8 and len(set(batch)) == 8
        windows = {(song[i], start[i]) for i in batch}
        assert len(windows) == 8
        s = song[batch]
        # each group of 4: anchor + one of its song + tempo neighbours (songs 0 and 1 pair up)
        for g in range(0, 8, 4):
            group = s[g:g + 4]
            assert (group[1:] == group[0]).any()
            if group[0] in (0, 1):
                assert set(group.tolist()) <= {0, 1} and len(set(group.tolist())) == 2
    # deterministic per (seed, epoch); another epoch draws other batches
    assert list(sampler) == batches
    sampler.set_epoch(1)
    assert list(sampler) != batches
    # resuming mid-epoch yields the rest of the same epoch
    sampler.set_epoch(1, start_batch=2)
    tail = list(sampler)
    sampler.set_epoch(1)
    assert tail == list(sampler)[2:]


def test_sampler_shards_batches_across_processes():
    song, start, tempo = _toy_clips()
    one = HardNegativeBatchSampler(song, start, tempo, 4, seed=0)
    two = [HardNegativeBatchSampler(song, start, tempo, 4, seed=0, num_replicas=2, rank=r)
           for r in (0, 1)]
    full = list(one)
    assert len(two[0]) == len(two[1]) == len(full) // 2
    assert list(two[0]) == full[0::2][: len(two[0])]
    assert list(two[1]) == full[1::2][: len(two[1])]


def test_tiny_datasets_give_smaller_batches():
    sampler = HardNegativeBatchSampler(np.array([0, 0, 1]), np.array([0, 2, 0]),
                                       np.array([100.0, 100.0, 130.0]), 8)
    (batch,) = list(sampler)
    assert sorted(batch) == [0, 1, 2]


def test_aistpp_release_is_read_as_songs(tmp_path, corpus):
    """A fake AIST++ root: 2 sequences on one music piece, one more on another."""
    import shutil

    from motionbeat.core.motion import Motion

    root = tmp_path / "aist"
    (root / "motions").mkdir(parents=True)
    (root / "wav").mkdir()
    (root / "splits").mkdir()
    songs_src = sorted((corpus / "audio").glob("*.flac"))[:2]
    seqs = {"gBR_sBM_cAll_d04_mBR0_ch01": "train", "gBR_sBM_cAll_d05_mBR0_ch02": "train",
            "gPO_sBM_cAll_d04_mPO1_ch01": "test"}
    import soundfile as sf

    for music, src in zip(("mBR0", "mPO1"), songs_src, strict=True):
        y, sr = sf.read(src)
        sf.write(root / "wav" / f"{music}.wav", y, sr)
    shard = np.load(corpus / "shards" / f"{songs_src[0].stem}.npz")
    for i, name in enumerate(seqs):
        frames = 200 - 40 * i  # unequal lengths
        Motion(shard["poses"][0][:frames], shard["trans"][0][:frames]).save(
            root / "motions" / f"{name}.pkl")
    for split in ("train", "val", "test"):
        names = [n for n, s in seqs.items() if s == split]
        (root / "splits" / f"crossmodal_{split}.txt").write_text("\n".join(names) + "\n")
    songs = load_aistpp_songs(root, cache_dir=tmp_path / "cache")
    assert [(s.song_id, s.split, s.genre, s.num_dances) for s in songs] == [
        ("mBR0", "train", "BR", 2), ("mPO1", "test", "PO", 1)]
    br = songs[0]
    # 200 and 160 frames (written at 60 fps, read back at 30): the shorter covers fewer beats
    assert br.beat_range[1, 1] < br.beat_range[0, 1]
    edges = br.tokens.frame_edges[:: br.tokens.steps_per_beat]
    assert edges[br.beat_range[1, 1]] <= 160 + 0.5 < edges[br.beat_range[0, 1]]
    assert [s.song_id for s in load_aistpp_songs(root, ("test",), cache_dir=tmp_path / "cache")
            ] == ["mPO1"]
    shutil.rmtree(root)
