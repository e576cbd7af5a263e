"""Positions-only dance captures (joint positions, no rotations) solved to SMPL by IK.

Two layouts, in one folder ROOT (searched recursively):

* ``<name>.npz`` with ``positions`` (T, J, 3), ``fps`` and ``joint_names`` (J,) (or the names in
  ``ROOT/joint_map.json``'s ``source_joint_names``); its music ``<name>.wav`` (any audio suffix)
  beside it or in ``ROOT/music/``.
* Dance with Melody (Tang et al., ACM MM 2018): a folder per dance with ``skeletons.json``
  (``{"skeletons": (T, 23, 3), ...}``, 25 fps, ``DWM_FPS``; a ``config.json`` with ``"fps"``
  overrides it) and its music (``audio.mp3`` or any audio file in the folder). The file does not
  name its 23 joints: give them in ``ROOT/joint_map.json`` as ``source_joint_names`` with the map
  (:mod:`motionbeat.datasets.joint_maps`); this project does not ship that order.

Each dance is solved by :func:`motionbeat.datasets.ik.solve_ik` (analytic initial guess, Adam
refinement with a smoothness term), resampled to :data:`contract.FPS`, floored and centred.
The IK residual (mean / max metres over the mapped joints) is in ``Motion.meta`` and logged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from motionbeat.core.motion import Motion
from motionbeat.datasets import joint_maps
from motionbeat.datasets.corpus_view import AUDIO_SUFFIXES, DatasetError
from motionbeat.datasets.folder import FolderDataset
from motionbeat.datasets.ik import solve_ik

log = logging.getLogger(__name__)

DWM_FPS: float = 25.0
"""Frame rate of Dance with Melody skeletons."""
DWM_FILE: str = "skeletons.json"


class PositionsError(DatasetError):
    """A positions file is malformed or its joints have no names."""


class PositionsDataset(FolderDataset):
    """A folder of positions-only dances (module docstring)."""

    what = f"positions files (*.npz or */{DWM_FILE})"

    def find_files(self) -> dict[str, Path]:
        files = [p for p in sorted(self.root.rglob("*.npz")) + sorted(self.root.rglob(DWM_FILE))
                 if not self.in_cache(p)]
        return {(p.parent.name if p.name == DWM_FILE else p.stem): p for p in files}

    def music_path(self, dance_id: str) -> Path | None:
        path = self.files[dance_id]
        if path.name != DWM_FILE:
            return super().music_path(dance_id)
        return next((p for s in AUDIO_SUFFIXES for p in sorted(path.parent.glob(f"*{s}"))), None)

    def read(self, dance_id: str) -> tuple[np.ndarray, list[str], float]:
        """(T, J, 3) positions, the J joint names and the frame rate of one dance."""
        path = self.files[dance_id]
        try:
            if path.name == DWM_FILE:
                data = json.loads(path.read_text())
                positions = np.asarray(data["skeletons"], dtype=np.float64)
                config = path.parent / "config.json"
                settings = json.loads(config.read_text()) if config.is_file() else {}
                fps = float(settings.get("fps", DWM_FPS))
                names = None
            else:
                with np.load(path, allow_pickle=False) as z:
                    positions = np.asarray(z["positions"], dtype=np.float64)
                    fps = float(z["fps"])
                    names = [str(n) for n in z["joint_names"]] if "joint_names" in z.files else None
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise PositionsError(f"{path}: unreadable positions file ({err})") from None
        names = names or self.source_names
        if positions.ndim != 3 or positions.shape[-1] != 3 or len(positions) < 2:
            raise PositionsError(f"{path}: positions must be (T >= 2, J, 3), got {positions.shape}")
        if names is None or len(names) != positions.shape[1]:
            raise PositionsError(
                f"{path}: {positions.shape[1]} joints without names; give joint_names in the file or "
                f"source_joint_names in {self.root / joint_maps.JOINT_MAP_FILE}")
        if not np.isfinite(positions).all() or not fps > 0:
            raise PositionsError(f"{path}: NaN / infinite positions or a bad fps ({fps})")
        return positions, names, fps

    def load_raw(self, dance_id: str) -> Motion:
        """The IK solution at the file's own rate, not floored; meta holds the residual."""
        positions, names, fps = self.read(dance_id)
        result = solve_ik(positions, names, fps, self.joint_map)
        log.info("%s: IK residual mean %.4f m, max %.4f m", dance_id, result.mean_error_m,
                 result.max_error_m)
        return replace(result.motion, meta={"dataset": "positions", "dance_id": dance_id,
                                            **result.motion.meta})
