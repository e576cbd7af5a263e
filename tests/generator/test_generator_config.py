"""GeneratorConfig: registry, overrides, validation, and the JSON round trip rebuilding a model."""

import pytest
import torch
from safetensors.torch import load_file, save_file

from generator.config import GENERATOR_SIZES, GeneratorConfig, config_for
from generator.denoiser import Denoiser
from motionbeat import contract


def test_registry_has_the_three_sizes_growing():
    assert set(GENERATOR_SIZES) == {"tiny", "small", "base"}
    counts = [Denoiser(config_for(name)).num_parameters() for name in ("tiny", "small")]
    assert counts[0] < counts[1]
    assert all(cfg.frame_dim == contract.FRAME_DIM for cfg in GENERATOR_SIZES.values())
    assert all(cfg.window_frames == contract.WINDOW_FRAMES for cfg in GENERATOR_SIZES.values())


def test_overrides_and_validation():
    cfg = config_for("small", music_dim=77)
    assert cfg.music_dim == 77 and cfg.d_model == GENERATOR_SIZES["small"].d_model
    with pytest.raises(KeyError):
        config_for("huge")
    with pytest.raises(ValueError):
        config_for("tiny", num_heads=3)
    with pytest.raises(ValueError):
        config_for("tiny", sampler="euler")
    with pytest.raises(ValueError):
        config_for("tiny", overlap_frames=contract.WINDOW_FRAMES)


def test_json_round_trip_rebuilds_the_model(tmp_path, tiny_model, tiny_config):
    text = tiny_config.to_json()
    again = GeneratorConfig.from_json(text)
    assert again == tiny_config
    save_file(tiny_model.state_dict(), tmp_path / "tiny.safetensors")
    rebuilt = Denoiser(again).eval()
    rebuilt.load_state_dict(load_file(tmp_path / "tiny.safetensors"))
    frames = contract.WINDOW_FRAMES
    x = torch.randn(1, frames, contract.FRAME_DIM)
    music = torch.randn(1, frames, tiny_config.music_dim)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x, 10, music), tiny_model(x, 10, music))


def test_json_refuses_unknown_keys_and_newer_versions(tiny_config):
    data = tiny_config.to_dict()
    with pytest.raises(ValueError, match="unknown"):
        GeneratorConfig.from_dict({**data, "colour": "red"})
    with pytest.raises(ValueError, match="newer"):
        GeneratorConfig.from_dict({**data, "format_version": data["format_version"] + 1})
