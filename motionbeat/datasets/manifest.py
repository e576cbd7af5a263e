"""The corpus on disk: its manifest and its dances, as the corpus build writes them.

``<corpus>/manifest.json`` lists every song (id, split, audio file, groove, beats, the shard
with its dances); each shard ``.npz`` holds the dances' SMPL ``poses`` (D, T, 72), ``trans``
(D, T, 3) and ``fps``. :mod:`motionbeat.choreography.build` writes this layout; the datasets,
the corpus report and the generator's training and evaluation read it through here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from motionbeat.core.motion import Motion

MANIFEST = "manifest.json"
"""File name of the manifest inside a corpus folder."""



def load_manifest(corpus: str | os.PathLike) -> dict:
    """The corpus manifest (``<corpus>/manifest.json``): its songs, splits, dances and notes."""
    return json.loads((Path(corpus) / MANIFEST).read_text())


def iter_dances(corpus: str | os.PathLike, split: str | None = None):
    """Yield (song record, dance record, Motion) for every dance (of one split)."""
    corpus = Path(corpus)
    for song in load_manifest(corpus)["songs"]:
        if split is not None and song["split"] != split:
            continue
        with np.load(corpus / song["shard"], allow_pickle=False) as z:
            poses, trans, fps = z["poses"], z["trans"], float(z["fps"])
        for i, dance in enumerate(song["dances"]):
            yield (
                song,
                dance,
                Motion(
                    poses[i],
                    trans[i],
                    fps,
                    source_song=song["audio"],
                    meta={"dance_id": dance["dance_id"], "split": song["split"]},
                ),
            )
