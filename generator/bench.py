"""Time song -> dance stage by stage: seconds per second of music, first call and warm, and memory.

    python -m generator.bench [--checkpoint checkpoints/generator] [--seconds 60] [--device cpu] \
        [--threads 2] [--repeats 3] [--song PATH] [--out docs/generator_bench.md]

The song is synthetic unless ``--song`` is given: ``motionbeat.audio.bench.drum_song`` (kick,
snare, hi-hats, a bass note and a triad changing chord every bar, I-vi-IV-V) at 120 BPM in 4/4,
``--seconds`` long, written as a 16-bit wav. Stages, each the library call the pipeline itself
makes (:mod:`generator.sampling.pipeline`, :mod:`generator.model.conditioning`), in pipeline order:

1. **load checkpoint**: :meth:`DanceGenerator.load` (weights, and the encoder for MotionBeat).
2. **decode**: ``motionbeat.audio.load_audio`` (soundfile + soxr to 22.05 kHz mono).
3. **front end + rhythm**: ``motionbeat.audio.frame_features`` (log-mel + onset at 30 fps) and
   ``motionbeat.audio.analyse_rhythm`` (beats, downbeats, meter).
4. **encoder**: the conditioner's work on those: ``FrozenEncoder.encode_features`` (beat tokens,
   windowed encoder, per-frame features and phases) when the checkpoint's conditioner is
   ``"motionbeat"``; for ``"librosa"`` there is no encoder and the row is the beat grid and the
   phases (``LibrosaConditioner.from_features``).
5. **sampling**: the denoiser over all windows (``generator.sampling.longform.sample_long``: steps x 2
   guided calls per window, windows fused at every step) and the frames -> ``Motion``
   conversion, timed inside :meth:`DanceGenerator.generate` from its ``progress("sampling", 0)``
   call to its return.
6. **total song -> motion**: ``DanceGenerator.generate(path)``, wall clock.

"pipeline features stage" is the time ``generate`` spent before sampling (2-4 as run inside it),
a check that the separate stage calls time the same work.

**First call** is each stage's first call in this process, in pipeline order (librosa's numba
kernels compile or load from numba's disk cache then; torch allocates its first buffers); the
first-call total is the sum of the first calls of stages 2-5. **Warm** is the median over
``--repeats`` later calls (wall clock; CPU seconds, ``time.process_time`` of this process over all
threads, are given too: they grow less than wall time when other programs share the cores).
Per second of music = seconds / song seconds.

**Memory**: the process' peak resident set (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, a
high-water mark over the whole run: it is read after each first-call stage, so it shows which
stage raised it); for the torch-free stages (decode, front end, librosa conditioning) the peak of
Python and numpy allocations inside the stage (``tracemalloc``, in a separate untimed call, since
tracing slows allocation down); on CUDA the peak of ``torch.cuda.max_memory_allocated`` inside
each stage (reset before it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import torch

from motionbeat import audio as au
from motionbeat.core.fileio import atomic_path

DEFAULT_THREADS: int = 2
"""torch CPU threads (the target machine has 2 cores)."""
DEFAULT_SECONDS: float = 60.0
DEFAULT_REPEATS: int = 3
SONG_BPM: float = 120.0
SONG_METER: int = 4
SEED: int = 0
STAGES: tuple[str, ...] = (
    "load checkpoint", "decode", "front end + rhythm", "encoder", "pipeline features stage",
    "sampling", "total song -> motion",
)
"""Row keys of the table, in pipeline order."""
STAGE_SUM: tuple[str, ...] = ("decode", "front end + rhythm", "encoder", "sampling")
"""Stages whose first calls add up to the first-call total."""
TORCH_FREE: tuple[str, ...] = ("decode", "front end + rhythm")
"""Stages without torch, whose allocations tracemalloc sees (plus librosa conditioning)."""
NA: str = "–"


def synthetic_song(path: str | os.PathLike, seconds: float, bpm: float = SONG_BPM,
                   meter: int = SONG_METER) -> Path:
    """Write ``motionbeat.audio.bench.drum_song`` (module docstring) as a 16-bit wav, atomically."""
    import soundfile

    from motionbeat.audio.bench import drum_song

    song = drum_song(bpm, meter, seconds, au.SAMPLE_RATE, seed=SEED)
    path = Path(path)
    with atomic_path(path) as tmp:
        soundfile.write(tmp, song.samples, song.sr, subtype="PCM_16", format="WAV")
    return path


def _peak_rss_mib() -> float:
    """Peak resident set of this process so far, MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


