"""Benchmark: end-to-end render speed per body and size, and memory over a 10-minute dance.

    python -m render.bench                       # fps table: every body at 512 and 1024
    python -m render.bench --long                # + peak memory over a 10-minute dance
    python -m render.bench --images docs/img     # one frame of each body as render_<body>.png

"End to end" means :func:`render.video.render_video` from a :class:`Motion` in memory to a
finished ``.mp4`` with a song muxed in: process start-up, posing, drawing, encoding and
joining, divided into the number of frames. The dance is :func:`synthetic_dance`; the SMPL
body uses :func:`render.bodies.write_synthetic_smpl` sized like SMPL (about 6.9k vertices and
13.7k faces), because the real SMPL files are licensed.

Memory is the resident set (``VmRSS`` from ``/proc``) of this process and all its children
(render workers and ffmpeg), sampled every :data:`MEMORY_SAMPLE_S` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.core.motion import Motion

LONG_SECONDS = 600.0
"""The memory benchmark's dance: ten minutes."""
MEMORY_SAMPLE_S = 0.5
BENCH_SECONDS = 30.0
TOE_CLEARANCE = 0.018
"""Height of the lowest SMPL toe/ankle joint above the floor: the mannequin's sole reaches
1.8 cm below the SMPL toe joints (``mannequin_foot_offset``), so its feet touch y = 0."""
BEAT_PERIOD_S = 0.5
SMPL_LIKE = {"sphere_subdivisions": 1, "capsule_count": 16}
"""Synthetic SMPL resolution close to SMPL's 6890 vertices / 13776 faces."""
_J = contract.JOINT_INDEX


def synthetic_dance(
    seconds: float = 10.0, fps: float = contract.FPS, travel: float = 1.0
) -> Motion:
    """A deterministic 120 bpm dance: bounce, arm swings, steps, a slow turn, a walk in a circle.

    Every frame is grounded: the pelvis height puts the lowest foot joint
    :data:`TOE_CLEARANCE` above the floor.

    Args:
        travel: radius in metres of the circle the dancer walks (period 16 s); 0 stays put.
    """
    num = max(1, round(seconds * fps))
    t = np.arange(num) / fps
    beat = 2 * np.pi * t / BEAT_PERIOD_S  # one cycle per beat
    bar = beat / 4
    poses = np.zeros((num, contract.NUM_JOINTS, 3), np.float32)
    bounce = 0.5 - 0.5 * np.cos(beat)
    step_l = np.clip(np.sin(bar), 0, None)
    step_r = np.clip(-np.sin(bar), 0, None)
    for side, step, sign in (("L", step_l, 1.0), ("R", step_r, -1.0)):
        poses[:, _J[f"{side}_Hip"], 0] = -0.25 * bounce - 0.7 * step
        poses[:, _J[f"{side}_Knee"], 0] = 0.45 * bounce + 1.2 * step
        poses[:, _J[f"{side}_Ankle"], 0] = -0.15 * bounce
        poses[:, _J[f"{side}_Shoulder"], 2] = sign * (
            -1.15 + 0.55 * np.sin(bar + (0 if sign > 0 else np.pi))
        )
        poses[:, _J[f"{side}_Shoulder"], 1] = sign * 0.3 * np.sin(beat / 2)
        poses[:, _J[f"{side}_Elbow"], 1] = sign * (-0.5 - 0.5 * bounce)
        poses[:, _J[f"{side}_Collar"], 2] = sign * -0.1 * bounce
    poses[:, _J["Spine1"], 0] = 0.12 * bounce
    poses[:, _J["Spine2"], 1] = 0.25 * np.sin(bar)
    poses[:, _J["Neck"], 0] = -0.1 * bounce
    yaw = 0.6 * np.sin(2 * np.pi * t / 8.0) + (np.pi / 2 if travel else 0.0)
    poses[:, 0, 1] = yaw
    angle = 2 * np.pi * t / 16.0
    trans = np.zeros((num, 3), np.float32)
    trans[:, 0] = travel * np.sin(angle)
    trans[:, 2] = travel * (np.cos(angle) - 1.0)
    motion = Motion(poses, trans, fps=fps)
    feet = motion.joints()[:, list(contract.FOOT_JOINTS), contract.UP_AXIS].min(axis=1)  # (T,)
    trans[:, contract.UP_AXIS] = contract.FLOOR_HEIGHT + TOE_CLEARANCE - feet
    return Motion(poses, trans, fps=fps, meta={"source": "render.bench.synthetic_dance"})


