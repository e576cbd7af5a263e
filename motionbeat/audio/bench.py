"""Synthetic songs with known beats, and the audio front end's speed and accuracy benchmarks.

    python -m motionbeat.audio.bench              # seconds of compute per minute of audio
    python -m motionbeat.audio.bench --accuracy   # beat / downbeat F-measure, meter accuracy

Both print a Markdown table (the numbers in ``docs/audio_frontend.md`` come from here). The
synthesizers are also used by ``tests/audio/test_audio.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionbeat import audio as A

ACCURACY_TEMPI: tuple[float, ...] = (70.0, 84.0, 96.0, 108.0, 120.0, 132.0, 150.0, 165.0, 180.0)
"""Tempi of the accuracy grid, BPM: 70-180 as the brief asks, roughly evenly on a log scale."""
ACCURACY_SECONDS: float = 30.0
"""Length of each accuracy song: long enough for ~35-90 beats, short enough to run in minutes."""
NOISE_LEVELS_DB: tuple[float | None, ...] = (None, 10.0, 0.0)
"""Signal-to-noise ratios of the accuracy songs, dB of white noise under the music (None: clean;
0 dB: noise as loud as the music, a stress test)."""
BEAT_WINDOW: float = 0.07
"""F-measure tolerance, seconds: mir_eval.beat.f_measure's default (MIREX)."""
MMA_BARS: int = 16
"""Bars per mma song in ``--mma``: 16 bars is 25-55 s, enough beats to judge the meter."""
MMA_SEED: int = 1000
"""First seed of the ``--mma`` songs. The cue weighting of analyse_rhythm was chosen on seeds
0-47 and checked on 100-147; the numbers reported come from these unseen seeds."""
MMA_WALTZ_EVERY: int = 4
SPEED_MINUTES: tuple[float, ...] = (1.0, 3.0)
WARM_REPEATS: int = 3


@dataclass(frozen=True)
class SynthSong:
    """A synthetic song and its ground truth."""

    samples: np.ndarray  # (N,) float32 mono
    sr: int
    beat_times: np.ndarray  # (K,) seconds
    downbeat_times: np.ndarray  # (B,) seconds
    beats_per_bar: int
    bpm: float


