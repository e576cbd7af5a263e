"""MotionBeat dual encoder: phase equivariance, contact guidance, masks, checkpoints."""

from __future__ import annotations

import json

import pytest
import torch

from motionbeat.core import contract
from motionbeat.encoder.config import MOTIONBEAT_SIZES, MotionBeatConfig, config_for
from motionbeat.encoder.model import (
    MotionBeat,
    contact_probability,
    count_parameters,
    load_checkpoint,
    save_checkpoint,
)

BATCH, TOKENS = 2, 12


def tiny(**overrides) -> MotionBeat:
    torch.manual_seed(0)
    return MotionBeat(config_for("tiny", dropout=0.0, **overrides)).eval()


def grid(batch: int = BATCH, tokens: int = TOKENS, seed: int = 0):
    """Random audio / motion tokens with a plausible phase grid (4 steps per beat, 4/4)."""
    gen = torch.Generator().manual_seed(seed)
    cfg = MOTIONBEAT_SIZES["tiny"]
    audio = torch.randn(batch, tokens, cfg.n_mels, generator=gen)
    motion = torch.randn(batch, tokens, contract.FRAME_DIM, generator=gen)
    motion[..., contract.CONTACTS] = torch.rand(batch, tokens, contract.NUM_CONTACTS, generator=gen)
    step = torch.arange(tokens, dtype=torch.float32) / cfg.steps_per_beat  # beats
    offset = torch.rand(batch, 1, generator=gen) * cfg.beats_per_bar  # random downbeat
    beats = step[None] + offset  # (B, N)
    beat_phase = torch.frac(beats)
    bar_phase = torch.frac(beats / cfg.beats_per_bar)
    return audio, motion, beat_phase, bar_phase


def first_layer_logits(model, encoder, tokens, beat_phase, bar_phase, contact=None):
    valid = torch.ones(tokens.shape[:2], dtype=torch.bool)
    block = encoder.blocks[0]
    x = block.attn_norm(encoder.embed_tokens(tokens))  # (B, N, D)
    cos, sin = encoder.rotary(beat_phase, bar_phase)
    return block.attn.logits(x, cos, sin, valid, contact)  # (B, H, N, N)


@pytest.mark.parametrize("side", ("audio", "motion"))
def test_uniform_phase_shift_leaves_logits_unchanged(side):
    model = tiny()
    audio, motion, beat_phase, bar_phase = grid()
    encoder = model.audio_encoder if side == "audio" else model.motion_encoder
    tokens = audio if side == "audio" else motion
    contact = contact_probability(motion) if side == "motion" else None
    with torch.no_grad():
        base = first_layer_logits(model, encoder, tokens, beat_phase, bar_phase, contact)
        shifted_bar = torch.frac(bar_phase + 0.37)  # the same constant for every token, wrapped
        shifted_beat = torch.frac(beat_phase + 0.61)
        same = first_layer_logits(model, encoder, tokens, shifted_beat, shifted_bar, contact)
        jitter = torch.rand(bar_phase.shape, generator=torch.Generator().manual_seed(5)) * 0.3
        moved = first_layer_logits(
            model, encoder, tokens, beat_phase, torch.frac(bar_phase + jitter), contact
        )
    torch.testing.assert_close(same, base, rtol=0, atol=1e-5)
    assert (moved - base).abs().max() > 1e-2


def test_whole_encoder_is_invariant_to_bar_start():
    model = tiny()
    audio, motion, beat_phase, bar_phase = grid()
    with torch.no_grad():
        base = model(audio, motion, beat_phase, bar_phase)
        shifted = model(audio, motion, beat_phase, torch.frac(bar_phase + 0.25))
        features = model.audio_token_features(audio, beat_phase, torch.frac(bar_phase + 0.5))
    torch.testing.assert_close(shifted.audio.embedding, base.audio.embedding, atol=1e-5, rtol=0)
    torch.testing.assert_close(shifted.motion.embedding, base.motion.embedding, atol=1e-5, rtol=0)
    torch.testing.assert_close(features, base.audio.features, atol=1e-5, rtol=0)


def test_without_phase_rotation_phases_are_ignored():
    model = tiny(use_phase_rotation=False)
    audio, _, beat_phase, bar_phase = grid()
    with torch.no_grad():
        a = model.audio_token_features(audio, beat_phase, bar_phase)
        b = model.audio_token_features(
            audio, torch.rand_like(beat_phase), torch.rand_like(bar_phase)
        )
    torch.testing.assert_close(a, b)


