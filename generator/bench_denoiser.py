"""Time the denoiser and long-form sampling on this machine (untrained weights; speed only).

    python -m generator.bench_denoiser [--sizes tiny small base] [--seconds 60] [--repeats 5]

Prints, per size, the parameter count and the time of one denoiser call at batch 1 x one window
(with the music encoding, and with the condition cached as sampling does), then the full
long-form sample of ``--seconds`` of music with the small config and its default sampler, steps
and guidance. Times are the minimum and median over ``--repeats`` runs: on a shared machine the
minimum is the machine's speed, the median what a user sees under load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch

from generator.model.config import GENERATOR_SIZES, SAMPLERS, config_for
from generator.model.denoiser import Denoiser
from generator.model.diffusion import make_sampling_scheduler
from generator.sampling.longform import sample_long
from motionbeat.core import contract

DEFAULT_THREADS: int = 2
"""Threads torch may use: the target machine has 2 CPU cores."""
BENCH_TIMESTEP: int = 500
"""Diffusion step fed to the single-call timing (the cost does not depend on it)."""


def _timed(fn: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """(min wall, median wall, min CPU) seconds of ``fn()`` over ``repeats`` runs after a warm-up.

    CPU time (this process, all threads) does not grow when other programs share the cores, so
    with one thread it is a load-independent measure of the work; with two it also counts the
    time the threads spend waiting for each other.
    """
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), statistics.median(walls), min(cpus)


@torch.inference_mode()
def bench_call(size: str, repeats: int) -> dict[str, float]:
    cfg = config_for(size)
    model = Denoiser(cfg).eval()
    frames = cfg.window_frames
    x = torch.randn(1, frames, cfg.frame_dim)
    music = torch.randn(1, frames, cfg.music_dim)
    phase = torch.rand(1, frames, cfg.phase_dim)
    cond = model.encode_condition(music, phase)
    full = _timed(lambda: model(x, BENCH_TIMESTEP, music, phase), repeats)
    cached = _timed(lambda: model.denoise(x, BENCH_TIMESTEP, cond), repeats)
    return {
        "params_M": model.num_parameters() / 1e6,
        "call_ms": full[0] * 1e3,
        "call_median_ms": full[1] * 1e3,
        "call_cpu_ms": full[2] * 1e3,
        "cached_ms": cached[0] * 1e3,
        "cached_median_ms": cached[1] * 1e3,
        "cached_cpu_ms": cached[2] * 1e3,
    }


@torch.inference_mode()
def bench_song(size: str, seconds: float, repeats: int, sampler: str | None) -> dict[str, float]:
    cfg = config_for(size)
    model = Denoiser(cfg).eval()
    scheduler = make_sampling_scheduler(cfg, sampler)
    frames = round(seconds * contract.FPS)
    music = torch.randn(frames, cfg.music_dim)
    phase = torch.rand(frames, cfg.phase_dim)
    gen = torch.Generator().manual_seed(0)
    best, median, cpu = _timed(
        lambda: sample_long(model, scheduler, music, phase, generator=gen), repeats
    )
    return {
        "seconds": best,
        "median_seconds": median,
        "cpu_seconds": cpu,
        "per_music_second": best / seconds,
    }


def _load() -> str:
    """The 1-minute load average, to judge how shared the cores were ("?" where unknown)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(GENERATOR_SIZES))
    parser.add_argument("--song-size", default="small")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sampler", choices=SAMPLERS, default=None)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {_load()}")
    print(f"one call, batch 1 x {contract.WINDOW_FRAMES} frames (min / median of {args.repeats}):")
    for size in args.sizes:
        r = bench_call(size, args.repeats)
        print(
            f"  {size:<6} {r['params_M']:6.2f}M params  full {r['call_ms']:7.1f} / "
            f"{r['call_median_ms']:7.1f} ms (cpu {r['call_cpu_ms']:7.1f})  cached condition "
            f"{r['cached_ms']:7.1f} / {r['cached_median_ms']:7.1f} ms "
            f"(cpu {r['cached_cpu_ms']:7.1f})"
        )
    cfg = config_for(args.song_size)
    sampler = args.sampler or cfg.sampler
    print(
        f"long-form {args.seconds:g} s of music, {args.song_size}, {sampler} "
        f"{cfg.sample_steps} steps, guidance {cfg.guidance_weight:g}, "
        f"overlap {cfg.overlap_frames} frames:"
    )
    r = bench_song(args.song_size, args.seconds, max(1, args.repeats // 2), args.sampler)
    print(
        f"  {r['seconds']:.2f} s (median {r['median_seconds']:.2f} s, cpu {r['cpu_seconds']:.2f} s)"
        f" = {r['per_music_second']:.3f} s per second of music"
    )


if __name__ == "__main__":
    main()
