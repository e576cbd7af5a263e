"""``python -m app``: serve the music-to-dance web app (see docs/app.md)."""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path

from app.request import (
    DEFAULT_KEEP_MINUTES,
    DEFAULT_MAX_DURATION,
    DEFAULT_MAX_UPLOAD_MB,
    MIN_DANCE_SECONDS,
    Limits,
)
from app.service import DEFAULT_VIDEO_SIZE, DanceService
from app.ui import DEFAULT_CONCURRENCY, DEFAULT_HOST, DEFAULT_PORT, launch
from generator.sampling.checkpoint import DEFAULT_CHECKPOINT, GeneratorCheckpointError

log = logging.getLogger("app")

MIN_VIDEO_SIZE = 64
"""Smallest video accepted, pixels (the dancer is a few pixels wide below it)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=Path(DEFAULT_CHECKPOINT),
        help=f"generator checkpoint stem: <stem>.safetensors + <stem>.json (default {DEFAULT_CHECKPOINT})",
    )
    parser.add_argument("--device", default=None, help="torch device of the generator (default: automatic)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests worked on at once; the rest wait in the queue (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=DEFAULT_MAX_UPLOAD_MB,
        help=f"largest song file accepted, MB (default {DEFAULT_MAX_UPLOAD_MB:g})",
    )
    parser.add_argument(
        "--max-duration",
        "--max-seconds",  # its old name
        dest="max_duration",
        type=float,
        default=DEFAULT_MAX_DURATION,
        help="longest dance made per request, seconds: a longer song (or duration asked for) is cut to it, "
        f"with a notice (default {DEFAULT_MAX_DURATION:g}; --max-seconds is its old name)",
    )
    parser.add_argument(
        "--video-size",
        type=int,
        default=DEFAULT_VIDEO_SIZE,
        help=f"video width and height, pixels (default {DEFAULT_VIDEO_SIZE})",
    )
    parser.add_argument(
        "--keep-minutes",
        type=float,
        default=DEFAULT_KEEP_MINUTES,
        help=f"delete uploads and results this many minutes old (default {DEFAULT_KEEP_MINUTES:g})",
    )
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="folder for results (default: a new temporary folder)"
    )
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error(f"--concurrency must be at least 1, got {args.concurrency}")
    if args.video_size < MIN_VIDEO_SIZE or args.video_size % 2:
        parser.error(f"--video-size must be even and at least {MIN_VIDEO_SIZE}, got {args.video_size}")
    for flag, value in (
        ("--max-upload-mb", args.max_upload_mb),
        ("--max-duration", args.max_duration),
        ("--keep-minutes", args.keep_minutes),
    ):
        if not value > 0:
            parser.error(f"{flag} must be positive, got {value:g}")
    if args.max_duration < MIN_DANCE_SECONDS:
        parser.error(f"--max-duration must be at least {MIN_DANCE_SECONDS:g}, got {args.max_duration:g}")
    args.limits = Limits(args.max_upload_mb, args.max_duration, args.keep_minutes)
    return args


def _interrupt(signum, frame) -> None:
    """SIGTERM handler: raise KeyboardInterrupt, on which gradio closes the server and returns."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        service = DanceService.from_checkpoint(
            args.checkpoint,
            device=args.device,
            work_dir=args.work_dir,
            limits=args.limits,
            video_size=args.video_size,
        )
    except (GeneratorCheckpointError, FileNotFoundError, ValueError) as err:
        raise SystemExit(f"python -m app: cannot load the generator from {args.checkpoint}: {err}") from None
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop closes like Ctrl-C
    log.info("request folders go to %s", service.work_dir)
    log.info("warming up (one 1 s request: beat analysis, features, one sampling step, video, scores)")
    log.info("warmed up in %.1f s", service.warm_up())
    try:
        launch(service, host=args.host, port=args.port, concurrency=args.concurrency)
    finally:
        service.close()


if __name__ == "__main__":
    main()