def test_logits_match_forward():
    model = tiny()
    audio, _, beat_phase, bar_phase = grid()
    valid = torch.ones(audio.shape[:2], dtype=torch.bool)
    valid[1, 9:] = False
    encoder, block = model.audio_encoder, model.audio_encoder.blocks[0]
    with torch.no_grad():
        x = block.attn_norm(encoder.embed_tokens(audio))
        cos, sin = encoder.rotary(beat_phase, bar_phase)
        logits = block.attn.logits(x, cos, sin, valid)  # (B, H, N, N)
        v = block.attn.qkv(x).chunk(3, dim=-1)[2]  # (B, N, D)
        v = v.unflatten(-1, (model.config.n_heads, -1)).transpose(1, 2)  # (B, H, N, Dh)
        manual = (logits.softmax(-1) @ v).transpose(1, 2).flatten(2)  # (B, N, D)
        torch.testing.assert_close(
            block.attn(x, cos, sin, valid), block.attn.out(manual), atol=1e-5, rtol=1e-5
        )


def test_contact_bias_raises_attention_to_contact_tokens():
    model = tiny()
    _, motion, beat_phase, bar_phase = grid()
    motion[..., contract.CONTACTS] = 0.0
    contact_keys = [2, 5, 9]
    motion[:, contact_keys, contract.CONTACTS] = 1.0
    attn = model.motion_encoder.blocks[0].attn
    alpha = attn.contact_alpha
    assert alpha is not None and torch.allclose(alpha, torch.full_like(alpha, 1.0))
    p = contact_probability(motion)
    with torch.no_grad():
        guided = first_layer_logits(model, model.motion_encoder, motion, beat_phase, bar_phase, p)
        plain = first_layer_logits(model, model.motion_encoder, motion, beat_phase, bar_phase)
    bias = guided - plain  # (B, H, N, N): alpha * log(p_key + eps), same for every query
    eps = model.config.contact_eps
    expected = torch.full((TOKENS,), torch.log(torch.tensor(eps)).item())
    expected[contact_keys] = torch.log(torch.tensor(1.0 + eps)).item()
    torch.testing.assert_close(bias, expected.expand_as(bias), atol=1e-5, rtol=0)
    mass_guided = guided.softmax(-1)[..., contact_keys].sum(-1)  # (B, H, N)
    mass_plain = plain.softmax(-1)[..., contact_keys].sum(-1)
    assert (mass_guided > mass_plain).all()
    # alpha is a learned positive scale, and the audio encoder has none
    assert attn.contact_alpha_raw.requires_grad
    assert model.audio_encoder.blocks[0].attn.contact_alpha is None
    assert tiny(use_contact_attention=False).motion_encoder.blocks[0].attn.contact_alpha is None


def test_forward_backward_with_padding():
    torch.manual_seed(0)
    model = MotionBeat(config_for("tiny")).train()
    audio, motion, beat_phase, bar_phase = grid(batch=3)
    valid = torch.ones(3, TOKENS, dtype=torch.bool)
    valid[1, 7:] = False
    valid[2, 4:] = False
    out = model(audio, motion, beat_phase, bar_phase, valid)
    cfg = model.config
    assert out.audio.embedding.shape == (3, cfg.embed_dim)
    assert out.motion.embedding.shape == (3, cfg.embed_dim)
    assert out.audio.features.shape == out.motion.features.shape == (3, TOKENS, cfg.d_model)
    for curve in (out.audio.onset, out.motion.contact_pulse, out.motion.kinetic_energy):
        assert curve.shape == (3, TOKENS) and (curve >= 0).all() and (curve[~valid] == 0).all()
    torch.testing.assert_close(out.audio.embedding.norm(dim=-1), torch.ones(3))
    loss = (
        (out.audio.embedding * out.motion.embedding).sum()
        + out.audio.onset.sum()
        + out.motion.contact_pulse.sum()
        + out.motion.kinetic_energy.sum()
    ) / out.temperature
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values()), [
        n for n, g in grads.items() if g is None
    ]

    # padded tokens do not influence real ones
    model.eval()
    audio2, motion2 = audio.clone(), motion.clone()
    audio2[~valid] = 100.0
    motion2[~valid] = -50.0
    with torch.no_grad():
        a = model(audio, motion, beat_phase, bar_phase, valid)
        b = model(audio2, motion2, beat_phase, bar_phase, valid)
    torch.testing.assert_close(a.audio.embedding, b.audio.embedding)
    torch.testing.assert_close(a.motion.embedding, b.motion.embedding)


