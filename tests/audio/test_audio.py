"""Tests for motionbeat.audio: decoding, errors, beats and meter, frame features, beat tokens."""

import subprocess

import mir_eval
import numpy as np
import pytest
import soundfile

from motionbeat import audio as A
from motionbeat.audio.bench import click_track
from motionbeat.core.contract import FPS, FRAME_DIM

SR = A.SAMPLE_RATE


def _tone(seconds: float, sr: int, channels: int = 1) -> np.ndarray:
    """A 440 Hz tone at -10 dBFS, ``(N,)`` or ``(N, channels)``."""
    t = np.arange(int(round(seconds * sr))) / sr
    y = (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    return y if channels == 1 else np.repeat(y[:, None], channels, axis=1)  # (N, C)


def _ffmpeg_encode(wav, out, codec: str) -> None:
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True)
    if f" {codec} " not in encoders.stdout:
        pytest.skip(f"this ffmpeg build has no {codec} encoder")
    subprocess.run([exe, "-v", "error", "-y", "-i", str(wav), "-c:a", codec, str(out)],
                   check=True, capture_output=True)


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3", "m4a"])
def test_each_format_loads_at_the_analysis_rate(tmp_path, fmt):
    wav = tmp_path / "song.wav"
    soundfile.write(wav, _tone(2.0, 44100), 44100)
    path = tmp_path / f"song.{fmt}"
    if fmt in ("flac", "ogg"):
        soundfile.write(path, _tone(2.0, 44100), 44100)
    elif fmt == "mp3":
        _ffmpeg_encode(wav, path, "libmp3lame")
    elif fmt == "m4a":
        _ffmpeg_encode(wav, path, "aac")
    else:
        path = wav
    audio = A.load_audio(path)
    assert audio.sr == SR and audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.duration == pytest.approx(2.0, abs=0.06)  # lossy codecs pad by a frame or so
    assert audio.name == f"song.{fmt}"
    rms = float(np.sqrt(np.mean(audio.samples[SR // 4: -SR // 4] ** 2)))
    assert rms == pytest.approx(0.3 / np.sqrt(2), rel=0.1)  # LAME shaves ~0.5 dB off this tone


def test_stereo_44k_and_mono_8k(tmp_path):
    soundfile.write(tmp_path / "stereo.wav", _tone(1.5, 44100, channels=2), 44100)
    soundfile.write(tmp_path / "mono8k.wav", _tone(1.5, 8000), 8000)
    for name in ("stereo.wav", "mono8k.wav"):
        audio = A.load_audio(tmp_path / name)
        assert audio.sr == SR and audio.samples.shape == (round(1.5 * SR),)
    native = A.load_audio(tmp_path / "mono8k.wav", sr=8000)
    assert native.sr == 8000 and len(native.samples) == 12000


def test_audio_from_array_downmixes_channels_last():
    y = _tone(1.2, 16000, channels=2)
    y[:, 1] = 0.0  # (N, 2): one silent channel halves the amplitude
    audio = A.audio_from_array(y, 16000, target_sr=None)
    assert audio.sr == 16000 and audio.samples.shape == (y.shape[0],)
    np.testing.assert_allclose(audio.samples, y[:, 0] / 2, atol=1e-7)
    assert not audio.samples.flags.writeable
    pcm = (y[:, 0] * 32768).astype(np.int16)  # integer PCM is scaled to [-1, 1)
    np.testing.assert_allclose(A.audio_from_array(pcm, 16000).samples.max(), 0.3, atol=1e-3)


def test_the_four_errors_are_distinct_and_name_the_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    soundfile.write(tmp_path / "short.wav", _tone(0.3, SR), SR)
    soundfile.write(tmp_path / "zeros.wav", np.zeros(2 * SR, dtype=np.float32), SR)
    junk = np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    (tmp_path / "junk.mp3").write_bytes(junk)
    expected = {
        "empty.wav": A.EmptyAudioError,
        "short.wav": A.AudioTooShortError,
        "zeros.wav": A.SilentAudioError,
        "junk.mp3": A.UndecodableAudioError,
    }
    kinds = [A.EmptyAudioError, A.AudioTooShortError, A.SilentAudioError, A.UndecodableAudioError]
    for name, kind in expected.items():
        with pytest.raises(kind) as info:
            A.load_audio(tmp_path / name)
        assert isinstance(info.value, A.AudioError) and isinstance(info.value, ValueError)
        assert [isinstance(info.value, k) for k in kinds].count(True) == 1
        assert str(info.value).startswith(f"{name}: ")
    with pytest.raises(A.UndecodableAudioError, match="mp3"):
        A.load_audio(tmp_path / "junk.mp3")
    with pytest.raises(FileNotFoundError):
        A.load_audio(tmp_path / "missing.wav")
    with pytest.raises(A.EmptyAudioError):
        A.audio_from_array(np.zeros(0, dtype=np.float32), SR)


def test_click_track_at_120_bpm():
    song = click_track(120.0, 4, seconds=20.0, offset=0.25)
    rhythm = A.analyse_rhythm(A.audio_from_array(song.samples, song.sr))
    assert rhythm.reliable
    assert rhythm.tempo_bpm == pytest.approx(120.0, rel=0.02)
    assert mir_eval.beat.f_measure(song.beat_times, rhythm.beat_times, 0.07) > 0.9
    assert rhythm.beats_per_bar == 4
    assert mir_eval.beat.f_measure(song.downbeat_times, rhythm.downbeat_times, 0.07) > 0.9
    # the grid covers the song: no more than one period of silence at either end
    period = 60.0 / rhythm.tempo_bpm
    assert 0.0 <= rhythm.beat_times[0] < period
    assert rhythm.duration - period <= rhythm.beat_times[-1] < rhythm.duration
    assert np.array_equal(rhythm.downbeat_times, rhythm.beat_times[rhythm.bar_position == 0])


def test_a_tempo_hint_picks_the_octave():
    """A listener's tempo moves the beats to the metrical level nearest it, on the clicks."""
    song = click_track(100.0, 4, seconds=20.0, offset=0.25)
    audio = A.audio_from_array(song.samples, song.sr)
    half = A.analyse_rhythm(audio, tempo_hint=50.0)
    assert half.tempo_bpm == pytest.approx(50.0, rel=0.02)
    # every other click, the set with the accented downbeats (k = 0, 2, ...: louder)
    assert mir_eval.beat.f_measure(song.beat_times[0::2], half.beat_times, 0.07) > 0.9
    double = A.analyse_rhythm(audio, tempo_hint=200.0)
    assert double.tempo_bpm == pytest.approx(200.0, rel=0.02)
    eighths = np.sort(np.r_[song.beat_times, song.beat_times[:-1] + 0.3])  # clicks and midpoints
    assert mir_eval.beat.f_measure(eighths, double.beat_times, 0.07) > 0.9
    near = A.analyse_rhythm(audio, tempo_hint=110.0)  # within sqrt 2: the clicks themselves
    assert near.tempo_bpm == pytest.approx(100.0, rel=0.02)
    assert mir_eval.beat.f_measure(song.beat_times, near.beat_times, 0.07) > 0.9
    for bad in (30.0, 300.0, float("nan")):
        with pytest.raises(ValueError, match="tempo hint must be from 40 to 240"):
            A.analyse_rhythm(audio, tempo_hint=bad)


def test_accented_three_four_is_found():
    song = click_track(100.0, 3, seconds=20.0, offset=0.4)
    rhythm = A.analyse_rhythm(A.audio_from_array(song.samples, song.sr))
    assert rhythm.beats_per_bar == 3
    assert set(np.unique(rhythm.bar_position)) == {0, 1, 2}
    assert mir_eval.beat.f_measure(song.downbeat_times, rhythm.downbeat_times, 0.07) > 0.9


def test_no_clear_beat_falls_back_to_a_steady_grid():
    noise = 0.1 * np.random.default_rng(1).standard_normal(10 * SR)
    rhythm = A.analyse_rhythm(A.audio_from_array(noise.astype(np.float32), SR))
    assert not rhythm.reliable
    ibi = np.diff(rhythm.beat_times)
    np.testing.assert_allclose(ibi, ibi[0], rtol=1e-9)
    assert rhythm.beat_times[0] < ibi[0] and rhythm.beat_times[-1] >= rhythm.duration - ibi[0]
    assert rhythm.beats_per_bar == A.DEFAULT_METER


@pytest.mark.parametrize(("n_samples", "sr"), [(2 * SR + 367, SR), (2 * SR + 368, SR),
                                               (44100 + 1234, 44100), (16000 * 3 + 7, 16000)])
def test_frame_count_is_round_duration_times_fps(n_samples, sr):
    y = 0.1 * np.random.default_rng(2).standard_normal(n_samples).astype(np.float32)
    audio = A.audio_from_array(y, sr, target_sr=None)
    feats = A.frame_features(audio)
    t = round(n_samples / sr * FPS)
    assert feats.mel.shape == (t, A.N_MELS) and feats.onset.shape == (t,)
    assert A.num_frames(audio) == t and feats.fps == FPS


@pytest.mark.parametrize("shift", [0.0, 0.4, -0.4, 0.6])
def test_frame_t_is_centred_at_t_over_fps(shift):
    """A click at (30 + shift) / fps seconds is loudest in the frame nearest to it."""
    y = 1e-3 * np.random.default_rng(3).standard_normal(2 * SR)
    at = int(round((FPS + shift) / FPS * SR))
    y[at: at + 20] += 0.8 * np.hanning(20)
    feats = A.frame_features(A.audio_from_array(y.astype(np.float32), SR))
    energy = np.log(np.sum(10 ** (feats.mel / 10), axis=1))  # (T,)
    assert int(np.argmax(energy)) == round(FPS + shift)
    assert abs(int(np.argmax(feats.onset)) - (FPS + shift)) <= 1.0


def test_beat_tokens_phases_times_and_frames():
    song = click_track(132.0, 3, seconds=8.0, offset=0.3)
    audio = A.audio_from_array(song.samples, song.sr)
    rhythm = A.analyse_rhythm(audio)
    feats = A.frame_features(audio)
    s = 4
    tok = A.beat_tokens(feats, rhythm, steps_per_beat=s)
    n = len(tok.beat_phase)
    k = tok.num_beats
    assert n == k * s and tok.mel.shape == (n, A.N_MELS) and tok.onset.shape == (n,)
    assert tok.time_edges.shape == (n + 1,) and np.all(np.diff(tok.time_edges) > 0)
    assert tok.time_edges[0] <= 0.0 and tok.time_edges[-1] >= audio.duration
    for phase in (tok.beat_phase, tok.bar_phase):
        assert np.all((phase >= 0) & (phase < 1))
    np.testing.assert_allclose(tok.beat_phase.reshape(k, s), np.tile(np.arange(s) / s, (k, 1)))
    # bar phase rises within a bar and wraps to 0 exactly at downbeats
    steps = np.diff(tok.bar_phase)
    wraps = np.flatnonzero(steps < 0) + 1
    assert np.all(steps[steps >= 0] > 0)
    assert np.all(tok.bar_position[wraps] == 0) and np.all(tok.beat_phase[wraps] == 0)
    np.testing.assert_allclose(tok.bar_phase, (tok.bar_position + tok.beat_phase) / 3, atol=1e-6)
    # the real beats appear in order; added lead-in / tail beats are marked -1
    real = tok.beat_index.reshape(k, s)[:, 0]
    assert np.array_equal(real[real >= 0], np.arange(len(rhythm.beat_times)))
    np.testing.assert_allclose(tok.start_time.reshape(k, s)[real >= 0, 0], rhythm.beat_times)
    # frame ranges partition [0, T): every motion frame lands in exactly one token
    ranges = tok.frame_range  # (N, 2)
    assert ranges[0, 0] == 0 and ranges[-1, 1] == len(feats.onset)
    assert np.array_equal(ranges[1:, 0], ranges[:-1, 1])
    motion = np.random.default_rng(4).standard_normal((len(feats.onset), FRAME_DIM))  # (T, 151)
    pooled = A.pool_frames_to_tokens(motion, tok.frame_edges)
    assert pooled.shape == (n, FRAME_DIM)
    first = int(np.argmax(ranges[:, 1] > ranges[:, 0]))
    np.testing.assert_allclose(pooled[first], motion[ranges[first, 0]: ranges[first, 1]].mean(0))


def test_pool_frames_to_tokens_by_hand():
    frames = np.arange(6, dtype=np.float32)[:, None] * np.array([1.0, 10.0], np.float32)  # (6, 2)
    # token 0 owns frames 0, 1; token 1 owns frame 2; token 2 owns frames 3, 4, 5
    out = A.pool_frames_to_tokens(frames, [0.0, 2.0, 2.5, 6.0])
    np.testing.assert_allclose(out, [[0.5, 5.0], [2.0, 20.0], [4.0, 40.0]])
    assert out.dtype == np.float32
    # a token narrower than a frame owns none and interpolates at its centre; tokens past the
    # end take the last frame; edges may be negative
    out = A.pool_frames_to_tokens(frames[:, 0], [-0.5, 0.2, 0.6, 5.5, 7.0])
    np.testing.assert_allclose(out, [0.0, 0.4, 3.0, 5.0])
    cube = np.arange(24.0).reshape(4, 2, 3)  # (T, 2, 3): trailing axes are kept
    np.testing.assert_allclose(A.pool_frames_to_tokens(cube, [0, 4]), cube.mean(0, keepdims=True))
    with pytest.raises(ValueError, match="non-decreasing"):
        A.pool_frames_to_tokens(frames, [2.0, 1.0])
