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

from dataclasses import replace
from pathlib import Path

from motionbeat.core.motion import Motion
from motionbeat.datasets.bvh_file import read_bvh
from motionbeat.datasets.folder import FolderDataset
from motionbeat.datasets.retarget import retarget_bvh


class BVHDataset(FolderDataset):
    """A folder of BVH dances (module docstring)."""

    suffix = ".bvh"
    what = ".bvh files"

    def find_files(self) -> dict[str, Path]:
        return {p.stem: p for p in sorted(self.root.rglob(f"*{self.suffix}")) if not self.in_cache(p)}

    def load_raw(self, dance_id: str) -> Motion:
        """The retargeted dance at the file's own rate, not floored."""
        motion, info = retarget_bvh(read_bvh(self.files[dance_id]), self.joint_map)
        return replace(motion, meta={"dataset": "bvh", "dance_id": dance_id, **info})