def test_input_validation():
    model = tiny()
    audio, motion, beat_phase, bar_phase = grid()
    with pytest.raises(ValueError):
        model.encode_audio(motion, beat_phase, bar_phase)
    with pytest.raises(ValueError):
        model.encode_motion(motion, beat_phase[:, :-1], bar_phase)
    with pytest.raises(ValueError):
        model.encode_audio(audio, beat_phase, bar_phase, torch.zeros(BATCH, TOKENS, dtype=bool))


def test_config_json_round_trip_rebuilds_identical_model(tmp_path):
    cfg = config_for("tiny", pooling="mean", use_sral=False, temperature=0.1)
    again = MotionBeatConfig.from_json(cfg.to_json())
    assert again == cfg
    a, b = MotionBeat(cfg), MotionBeat(again)
    assert {k: v.shape for k, v in a.state_dict().items()} == {
        k: v.shape for k, v in b.state_dict().items()
    }
    with pytest.raises(ValueError):
        MotionBeatConfig.from_json(json.dumps({**json.loads(cfg.to_json()), "bogus": 1}))

    model = tiny()
    stats = (torch.rand(model.config.n_mels) + 1, torch.rand(model.config.n_mels) + 0.5)
    model.set_input_statistics(
        *stats, torch.zeros(contract.FRAME_DIM), torch.ones(contract.FRAME_DIM)
    )
    weights, config = save_checkpoint(model, tmp_path / "mb-tiny")
    assert weights.name == "mb-tiny.safetensors" and config.name == "mb-tiny.json"
    loaded = load_checkpoint(tmp_path / "mb-tiny")
    assert loaded.config == model.config
    audio, motion, beat_phase, bar_phase = grid()
    with torch.no_grad():
        x, y = (
            model(audio, motion, beat_phase, bar_phase),
            loaded(audio, motion, beat_phase, bar_phase),
        )
    torch.testing.assert_close(x.audio.embedding, y.audio.embedding)
    torch.testing.assert_close(x.motion.embedding, y.motion.embedding)


def test_sizes_and_validation():
    assert set(MOTIONBEAT_SIZES) == {"tiny", "compact", "small", "base"}
    assert MOTIONBEAT_SIZES["small"].n_layers == 6 and MOTIONBEAT_SIZES["small"].embed_dim == 128
    assert config_for("small", n_layers=2).n_layers == 2
    assert count_parameters(tiny()) < 1_000_000
    with pytest.raises(KeyError):
        config_for("huge")
    with pytest.raises(ValueError):
        config_for("tiny", n_heads=3)
    with pytest.raises(ValueError):
        config_for("tiny", phase_pair_fraction=0.1)
    baseline = config_for("tiny", baseline_logmel=True)
    assert not (
        baseline.phase_rotation_enabled
        or baseline.contact_attention_enabled
        or baseline.hard_negatives_enabled
        or baseline.sral_enabled
        or baseline.rhythm_supervision_enabled
    )


def test_config_agrees_with_the_audio_front_end():
    audio = pytest.importorskip("motionbeat.audio")
    cfg = MotionBeatConfig()
    assert cfg.n_mels == audio.N_MELS
    assert cfg.steps_per_beat == audio.STEPS_PER_BEAT


def test_timeline_pooling_knows_where_in_the_clip_things_happen():
    """Moving token features from the first half of a clip to the second changes the timeline
    vector, not the attention-pooled one; padding and empty spans give finite vectors."""
    from motionbeat.encoder.layers import TokenPooling

    torch.manual_seed(0)
    cfg = config_for("tiny", pooling="timeline", pool_segments=4)
    timeline, attention = TokenPooling(cfg), TokenPooling(cfg.replace(pooling="attention"))
    attention.score = timeline.score  # the same token scores, so only the spans differ
    features = torch.randn(1, 8, cfg.d_model)
    swapped = torch.cat([features[:, 4:], features[:, :4]], dim=1)  # (1, 8, D) halves swapped
    valid = torch.ones(1, 8, dtype=torch.bool)
    with torch.no_grad():
        torch.testing.assert_close(attention(swapped, valid), attention(features, valid))
        assert (timeline(swapped, valid) - timeline(features, valid)).abs().max() > 1e-3
        short = valid.clone()
        short[:, 2:] = False  # 2 valid tokens, 4 spans: two spans are empty
        out = timeline(features, short)
        assert torch.isfinite(out).all()
        features2 = features.clone()
        features2[:, 2:] = 1e3  # padded tokens do not count
        torch.testing.assert_close(timeline(features2, short), out)
