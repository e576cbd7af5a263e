"""GeneratorConfig: registry, overrides, validation, and the JSON round trip rebuilding a model."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from generator.model.config import (
    GENERATOR_SIZES,
    LIBROSA_FEATURE_DIM,
    GeneratorConfig,
    config_for,
    size_of,
)
from generator.model.denoiser import Denoiser
from motionbeat.core import contract


def test_registry_has_the_sizes_growing():
    assert set(GENERATOR_SIZES) == {"tiny", "compact", "small", "base"}
    counts = [Denoiser(config_for(name)).num_parameters() for name in ("tiny", "compact", "small")]
    assert counts == sorted(counts)
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
    for bad in (-1.0, float("nan"), float("inf")):
        for name in ("loss_snr_gamma", "loss_noise_power", "loss_kinetic", "beat_guidance",
                     "halftime_above_bpm"):
            with pytest.raises(ValueError, match=name):
                config_for("tiny", **{name: bad})


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


def test_conditioner_fields_validate_and_round_trip():
    cfg = config_for("tiny", conditioner="librosa", music_dim=LIBROSA_FEATURE_DIM)
    assert GeneratorConfig.from_json(cfg.to_json()) == cfg
    mb = config_for("tiny", conditioner="motionbeat", music_dim=64,
                    encoder_checkpoint="motionbeat", encoder_hash="0123456789ab")
    again = GeneratorConfig.from_json(mb.to_json())
    assert again == mb and again.encoder_checkpoint == "motionbeat"
    with pytest.raises(ValueError, match="conditioner"):
        config_for("tiny", conditioner="mfcc")
    with pytest.raises(ValueError, match="librosa"):
        config_for("tiny", conditioner="librosa", music_dim=256)


def test_json_written_before_the_conditioner_fields_still_loads(tiny_config):
    old = tiny_config.to_dict()
    for key in ("conditioner", "encoder_checkpoint", "encoder_hash"):
        old.pop(key)
    cfg = GeneratorConfig.from_dict(old)
    assert cfg.conditioner == "motionbeat" and cfg.encoder_checkpoint == ""
    assert cfg.music_dim == tiny_config.music_dim


def test_checkpoint_round_trip_through_the_pipeline(tmp_path, tiny_model):
    from generator.sampling.checkpoint import load_denoiser, save_generator

    torch.manual_seed(1)
    tiny_model.set_normalization(torch.rand(contract.FRAME_DIM), torch.rand(contract.FRAME_DIM) + 0.5)
    tiny_model.set_music_normalization(torch.randn(tiny_model.config.music_dim),
                                       torch.rand(tiny_model.config.music_dim) + 0.5)
    weights, config = save_generator(tiny_model, tmp_path / "g", {"trained_steps": 7})
    assert config.read_text().strip() == tiny_model.config.to_json()
    rebuilt, meta = load_denoiser(tmp_path / "g")
    assert rebuilt.config == tiny_model.config and meta["trained_steps"] == 7
    frames = contract.WINDOW_FRAMES
    x = torch.randn(1, frames, contract.FRAME_DIM)
    music = torch.randn(1, frames, tiny_model.config.music_dim)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x, 10, music), tiny_model(x, 10, music))
    torch.testing.assert_close(rebuilt.music_std, tiny_model.music_std)


def test_size_is_read_back_from_a_config():
    for name in GENERATOR_SIZES:
        assert size_of(GENERATOR_SIZES[name]) == name
    # the conditioner, the loss and the sampling defaults are not the size
    tuned = config_for("compact", conditioner="librosa", music_dim=LIBROSA_FEATURE_DIM,
                       loss_noise_power=0.5, loss_root_turn=1.0, guidance_weight=1.5,
                       sampler="ddim")
    assert size_of(tuned) == "compact"
    # any other field of the model is
    assert size_of(config_for("compact", d_model=160)) is None
    assert size_of(config_for("small", patch_frames=1)) is None
    assert size_of(config_for("tiny", cond_dropout=0.1)) is None
    # the shipped checkpoints' configs (which store no size name)
    root = Path(__file__).resolve().parents[2] / "checkpoints"
    for stem in ("generator", "generator-librosa"):
        shipped = GeneratorConfig.from_json((root / f"{stem}.json").read_text())
        assert size_of(shipped) == "compact"
