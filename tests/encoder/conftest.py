"""Fixtures shared by the MotionBeat tests: one torch thread, a toy corpus."""

import pytest

from motionbeat.datasets.toy import write_toy_corpus

TOY_SPLITS = ("train", "train", "train", "train", "val", "test")
"""Songs of the toy corpus, by split: enough training songs for in-batch negatives."""
TOY_SECONDS = 8.0


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs on one torch thread (``one_thread`` of tests/conftest.py)."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A toy corpus (``write_toy_corpus``) of six 8-second songs; a test module may override it."""
    root = tmp_path_factory.mktemp("toy")
    write_toy_corpus(root, TOY_SPLITS, seconds=TOY_SECONDS)
    return root
