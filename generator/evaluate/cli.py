"""``python -m generator.evaluate``: the command line of :func:`generator.evaluate.protocol.evaluate`.

``--dataset {corpus,aistpp,finedance,bvh,positions}`` names what ``--corpus`` holds; other datasets
are converted once into a corpus folder (``motionbeat.datasets.registry``), and the dataset's
protocol (``registry.PROTOCOLS``: Lodge's 1024-frame FineDance clips, EDGE's 5 s AIST++ spans)
sets the default ``--seconds``; the report records it under ``"dataset"`` (``docs/datasets.md``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch

from generator.evaluate.protocol import ROW_KINDS, evaluate
from generator.evaluate.scoring import REFERENCES
from generator.evaluate.songs import DEFAULT_SECONDS
from generator.evaluate.table import write_report
from generator.model.config import SAMPLERS
from motionbeat.datasets.registry import PROTOCOLS, add_dataset_arguments, dataset_corpus, dataset_from_args

DEFAULT_THREADS: int = 2
"""torch CPU threads (the target machine has 2 cores)."""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m generator.evaluate",
                                description="Evaluate dance generators and baselines on held-out songs.")
    p.add_argument("--corpus", required=True, type=Path,
                   help="corpus of motionbeat.choreography.build, or a dataset root with --dataset")
    add_dataset_arguments(p)
    p.add_argument("--generators", nargs="*", default=[], type=Path, help="generator checkpoint stems")
    p.add_argument("--split", default="test", help="held-out split (default: %(default)s)")
    p.add_argument("--max-songs", type=int, default=None, help="evenly spread subset of the split")
    p.add_argument("--seconds", type=float, default=None,
                   help=f"scored span from each song's start (default: the dataset protocol's, "
                        f"else {DEFAULT_SECONDS:g})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samples", type=int, default=None,
                   help="dances per song in each row (default: the song's ground-truth count)")
    p.add_argument("--reference", choices=REFERENCES, default="train", help="FID / Div reference pool")
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default: the checkpoint's)")
    p.add_argument("--guidance", type=float, default=None, help="guidance weight (default: the checkpoint's)")
    p.add_argument("--beat-guidance", type=float, default=None,
                   help="beat guidance strength (default: the checkpoint's; 0 = off)")
    p.add_argument("--halftime-above", type=float, default=None, metavar="BPM",
                   help="dance songs tracked faster than this at half time (default: the "
                        "checkpoint's; 0 = off)")
    p.add_argument("--beat-warp", type=float, default=None, metavar="S",
                   help="retime each dance's accents onto the beats, at most S beats (default: the "
                        "checkpoint's; 0 = off)")
    p.add_argument("--sampler", choices=SAMPLERS, default=None, help="sampler (default: the checkpoint's)")
    p.add_argument("--no-foot-lock", action="store_true",
                   help="score the generators' raw output (generator.cleanup.footlock off)")
    p.add_argument("--raw-rows", action="store_true",
                   help="also a row of each generator's raw output (clean-up off, same seeds)")
    p.add_argument("--device", default=None, help="cpu, cuda (default: cuda when available)")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=Path("docs/generator_eval.md"))
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--rows", nargs="+", choices=ROW_KINDS, default=list(ROW_KINDS),
                   help="kinds of rows to make (default: all); without generator no checkpoint is needed")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    dataset = dataset_from_args(a, p)
    protocol = PROTOCOLS[dataset]
    seconds = a.seconds if a.seconds is not None else protocol["seconds"] or DEFAULT_SECONDS
    command = "python -m generator.evaluate " + shlex.join(sys.argv[1:] if argv is None else argv)

    def log(msg: str) -> None:
        if not a.quiet:
            print(f"[evaluate] {msg}", file=sys.stderr, flush=True)

    from generator.sampling.checkpoint import GeneratorCheckpointError

    try:
        corpus = dataset_corpus(dataset, a.corpus, progress=not a.quiet)
        report = evaluate(
            corpus, a.generators, split=a.split, max_songs=a.max_songs, seconds=seconds,
            seed=a.seed, samples=a.samples, reference=a.reference, steps=a.steps,
            guidance=a.guidance, beat_guidance=a.beat_guidance, sampler=a.sampler, device=a.device,
            halftime_above_bpm=a.halftime_above, beat_warp=a.beat_warp,
            log=log, foot_lock=not a.no_foot_lock,
            row_kinds=a.rows, raw_rows=a.raw_rows,
        )
    except (ValueError, GeneratorCheckpointError, FileNotFoundError) as err:  # AudioError too
        print(f"error: {err}", file=sys.stderr)
        return 2
    report["dataset"] = {"name": dataset, "root": str(a.corpus), "protocol": protocol}
    md, js = write_report(report, a.out, command)
    print(md)
    print(js)
    return 0
