"""FineDance (Li et al., "FineDance: A Fine-grained Choreography Dataset for 3D Full Body Dance
Generation", ICCV 2023) for users who have it; read in its published layout::

    ROOT/motion/<id>.npy        (T, 315) float: root translation (3) + 52 SMPL-H joints x 6-D
                                rotation (312), 30 fps (FINEDANCE_FPS)
    ROOT/music_wav/<id>.wav     the music of dance <id> (same stem)
    ROOT/label_json/<id>.json   optional labels; the genre is its "style1" (else "style2",
                                "style", "genre"), "" when absent

**Rotations.** As the FineDance / Lodge code reads it: ``motion[:, :3]`` is the translation,
``motion[:, 3:].reshape(T, 52, 6)`` the 6-D rotations, decoded by pytorch3d's
``rotation_6d_to_matrix``: the 6 numbers are two 3-vectors a1, a2; b1 = a1/|a1|, b2 =
normalise(a2 - (b1.a2) b1), b3 = b1 x b2, and b1, b2, b3 are the *rows* of the matrix (Zhou et
al., CVPR 2019). That is the project's own convention (``kinematics.rot6d_to_matrix``, rows),
so :func:`finedance_rot6d_to_matrix` calls it; the test checks the rows against a hand-made
Gram-Schmidt.

**Joints.** The 52 joints are the SMPL-H layout: the root and 21 body joints, then 15 left-hand
and 15 right-hand finger joints. FineDance's own preprocessing (``data/code/pre_motion.py`` of the
public FineDance code, read for this loader) feeds rotations 0, 1-21, 22-36 and 37-51 to SMPL-X as
global orient, body pose, left-hand pose and right-hand pose, with jaw and eyes at zero. Body
joints 0-21 (pelvis ... right wrist) are SMPL's 0-21 in the same order and are copied; the finger
joints are dropped. SMPL's 22 and 23 (left / right hand) have no counterpart there and get the
identity rotation: the hand bone continues the wrist. Axes: y-up and metres, as SMPL-X is (the
loader floors the dance at y = 0
and moves its first frame's root to x = z = 0, as :mod:`.aistpp` does).

**Splits.** FineDance has train and test only. The test ids and the ignore list below are those
of the public Lodge / FineDance code (``TEST_IDS``, ``IGNORE_IDS``); a user's copy of the data may
use others. Val (for the trainers' monitoring; not part of Lodge's protocol) is every
``VAL_EVERY``-th of the sorted non-test ids, starting with the first.

**Lodge protocol** (Li et al., "Lodge", CVPR 2024): dances are scored on 1024-frame clips
(``CLIP_FRAMES``) of the test dances. Here each test dance is cut into consecutive,
non-overlapping 1024-frame clips from its first frame (the remainder is dropped), each with its
music cut to match; :meth:`FineDance.items` hands these clips to the corpus view, so the test
split of ``--dataset finedance`` *is* the clip set. Train and val dances stay whole; training
windows are cut by the trainers (5 s, :func:`.aistpp.iter_windows` for direct use).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from motionbeat.core import contract, kinematics
from motionbeat.core.motion import Motion
from motionbeat.datasets.aistpp import floor_to_zero, iter_windows
from motionbeat.datasets.corpus_view import DanceItem, DatasetError

FINEDANCE_FPS: int = 30
"""Frame rate of FineDance motion files."""
SMPLX_JOINTS: int = 52
"""Joints in a FineDance motion row: SMPL-H order, root + 21 body joints + 2 x 15 finger joints."""
SMPLX_BODY_JOINTS: int = 22
"""Body joints 0-21 of the row, identical in order to SMPL's 0-21."""
TRANSLATION_DIM: int = 3
MOTION_DIM: int = TRANSLATION_DIM + SMPLX_JOINTS * contract.ROT6D_DIM
"""Width of a motion row: 3 + 52 * 6 = 315."""
CLIP_FRAMES: int = 1024
"""Lodge's scoring clip length, frames at 30 fps (34.1 s)."""
VAL_EVERY: int = 20
"""Every VAL_EVERY-th sorted non-test id is val (5 %)."""
TEST_IDS: tuple[str, ...] = (
    "063", "132", "143", "036", "098", "198", "130", "012", "211", "193", "179", "065", "137",
    "161", "092", "120", "037", "109", "204", "144",
)
"""FineDance's test dances, from the public Lodge / FineDance code."""
IGNORE_IDS: tuple[str, ...] = ("116", "117", "118", "119", "120", "121", "122", "123", "202")
"""Dances the public Lodge / FineDance code leaves out (bad captures)."""
GENRE_KEYS: tuple[str, ...] = ("style1", "style2", "style", "genre")


class FineDanceError(DatasetError):
    """Not a FineDance folder, or a malformed motion file."""


def finedance_rot6d_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """(..., 6) FineDance 6-D -> (..., 3, 3): pytorch3d's rows convention (module docstring)."""
    return kinematics.rot6d_to_matrix(d6)  # the project's layout is the same rows convention


