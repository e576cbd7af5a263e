"""AIST++ (Li et al., "AI Choreographer", ICCV 2021) for users who have it.

AIST++ cannot be downloaded here; this loader reads the release's own layout::

    ROOT/motions/<seq>.pkl           smpl_poses (N, 72) axis-angle, smpl_trans (N, 3),
                                     smpl_scaling (1,), at 60 fps (contract.AISTPP_FPS)
    ROOT/wav/<music>.wav             the songs, e.g. mBR0.wav  (or ROOT/all_musics/)
    ROOT/splits/crossmodal_{train,val,test}.txt   sequence names, one a line (or ROOT/*.txt)
    ROOT/ignore_list.txt             sequences with bad fits, to leave out

A sequence name such as ``gBR_sBM_cAll_d04_mBR0_ch01`` names its music (``mBR0``).
:meth:`AISTPP.load` returns a :class:`~motionbeat.core.motion.Motion` in the project's terms:

* translation divided by ``smpl_scaling`` (AIST++ stores centimetre-scale units), so metres;
* resampled to :data:`contract.FPS` (slerp; at 60 -> 30 fps this keeps every second frame,
  as EDGE and Bailando do);
* y-up as AIST++ already is; the floor moved to y = 0 (the 1st percentile over frames of the
  lowest foot joint), and optionally the first frame's root moved to x = z = 0.

:func:`iter_windows` cuts motions into training windows (EDGE: 5 s, stride 0.5 s).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from motionbeat.core import contract
from motionbeat.core.motion import Motion, load_motion

SPLITS: tuple[str, ...] = ("train", "val", "test")
SPLIT_FILE = "crossmodal_{split}.txt"
IGNORE_FILE = "ignore_list.txt"
MUSIC_DIRS: tuple[str, ...] = ("wav", "all_musics", "music")
FLOOR_PERCENTILE: float = 1.0
"""Percentile over frames of the lowest foot joint taken as the floor (robust to a glitch)."""
WINDOW_STRIDE_SECONDS: float = 0.5
"""EDGE's stride between training windows."""
_MUSIC_ID = re.compile(r"_(m[A-Z]{2}\d)_")


class AISTPPError(ValueError):
    """The folder is not an AIST++ release, or a sequence is missing."""


def music_id(sequence: str) -> str:
    """``gBR_sBM_cAll_d04_mBR0_ch01`` -> ``mBR0``."""
    m = _MUSIC_ID.search(sequence + "_")
    if not m:
        raise AISTPPError(f"{sequence}: no music id (mXX0) in the sequence name")
    return m.group(1)


def floor_to_zero(motion: Motion) -> Motion:
    """Shift the motion vertically so its feet rest on y = 0 (see FLOOR_PERCENTILE)."""
    joints = motion.joints()  # (T, 24, 3)
    lowest = joints[:, list(contract.FOOT_JOINTS), contract.UP_AXIS].min(axis=1)  # (T,)
    floor = float(np.percentile(lowest, FLOOR_PERCENTILE))
    trans = motion.trans.copy()
    trans[:, contract.UP_AXIS] -= floor
    return replace(motion, trans=trans)


class AISTPP:
    """An AIST++ release on disk."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.motion_dir = self.root / "motions"
        if not self.motion_dir.is_dir():
            raise AISTPPError(f"{self.root}: not an AIST++ folder (no motions/)")
        self.music_dir = next((self.root / d for d in MUSIC_DIRS if (self.root / d).is_dir()), None)
        ignore = self._find(IGNORE_FILE)
        self.ignored = frozenset(_read_list(ignore)) if ignore else frozenset()

    def _find(self, name: str) -> Path | None:
        for p in (self.root / "splits" / name, self.root / name):
            if p.is_file():
                return p
        return None

    def sequences(self, split: str | None = None) -> list[str]:
        """Sequence names of a split (crossmodal_*.txt), or all motions, minus the ignore list."""
        if split is None:
            names = sorted(p.stem for p in self.motion_dir.glob("*.pkl"))
        else:
            if split not in SPLITS:
                raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
            path = self._find(SPLIT_FILE.format(split=split))
            if path is None:
                raise AISTPPError(f"{self.root}: no {SPLIT_FILE.format(split=split)}")
            names = _read_list(path)
        return [n for n in names if n not in self.ignored]

    def music_path(self, sequence: str) -> Path | None:
        """The song of a sequence, if the music folder has it."""
        if self.music_dir is None:
            return None
        p = self.music_dir / f"{music_id(sequence)}.wav"
        return p if p.is_file() else None

    def load(self, sequence: str, center: bool = True) -> Motion:
        """One sequence at contract.FPS, metres, y-up, floor at 0 (see module doc)."""
        path = self.motion_dir / f"{sequence}.pkl"
        if not path.is_file():
            raise AISTPPError(f"{sequence}: no {path.relative_to(self.root)}")
        motion = load_motion(path, fps=contract.AISTPP_FPS).resampled(contract.FPS)
        motion = floor_to_zero(motion)
        if center:
            trans = motion.trans.copy()
            trans[:, [0, 2]] -= trans[0, [0, 2]]
            motion = replace(motion, trans=trans)
        song = self.music_path(sequence)
        return replace(
            motion,
            source_song=str(song) if song else f"{music_id(sequence)}.wav",
            meta={"dataset": "aist++", "sequence": sequence, "music_id": music_id(sequence)},
        )

    def iter_split(self, split: str | None = None) -> Iterator[Motion]:
        for name in self.sequences(split):
            yield self.load(name)

    def windows(
        self,
        split: str,
        window_frames: int = contract.WINDOW_FRAMES,
        stride_frames: int | None = None,
    ) -> Iterator[Motion]:
        """Training windows of every sequence of a split."""
        for motion in self.iter_split(split):
            yield from iter_windows(motion, window_frames, stride_frames)


def _read_list(path: Path) -> list[str]:
    return [
        ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]


def iter_windows(
    motion: Motion, window_frames: int = contract.WINDOW_FRAMES, stride_frames: int | None = None
) -> Iterator[Motion]:
    """Consecutive windows of ``window_frames`` every ``stride_frames`` (default 0.5 s).

    Each window keeps ``start_offset`` (seconds into the song) so its music can be cut to match;
    motions shorter than one window yield nothing.
    """
    stride = stride_frames or max(1, int(round(WINDOW_STRIDE_SECONDS * motion.fps)))
    for first in range(0, motion.num_frames - window_frames + 1, stride):
        yield replace(
            motion,
            poses=motion.poses[first : first + window_frames],
            trans=motion.trans[first : first + window_frames],
            start_offset=motion.start_offset + first / motion.fps,
        )
