"""Pay the audio front end's one-time costs at set-up, not in a user's first song.

    python -m motionbeat.audio.warmup     # scripts/setup.sh runs it once after installing

A fresh install spent 30-35 s of its first song's "features" stage (25 s example song, 2 busy
cores) compiling librosa's numba kernels; later runs spend 2-5 s there. Almost all of librosa's
kernels are declared ``cache=True``: compiled once, they are kept on disk (``librosa/__pycache__/*.nbi,
*.nbc`` beside librosa's sources, or under ``NUMBA_CACHE_DIR`` when that is set, or numba's
per-user cache folder when librosa's folder is not writable) and loaded by later processes.
:func:`warm_up` runs a short synthetic song through the same code paths as a real one
(decode and resample a file, beat analysis of a song with a clear pulse and of one without,
frame features, beat tokens), so every kernel a song needs is compiled and stored by set-up.
The one kernel librosa does not cache (``librosa.beat``'s ``__beat_local_score``) is imported
by :func:`motionbeat.audio.rhythm.librosa_beat` with the cache on. Measured in
``docs/audio_frontend.md`` ("First use").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from motionbeat.audio.decode import SAMPLE_RATE, load_audio
from motionbeat.audio.features import frame_features
from motionbeat.audio.rhythm import DEFAULT_BPM, Rhythm, analyse_rhythm, librosa_beat
from motionbeat.audio.tokens import beat_tokens

WARM_UP_SECONDS: float = 6.0
"""Length of each warm-up signal: 12 beats at DEFAULT_BPM, enough for a reliable beat track
(the code path with the meter and chroma cues), and short enough to analyse in well under 1 s."""
FILE_RATE: int = 44100
"""Rate of the warm-up file: a CD rate, so decoding also resamples to SAMPLE_RATE (soxr)."""
FILE_CHANNELS: int = 2
"""Channels of the warm-up file: stereo, so decoding also downmixes."""
CLICK_S: float = 0.03
"""Length of one click, seconds."""
CLICK_HZ: float = 1000.0
LEVEL: float = 0.5
"""Peak level of the warm-up signals, full scale (-6 dBFS)."""


def clicks(seconds: float = WARM_UP_SECONDS, sr: int = SAMPLE_RATE, bpm: float = DEFAULT_BPM) -> np.ndarray:
    """``(N,)`` float32: a CLICK_HZ click on every beat at ``bpm``, a louder one every 4th beat."""
    t = np.arange(int(seconds * sr)) / sr  # (N,) s
    beat = np.floor(t * bpm / 60.0)
    since_beat = t - beat * 60.0 / bpm
    accent = np.where(beat % 4 == 0, 1.0, 0.5)
    y = np.where(since_beat < CLICK_S, accent * np.sin(2 * np.pi * CLICK_HZ * t), 0.0)
    return (LEVEL * y).astype(np.float32)


def noise(seconds: float = WARM_UP_SECONDS, sr: int = SAMPLE_RATE) -> np.ndarray:
    """``(N,)`` float32 white noise: no pulse, so the beat analysis takes its fallback path."""
    rng = np.random.default_rng(0)
    return (LEVEL / 4 * rng.standard_normal(int(seconds * sr))).astype(np.float32)


def warm_up() -> dict[str, float | bool]:
    """Run the front end once over a pulsed and a pulse-less signal; compiles and stores librosa's
    numba kernels. Returns seconds per step and whether each signal took its intended path."""
    import soundfile

    times: dict[str, float | bool] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[name] = now - clock
        clock = now

    librosa_beat()
    lap("import librosa.beat")
    rhythms: list[Rhythm] = []
    with tempfile.TemporaryDirectory(prefix="motionbeat-warmup-") as tmp:
        for name, signal in (("clicks", clicks(sr=FILE_RATE)), ("noise", noise(sr=FILE_RATE))):
            path = Path(tmp) / f"{name}.wav"
            soundfile.write(path, np.repeat(signal[:, None], FILE_CHANNELS, axis=1), FILE_RATE)
            audio = load_audio(path)
            lap(f"decode {name}")
            rhythms.append(analyse_rhythm(audio))
            lap(f"rhythm {name}")
            features = frame_features(audio)
            beat_tokens(features, rhythms[-1])
            lap(f"features + tokens {name}")
    times["pulsed signal reliable"] = rhythms[0].reliable
    times["noise took the fallback"] = not rhythms[1].reliable
    return times


def cache_folder() -> str:
    """Where numba keeps librosa's compiled kernels in this process (for the set-up log)."""
    filters = sys.modules.get("librosa.filters")
    kernel = getattr(filters, "__window_ss_fill", None)
    cache = getattr(kernel, "_cache", None)
    return str(getattr(cache, "_cache_path", "unknown (librosa.filters not loaded)"))


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m motionbeat.audio.warmup",
                            description=__doc__.splitlines()[0]).parse_args(argv)
    clock = time.perf_counter()
    times = warm_up()
    print(f"audio front end warmed up in {time.perf_counter() - clock:.1f} s; "
          f"librosa's compiled kernels are kept in {cache_folder()}")
    for name, value in times.items():
        print(f"  {name}: {value:.2f} s" if not isinstance(value, bool) else f"  {name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
