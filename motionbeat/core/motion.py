"""The ``Motion`` value and its files: versioned ``.npz`` and AIST++-style ``.pkl``.

Stages meet through these files: sampling writes, rendering and scoring read.

``.npz`` (written with ``allow_pickle`` off, read the same way) holds
    format_version, fps, poses (T, 24, 3) axis-angle, trans (T, 3) metres y-up,
    source_song, start_offset (seconds into the song where frame 0 plays), model_hash,
    meta_json (any further JSON metadata).
AIST++ ``.pkl`` (Li et al., ICCV 2021) holds smpl_poses (N, 72), smpl_trans (N, 3) and
smpl_scaling (1,) at 60 fps; trans / scaling is metres. It is read through an unpickler that
admits numpy arrays and plain containers only.
"""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from motionbeat.core import contract, kinematics
from motionbeat.core.fileio import atomic_path, load_arrays_pickle


class MotionFileError(ValueError):
    """A motion file is missing, malformed or of an unknown format."""


@dataclass(frozen=True, eq=False)
class Motion:
    """A dance as SMPL parameters.

    Attributes:
        poses: (T, 24, 3) float32 local joint rotations, axis-angle, SMPL joint order.
        trans: (T, 3) float32 root (pelvis) position in metres, y-up, floor at y = 0.
        fps: frames per second.
        source_song: path or name of the song the motion was made for, if any.
        start_offset: seconds into ``source_song`` at which frame 0 plays.
        model_hash: short hash of the checkpoint that produced it ("" for data / rules).
        meta: further JSON-serialisable metadata.
    """

    poses: np.ndarray
    trans: np.ndarray
    fps: float = contract.FPS
    source_song: str | None = None
    start_offset: float = 0.0
    model_hash: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        poses = np.asarray(self.poses, dtype=np.float32)
        trans = np.asarray(self.trans, dtype=np.float32)
        if poses.ndim == 2 and poses.shape[1] == contract.NUM_JOINTS * 3:
            poses = poses.reshape(-1, contract.NUM_JOINTS, 3)  # (T, 72) -> (T, 24, 3)
        if poses.ndim != 3 or poses.shape[1:] != (contract.NUM_JOINTS, 3):
            raise ValueError(f"poses must be (T, {contract.NUM_JOINTS}, 3), got {poses.shape}")
        if trans.shape != (poses.shape[0], 3):
            raise ValueError(f"trans must be ({poses.shape[0]}, 3) to match poses, got {trans.shape}")
        if poses.shape[0] == 0:
            raise ValueError("a motion needs at least one frame")
        if not (np.isfinite(poses).all() and np.isfinite(trans).all()):
            raise ValueError("motion contains NaN or infinite values")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        object.__setattr__(self, "poses", poses)
        object.__setattr__(self, "trans", trans)
        object.__setattr__(self, "fps", float(self.fps))
        object.__setattr__(self, "start_offset", float(self.start_offset))

    # ---------------------------------------------------------------- derived values
    @property
    def num_frames(self) -> int:
        return self.poses.shape[0]

    @property
    def duration(self) -> float:
        """Seconds covered, num_frames / fps."""
        return self.num_frames / self.fps

    def joints(self) -> np.ndarray:
        """(T, 24, 3) joint positions in metres, y-up, by forward kinematics."""
        with torch.no_grad():
            return kinematics.forward_kinematics(
                torch.from_numpy(self.poses), torch.from_numpy(self.trans)
            ).numpy()

    def to_features(self) -> np.ndarray:
        """(T, 151) frames of the contract layout."""
        with torch.no_grad():
            return kinematics.motion_to_features(
                torch.from_numpy(self.poses), torch.from_numpy(self.trans), self.fps
            ).numpy()

    @classmethod
    def from_features(cls, frames: np.ndarray, fps: float = contract.FPS, **meta) -> Motion:
        """Build a motion from (T, 151) frames; the contact channels are dropped."""
        with torch.no_grad():
            poses, trans, _ = kinematics.features_to_motion(torch.as_tensor(frames, dtype=torch.float32))
        return cls(poses.numpy(), trans.numpy(), fps, **meta)

    def resampled(self, fps: float) -> Motion:
        """The same motion at another frame rate (rotations by slerp)."""
        if fps == self.fps:
            return self
        with torch.no_grad():
            poses, trans = kinematics.resample(
                torch.from_numpy(self.poses), torch.from_numpy(self.trans), self.fps, fps
            )
        return replace(self, poses=poses.numpy(), trans=trans.numpy(), fps=fps)

    def sliced(self, start_s: float = 0.0, duration_s: float | None = None) -> Motion:
        """Frames from ``start_s`` seconds for ``duration_s`` seconds; the offset follows."""
        first = max(0, int(round(start_s * self.fps)))
        last = self.num_frames if duration_s is None else first + int(round(duration_s * self.fps))
        if first >= self.num_frames or last <= first:
            raise ValueError(f"slice [{start_s}s, +{duration_s}s) is outside the {self.duration:.2f}s motion")
        return replace(
            self,
            poses=self.poses[first:last],
            trans=self.trans[first:last],
            start_offset=self.start_offset + first / self.fps,
        )

    # -------------------------------------------------------------------------- files
    def save(self, path: str | os.PathLike) -> Path:
        """Write ``.npz`` or AIST++ ``.pkl`` (by suffix) atomically; returns the path."""
        path = Path(path)
        if path.suffix == ".npz":
            _save_npz(self, path)
        elif path.suffix == ".pkl":
            _save_aistpp_pkl(self, path)
        else:
            raise MotionFileError(f"{path.name}: unknown motion format (use .npz or .pkl)")
        return path


