"""Fixtures of the generator tests: a tiny seeded denoiser whose output layers are not zero."""

import pytest
import torch

from generator.model.config import config_for
from generator.model.denoiser import Denoiser

MUSIC_DIM = 8
"""Width of the toy music features in these tests."""


def randomize_zero_init(model: Denoiser, scale: float = 0.02) -> Denoiser:
    """Give the zero-initialised layers (adaLN-Zero, output) small random weights, so the output
    depends on the inputs as a trained model's does."""
    with torch.no_grad():
        layers = [block.modulation[1] for block in model.blocks]
        layers += [model.final_modulation[1], model.motion_out]
        for layer in layers:
            layer.weight.normal_(0.0, scale)
            layer.bias.normal_(0.0, scale)
    return model


@pytest.fixture
def tiny_config():
    return config_for("tiny", music_dim=MUSIC_DIM, sample_steps=4)


@pytest.fixture
def tiny_model(tiny_config):
    torch.manual_seed(0)
    return randomize_zero_init(Denoiser(tiny_config)).eval()


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs on one torch thread (``one_thread`` of tests/conftest.py)."""


CLICK_BPM = 120.0
"""Tempo of the synthetic click tracks."""


def write_click_track(path, seconds: float, bpm: float = CLICK_BPM, level: float = 0.5):
    """A wav of short 1 kHz clicks on every beat (and a louder one on every bar's first beat)."""
    import numpy as np
    import soundfile as sf

    from motionbeat import audio as au

    sr = au.SAMPLE_RATE
    y = np.zeros(int(round(seconds * sr)), np.float32)
    t = np.arange(int(0.03 * sr)) / sr
    click = np.sin(2 * np.pi * 1000.0 * t) * np.exp(-t / 0.01)
    for k, beat in enumerate(np.arange(0.0, seconds, 60.0 / bpm)):
        a = int(round(beat * sr))
        n = min(len(click), len(y) - a)
        y[a : a + n] += (level if k % 4 == 0 else 0.6 * level) * click[:n]
    sf.write(path, y, sr)
    return path


@pytest.fixture(scope="session")
def make_click_track():
    """:func:`write_click_track`, for tests that need a song of their own length."""
    return write_click_track


@pytest.fixture(scope="session")
def click_tracks(tmp_path_factory):
    """Click-track wavs of 3 s and 40 s (and a silent one), written once per session."""
    import numpy as np
    import soundfile as sf

    from motionbeat import audio as au

    root = tmp_path_factory.mktemp("songs")
    tracks = {
        "short": write_click_track(root / "short.wav", 3.0),
        "long": write_click_track(root / "long.wav", 40.0),
    }
    silent = root / "silent.wav"
    sf.write(silent, np.zeros(3 * au.SAMPLE_RATE, np.float32), au.SAMPLE_RATE)
    tracks["silent"] = silent
    return tracks


@pytest.fixture(scope="session")
def untrained_checkpoint(tmp_path_factory):
    """Stem of a seeded untrained tiny generator on librosa features."""
    from generator.sampling.checkpoint import write_untrained_checkpoint

    return write_untrained_checkpoint(tmp_path_factory.mktemp("gen") / "tiny", seed=0)


@pytest.fixture(scope="session")
def toy_corpus(tmp_path_factory):
    """A tiny corpus (motionbeat.datasets.toy.write_toy_corpus): 3 train songs, 1 val, 8 s each."""
    from motionbeat.datasets.toy import write_toy_corpus

    root = tmp_path_factory.mktemp("toy")
    write_toy_corpus(root, ("train", "train", "train", "val"), seconds=8.0)
    return root


@pytest.fixture(scope="session")
def encoder_checkpoint(tmp_path_factory):
    """Stem of a seeded untrained tiny MotionBeat encoder."""
    from motionbeat.encoder.config import config_for as encoder_config
    from motionbeat.encoder.model import MotionBeat, save_checkpoint

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = MotionBeat(encoder_config("tiny"))
    stem = tmp_path_factory.mktemp("ckpt") / "motionbeat"
    save_checkpoint(model, stem)
    return stem
