"""Dance to a song with the rule-based choreographer.

    python -m motionbeat.choreography.choreograph song.wav --out dance.npz [--seed N] [--genre latin]

The library function is :func:`motionbeat.choreography.choreographer.choreograph`; this module only
parses arguments and writes the :class:`~motionbeat.core.motion.Motion` (``.npz``, or AIST++ ``.pkl``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from motionbeat.choreography.dance_genres import GENRES


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m motionbeat.choreography.choreograph",
        description="Choreograph a dance to a song (rule-based baseline).",
    )
    p.add_argument("song", type=Path, help="audio file (wav, flac, ogg, mp3, ...)")
    p.add_argument("--out", type=Path, required=True, help="output motion, .npz or AIST++ .pkl")
    p.add_argument("--seed", type=int, default=0, help="dancer and choreography seed (default 0)")
    p.add_argument(
        "--genre", choices=sorted(GENRES), default=None,
        help="dance genre (default: judged from the music's tempo, meter, loudness and onsets)",
    )
    a = p.parse_args(argv)
    if a.out.suffix not in (".npz", ".pkl"):
        p.error("--out must end in .npz or .pkl")
    if not a.song.is_file():
        p.error(f"{a.song}: no such file")
    from motionbeat.audio import AudioError
    from motionbeat.choreography.choreographer import choreograph

    try:
        motion = choreograph(a.song, seed=a.seed, genre=a.genre)
    except AudioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    motion.save(a.out)
    moves = motion.meta.get("moves", [])
    print(
        f"{a.out}: {motion.num_frames} frames ({motion.duration:.1f} s), {len(moves)} moves, "
        f"{len(set(moves))} distinct"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
