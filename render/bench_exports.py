"""Benchmark the motion exports: seconds to write and bytes on disk per minute of dance.

    python -m render.bench_exports [--seconds 60] [--repeats 5] [--blender] [--json FILE]

The dance is :func:`render.bench.synthetic_dance` (deterministic, travelling, every joint
moving). Each format is written ``--repeats`` times to a scratch folder; the table gives the
median wall time and the file size, both scaled to one minute of dance. The GLB's first write
in a process also binds the body to the skeleton (loading the mannequin), reported apart as
``first_s``. ``--blender`` also imports the BVH and the GLB into headless Blender
(:mod:`render.blender_import`) and reports the largest joint distance from the project's
forward kinematics over every 30th frame, with Blender's wall time per file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from render.bench import _Contention, machine, synthetic_dance
from render.bodies.bind import _bound_body_cached
from render.export import EXPORT_SUFFIXES, export_motion

DEFAULT_SECONDS = 60.0
DEFAULT_REPEATS = 5
SECONDS_PER_MINUTE = 60.0
BLENDER_FRAME_STEP = contract.FPS
"""Blender samples every this many frames (one a second)."""
MM_PER_M = 1000.0


def bench_format(motion, suffix: str, scratch: Path, repeats: int, **options) -> dict:
    """Median export seconds and bytes of one format, and both per minute of dance."""
    path = scratch / f"dance{suffix}"
    first = None
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        export_motion(motion, path, **options)
        elapsed = time.perf_counter() - start
        first = elapsed if first is None else first
        times.append(elapsed)
    minutes = motion.duration / SECONDS_PER_MINUTE
    size = path.stat().st_size
    median = statistics.median(times[1:] if len(times) > 1 else times)
    return {
        "format": suffix.lstrip(".") + (f" ({options['body']})" if "body" in options else ""),
        "first_s": round(first, 3),
        "median_s": round(median, 3),
        "s_per_minute": round(median / minutes, 3),
        "bytes": size,
        "mb_per_minute": round(size / minutes / 1e6, 3),
    }


def bench_blender(motion, scratch: Path) -> list[dict]:
    """Blender's import of the BVH and GLB: largest joint error (mm) and wall seconds."""
    from render.blender_import import blender_import, blender_joints_y_up

    frames = list(range(0, motion.num_frames, BLENDER_FRAME_STEP))
    expected = motion.joints()[frames]
    rows = []
    for suffix in (".bvh", ".glb"):
        path = export_motion(motion, scratch / f"blender{suffix}")
        start = time.perf_counter()
        result = blender_import(path, frames)
        seconds = time.perf_counter() - start
        error = np.linalg.norm(blender_joints_y_up(result) - expected, axis=-1).max()
        rows.append({
            "format": suffix.lstrip("."),
            "blender": result.blender,
            "frames_checked": len(frames),
            "max_joint_error_mm": float(f"{error * MM_PER_M:.4g}"),
            "blender_wall_s": round(seconds, 2),
        })
    return rows


def _markdown(rows: list[dict]) -> str:
    lines = [
        "| format | export s / min of dance | first export s | MB / min of dance |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['format']} | {r['s_per_minute']} | {r['first_s']} | {r['mb_per_minute']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m render.bench_exports", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="dance length")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help="writes per format")
    parser.add_argument("--blender", action="store_true", help="also import BVH and GLB into Blender")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    motion = synthetic_dance(args.seconds)
    _bound_body_cached.cache_clear()  # the GLB's first write binds the body, as in a fresh process
    results: dict = {"machine": machine(), "dance_seconds": motion.duration, "repeats": args.repeats}
    with tempfile.TemporaryDirectory(prefix="motionbeat-exports-") as tmp, _Contention() as busy:
        scratch = Path(tmp)
        rows = []
        for suffix in EXPORT_SUFFIXES:
            bodies = ("mannequin", "skeleton") if suffix == ".glb" else (None,)
            for body in bodies:
                options = {"body": body} if body else {}
                rows.append(bench_format(motion, suffix, scratch, args.repeats, **options))
                print(json.dumps(rows[-1]), flush=True)
        results["exports"] = rows
        if args.blender:
            results["blender"] = bench_blender(motion, scratch)
            for row in results["blender"]:
                print(json.dumps(row), flush=True)
    results["other_processes_cores"] = round(busy.other_cores, 2)
    print(_markdown(rows))
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