def _tone(path: Path, seconds: float) -> Path:
    """A stereo 440 Hz test tone (ffmpeg's lavfi sine source)."""
    import subprocess

    from render.video import ffmpeg_exe

    subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds:.3f}",
            "-ac",
            "2",
            str(path),
        ],
        check=True,
    )
    return path


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, MiB (from /proc)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total / 1024


class MemorySampler:
    """Samples the process tree's RSS in a thread; records (seconds, frames done, MiB)."""

    def __init__(self):
        self.samples: list[tuple[float, int, float]] = []
        self.frames_done = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._start = time.perf_counter()

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(
                (time.perf_counter() - self._start, self.frames_done, _tree_rss_mb(os.getpid()))
            )
            self._stop.wait(MEMORY_SAMPLE_S)

    def progress(self, done: int, total: int):
        self.frames_done = done

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def machine() -> dict:
    """CPU model, core count and load average at the time of the run."""
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "loadavg_1min": os.getloadavg()[0]}


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (workers, ffmpeg), seconds."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class _Contention:
    """Measures how many cores *other* processes used while a block ran."""

    def __enter__(self):
        self.start, self.busy, self.ours = (
            time.perf_counter(),
            _machine_busy_seconds(),
            _cpu_seconds(),
        )
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.start
        others = (_machine_busy_seconds() - self.busy) - (_cpu_seconds() - self.ours)
        self.other_cores = max(0.0, others / max(wall, 1e-9))


def bench_fps(
    body: str, size: int, seconds: float, scratch: Path, smpl_path: Path, workers=None
) -> dict:
    """Render a synthetic dance end to end; frames per second of wall time."""
    from render.video import default_workers, render_video

    motion = synthetic_dance(seconds)
    song = _tone(scratch / "tone.wav", seconds + 1.0)
    workers = workers or default_workers(motion.duration)
    beats = np.arange(0.0, seconds, BEAT_PERIOD_S)
    load_before = os.getloadavg()[0]
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    with _Contention() as contention:
        render_video(
            motion,
            song,
            scratch / f"{body}-{size}.mp4",
            body=body,
            size=size,
            beats=beats,
            contacts=True,
            smpl_path=smpl_path,
            workers=workers,
        )
    wall = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    return {
        "body": body,
        "size": size,
        "frames": motion.num_frames,
        "seconds": round(wall, 2),
        "fps": round(motion.num_frames / wall, 1),
        "workers": workers,
        "cpu_ms_per_frame": round(1000 * cpu / motion.num_frames, 1),
        "load_before": round(load_before, 2),
        "other_cores": round(contention.other_cores, 2),
    }


def bench_memory(
    scratch: Path, seconds: float = LONG_SECONDS, body: str = "mannequin", size: int = 512
) -> dict:
    """Render a long dance; peak and per-stage resident memory of the whole process tree."""
    from render.video import render_video

    motion = synthetic_dance(seconds)
    song = _tone(scratch / "long.wav", seconds + 1.0)
    load_before = os.getloadavg()[0]
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    with MemorySampler() as sampler, _Contention() as contention:
        render_video(
            motion, song, scratch / "long.mp4", body=body, size=size, progress=sampler.progress
        )
    wall = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    samples = np.array(sampler.samples)  # (S, 3) seconds, frames, MiB
    rendering = samples[samples[:, 1] > 0]
    stages = {}
    for share in (0.1, 0.25, 0.5, 0.75, 0.95):
        idx = np.searchsorted(rendering[:, 1], share * motion.num_frames)
        if idx < len(rendering):
            stages[f"{round(share * 100)}%"] = round(float(rendering[idx, 2]), 1)
    return {
        "body": body,
        "size": size,
        "frames": motion.num_frames,
        "seconds": round(wall, 1),
        "fps": round(motion.num_frames / wall, 1),
        "cpu_ms_per_frame": round(1000 * cpu / motion.num_frames, 1),
        "load_before": round(load_before, 2),
        "other_cores": round(contention.other_cores, 2),
        "peak_rss_mib": round(float(samples[:, 2].max()), 1),
        "rss_mib_at_progress": stages,
    }


