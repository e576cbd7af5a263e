"""Parallel rendering: a long dance cut into pieces that spawned processes render and encode.

Long dances render in parallel processes (:func:`render.video.pipeline.render_video`
``workers``): the dance is cut into pieces of a few seconds that the processes (each with its
own EGL context) take first come, first served; each piece is encoded on its own and ffmpeg's
concat demuxer joins them without re-encoding while it muxes the song
(:func:`render.video.ffmpeg._join_pieces`).

The worker functions stay at module top level: spawned processes import them by name.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from motionbeat.core.motion import Motion, MotionFileError
from render.bodies import Body, BodyError, make_body
from render.scene.errors import RenderError
from render.scene.plan import plan_dance
from render.scene.stage import DanceScene
from render.video.ffmpeg import FrameEncoder, _join_pieces

PARALLEL_MIN_SECONDS = 30.0
"""Dances shorter than this render in one process: starting a second one costs seconds."""
PROGRESS_POLL_S = 0.2
PIECES_PER_WORKER = 4
MIN_PIECE_SECONDS = 2.0
MAX_PIECE_SECONDS = 10.0


def default_workers(seconds: float) -> int:
    """Render processes for a dance of ``seconds``: 2 from :data:`PARALLEL_MIN_SECONDS` on a
    machine with 2 or more cores (a second process costs a few seconds to start), else 1."""
    return 2 if seconds >= PARALLEL_MIN_SECONDS and (os.cpu_count() or 1) >= 2 else 1


@dataclass(frozen=True)
class _Job:
    """What every process rendering a piece of one video needs to know."""

    motion: Motion
    size: int
    beats: Sequence[float] | None
    contacts: bool
    crf: int


# Parallel pieces. The dance is cut into short pieces handed out first come, first served: the
# calling process starts at once while spawned processes (EGL contexts and torch do not survive
# fork) are still importing, and every process keeps its body, scene and plan for all the pieces
# it takes, so the work balances itself. Each piece is encoded on its own; the concat demuxer
# joins them. Pieces a helper process did not finish (it could not start - e.g. a script
# without an ``if __name__ == "__main__"`` guard - or it died) are rendered by the caller.
_SHARED: dict = {}


def _init_worker(next_piece, done, counters) -> None:
    _SHARED.update(next_piece=next_piece, done=done, counters=counters)


def piece_bounds(num_frames: int, fps: float, workers: int) -> list[tuple[int, int]]:
    """Frame ranges of the pieces: about four per process, each from 2 to 10 seconds."""
    seconds = num_frames / fps / (PIECES_PER_WORKER * workers)
    size = max(1, round(fps * min(max(seconds, MIN_PIECE_SECONDS), MAX_PIECE_SECONDS)))
    return [(a, min(a + size, num_frames)) for a in range(0, num_frames, size)]


def _claimer(next_piece, count: int):
    """A function handing out piece numbers 0, 1, ... across processes; None when all are out."""

    def claim():
        with next_piece.get_lock():
            k = next_piece.value
            next_piece.value += 1
        return k if k < count else None

    return claim


def _render_pieces(job: _Job, body: Body, bounds, paths, claim, done, report) -> None:
    """Render and encode (video only) every piece ``claim()`` hands out; mark each in ``done``."""
    motion, size = job.motion, job.size
    plan = plan_dance(motion, size, beats=job.beats, contacts=job.contacts)
    with DanceScene(body, size) as scene:
        while (k := claim()) is not None:
            first, last = bounds[k]
            with FrameEncoder(
                paths[k], (size, size), motion.fps, faststart=False, crf=job.crf
            ) as enc:
                for frame in scene.frames(motion, start=first, stop=last, plan=plan):
                    enc.write(frame)
                    report()
            done[k] = 1


def _worker(job: _Job, body_spec, bounds, paths, slot: int) -> None:
    counters = _SHARED["counters"]

    def report():
        with counters.get_lock():
            counters[slot] += 1

    name, smpl_path = body_spec
    body = make_body(name, smpl_path=smpl_path)
    claim = _claimer(_SHARED["next_piece"], len(bounds))
    _render_pieces(job, body, bounds, paths, claim, _SHARED["done"], report)


def _render_parallel(job: _Job, body_spec, body, audio, tmp, workers: int, update) -> None:
    ctx = multiprocessing.get_context("spawn")
    total = job.motion.num_frames
    counters = ctx.Array("l", workers)
    next_piece = ctx.Value("l", 0)
    bounds = piece_bounds(total, job.motion.fps, workers)
    done = ctx.Array("b", len(bounds))
    own = 0

    def report():
        nonlocal own
        own += 1
        update(min(own + int(sum(counters)), total))

    with tempfile.TemporaryDirectory(prefix="motionbeat-render-") as scratch:
        paths = [str(Path(scratch) / f"piece{k:04d}.mp4") for k in range(len(bounds))]
        with concurrent.futures.ProcessPoolExecutor(
            workers - 1,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(next_piece, done, counters),
        ) as pool:
            futures = [
                pool.submit(_worker, job, body_spec, bounds, paths, k) for k in range(1, workers)
            ]
            claim = _claimer(next_piece, len(bounds))
            _render_pieces(job, body, bounds, paths, claim, done, report)
            pending = set(futures)
            while pending:
                _, pending = concurrent.futures.wait(pending, timeout=PROGRESS_POLL_S)
                update(min(own + int(sum(counters)), total))
            for future in futures:
                error = future.exception()
                if isinstance(error, BodyError | MotionFileError):
                    raise RenderError(str(error))
        left = iter([k for k in range(len(bounds)) if not done[k]])
        _render_pieces(job, body, bounds, paths, lambda: next(left, None), done, report)
        update(total)
        _join_pieces([Path(p) for p in paths], tmp, job.motion, audio)
