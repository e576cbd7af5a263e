"""A folder of BVH dances with their music, retargeted to SMPL (any skeleton with a joint map).

Layout::

    ROOT/**/<name>.bvh            one dance per file, any skeleton, any frame rate
    ROOT/**/<name>.wav|.flac|...  its music, beside it (or in ROOT/music/, ROOT/audio/)
    ROOT/joint_map.json           optional: the skeleton's map to SMPL (motionbeat.datasets.joint_maps);
                                  without it the best shipped map (Mixamo, LAFAN1, CMU, Bandai-Namco,
                                  SMPL) is chosen per file
    ROOT/splits.json, genres.json optional (motionbeat.datasets.corpus_view); dance ids are file stems

Each file is parsed (:mod:`.bvh_file`), retargeted (:mod:`.retarget`: rest-pose alignment, up
axis, units, root scale), resampled to :data:`contract.FPS` (slerp, ``Motion.resampled``),
floored at y = 0 and its first root moved to x = z = 0. What was detected goes to
``Motion.meta``. Files without music are skipped with a warning.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from motionbeat.core import contract
from motionbeat.core.motion import Motion
from motionbeat.datasets import joint_maps
from motionbeat.datasets.aistpp import floor_to_zero
from motionbeat.datasets.bvh_file import read_bvh
from motionbeat.datasets.corpus_view import (
    CACHE_DIRS,
    DanceItem,
    DatasetError,
    assign_splits,
    audio_beside,
    read_genres,
)
from motionbeat.datasets.retarget import retarget_bvh

log = logging.getLogger(__name__)


def centre_and_floor(motion: Motion) -> Motion:
    """Floor at y = 0 (:func:`.aistpp.floor_to_zero`), first frame's root at x = z = 0."""
    motion = floor_to_zero(motion)
    trans = motion.trans.copy()
    trans[:, [0, 2]] -= trans[0, [0, 2]]
    return replace(motion, trans=trans)


class BVHDataset:
    """A folder of BVH dances (module docstring)."""

    suffix = ".bvh"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: no such folder")
        self.files = {p.stem: p for p in sorted(self.root.rglob(f"*{self.suffix}"))
                      if not set(p.relative_to(self.root).parts) & set(CACHE_DIRS)}
        if not self.files:
            raise DatasetError(f"{self.root}: no {self.suffix} files")
        self.map_file = self.root / joint_maps.JOINT_MAP_FILE
        self.joint_map, self.source_names = (joint_maps.load_joint_map(self.map_file)
                                             if self.map_file.is_file() else (None, None))
        self.splits = assign_splits(list(self.files), self.root)
        self.genres = read_genres(self.root)

    def ids(self) -> list[str]:
        return list(self.files)

    def music_path(self, dance_id: str) -> Path | None:
        return audio_beside(self.files[dance_id], self.root)

    def load_raw(self, dance_id: str) -> Motion:
        """The retargeted dance at the file's own rate, not floored."""
        motion, info = retarget_bvh(read_bvh(self.files[dance_id]), self.joint_map)
        return replace(motion, meta={"dataset": "bvh", "dance_id": dance_id, **info})

    def load(self, dance_id: str) -> Motion:
        """The dance at contract.FPS, floored and centred (module docstring)."""
        motion = centre_and_floor(self.load_raw(dance_id).resampled(contract.FPS))
        music = self.music_path(dance_id)
        return replace(motion, source_song=str(music) if music else None)

    def items(self) -> list[DanceItem]:
        out = []
        for i in self.ids():
            music = self.music_path(i)
            if music is None:
                log.warning("%s: no music beside %s; skipped", self.root, self.files[i].name)
                continue
            out.append(DanceItem(i, i, self.splits[i], self.genres.get(i, ""), music,
                                 lambda i=i: self.load(i)))
        return out

    def input_files(self) -> list[Path]:
        files = list(self.files.values())
        files += [m for i in self.files if (m := self.music_path(i)) is not None]
        return files + [p for p in self.root.glob("*.json") if p.is_file()]
