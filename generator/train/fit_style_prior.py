"""Fit the music style prior of a generator with a style input (:mod:`generator.model.style_prior`).

Training fits it when the config asks for it (``--style --style-prior music`` of
``generator.train``). The prior touches no weight (training gives every window its dance's
measured style, whatever the draw), so a checkpoint trained with the dataset prior gets one
without more training:

    python -m generator.train.fit_style_prior --checkpoint outputs/style/mb3 --corpus corpus \\
        --out outputs/style/mb3-music

reads the corpus' training songs through the checkpoint's own conditioner, measures the styles
of their dances, fits the prior and writes a copy of the checkpoint (weights unchanged, config
``style_prior: "music"``, the encoder's path re-rooted at the new folder).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.train.prior import add_music_prior


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, required=True, help="generator checkpoint stem")
    p.add_argument("--corpus", type=Path, required=True, help="corpus whose training songs fit it")
    p.add_argument("--out", type=Path, required=True, help="stem of the checkpoint to write")
    p.add_argument("--seed", type=int, default=0, help="seeds the cross-validation folds")
    p.add_argument("--style-scale", type=float, default=None,
                   help="the new checkpoint's sampling default GeneratorConfig.style_scale "
                        "(default: the checkpoint's)")
    a = p.parse_args(argv)
    from generator.sampling.checkpoint import GeneratorCheckpointError

    try:
        record = add_music_prior(a.checkpoint, a.corpus, a.out, a.seed, a.style_scale)
    except (ValueError, GeneratorCheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{a.out}: music style prior from {record['dances']} dances of {record['songs']} songs, "
          f"ridge lambda {record['ridge_lambda']:g}, out-of-fold R^2 {record['cv_r2']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