def read_motion_file(path: str | os.PathLike) -> Motion:
    """A FineDance ``.npy`` -> SMPL :class:`Motion` (raw: not floored, not centred)."""
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise FineDanceError(f"{path.name}: unreadable FineDance motion ({err})") from None
    if data.ndim != 2 or data.shape[1] != MOTION_DIM or len(data) == 0:
        raise FineDanceError(f"{path.name}: expected a (T, {MOTION_DIM}) FineDance motion, got {data.shape}")
    if not np.isfinite(data).all():
        raise FineDanceError(f"{path.name}: motion contains NaN or infinite values")
    data = data.astype(np.float32)
    rot6d = torch.from_numpy(data[:, TRANSLATION_DIM:]).reshape(len(data), SMPLX_JOINTS, contract.ROT6D_DIM)
    with torch.no_grad():
        body = kinematics.matrix_to_axis_angle(
            finedance_rot6d_to_matrix(rot6d[:, :SMPLX_BODY_JOINTS]))  # (T, 22, 3)
    poses = np.zeros((len(data), contract.NUM_JOINTS, 3), np.float32)  # hands 22, 23: identity
    poses[:, :SMPLX_BODY_JOINTS] = body.numpy()
    return Motion(poses, data[:, :TRANSLATION_DIM], FINEDANCE_FPS, meta={"source_file": path.name})


class FineDance:
    """A FineDance release on disk (module docstring)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.motion_dir = self.root / "motion"
        self.music_dir = self.root / "music_wav"
        self.label_dir = self.root / "label_json"
        if not self.motion_dir.is_dir():
            raise FineDanceError(f"{self.root}: not a FineDance folder (no motion/)")

    def ids(self) -> list[str]:
        """Every dance id with a motion file, minus the ignore list."""
        return sorted(p.stem for p in self.motion_dir.glob("*.npy") if p.stem not in IGNORE_IDS)

    def split_of(self, dance_id: str) -> str:
        if dance_id in TEST_IDS:
            return "test"
        rest = [i for i in self.ids() if i not in TEST_IDS]
        return "val" if dance_id in rest[::VAL_EVERY] else "train"

    def genre(self, dance_id: str) -> str:
        path = self.label_dir / f"{dance_id}.json"
        if not path.is_file():
            return ""
        try:
            labels = json.loads(path.read_text())
        except ValueError:
            return ""
        if not isinstance(labels, dict):
            return ""
        return next((str(labels[k]) for k in GENRE_KEYS if labels.get(k)), "")

    def music_path(self, dance_id: str) -> Path | None:
        p = self.music_dir / f"{dance_id}.wav"
        return p if p.is_file() else None

    def load(self, dance_id: str, center: bool = True) -> Motion:
        """One dance at contract.FPS, metres, y-up, floor at 0, first root at x = z = 0."""
        path = self.motion_dir / f"{dance_id}.npy"
        if not path.is_file():
            raise FineDanceError(f"{dance_id}: no motion/{dance_id}.npy")
        motion = floor_to_zero(read_motion_file(path).resampled(contract.FPS))
        if center:
            trans = motion.trans.copy()
            trans[:, [0, 2]] -= trans[0, [0, 2]]
            motion = replace(motion, trans=trans)
        song = self.music_path(dance_id)
        return replace(motion, source_song=str(song) if song else None,
                       meta={"dataset": "finedance", "dance_id": dance_id, "genre": self.genre(dance_id)})

    def windows(self, split: str, window_frames: int = contract.WINDOW_FRAMES) -> Iterator[Motion]:
        """Training windows (5 s, stride 0.5 s) of every dance of a split."""
        for i in self.ids():
            if self.split_of(i) == split:
                yield from iter_windows(self.load(i), window_frames)

    def test_clips(self, clip_frames: int = CLIP_FRAMES) -> list[tuple[str, int]]:
        """(dance id, first frame) of every Lodge scoring clip of the test dances."""
        clips = []
        for i in self.ids():
            if self.split_of(i) != "test":
                continue
            frames = len(np.load(self.motion_dir / f"{i}.npy", mmap_mode="r"))
            clips += [(i, first) for first in range(0, frames - clip_frames + 1, clip_frames)]
        return clips

    def items(self, clip_frames: int = CLIP_FRAMES) -> list[DanceItem]:
        """Dances for the corpus view: train / val whole, test as Lodge clips; no music, no item."""
        out = []
        for i in self.ids():
            music = self.music_path(i)
            if music is None or self.split_of(i) == "test":
                continue
            out.append(DanceItem(i, i, self.split_of(i), self.genre(i), music,
                                 lambda i=i: self.load(i)))
        for i, first in self.test_clips(clip_frames):
            music = self.music_path(i)
            if music is not None:
                out.append(DanceItem(f"{i}@{first}", f"{i}@{first}", "test", self.genre(i), music,
                                     lambda i=i: self.load(i), clip=(first, clip_frames)))
        return out

    def input_files(self) -> list[Path]:
        return [p for d in (self.motion_dir, self.music_dir, self.label_dir) if d.is_dir()
                for p in d.iterdir() if p.is_file()]
