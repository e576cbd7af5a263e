"""``--dataset`` names -> loaders, and the evaluation protocol each dataset follows.

    corpus     our corpus (motionbeat.choreography.build), read as it is
    aistpp     an AIST++ release (:mod:`.aistpp`)
    finedance  a FineDance release (:mod:`.finedance`)
    bvh        a folder of BVH dances with their music (:mod:`.bvh`, :mod:`.retarget`)
    positions  a folder of positions-only dances with their music (:mod:`.positions`, :mod:`.ik`)

Every dataset other than ``corpus`` is converted once into a corpus folder
(:func:`dataset_corpus`, :mod:`.corpus_view`), so the trainers and ``generator.evaluate`` read
all of them the same way. The encoder reads AIST++ through :func:`songs.load_aistpp_songs`
(as before this registry); everything else through :func:`songs.load_corpus_songs` of the
converted folder. :data:`PROTOCOLS` says which published protocol ``generator.evaluate``
follows on each (``docs/datasets.md``).
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from motionbeat.audio.tokens import STEPS_PER_BEAT
from motionbeat.core import contract
from motionbeat.datasets.corpus_view import DanceItem, DatasetError, input_key, materialise
from motionbeat.datasets.songs import CACHE_SUBDIR, SongData, load_aistpp_songs, load_corpus_songs

DATASETS: tuple[str, ...] = ("corpus", "aistpp", "finedance", "bvh", "positions")
"""``--dataset`` choices; ``corpus`` is the default."""

PROTOCOLS: dict[str, dict] = {
    "corpus": {
        "name": "MotionBeat corpus", "split": "test", "seconds": None,
        "clips": "each held-out song's first --seconds (30 s)", "reference": "train",
        "metrics": ["PFC", "BAS", "BAS_motion", "FID_k", "FID_g", "Div_k", "Div_g"],
    },
    "aistpp": {
        "name": "Bailando / EDGE (AIST++)", "split": "test", "seconds": 5.0,
        "clips": "crossmodal_test music pieces (music-disjoint from train), each scored on its "
                 "first 5 s (EDGE's clip length for PFC); --seconds 20 for longer spans",
        "reference": "train",
        "metrics": ["FID_k", "FID_g", "Div_k", "Div_g", "BAS (Bailando, music-beat direction)",
                    "PFC (EDGE)"],
    },
    "finedance": {
        "name": "Lodge (FineDance)", "split": "test", "seconds": 1024 / contract.FPS,
        "clips": "the 20 test dances cut into non-overlapping 1024-frame clips (34.1 s) from "
                 "frame 0, each with its music cut to match",
        "reference": "train",
        "metrics": ["FID_k", "FID_g", "Div_k", "Div_g", "BAS (music-beat direction)"],
    },
    "bvh": {
        "name": "held-out BVH dances", "split": "test", "seconds": None,
        "clips": "each test dance's first --seconds (30 s); splits.json or a 10 % spread",
        "reference": "train", "metrics": ["PFC", "BAS", "FID_k", "FID_g", "Div_k", "Div_g"],
    },
    "positions": {
        "name": "held-out positions-only dances", "split": "test", "seconds": None,
        "clips": "each test dance's first --seconds (30 s); splits.json or a 10 % spread",
        "reference": "train", "metrics": ["PFC", "BAS", "FID_k", "FID_g", "Div_k", "Div_g"],
    },
}
"""Per dataset: the protocol ``generator.evaluate`` follows (``seconds`` None: its default)."""


def _loader(name: str, root: Path):
    if name == "finedance":
        from motionbeat.datasets.finedance import FineDance

        return FineDance(root)
    if name == "bvh":
        from motionbeat.datasets.bvh import BVHDataset

        return BVHDataset(root)
    if name == "positions":
        from motionbeat.datasets.positions import PositionsDataset

        return PositionsDataset(root)
    if name == "aistpp":
        return _AISTPPItems(root)
    raise DatasetError(f"unknown dataset {name!r}; choose from {DATASETS}")


class _AISTPPItems:
    """AIST++ as dance items: one song per music piece, its split by vote (as load_aistpp_songs)."""

    def __init__(self, root: Path):
        from motionbeat.datasets.aistpp import AISTPP

        self.data = AISTPP(root)

    def items(self) -> list[DanceItem]:
        from motionbeat.datasets.aistpp import SPLITS, music_id

        by_music: dict[str, list[tuple[str, str]]] = {}
        for split in SPLITS:
            for seq in self.data.sequences(split):
                by_music.setdefault(music_id(seq), []).append((seq, split))
        out = []
        for mid, seqs in sorted(by_music.items()):
            votes = [s for _, s in seqs]
            split = max(SPLITS, key=votes.count)
            wav = self.data.music_path(seqs[0][0])
            if wav is None:
                continue
            out += [DanceItem(seq, mid, split, mid[1:3], wav, lambda seq=seq: self.data.load(seq))
                    for seq, _ in sorted(seqs)]
        return out

    def input_files(self) -> list[Path]:
        files = list(self.data.motion_dir.glob("*.pkl"))
        return files + (list(self.data.music_dir.glob("*.wav")) if self.data.music_dir else [])


def dataset_corpus(
    name: str, root: str | os.PathLike, *, progress: bool = False
) -> Path:
    """The corpus folder of dataset ``name`` at ``root``: ``root`` itself for ``corpus``, else
    its conversion ``<root>/cache/corpus-<name>-<key>/`` (made on first use)."""
    root = Path(root)
    if name == "corpus":
        return root
    loader = _loader(name, root)
    key = input_key(name, loader.input_files(), root, extra=getattr(loader, "joint_map", None))
    out = root / CACHE_SUBDIR / f"corpus-{name}-{key}"
    return materialise(name, loader.items(), out, notes={"dataset": name, "root": str(root),
                                                         "protocol": PROTOCOLS[name]},
                       progress=progress)


def load_dataset_songs(
    name: str,
    root: str | os.PathLike,
    splits: Sequence[str] | None = None,
    *,
    steps_per_beat: int = STEPS_PER_BEAT,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> list[SongData]:
    """The songs (``SongData``) of a dataset, as :func:`songs.load_corpus_songs` gives them."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; choose from {DATASETS}")
    if name == "aistpp":
        return load_aistpp_songs(root, splits, steps_per_beat=steps_per_beat, cache_dir=cache_dir,
                                 progress=progress)
    return load_corpus_songs(dataset_corpus(name, root, progress=progress), splits,
                             steps_per_beat=steps_per_beat, cache_dir=cache_dir, progress=progress)


# ----------------------------------------------------------------------------------- the CLIs
def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """``--dataset`` and the deprecated ``--aistpp`` (= ``--dataset aistpp``)."""
    parser.add_argument("--dataset", choices=DATASETS, default=None,
                        help="what --corpus holds (default corpus; docs/datasets.md)")
    parser.add_argument("--aistpp", action="store_true",
                        help="deprecated: the same as --dataset aistpp")


def dataset_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    """The chosen dataset; ``--aistpp`` maps to ``aistpp`` with a deprecation warning."""
    if args.aistpp:
        if args.dataset not in (None, "aistpp"):
            parser.error(f"--aistpp contradicts --dataset {args.dataset}")
        warnings.warn("--aistpp is deprecated; use --dataset aistpp", DeprecationWarning, stacklevel=2)
        return "aistpp"
    return args.dataset or "corpus"
