"""Fixtures of the web app tests: an untrained tiny generator, short songs, a running server.

The server runs in this process (gradio's own server thread) on a free local port, with small
limits so that the limit checks are cheap to reach: dances up to 8 s, uploads up to 1 MB,
256-pixel videos.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

# gradio reads its upload folder from the environment when it is imported.
_GRADIO_TMP = tempfile.mkdtemp(prefix="motionbeat-app-test-gradio-")
os.environ.setdefault("GRADIO_TEMP_DIR", _GRADIO_TMP)
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
from app_testing import (  # noqa: E402
    BIG_UPLOAD_SECONDS,
    CONCURRENCY,
    EXAMPLE_SONG,
    SERVER_MAX_SECONDS,
    SERVER_MAX_UPLOAD_MB,
    SONG_SECONDS,
    TOO_LONG_SECONDS,
    VIDEO_SIZE,
    serving,
)

from app.request import Limits  # noqa: E402
from app.service import DanceService  # noqa: E402
from generator.sampling.checkpoint import write_untrained_checkpoint  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """The app tests run torch on one thread (the test machine is shared); others keep theirs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session", autouse=True)
def _gradio_tmp():
    yield
    shutil.rmtree(_GRADIO_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    """Stem of a seeded random tiny generator (generator.sampling.checkpoint.write_untrained_checkpoint)."""
    return write_untrained_checkpoint(tmp_path_factory.mktemp("checkpoint") / "generator", size="tiny")


@pytest.fixture(scope="session")
def songs(tmp_path_factory) -> dict[str, Path]:
    """Good and bad song files, by role."""
    folder = tmp_path_factory.mktemp("songs")
    music, sr = sf.read(EXAMPLE_SONG, dtype="float32")  # (N,) mono 22.05 kHz

    def wav(name: str, samples: np.ndarray) -> Path:
        path = folder / name
        sf.write(path, samples, sr, subtype="PCM_16")
        return path

    n = int(SONG_SECONDS * sr)
    files = {
        "good": wav("dance me.wav", music[:n]),
        "good_later": wav("second_part.wav", music[2 * n: 3 * n]),
        "too_long": wav("long_song.wav", music[: int(TOO_LONG_SECONDS * sr)]),
        "silent": wav("silence.wav", np.zeros(n, np.float32)),
        "big": wav("big.wav", np.resize(music, int(BIG_UPLOAD_SECONDS * sr))),
    }
    files["empty"] = folder / "empty.wav"
    files["empty"].write_bytes(b"")
    files["corrupt"] = folder / "corrupt.mp3"
    files["corrupt"].write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    files["unsupported"] = folder / "notes.txt"
    files["unsupported"].write_bytes(files["good"].read_bytes())
    return files


@pytest.fixture(scope="session")
def server(checkpoint, tmp_path_factory):
    """The app serving the tiny generator at http://127.0.0.1:<free port>/."""
    service = DanceService.from_checkpoint(
        checkpoint,
        device="cpu",
        work_dir=tmp_path_factory.mktemp("work"),
        limits=Limits(max_upload_mb=SERVER_MAX_UPLOAD_MB, max_duration=SERVER_MAX_SECONDS),
        video_size=VIDEO_SIZE,
    )
    with serving(service, concurrency=CONCURRENCY) as running:
        yield running
