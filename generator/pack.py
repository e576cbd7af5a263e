"""``python -m generator.pack --corpus DIR --out DIR``: write a training pack.

A pack (:mod:`generator.train.pack`) holds a corpus' generator training data, the dances and
the conditioned music, in a few compressed files that travel to a lent GPU machine;
``python -m generator.train --pack DIR`` trains on it. The library function is
:func:`generator.train.pack.write_pack`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.model.config import CONDITIONERS
from generator.train.pack import DEFAULT_MUSIC_BITS, DEFAULT_PART_BYTES, MUSIC_BITS, write_pack


def main(argv: list[str] | None = None) -> int:
    """Write a pack, print its size; bad input: one ``error:`` line, exit code 2."""
    p = argparse.ArgumentParser(prog="python -m generator.pack",
                                description="Pack a corpus' generator training data (dances and "
                                            "conditioned music) into a few compressed files.")
    p.add_argument("--corpus", required=True, type=Path, help="corpus folder")
    p.add_argument("--out", required=True, type=Path, help="pack folder")
    p.add_argument("--conditioner", default="motionbeat", choices=CONDITIONERS)
    p.add_argument("--encoder", type=Path, default=None,
                   help="MotionBeat encoder stem (default checkpoints/motionbeat)")
    p.add_argument("--splits", default="train,val", help="comma-separated splits (train,val)")
    p.add_argument("--music-bits", type=int, default=DEFAULT_MUSIC_BITS, choices=MUSIC_BITS,
                   help="bits per music feature value: 8 (per-channel steps) or 16 (float16)")
    p.add_argument("--part-mib", type=float, default=DEFAULT_PART_BYTES / 2**20,
                   help="close a part file at this many MiB")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    a = p.parse_args(argv)
    if not (a.corpus / "manifest.json").is_file():
        p.error(f"{a.corpus}: not a corpus (no manifest.json)")
    if not a.part_mib > 0:
        p.error("--part-mib must be positive")
    try:
        info = write_pack(a.corpus, a.out, conditioner=a.conditioner, encoder=a.encoder,
                          splits=tuple(s for s in a.splits.split(",") if s),
                          music_bits=a.music_bits,
                          part_bytes=int(a.part_mib * 2**20), progress=not a.quiet)
    except ValueError as err:  # PackError, a missing encoder (ConditioningError)
        print(f"error: {err}", file=sys.stderr)
        return 2
    counts = {}
    for s in info["songs"]:
        counts[s["split"]] = counts.get(s["split"], 0) + 1
    print(f"{a.out}: {len(info['songs'])} songs ({', '.join(f'{v} {k}' for k, v in counts.items())}"
          f"), {len(info['parts'])} part(s), {info['bytes'] / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
