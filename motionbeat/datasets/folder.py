"""A folder of dance files with their music: what the BVH and positions-only loaders share.

A subclass finds its files (:meth:`FolderDataset.find_files`: dance id -> file) and turns one into
a ``Motion`` at the file's own rate (:meth:`FolderDataset.load_raw`); this base reads the
optional ``joint_map.json``, ``splits.json`` and ``genres.json`` (:mod:`.joint_maps`,
:mod:`.corpus_view`), resamples to :data:`contract.FPS`, floors the dance at y = 0 with its first
root at x = z = 0, pairs it with its music and lists what the corpus view converts.
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
from motionbeat.datasets.corpus_view import (
    CACHE_DIRS,
    DanceItem,
    DatasetError,
    assign_splits,
    audio_beside,
    read_genres,
)

log = logging.getLogger(__name__)


def centre_and_floor(motion: Motion) -> Motion:
    """Floor at y = 0 (:func:`.aistpp.floor_to_zero`), first frame's root at x = z = 0."""
    motion = floor_to_zero(motion)
    trans = motion.trans.copy()
    trans[:, [0, 2]] -= trans[0, [0, 2]]
    return replace(motion, trans=trans)


class FolderDataset:
    """Dance files under ``root`` (cache folders skipped) with their music (module docstring)."""

    what = "dance files"
    """What :meth:`find_files` looks for, for the error when it finds none."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: no such folder")
        self.files = self.find_files()
        if not self.files:
            raise DatasetError(f"{self.root}: no {self.what}")
        map_file = self.root / joint_maps.JOINT_MAP_FILE
        self.joint_map, self.source_names = (joint_maps.load_joint_map(map_file)
                                             if map_file.is_file() else (None, None))
        self.splits = assign_splits(list(self.files), self.root)
        self.genres = read_genres(self.root)

    def find_files(self) -> dict[str, Path]:
        """Dance id -> its file."""
        raise NotImplementedError

    def in_cache(self, path: Path) -> bool:
        """Whether ``path`` lies in a folder the corpus view writes (never a source file)."""
        return bool(set(path.relative_to(self.root).parts) & set(CACHE_DIRS))

    def load_raw(self, dance_id: str) -> Motion:
        """The dance at the file's own rate, not floored."""
        raise NotImplementedError

    def ids(self) -> list[str]:
        return list(self.files)

    def music_path(self, dance_id: str) -> Path | None:
        return audio_beside(self.files[dance_id], self.root)

    def load(self, dance_id: str) -> Motion:
        """The dance at contract.FPS, floored and centred, naming its music."""
        motion = centre_and_floor(self.load_raw(dance_id).resampled(contract.FPS))
        music = self.music_path(dance_id)
        return replace(motion, source_song=str(music) if music else None)

    def items(self) -> list[DanceItem]:
        """The dances that have music (the others are skipped with a warning)."""
        out = []
        for i in self.ids():
            music = self.music_path(i)
            if music is None:
                log.warning("%s: no music for %s; skipped", self.root, self.files[i].name)
                continue
            out.append(DanceItem(i, i, self.splits[i], self.genres.get(i, ""), music,
                                 lambda i=i: self.load(i)))
        return out

    def input_files(self) -> list[Path]:
        """Every file the conversion reads: dances, their music, the folder's JSON files."""
        files = list(self.files.values())
        files += [m for i in self.files if (m := self.music_path(i)) is not None]
        return files + [p for p in self.root.glob("*.json") if p.is_file()]
