"""Shared test settings: headless rendering, no analytics, deterministic torch."""

import os

import pytest

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def one_thread():
    """One torch thread for the test, restored after it. Tiny models gain nothing from a second
    thread, and on shared cores two threads that wait for each other are far slower than one.
    The encoder, generator and dataset tests use it for every test (their ``conftest.py``)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
