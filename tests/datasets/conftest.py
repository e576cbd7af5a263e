"""Fixture datasets in the real formats (FineDance, BVH, positions-only), written once per module."""

from __future__ import annotations

import numpy as np
import pytest
from dataset_fixtures import (
    known_motion,
    smpl_joints,
    write_click_song,
    write_finedance,
    write_rig_bvh,
)

from motionbeat.core import contract
from motionbeat.datasets import finedance as fd
from motionbeat.datasets import joint_maps

SONG_SECONDS = 8.0
"""Length of every fixture dance and song (the toy corpus' length: enough beats for clips)."""
NAMES = ("a", "b", "c", "d", "e", "f")
"""Six dances: the default spread puts one in val and one in test."""


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs on one torch thread (``one_thread`` of tests/conftest.py)."""


@pytest.fixture(scope="module")
def finedance_root(tmp_path_factory):
    frames = round(SONG_SECONDS * contract.FPS)
    dances = {f"00{i}": known_motion(frames, seed=i) for i in range(1, 6)}
    dances["063"] = known_motion(fd.CLIP_FRAMES + 30, seed=9)  # a test dance: one Lodge clip
    return write_finedance(tmp_path_factory.mktemp("finedance"), dances)


@pytest.fixture(scope="module")
def bvh_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("bvh")
    names = {k: f"mixamorig:{v}" for k, v in joint_maps.MIXAMO.items()}
    for i, name in enumerate(NAMES):
        poses, trans = known_motion(round(SONG_SECONDS * contract.FPS), seed=20 + i)
        write_rig_bvh(root / f"{name}.bvh", poses, trans, contract.FPS, names, rest="A", up="z", unit=100.0)
        write_click_song(root / f"{name}.wav", SONG_SECONDS, bpm=100.0 + 8 * i)
    return root


@pytest.fixture(scope="module")
def positions_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("positions")
    for i, name in enumerate(NAMES):
        poses, trans = known_motion(round(SONG_SECONDS * contract.FPS), seed=40 + i)
        np.savez(root / f"{name}.npz", positions=smpl_joints(poses, trans), fps=np.float64(contract.FPS),
                 joint_names=np.array(contract.JOINT_NAMES))
        write_click_song(root / "music" / f"{name}.wav", SONG_SECONDS, bpm=100.0 + 8 * i)
    return root
