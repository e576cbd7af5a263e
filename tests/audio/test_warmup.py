"""``motionbeat.audio.warmup``: set-up compiles every numba kernel a song needs, and keeps it."""

import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from motionbeat.audio import warmup
from motionbeat.audio.rhythm import librosa_beat

SONG_CHECK = """
import sys
import soundfile
from motionbeat import audio as A
from motionbeat.audio.bench import drum_song
from motionbeat.audio.warmup import noise
song = drum_song(96.0, 3, 20.0, sr=48000, offset=0.3)
soundfile.write(sys.argv[1], song.samples, song.sr, format="OGG")
for audio in (A.load_audio(sys.argv[1]), A.audio_from_array(noise(20.0), A.SAMPLE_RATE)):
    A.beat_tokens(A.frame_features(audio), A.analyse_rhythm(audio))
"""
"""A song unlike the warm-up's signals (waltz, ogg at 48 kHz, not starting on a beat) and noise,
through decode, rhythm, features and tokens."""


def _cache_files(folder) -> dict[str, int]:
    """Every file under ``folder`` with its modification time (ns)."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_warm_up_takes_both_rhythm_paths_and_restores_numba():
    plain = numba.guvectorize
    times = warmup.warm_up()
    assert times["pulsed signal reliable"] is True
    assert times["noise took the fallback"] is True
    assert numba.guvectorize is plain
    assert librosa_beat() is sys.modules["librosa.beat"]
    assert Path(warmup.cache_folder()).is_dir()


@pytest.mark.slow
def test_after_the_warm_up_a_song_compiles_nothing_new(tmp_path):
    """In an empty numba cache (a fresh install), run the warm-up, then a song: the song's
    process finds every kernel it needs on disk and writes no new one."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    subprocess.run([sys.executable, "-m", "motionbeat.audio.warmup"], check=True, env=env,
                   capture_output=True, timeout=600)
    cached = _cache_files(tmp_path / "numba")
    assert any("__beat_local_score" in name for name in cached)  # librosa's uncached kernel
    subprocess.run([sys.executable, "-c", SONG_CHECK, str(tmp_path / "song.ogg")], check=True,
                   env=env, capture_output=True, timeout=600)
    assert _cache_files(tmp_path / "numba") == cached
