"""Command line: ``python -m render MOTION --audio song.wav --out dance.mp4``.

Exports: ``python -m render MOTION --export dance.glb --export dance.bvh [--rig mixamo]
[--body smpl --smpl PATH]`` (any of .bvh, .npz, .pkl, .glb; ``--body`` is also the .glb's mesh).

A thin wrapper over :func:`render.video.pipeline.render_video` and :func:`render.export.export_motion`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from motionbeat.core import contract
from motionbeat.core.motion import MotionFileError, load_motion
from render.bodies import BODY_NAMES, SMPL_DIR_ENV, BodyError
from render.export import EXPORT_SUFFIXES, UNIT_SCALE, ExportError, export_motion
from render.rigs import DEFAULT_RIG, RIG_NAMES
from render.scene.errors import RenderError
from render.scene.stage import DEFAULT_SIZE
from render.video.ffmpeg import X264_CRF
from render.video.pipeline import render_video


def read_beats(path: str | Path) -> list[float]:
    """Beat times in seconds from ``.npy``, ``.json`` (a list) or text (space/comma separated)."""
    path = Path(path)
    if not path.is_file():
        raise RenderError(f"{path}: no such beats file")
    try:
        if path.suffix == ".npy":
            values = np.load(path, allow_pickle=False)
        elif path.suffix == ".json":
            values = json.loads(path.read_text(encoding="utf-8"))
        else:
            values = path.read_text(encoding="utf-8").replace(",", " ").split()
        beats = np.asarray(values, dtype=np.float64).reshape(-1)
    except (ValueError, TypeError, OSError) as err:
        raise RenderError(f"{path}: not a list of beat times in seconds ({err})") from None
    return beats.tolist()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m render",
        description="Render a dance (.npz or AIST++ .pkl) to an H.264 + AAC .mp4 with its song, "
        "and/or export it as BVH / .npz / AIST++ .pkl / skinned, animated .glb.",
    )
    parser.add_argument("motion", help="motion file: .npz (project format) or AIST++ .pkl")
    parser.add_argument(
        "--audio", help="the song (wav, mp3, ogg, flac, m4a); omit for a silent video"
    )
    parser.add_argument("--out", help="video to write (.mp4)")
    parser.add_argument(
        "--body", choices=BODY_NAMES, default="mannequin", help="video and .glb body, default: mannequin"
    )
    parser.add_argument(
        "--size", type=int, default=DEFAULT_SIZE, help=f"pixels, default {DEFAULT_SIZE}"
    )
    parser.add_argument(
        "--smpl", metavar="PATH", help=f"SMPL model file or folder (else ${SMPL_DIR_ENV})"
    )
    parser.add_argument("--contacts", action="store_true", help="colour the feet while in contact")
    parser.add_argument(
        "--beats", metavar="FILE", help="beat times in seconds (.txt/.json/.npy) to flash"
    )
    parser.add_argument(
        "--start", type=float, default=0.0, help="render from this second of the motion"
    )
    parser.add_argument("--duration", type=float, help="render this many seconds")
    parser.add_argument(
        "--fps", type=float, default=contract.FPS, help=f"video rate, default {contract.FPS}"
    )
    parser.add_argument("--workers", type=int, help="parallel render processes (default: auto)")
    parser.add_argument(
        "--crf", type=int, default=X264_CRF, help=f"x264 quality (default {X264_CRF})"
    )
    parser.add_argument(
        "--export",
        action="append",
        default=[],
        metavar="PATH",
        help=f"also write the motion as {', '.join(EXPORT_SUFFIXES)} (repeatable)",
    )
    parser.add_argument(
        "--units", choices=sorted(UNIT_SCALE), default="m", help="BVH units, default m"
    )
    parser.add_argument(
        "--rig", choices=RIG_NAMES, default=DEFAULT_RIG,
        help=f"joint names of .bvh and .glb exports: SMPL's or Mixamo's (default {DEFAULT_RIG})",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.out and not args.export:
        parser.error("nothing to do: give --out VIDEO.mp4 and/or --export FILE")
    try:
        motion = load_motion(args.motion)
        if args.start or args.duration is not None:
            motion = motion.sliced(args.start, args.duration)
        for target in args.export:
            print(export_motion(
                motion, target, units=args.units, rig=args.rig, body=args.body, smpl_path=args.smpl
            ))
        if args.out:
            beats = read_beats(args.beats) if args.beats else None
            out = render_video(
                motion,
                args.audio,
                args.out,
                body=args.body,
                size=args.size,
                progress=not args.quiet,
                beats=beats,
                contacts=args.contacts,
                smpl_path=args.smpl,
                fps=args.fps,
                workers=args.workers,
                crf=args.crf,
            )
            print(out)
    except (RenderError, BodyError, MotionFileError, ExportError, ValueError) as err:
        print(f"render: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("render: interrupted; nothing was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