def render_images(
    folder: Path, smpl_path: Path, size: int = 512, second: float = 1.0
) -> list[Path]:
    """One frame of each body, ``render_<body>.png``, at the same moment of the synthetic dance."""
    from render.video import render_frame_image

    motion = synthetic_dance(4.0, travel=0.0)
    frame = round(second * motion.fps)
    return [
        render_frame_image(
            motion, frame, folder / f"render_{body}.png", body=body, size=size, smpl_path=smpl_path
        )
        for body in ("mannequin", "smpl", "skeleton")
    ]


def bvh_round_trip(scratch: Path, seconds: float = 20.0) -> dict[str, float]:
    """Write the synthetic dance as BVH (metres and centimetres), read it back, FK, compare."""
    from render.export import bvh_round_trip_error, write_bvh

    motion = synthetic_dance(seconds)
    return {
        units: bvh_round_trip_error(
            motion, write_bvh(motion, scratch / f"rt-{units}.bvh", units), units
        )
        for units in ("m", "cm")
    }


def _markdown(rows: list[dict]) -> str:
    lines = [
        "| body | size | frames | wall s | fps | processes | cpu ms/frame | other jobs (cores) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['body']} | {r['size']} | {r['frames']} | {r['seconds']} | **{r['fps']}** "
            f"| {r['workers']} | {r['cpu_ms_per_frame']} | {r['other_cores']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from render.bodies import BODY_NAMES, mannequin_foot_offset, write_synthetic_smpl

    parser = argparse.ArgumentParser(
        prog="python -m render.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--bodies", nargs="+", choices=BODY_NAMES, default=list(BODY_NAMES))
    parser.add_argument("--sizes", nargs="+", type=int, default=[512, 1024])
    parser.add_argument("--seconds", type=float, default=BENCH_SECONDS, help="dance length per run")
    parser.add_argument("--workers", type=int, help="render processes (default: auto)")
    parser.add_argument(
        "--long", action="store_true", help="also measure memory over a 10-minute dance"
    )
    parser.add_argument("--long-seconds", type=float, default=LONG_SECONDS, help=argparse.SUPPRESS)
    parser.add_argument("--no-fps", action="store_true", help="skip the fps table")
    parser.add_argument(
        "--images", type=Path, metavar="DIR", help="write one frame of each body here"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)

    results: dict = {
        "machine": machine(),
        "command": "python -m render.bench " + " ".join(argv or []),
    }
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        scratch = Path(tmp)
        smpl = write_synthetic_smpl(scratch / "SMPL_NEUTRAL.npz", **SMPL_LIKE)
        if args.images:
            for path in render_images(args.images, smpl):
                print(path)
        results["foot_offset_m"] = mannequin_foot_offset()
        print("mannequin vs SMPL skeleton feet:", json.dumps(results["foot_offset_m"]))
        results["bvh_round_trip_max_error_m"] = bvh_round_trip(scratch)
        print(
            "BVH round trip, max joint error (m):",
            json.dumps(results["bvh_round_trip_max_error_m"]),
        )
        if not args.no_fps:
            rows = []
            for size in args.sizes:
                for body in args.bodies:
                    rows.append(bench_fps(body, size, args.seconds, scratch, smpl, args.workers))
                    print(json.dumps(rows[-1]), flush=True)
            results["fps"] = rows
            print(_markdown(rows))
        if args.long:
            results["memory"] = bench_memory(scratch, args.long_seconds)
            print(json.dumps(results["memory"]))
    results["machine"]["loadavg_1min_after"] = os.getloadavg()[0]
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