def _decay(sr: int, seconds: float, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """``exp(-t / tau)`` and ``t`` over ``seconds``, both ``(sr * seconds,)``."""
    t = np.arange(int(sr * seconds)) / sr
    return np.exp(-t / tau), t


def click_track(
    bpm: float, beats_per_bar: int = 4, seconds: float = 10.0, sr: int = A.SAMPLE_RATE,
    *, offset: float = 0.0, accent: float = 2.0, noise_db: float | None = None, seed: int = 0,
) -> SynthSong:
    """Metronome: 1 kHz clicks on every beat, 2 kHz clicks ``accent`` times louder on downbeats.

    Beat k is at ``offset + k * 60 / bpm``. ``noise_db``: add white noise at that SNR (dB re the
    click track's RMS).
    """
    n = int(round(seconds * sr))
    y = np.zeros(n)
    env, t = _decay(sr, 0.03, 0.005)
    beats = offset + np.arange(int(np.ceil((seconds - offset) * bpm / 60))) * 60 / bpm
    beats = beats[beats < seconds]
    for k, b in enumerate(beats):
        down = k % beats_per_bar == 0
        click = (accent if down else 1.0) * env * np.sin(2 * np.pi * (2000 if down else 1000) * t)
        i = int(round(b * sr))
        y[i: i + len(click)] += click[: n - i]
    return _finish(y, sr, beats, beats[::beats_per_bar], beats_per_bar, bpm, noise_db, seed)


def drum_song(
    bpm: float, beats_per_bar: int = 4, seconds: float = 30.0, sr: int = A.SAMPLE_RATE,
    *, offset: float = 0.0, noise_db: float | None = None, seed: int = 0,
) -> SynthSong:
    """A small band: kick on beat 1 (and 3 in 4/4), snare on the other beats, closed hi-hat on
    eighth notes, a bass note and a triad that change chord on every downbeat (I-vi-IV-V)."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    y = np.zeros(n)
    period = 60 / bpm
    beats = offset + np.arange(int(np.ceil((seconds - offset) / period))) * period
    beats = beats[beats < seconds]

    def add(at: float, sound: np.ndarray) -> None:
        i = int(round(at * sr))
        if i < n:
            y[i: i + len(sound)] += sound[: n - i]

    env, t = _decay(sr, 0.25, 0.06)
    kick = env * np.sin(2 * np.pi * (50 + 100 * np.exp(-t / 0.02)) * t)  # pitch-dropping sine
    env_s, _ = _decay(sr, 0.15, 0.04)
    snare = 0.5 * env_s * rng.standard_normal(len(env_s))
    env_h, _ = _decay(sr, 0.05, 0.01)
    hat = 0.15 * env_h * np.diff(rng.standard_normal(len(env_h) + 1))  # high-passed noise
    roots = (0, 9, 5, 7)  # I vi IV V, semitones above C2 (65.4 Hz)
    for k, b in enumerate(beats):
        pos = k % beats_per_bar
        if pos == 0 or (beats_per_bar == 4 and pos == 2):
            add(b, kick * (1.0 if pos == 0 else 0.6))
        else:
            add(b, snare)
        add(b, hat)
        add(b + period / 2, hat * 0.7)
        if pos == 0:  # one chord per bar
            bar = k // beats_per_bar
            f0 = 65.4 * 2 ** (roots[bar % 4] / 12)
            length = period * beats_per_bar
            tt = np.arange(int(length * sr)) / sr
            fade = np.minimum(1.0, (length - tt) / 0.02) * np.minimum(1.0, tt / 0.01)
            chord = sum(np.sin(2 * np.pi * f0 * 4 * 2 ** (s / 12) * tt) for s in (0, 4, 7))
            add(b, fade * (0.3 * np.sin(2 * np.pi * f0 * tt) + 0.08 * chord))
    return _finish(y, sr, beats, beats[::beats_per_bar], beats_per_bar, bpm, noise_db, seed)


def _finish(y, sr, beats, downbeats, meter, bpm, noise_db, seed) -> SynthSong:
    if noise_db is not None:
        rms = np.sqrt(np.mean(y**2))
        noise = np.random.default_rng(seed + 1).standard_normal(len(y))
        y = y + rms * 10 ** (-noise_db / 20) * noise
    y = 0.5 * y / np.max(np.abs(y))  # peak at -6 dBFS
    return SynthSong(y.astype(np.float32), sr, beats, downbeats, meter, bpm)


# --- accuracy ----------------------------------------------------------------------------------
def accuracy(seconds: float = ACCURACY_SECONDS) -> list[dict]:
    """Run analyse_rhythm over tempi x meters x {clicks, drums} x {clean, noisy}; one row each."""
    import mir_eval

    rows = []
    for kind, synth in (("clicks", click_track), ("drums", drum_song)):
        for noise_db in NOISE_LEVELS_DB:
            for meter in (3, 4):
                for i, bpm in enumerate(ACCURACY_TEMPI):
                    offset = 0.37 * (i % 3)  # songs that do not start on a beat
                    song = synth(bpm, meter, seconds, offset=offset, seed=i,
                                 noise_db=noise_db)
                    r = A.analyse_rhythm(A.audio_from_array(song.samples, song.sr))
                    rows.append({
                        "kind": kind, "noise_db": noise_db, "meter": meter, "bpm": bpm,
                        "est_bpm": r.tempo_bpm, "est_meter": r.beats_per_bar,
                        "reliable": r.reliable, "clarity": r.pulse_clarity,
                        "beat_f": mir_eval.beat.f_measure(song.beat_times, r.beat_times,
                                                          BEAT_WINDOW),
                        "downbeat_f": mir_eval.beat.f_measure(song.downbeat_times,
                                                              r.downbeat_times, BEAT_WINDOW),
                        "aml_t": mir_eval.beat.continuity(song.beat_times, r.beat_times)[3],
                    })
    return rows


def mma_rows(n_songs: int, max_bars: int = MMA_BARS) -> list[dict]:
    """Run analyse_rhythm over ``n_songs`` random mma + fluidsynth songs (seeds from MMA_SEED).

    Uses ``motionbeat.music.mma`` (the corpus builder) when it and its tools are present;
    returns no rows otherwise.
    """
    import mir_eval

    try:
        from motionbeat.music import mma as music_mma
        music_mma.check_tools()
    except (ImportError, RuntimeError):
        return []
    waltzes = tuple(s for s in music_mma.discover_grooves() if s.beats_per_bar == 3)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n_songs):
            # every MMA_WALTZ_EVERY-th song from a 3/4 style (random styles are mostly 4/4)
            styles = waltzes if i % MMA_WALTZ_EVERY == 0 else None
            seed = MMA_SEED + i
            sheet = music_mma.random_sheet(f"bench{seed}", seed, styles, max_bars=max_bars)
            song = music_mma.render_song(sheet, tmp)
            r = A.analyse_rhythm(A.load_audio(song.wav))
            rows.append({
                "kind": f"mma {sheet.style}", "noise_db": None, "meter": sheet.beats_per_bar,
                "bpm": sheet.bpm, "est_bpm": r.tempo_bpm, "est_meter": r.beats_per_bar,
                "reliable": r.reliable, "clarity": r.pulse_clarity,
                "beat_f": mir_eval.beat.f_measure(song.beat_times, r.beat_times, BEAT_WINDOW),
                "downbeat_f": mir_eval.beat.f_measure(song.downbeat_times, r.downbeat_times,
                                                      BEAT_WINDOW),
                "aml_t": mir_eval.beat.continuity(song.beat_times, r.beat_times)[3],
            })
    return rows


def no_beat_rows(seconds: float = ACCURACY_SECONDS) -> list[dict]:
    """Songs without a pulse: white noise and a steady chord. They must not crash."""
    sr = A.SAMPLE_RATE
    t = np.arange(int(seconds * sr)) / sr
    songs = {
        "white noise": 0.1 * np.random.default_rng(0).standard_normal(len(t)),
        "drone chord": 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)),
    }
    rows = []
    for name, y in songs.items():
        r = A.analyse_rhythm(A.audio_from_array(y.astype(np.float32), sr))
        rows.append({"kind": name, "reliable": r.reliable, "clarity": r.pulse_clarity,
                     "est_bpm": r.tempo_bpm, "beats": len(r.beat_times)})
    return rows


_HEADER = ("| signal | noise | meter | songs | beat F | AMLt | downbeat F | meter acc. "
           "| tempo within 2% |\n|---|---|---|---|---|---|---|---|---|")


def _line(kind: str, noise: str, meter: str, sel: list[dict]) -> str:
    """One Markdown row: mean scores over the songs ``sel``."""
    return (
        f"| {kind} | {noise} | {meter} | {len(sel)} "
        f"| {np.mean([r['beat_f'] for r in sel]):.3f} "
        f"| {np.mean([r['aml_t'] for r in sel]):.3f} "
        f"| {np.mean([r['downbeat_f'] for r in sel]):.3f} "
        f"| {np.mean([r['est_meter'] == r['meter'] for r in sel]):.3f} "
        f"| {np.mean([abs(r['est_bpm'] / r['bpm'] - 1) < 0.02 for r in sel]):.3f} |"
    )


def _accuracy_table(rows: list[dict]) -> str:
    lines = [_HEADER]
    for kind in ("clicks", "drums"):
        for noise_db in NOISE_LEVELS_DB:
            for meter in (3, 4):
                sel = [r for r in rows if (r["kind"], r["noise_db"], r["meter"])
                       == (kind, noise_db, meter)]
                noise = "clean" if noise_db is None else f"{noise_db:g} dB SNR"
                lines.append(_line(kind, noise, str(meter), sel))
    lines.append(_line("all", "all", "3+4", rows))
    return "\n".join(lines)


def _summary_table(rows: list[dict]) -> str:
    lines = [_HEADER]
    for meter in sorted({r["meter"] for r in rows}):
        lines.append(_line("mma", "clean", str(meter), [r for r in rows if r["meter"] == meter]))
    lines.append(_line("mma", "clean", "all", rows))
    return "\n".join(lines)


# --- speed -------------------------------------------------------------------------------------
def _front_end(path: Path) -> None:
    audio = A.load_audio(path)
    rhythm = A.analyse_rhythm(audio)
    features = A.frame_features(audio)
    A.beat_tokens(features, rhythm)


def _time_child(path: str) -> None:
    """In a fresh interpreter: wall and CPU seconds of the first (cold) call, then the medians
    over WARM_REPEATS warm calls, as one JSON line."""

    def timed() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        _front_end(Path(path))
        return time.perf_counter() - wall, time.process_time() - cpu

    cold = timed()
    warm = np.median([timed() for _ in range(WARM_REPEATS)], axis=0)  # (2,) wall, cpu
    print(json.dumps({"cold": cold[0], "cold_cpu": cold[1],
                      "warm": float(warm[0]), "warm_cpu": float(warm[1])}))


def speed() -> str:
    """Seconds per minute of audio for load + rhythm + features + tokens: a Markdown table.

    Each song runs in two fresh interpreters: one with an empty numba cache (``NUMBA_CACHE_DIR``
    pointed at a new folder: the first call compiles librosa's numba kernels, as right after
    installing), one with numba's on-disk cache as it is. "warm" is the median of WARM_REPEATS
    later calls in the second one. CPU seconds (``time.process_time``) are less disturbed than
    wall-clock seconds by other work on the machine.
    """
    import soundfile

    lines = ["| song | call | wall s | CPU s | wall s / min of audio | CPU s / min of audio |",
             "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in SPEED_MINUTES:
            song = drum_song(120.0, 4, minutes * 60)
            path = Path(tmp) / f"song_{minutes:g}min.wav"
            soundfile.write(path, song.samples, song.sr)
            runs = []
            for cache in (Path(tmp) / f"numba{minutes:g}", None):
                env = dict(os.environ)
                if cache is not None:
                    env["NUMBA_CACHE_DIR"] = str(cache)
                out = subprocess.run(
                    [sys.executable, "-m", "motionbeat.audio.bench", "--child", str(path)],
                    check=True, capture_output=True, text=True, env=env,
                ).stdout
                runs.append(json.loads(out.strip().splitlines()[-1]))
            empty, cached = runs
            for call, wall, cpu in (
                ("cold, empty JIT cache", empty["cold"], empty["cold_cpu"]),
                ("cold, JIT cached on disk", cached["cold"], cached["cold_cpu"]),
                (f"warm (median of {WARM_REPEATS})", cached["warm"], cached["warm_cpu"]),
            ):
                lines.append(f"| {minutes:g} min wav | {call} | {wall:.2f} | {cpu:.2f} "
                             f"| {wall / minutes:.2f} | {cpu / minutes:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accuracy", action="store_true", help="beat/downbeat/meter accuracy")
    parser.add_argument("--mma", type=int, default=0, metavar="N",
                        help="with --accuracy: also N random mma + fluidsynth songs")
    parser.add_argument("--verbose", action="store_true", help="print every accuracy song")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _time_child(args.child)
        return
    print(f"machine: {_cpu_name()} ({platform.machine()}), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    if args.accuracy:
        rows = accuracy()
        print(_accuracy_table(rows))
        if args.mma:
            mma = mma_rows(args.mma)
            print()
            print(_summary_table(mma) if mma else "mma songs: skipped (mma / fluidsynth missing)")
            rows += mma
        print()
        print("| no-beat signal | reliable | pulse clarity | tempo | beats |")
        print("|---|---|---|---|---|")
        for r in no_beat_rows():
            print(f"| {r['kind']} | {r['reliable']} | {r['clarity']:.3f} | {r['est_bpm']:.1f} "
                  f"| {r['beats']} |")
        if args.verbose:
            for r in rows:
                print(json.dumps(r, default=float))
    else:
        print(speed())


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
