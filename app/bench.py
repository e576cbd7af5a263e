"""``python -m app.bench``: time whole-song requests through the app's library, stage by stage.

    python -m app.bench --seconds 100 600 --video-size 64 --size tiny
    python -m app.bench --seconds 100 --checkpoint checkpoints/generator --json bench.json

Each song is a click track with a bass line synthesised here (:func:`click_song`: exact beats,
written as mp3, what people bring); each is danced whole by :meth:`app.service.DanceService.generate`
after the service's warm-up, as the server does, and the table gives the stages'
:attr:`~app.service.DanceResult.timings`. Without ``--checkpoint`` the generator is a seeded
untrained one of ``--size`` (the cost of a trained one of the same size is the same).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
import torch

from app.request import DanceSettings, Limits, format_seconds
from app.service import DEFAULT_VIDEO_SIZE, DanceService
from motionbeat.core.fileio import atomic_path

SONG_SAMPLE_RATE = 22050
BPM = 120.0
BEATS_PER_BAR = 4
CLICK_S = 0.03
CLICK_HZ = (1500.0, 1000.0)
"""Downbeat and other beats."""
BASS_HZ = (55.0, 73.4, 82.4, 65.4)
"""One bass note per bar, in turn."""
BASS_DECAY_PER_S = 3.0
LEVEL = 0.4
DEFAULT_SECONDS = (100.0, 600.0)
TIMING_KEYS = ("check_s", "generate_s", "render_s", "finish_s")


def click_song(path: str | Path, seconds: float, sample_rate: int = SONG_SAMPLE_RATE) -> Path:
    """A click track at :data:`BPM` with accented downbeats over a bass line, ``seconds`` long, at ``path``.

    The format follows the suffix (``.mp3``, ``.wav``, ``.flac``; libsndfile).
    """
    t = np.arange(int(seconds * sample_rate)) / sample_rate  # (N,) s
    beat = np.floor(t * BPM / 60.0).astype(np.int64)
    since_beat = t - beat * 60.0 / BPM
    click_hz = np.where(beat % BEATS_PER_BAR == 0, CLICK_HZ[0], CLICK_HZ[1])
    clicks = np.where(since_beat < CLICK_S, np.sin(2 * np.pi * click_hz * t), 0.0)
    bass_hz = np.asarray(BASS_HZ)[(beat // BEATS_PER_BAR) % len(BASS_HZ)]
    bass = 0.5 * np.sin(2 * np.pi * bass_hz * t) * np.exp(-BASS_DECAY_PER_S * since_beat)
    path = Path(path)
    soundfile.write(path, (LEVEL * (clicks + bass)).astype(np.float32), sample_rate)
    return path


def run(
    seconds: list[float], service: DanceService, folder: Path, steps: int | None = None
) -> list[dict[str, float]]:
    """Dance a synthesised song of each length whole; one row of timings per song."""
    rows = []
    for length in seconds:
        song = click_song(folder / f"clicks_{length:g}s.mp3", length)
        clock = time.perf_counter()
        result = service.generate(song, DanceSettings(steps=steps))
        total = time.perf_counter() - clock
        rows.append({"song_s": length, "dance_s": round(result.motion.duration, 3), "total_s": total,
                     **result.timings})
    return rows


def table(rows: list[dict[str, float]], video_size: int) -> str:
    """The rows as a markdown table."""
    lines = [
        "| song | video | total | song + beats | features + sampling | rendering | scores + files |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [format_seconds(row["song_s"]), f"{video_size} x {video_size}", f"{row['total_s']:.1f} s"]
        cells += [f"{row[key]:.1f} s" for key in TIMING_KEYS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=list(DEFAULT_SECONDS),
                        help="song lengths, seconds (default 100 600)")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="generator checkpoint stem (default: an untrained one of --size)")
    parser.add_argument("--size", default="tiny", help="size of the untrained generator (default tiny)")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's)")
    parser.add_argument("--video-size", type=int, default=DEFAULT_VIDEO_SIZE,
                        help=f"video width and height, pixels (default {DEFAULT_VIDEO_SIZE})")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    if any(s <= 0 for s in args.seconds):
        parser.error("--seconds must be positive")
    torch.set_num_threads(args.threads)
    from generator.sampling.checkpoint import write_untrained_checkpoint

    with tempfile.TemporaryDirectory(prefix="app-bench-") as tmp:
        folder = Path(tmp)
        stem = args.checkpoint or write_untrained_checkpoint(folder / "generator", size=args.size)
        limits = Limits(max_duration=max(args.seconds))
        service = DanceService.from_checkpoint(stem, device="cpu", work_dir=folder / "work", limits=limits,
                                               video_size=args.video_size)
        print(f"warm-up: {service.warm_up():.1f} s")
        rows = run(args.seconds, service, folder, args.steps)
    print(table(rows, args.video_size))
    if args.json is not None:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
