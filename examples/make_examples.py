"""Remake the bundled example songs waltz_3-4.ogg and fast_quickstep.ogg (see examples/README.md).

    python examples/make_examples.py [--out examples]

Each is a song of the training corpus's synthesizer (``motionbeat.music.mma``: mma plays a
seeded random chord sheet in one groove of its library, fluidsynth renders it with the
FluidR3 General MIDI soundfont), cut to a few bars and written as mono Ogg Vorbis.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from motionbeat.music.mma import random_sheet, render_song

OGG_QUALITY: float = 0.35
"""libsndfile's Vorbis compression level (0 best quality .. 1 smallest): keeps each file < 300 KB."""
SOUNDFONT = "FluidR3_GM.sf2"


@dataclass(frozen=True)
class Example:
    """One example song: output name, mma library style, sheet seed and bars kept."""

    name: str
    style: str
    seed: int
    bars: int


EXAMPLES: tuple[Example, ...] = (
    Example("waltz_3-4", "waltz", seed=8, bars=12),
    Example("fast_quickstep", "quickstep", seed=0, bars=12),
)


def make_example(example: Example, out_dir: Path) -> Path:
    """Render one example to ``out_dir/<name>.ogg``; prints its tempo and meter."""
    sheet = random_sheet(example.name, example.seed, style_name=example.style, max_bars=example.bars)
    with tempfile.TemporaryDirectory() as tmp:
        song = render_song(sheet, tmp, soundfont=SOUNDFONT)
        samples, sr = sf.read(song.wav, dtype="float32")
    out = out_dir / f"{example.name}.ogg"
    tmp_out = out.with_name(f".{out.stem}.tmp.ogg")
    sf.write(tmp_out, np.asarray(samples), sr, format="OGG", subtype="VORBIS", compression_level=OGG_QUALITY)
    tmp_out.replace(out)
    print(
        f"{out.name}: {example.style}, {sheet.bpm:g} BPM, {sheet.beats_per_bar}/4, key {sheet.key}, "
        f"{len(samples) / sr:.1f} s, {out.stat().st_size // 1024} KB"
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for example in EXAMPLES:
        make_example(example, args.out)


if __name__ == "__main__":
    main()
