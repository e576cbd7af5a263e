"""Fixtures of the generator tests: a tiny seeded denoiser whose output layers are not zero."""

import pytest
import torch

from generator.config import config_for
from generator.denoiser import Denoiser

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
def one_thread():
    """Tiny models gain nothing from a second thread, and on shared cores two threads that wait
    for each other are far slower than one; restored after each test."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
