"""Song -> finished mp4 for songs of any length: wall time and peak memory per stage.

    python -m generator.bench_longsong [--minutes 0.5 3 10] [--checkpoint checkpoints/generator] \
        [--format mp3] [--body mannequin] [--size 512] [--threads 2] [--out docs/longsong_bench.md]

Every length is a synthetic song (``motionbeat.audio.bench.drum_song``: drums, bass and chords
at 120 BPM in 4/4) written as ``--format`` (mp3 by default, what people bring), and goes through
what ``python -m generator.sample SONG --out DIR`` does, in a fresh process of its own (so one
length's memory does not hide another's), stage by stage:

1. **start-up**: Python, imports and :meth:`DanceGenerator.load` (process start to loaded).
2. **decode**: ``motionbeat.audio.load_audio``.
3. **features**: :meth:`DanceGenerator.generate` on the decoded song, from its start to its
   ``progress("sampling", 0)`` call (beats, frame features, the MotionBeat encoder).
4. **sampling**: the rest of that call (long-form diffusion over all windows, foot locking).
5. **export**: ``render.export.export_motion`` to ``.npz``, ``.pkl`` and ``.bvh``.
6. **render**: ``render.video.render_video`` (its default worker processes and ffmpeg).

Memory, per stage: **main peak** is the high-water mark of the resident set of the main process
inside the stage (Linux: ``/proc/self/clear_refs`` resets ``VmHWM`` before the stage and
``/proc/self/status`` is read after it, so the number is exact and covers numpy, torch and
librosa alike); **tree peak** is the largest sum of the resident sets of the main process and
all its children (render workers, ffmpeg), sampled every :data:`SAMPLE_EVERY_S` with psutil.
The numbers in ``docs/longsong_bench.md`` come from here; this is a script, never a timed test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from motionbeat.core.fileio import atomic_path

DEFAULT_MINUTES: tuple[float, ...] = (0.5, 3.0, 10.0)
"""Song lengths of the issue: a clip, a pop song, a long mix."""
DEFAULT_THREADS: int = 2
"""torch CPU threads (the target machine has 2 cores)."""
SONG_BPM: float = 120.0
SONG_METER: int = 4
SEED: int = 0
SAMPLE_EVERY_S: float = 0.05
"""Interval of the process-tree memory sampler, seconds."""
STAGES: tuple[str, ...] = ("start-up", "decode", "features", "sampling", "export", "render")
MIB: int = 2**20
KIB: int = 2**10


# --- the song --------------------------------------------------------------------------------
def write_song(path: Path, seconds: float) -> Path:
    """``drum_song`` of ``seconds`` at SONG_BPM written to ``path`` (format from its suffix)."""
    import soundfile

    from motionbeat import audio as au
    from motionbeat.audio.bench import drum_song

    song = drum_song(SONG_BPM, SONG_METER, seconds, au.SAMPLE_RATE, seed=SEED)
    with atomic_path(path) as tmp:
        soundfile.write(tmp, song.samples, song.sr, format=path.suffix.lstrip(".").upper())
    return path


# --- memory ----------------------------------------------------------------------------------
def _reset_peak() -> None:
    """Reset this process's resident-set high-water mark (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def _peak_mib() -> float:
    """This process's resident-set high-water mark since the last reset, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * KIB / MIB
    raise OSError("no VmHWM in /proc/self/status")


class _TreeSampler:
    """Samples the summed resident set of this process and its children in a thread."""

    def __init__(self):
        import psutil

        self.me = psutil.Process()
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> float:
        """Take one sample now; returns the peak so far, MiB."""
        import psutil

        total = 0
        for proc in [self.me, *self.me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):  # ended between listing and reading
                total += proc.memory_info().rss
        self.peak = max(self.peak, total / MIB)
        return self.peak

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(SAMPLE_EVERY_S)

    def reset(self) -> None:
        self.peak = 0.0

    def __enter__(self) -> _TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --- one song, in a child process ------------------------------------------------------------
def run_song(song: Path, out_dir: Path, checkpoint: str, body: str, size: int) -> dict:
    """All stages for one song in this process; returns seconds and MiB per stage."""
    import psutil

    stages: dict[str, dict[str, float]] = {}
    with _TreeSampler() as tree:

        def finish(name: str, started: float) -> float:
            now = time.perf_counter()
            stages[name] = {"s": now - started, "main_peak_mib": _peak_mib(), "tree_peak_mib": tree.sample()}
            _reset_peak()
            tree.reset()
            return now

        import torch

        from generator.sampling.pipeline import DanceGenerator
        from motionbeat import audio as au
        from render.export import export_motion
        from render.video import render_video

        gen = DanceGenerator.load(checkpoint, device="cpu")
        started_up = time.time() - psutil.Process().create_time()
        clock = time.perf_counter()
        stages["start-up"] = {"s": started_up, "main_peak_mib": _peak_mib(), "tree_peak_mib": tree.sample()}
        _reset_peak()
        tree.reset()

        audio = au.load_audio(song)
        clock = finish("decode", clock)
        marks: dict[str, float] = {}

        def progress(stage: str, fraction: float) -> None:
            if stage == "sampling" and stage not in marks:
                marks[stage] = finish("features", clock)

        motion = gen.generate(audio, seed=SEED, progress=progress)
        clock = finish("sampling", marks["sampling"])
        stem = out_dir / song.stem
        for suffix in (".npz", ".pkl", ".bvh"):
            export_motion(motion, stem.with_suffix(suffix))
        clock = finish("export", clock)
        render_video(motion, song, stem.with_suffix(".mp4"), body=body, size=size,
                     beats=motion.meta.get("beat_times") or None)
        finish("render", clock)
    return {"song_s": audio.duration, "frames": motion.num_frames, "torch_threads": torch.get_num_threads(),
            "stages": stages}


# --- the table -------------------------------------------------------------------------------
def _row(minutes: float, result: dict) -> str:
    stages = result["stages"]
    total = sum(stages[name]["s"] for name in STAGES)
    cells = [f"{stages[name]['s']:.2f}" for name in STAGES]
    mem = [f"{stages[name]['main_peak_mib']:.0f} / {stages[name]['tree_peak_mib']:.0f}" for name in STAGES]
    return (f"| {minutes:g} min | {' | '.join(cells)} | **{total:.1f}** | "
            f"{total / result['song_s']:.2f} | {' | '.join(mem)} |")


def format_table(rows: list[tuple[float, dict]]) -> str:
    """Markdown: seconds per stage and the real-time factor, then main / tree peak MiB per stage."""
    head = " | ".join(STAGES)
    lines = [
        f"| song | {head} | total s | s per s of song | "
        + " | ".join(f"{name} MiB" for name in STAGES) + " |",
        "|---" * (3 + 2 * len(STAGES)) + "|",
    ]
    lines += [_row(minutes, result) for minutes, result in rows]
    return "\n".join(lines)


def _load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    from generator.sampling.checkpoint import DEFAULT_CHECKPOINT

    p = argparse.ArgumentParser(prog="python -m generator.bench_longsong",
                                description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, nargs="+", default=list(DEFAULT_MINUTES))
    p.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT)
    p.add_argument("--format", default="mp3", choices=("mp3", "wav", "ogg", "flac"))
    p.add_argument("--body", default="mannequin")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=None, help="also write the table to this file")
    p.add_argument("--child", nargs=2, metavar=("SONG", "JSON"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        import torch

        torch.set_num_threads(a.threads)
        song, result_path = Path(a.child[0]), Path(a.child[1])
        result = run_song(song, result_path.parent, a.checkpoint, a.body, a.size)
        result_path.write_text(json.dumps(result))
        return 0
    command = "python -m generator.bench_longsong " + shlex.join(sys.argv[1:] if argv is None else argv)
    rows: list[tuple[float, dict]] = []
    with tempfile.TemporaryDirectory(prefix="longsong-bench-") as tmp:
        for minutes in a.minutes:
            song = write_song(Path(tmp) / f"drums_{minutes:g}min.{a.format}", minutes * 60)
            result_path = Path(tmp) / f"{song.stem}.json"
            print(f"[bench] {song.name}: load average {_load_average()}", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, "-m", "generator.bench_longsong", "--checkpoint", a.checkpoint,
                            "--body", a.body, "--size", str(a.size), "--threads", str(a.threads),
                            "--child", str(song), str(result_path)], check=True)
            rows.append((minutes, json.loads(result_path.read_text())))
            print(format_table(rows[-1:]), file=sys.stderr, flush=True)
    page = "\n".join([
        f"command: `{command}`", "",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch threads {a.threads}, "
        f"load average (1 / 5 / 15 min) {_load_average()} at the end; song format {a.format}, "
        f"body {a.body}, {a.size} px", "",
        "Seconds per stage; memory per stage as main-process peak / process-tree peak, MiB.", "",
        format_table(rows), "",
    ])
    print(page)
    if a.out is not None:
        with atomic_path(a.out) as tmp_out:
            tmp_out.write_text(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