def load_motion(path: str | os.PathLike, fps: float | None = None) -> Motion:
    """Read a motion from ``.npz`` or AIST++ ``.pkl``.

    Args:
        fps: frame rate of a ``.pkl`` (AIST++ files carry none); :data:`contract.AISTPP_FPS`
            by default. Ignored for ``.npz``, which records its own.
    """
    path = Path(path)
    if not path.is_file():
        raise MotionFileError(f"{path}: no such motion file")
    if path.suffix == ".npz":
        return _load_npz(path)
    if path.suffix == ".pkl":
        return _load_aistpp_pkl(path, contract.AISTPP_FPS if fps is None else fps)
    raise MotionFileError(f"{path.name}: unknown motion format (expected .npz or .pkl)")


def _save_npz(motion: Motion, path: Path) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            format_version=np.int64(contract.MOTION_FORMAT_VERSION),
            fps=np.float64(motion.fps),
            poses=motion.poses,
            trans=motion.trans,
            source_song=np.str_(motion.source_song or ""),
            start_offset=np.float64(motion.start_offset),
            model_hash=np.str_(motion.model_hash),
            meta_json=np.str_(json.dumps(motion.meta)),
        )


def _load_npz(path: Path) -> Motion:
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            missing = {"poses", "trans", "fps"} - keys
            if missing:
                raise MotionFileError(f"{path.name}: not a motion file (missing {sorted(missing)})")
            version = int(data["format_version"]) if "format_version" in keys else 1
            if version > contract.MOTION_FORMAT_VERSION:
                raise MotionFileError(
                    f"{path.name}: motion format version {version} is newer than this program's "
                    f"{contract.MOTION_FORMAT_VERSION}; update the project"
                )
            song = str(data["source_song"]) if "source_song" in keys else ""
            return Motion(
                poses=data["poses"],
                trans=data["trans"],
                fps=float(data["fps"]),
                source_song=song or None,
                start_offset=float(data["start_offset"]) if "start_offset" in keys else 0.0,
                model_hash=str(data["model_hash"]) if "model_hash" in keys else "",
                meta=json.loads(str(data["meta_json"])) if "meta_json" in keys else {},
            )
    except MotionFileError:
        raise
    except (OSError, ValueError, KeyError) as err:
        raise MotionFileError(f"{path.name}: unreadable motion file ({err})") from None


def _save_aistpp_pkl(motion: Motion, path: Path) -> None:
    at_60 = motion.resampled(contract.AISTPP_FPS)
    payload = {
        "smpl_poses": at_60.poses.reshape(at_60.num_frames, -1),  # (N, 72)
        "smpl_trans": at_60.trans,  # (N, 3), metres since scaling is 1
        "smpl_scaling": np.ones(1, dtype=np.float32),
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        pickle.dump(payload, fh, protocol=4)


def _load_aistpp_pkl(path: Path, fps: float) -> Motion:
    try:
        data = load_arrays_pickle(path)
    except ValueError as err:
        raise MotionFileError(str(err)) from None
    if not isinstance(data, dict) or not {"smpl_poses", "smpl_trans"} <= data.keys():
        raise MotionFileError(f"{path.name}: not an AIST++ motion (needs smpl_poses and smpl_trans)")
    poses = np.asarray(data["smpl_poses"], dtype=np.float32)
    trans = np.asarray(data["smpl_trans"], dtype=np.float32)
    scaling = float(np.asarray(data.get("smpl_scaling", 1.0), dtype=np.float64).reshape(-1)[0])
    if not scaling > 0:
        raise MotionFileError(f"{path.name}: smpl_scaling must be positive, got {scaling}")
    if poses.ndim != 2 or poses.shape[1] != contract.NUM_JOINTS * 3:
        raise MotionFileError(f"{path.name}: smpl_poses must be (N, 72), got {poses.shape}")
    try:
        return Motion(poses, trans / scaling, fps, meta={"source_file": path.name})
    except ValueError as err:
        raise MotionFileError(f"{path.name}: {err}") from None