class _Clock:
    """Times calls: wall and CPU seconds, and on CUDA the peak allocated memory inside the call."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()

    def __call__(self, fn: Callable[[], object]) -> tuple[object, dict[str, float]]:
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
        self.sync()
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        self.sync()
        stats = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
        if self.cuda:
            stats["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
        return out, stats


def _traced_peak_mib(fn: Callable[[], object]) -> float:
    """Peak of Python / numpy allocations during ``fn()``, MiB (tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _conditioning(gen) -> tuple[str, Callable[[au.FrameFeatures, au.Rhythm], object]]:
    """(what the encoder row measures, the call) for the checkpoint's conditioner."""
    cond = gen.conditioner
    if gen.config.conditioner == "motionbeat":
        return "FrozenEncoder.encode_features", cond.encoder.encode_features
    return "no encoder (librosa): beat grid + phases, LibrosaConditioner.from_features", cond.from_features


def bench(
    checkpoint: str | os.PathLike,
    song: str | os.PathLike,
    *,
    device: str = "cpu",
    repeats: int = DEFAULT_REPEATS,
    seed: int = SEED,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Measure every stage on ``song`` (module docstring); returns the numbers as a dict."""
    from generator.sampling.pipeline import DanceGenerator

    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    say = log or (lambda msg: None)
    dev = torch.device(device)
    clock = _Clock(dev)
    rss: dict[str, float] = {"start": _peak_rss_mib()}
    first: dict[str, dict[str, float]] = {}
    warm_runs: dict[str, list[dict[str, float]]] = {k: [] for k in STAGES if k != "load checkpoint"}

    say("load checkpoint")
    gen, first["load checkpoint"] = clock(lambda: DanceGenerator.load(checkpoint, device=device))
    rss["load checkpoint"] = _peak_rss_mib()
    encoder_what, condition = _conditioning(gen)

    def stages(record: dict[str, dict[str, float]] | None) -> dict[str, dict[str, float]]:
        """One pass over stages 2-6; ``record`` collects the first call of each."""
        out: dict[str, dict[str, float]] = {}
        audio, out["decode"] = clock(lambda: au.load_audio(song))
        if record is not None:
            rss["decode"] = _peak_rss_mib()
        (features, rhythm), out["front end + rhythm"] = clock(
            lambda: (au.frame_features(audio), au.analyse_rhythm(audio)))
        if record is not None:
            rss["front end + rhythm"] = _peak_rss_mib()
        _, out["encoder"] = clock(lambda: condition(features, rhythm))
        if record is not None:
            rss["encoder"] = _peak_rss_mib()
        marks: dict[str, float] = {}

        def progress(stage: str, fraction: float) -> None:
            if stage == "sampling" and "sampling" not in marks:
                clock.sync()
                marks["sampling"] = time.perf_counter()
                marks["sampling_cpu"] = time.process_time()
                if clock.cuda:  # from here on the CUDA peak is the sampling stage's
                    marks["cuda_before"] = torch.cuda.max_memory_allocated() / 2**20
                    torch.cuda.reset_peak_memory_stats()

        start, start_cpu = time.perf_counter(), time.process_time()
        motion, out["total song -> motion"] = clock(
            lambda: gen.generate(song, seed=seed, progress=progress))
        end, end_cpu = time.perf_counter(), time.process_time()
        out["pipeline features stage"] = {"wall": marks["sampling"] - start,
                                          "cpu": marks["sampling_cpu"] - start_cpu}
        out["sampling"] = {"wall": end - marks["sampling"], "cpu": end_cpu - marks["sampling_cpu"]}
        if clock.cuda:
            total = out["total song -> motion"]
            out["sampling"]["cuda_peak_mib"] = total["cuda_peak_mib"]
            total["cuda_peak_mib"] = max(total["cuda_peak_mib"], marks["cuda_before"])
        if record is not None:
            rss["sampling"] = rss["total song -> motion"] = _peak_rss_mib()
            record.update(out)
            record["_frames"] = {"wall": float(motion.num_frames), "cpu": 0.0}
        return out

    say("first calls")
    stages(first)
    num_frames = int(first.pop("_frames")["wall"])
    for r in range(repeats):
        say(f"warm call {r + 1}/{repeats}")
        for k, v in stages(None).items():
            warm_runs[k].append(v)

    say("tracemalloc (torch-free stages)")
    audio = au.load_audio(song)
    features, rhythm = au.frame_features(audio), au.analyse_rhythm(audio)
    traced = {
        "decode": _traced_peak_mib(lambda: au.load_audio(song)),
        "front end + rhythm": _traced_peak_mib(lambda: (au.frame_features(audio), au.analyse_rhythm(audio))),
    }
    if gen.config.conditioner == "librosa":
        traced["encoder"] = _traced_peak_mib(lambda: condition(features, rhythm))

    seconds = audio.duration
    first_total = sum(first[k]["wall"] for k in STAGE_SUM)
    first_total_cpu = sum(first[k]["cpu"] for k in STAGE_SUM)
    rows = []
    for key in STAGES:
        warm = warm_runs.get(key, [])
        row = {
            "stage": key,
            "first_s": first_total if key == "total song -> motion" else first[key]["wall"],
            "first_cpu_s": first_total_cpu if key == "total song -> motion" else first[key]["cpu"],
            "warm_s": statistics.median(w["wall"] for w in warm) if warm else None,
            "warm_cpu_s": statistics.median(w["cpu"] for w in warm) if warm else None,
            "peak_rss_mib": rss.get(key),
            "traced_peak_mib": traced.get(key),
            "cuda_peak_mib": max((w.get("cuda_peak_mib", 0.0) for w in warm), default=None)
            if dev.type == "cuda" and warm else None,
        }
        if key == "total song -> motion":
            row["first_measured_s"] = first[key]["wall"]  # the first generate(): stages 2-4 warm
        for name in ("first_s", "warm_s"):
            row[name.replace("_s", "_per_music_s")] = (
                None if row[name] is None or key == "load checkpoint" else row[name] / seconds)
        rows.append(row)
    return {
        "checkpoint": str(checkpoint),
        "conditioner": gen.config.conditioner,
        "encoder_row": encoder_what,
        "untrained": gen.untrained,
        "model_hash": gen.model_hash,
        "parameters_M": sum(p.numel() for p in gen.model.parameters()) / 1e6,
        "sample_steps": gen.config.sample_steps,
        "sampler": gen.config.sampler,
        "guidance": gen.config.guidance_weight,
        "beat_guidance": gen.config.beat_guidance,
        "song": str(song),
        "song_seconds": seconds,
        "motion_frames": num_frames,
        "device": str(dev) + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""),
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average": _load_average(),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "repeats": repeats,
        "peak_rss_start_mib": rss["start"],
        "rows": rows,
    }


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _f(x, digits: int = 3) -> str:
    return NA if x is None else f"{x:.{digits}f}"


def format_markdown(result: dict, command: str = "") -> str:
    """The measurements as a markdown page: setup, the stage table, notes."""
    r = result
    lines = ["# Generator speed: song -> dance", ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += [
        f"- checkpoint `{r['checkpoint']}` ({r['conditioner']} conditioner, "
        f"{r['parameters_M']:.2f} M parameters, {r['sampler']} {r['sample_steps']} steps, guidance "
        f"{r['guidance']:g}"
        + (f", beat guidance {r['beat_guidance']:g}" if r.get("beat_guidance") else "")
        + f"{', untrained weights' if r['untrained'] else ''})",
        f"- song `{Path(r['song']).name}`: {r['song_seconds']:.1f} s -> {r['motion_frames']} frames",
        f"- {r['device']}, torch {r['torch']} with {r['threads']} thread(s), {r['cpus']} CPUs, "
        f"load average {r['load_average']} at the end; warm = median of {r['repeats']}",
        f"- encoder row: {r['encoder_row']}",
        "",
        "| stage | first call s | warm s | warm CPU s | first s / s of music | warm s / s of music "
        "| peak RSS MiB | traced peak MiB | CUDA peak MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        lines.append(
            f"| {row['stage']} | {_f(row['first_s'])} | {_f(row['warm_s'])} "
            f"| {_f(row['warm_cpu_s'])} | {_f(row['first_per_music_s'], 4)} "
            f"| {_f(row['warm_per_music_s'], 4)} | {_f(row['peak_rss_mib'], 0)} "
            f"| {_f(row['traced_peak_mib'], 1)} | {_f(row['cuda_peak_mib'], 1)} |"
        )
    total = next(row for row in r["rows"] if row["stage"] == "total song -> motion")
    lines += [
        "",
        "First call: each stage's first call in a fresh process, in pipeline order; the first-call "
        "total is the sum of decode, front end + rhythm, encoder and sampling (the first "
        f"`generate()` itself, with those stages already warm, took {total['first_measured_s']:.2f} s). "
        "Warm: later calls. \"pipeline features stage\" = what `generate()` spent before sampling "
        "(decode + front end + encoder inside it).",
        "",
        f"Peak RSS: the process high-water mark after each first-call stage (it started at "
        f"{r['peak_rss_start_mib']:.0f} MiB after imports); traced peak: Python and numpy "
        "allocations inside the torch-free stages (tracemalloc); CUDA peak: "
        "`torch.cuda.max_memory_allocated` inside the stage, on CUDA only.",
        "",
    ]
    return "\n".join(lines)


def write_markdown(result: dict, out: str | os.PathLike, command: str = "") -> tuple[Path, Path]:
    """Write the page and the numbers as JSON beside it (``.json``), atomically."""
    out = Path(out)
    json_path = out.with_suffix(".json")
    with atomic_path(out) as tmp:
        tmp.write_text(format_markdown(result, command))
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(dict(result, command=command), indent=1, default=float) + "\n")
    return out, json_path


def main(argv: list[str] | None = None) -> int:
    from generator.sampling.checkpoint import DEFAULT_CHECKPOINT, GeneratorCheckpointError

    p = argparse.ArgumentParser(prog="python -m generator.bench", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help="generator checkpoint stem")
    p.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="length of the synthetic song")
    p.add_argument("--song", type=Path, default=None, help="time this song instead of a synthetic one")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="torch CPU threads")
    p.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help="warm calls (median)")
    p.add_argument("--out", type=Path, default=Path("docs/generator_bench.md"))
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    command = "python -m generator.bench " + shlex.join(sys.argv[1:] if argv is None else argv)

    def log(msg: str) -> None:
        if not a.quiet:
            print(f"[bench] {msg}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="generator-bench-") as tmp:
        song = a.song or synthetic_song(Path(tmp) / f"drums_{a.seconds:g}s.wav", a.seconds)
        try:
            result = bench(a.checkpoint, song, device=a.device, repeats=a.repeats, log=log)
        except (GeneratorCheckpointError, FileNotFoundError, au.AudioError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    md, _ = write_markdown(result, a.out, command)
    print(format_markdown(result, command))
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
