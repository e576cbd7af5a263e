"""Embodied Contrastive Loss, Structural Rhythm Alignment Loss and the total."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from motionbeat.core import contract
from motionbeat.core.motion_signals import contact_pulse_from_frames, kinetic_energy_from_frames
from motionbeat.encoder.config import config_for
from motionbeat.encoder.contrastive import (
    duplicate_mask,
    embodied_contrastive_loss,
    tempo_aware_negative_mask,
)
from motionbeat.encoder.losses import motionbeat_loss
from motionbeat.encoder.model import MotionBeat
from motionbeat.encoder.rhythm_alignment import (
    RhythmTargets,
    bar_distribution_loss,
    bar_phase_histogram,
    beat_alignment_loss,
    emd_1d,
    spectral_flux,
    structural_rhythm_alignment_loss,
    unit_mean,
)

AUDIO_2X2 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
MOTION_2X2 = torch.tensor([[0.6, 0.8], [0.8, 0.6]])
TAU = 0.5


# ------------------------------------------------------------------------------------ ECL


def test_info_nce_2x2_by_hand():
    # s = A M^T / tau = [[1.2, 1.6], [1.6, 1.2]]; each row and column: -log(e^1.2 / (e^1.2 + e^1.6))
    loss = embodied_contrastive_loss(AUDIO_2X2, MOTION_2X2, TAU)
    assert loss.item() == pytest.approx(math.log(1 + math.exp(0.4)), abs=1e-6)
    # a hard negative is counted once more: row 0 of audio->motion and column 0 of m2a gain e^1.6
    hard = torch.tensor([[False, True], [False, False]])
    loss_hard = embodied_contrastive_loss(AUDIO_2X2, MOTION_2X2, TAU, hard_mask=hard)
    plain, doubled = math.log(1 + math.exp(0.4)), math.log(1 + 2 * math.exp(0.4))
    # a2m: rows (doubled, plain); m2a uses hard^T: row 1 gains the copy -> (plain, doubled)
    assert loss_hard.item() == pytest.approx(0.5 * (0.5 * (doubled + plain) * 2), abs=1e-6)


def test_hard_negatives_raise_the_loss_when_close_to_the_anchor():
    gen = torch.Generator().manual_seed(0)
    audio = F.normalize(torch.randn(6, 16, generator=gen), dim=-1)
    motion = F.normalize(audio + 0.3 * torch.randn(6, 16, generator=gen), dim=-1)
    base = embodied_contrastive_loss(audio, motion, 0.1)

    hard = torch.zeros(6, 6, dtype=torch.bool)
    hard[0, 1] = True  # audio 0 vs motion 1 (and, transposed, motion 1 vs audio 0)
    near = motion.clone()
    near[1] = F.normalize(audio[0] + 0.05 * torch.randn(16, generator=gen), dim=-1)
    far = motion.clone()
    far[1] = -audio[0]
    loss_near = embodied_contrastive_loss(audio, near, 0.1, hard_mask=hard)
    loss_far = embodied_contrastive_loss(audio, far, 0.1, hard_mask=hard)
    assert loss_near - embodied_contrastive_loss(audio, near, 0.1) > 0.1
    assert loss_far - embodied_contrastive_loss(audio, far, 0.1) < 1e-3

    # beat-jitter negatives: the shifted motion close to the anchor costs more than a far one
    jitter_near = F.normalize(motion[:, None] + 0.05 * torch.randn(6, 2, 16, generator=gen), dim=-1)
    jitter_far = -motion[:, None].expand(6, 2, 16)
    loss_jnear = embodied_contrastive_loss(audio, motion, 0.1, motion_jitter=jitter_near)
    loss_jfar = embodied_contrastive_loss(audio, motion, 0.1, motion_jitter=jitter_far)
    assert loss_jnear > loss_jfar > base - 1e-6
    # a masked-out jitter column contributes nothing
    none = torch.zeros(6, 2, dtype=torch.bool)
    masked = embodied_contrastive_loss(
        audio, motion, 0.1, motion_jitter=jitter_near, jitter_mask=none
    )
    assert masked.item() == pytest.approx(base.item(), abs=1e-6)


def test_negative_mask_builders():
    tempo = torch.tensor([100.0, 103.0, 120.0, 100.0, 97.0])
    song = torch.tensor([0, 1, 2, 0, 3])
    start = torch.tensor([0, 0, 0, 0, 8])
    hard = tempo_aware_negative_mask(tempo, song, tolerance=0.04)
    expected = torch.tensor(
        [
            [0, 1, 0, 1, 1],
            [1, 0, 0, 1, 0],  # 103 vs 97: 6 % apart
            [0, 0, 0, 0, 0],
            [1, 1, 0, 0, 1],
            [1, 0, 0, 1, 0],
        ],
        dtype=torch.bool,
    )
    assert torch.equal(hard, expected)
    assert torch.equal(hard, hard.T)
    dup = duplicate_mask(song, start)
    assert dup.nonzero().tolist() == [[0, 3], [3, 0]]
    assert not tempo_aware_negative_mask(tempo, song, 0.04, start)[0, 3]
    # an ignored duplicate leaves the denominator: clip 3 is the same window as clip 0, so with
    # clip 3's column ignored for anchor 0 (and vice versa) the loss equals the hand-made value
    gen = torch.Generator().manual_seed(4)
    audio = F.normalize(torch.randn(5, 8, generator=gen), dim=-1)
    motion = audio.clone()
    motion[3] = audio[0]
    ignored = embodied_contrastive_loss(audio, motion, 0.1, ignore_mask=dup)
    assert ignored < embodied_contrastive_loss(audio, motion, 0.1)
    sim = audio @ motion.T / 0.1
    keep = ~dup
    a2m = -(sim.diag() - torch.stack([sim[i][keep[i]].logsumexp(0) for i in range(5)]))
    m2a = -(sim.diag() - torch.stack([sim[:, i][keep[:, i]].logsumexp(0) for i in range(5)]))
    assert ignored.item() == pytest.approx(0.5 * (a2m.mean() + m2a.mean()).item(), abs=1e-5)


# ----------------------------------------------------------------------------------- SRAL


def test_emd_identical_is_zero_and_shift_by_hand():
    p = torch.tensor([[0.5, 0.25, 0.25, 0.0]])
    assert emd_1d(p, p, circular=False).item() == 0.0
    assert emd_1d(p, p, circular=True).item() == 0.0
    one_bin = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    next_bin = torch.tensor([[0.0, 1.0, 0.0, 0.0]])
    last_bin = torch.tensor([[0.0, 0.0, 0.0, 1.0]])
    # all mass moves one bin of 4: 1/4 bar, either way
    assert emd_1d(one_bin, next_bin, circular=False).item() == pytest.approx(0.25)
    assert emd_1d(one_bin, next_bin, circular=True).item() == pytest.approx(0.25)
    # bin 0 -> bin 3: three bins on the line, one bin across the bar line on the circle
    assert emd_1d(one_bin, last_bin, circular=False).item() == pytest.approx(0.75)
    assert emd_1d(one_bin, last_bin, circular=True).item() == pytest.approx(0.25)
    # half the mass moves two bins: 0.5 * 2 / 4
    half = torch.tensor([[0.5, 0.0, 0.5, 0.0]])
    assert emd_1d(one_bin, half, circular=True).item() == pytest.approx(0.25)


def test_bar_histogram_bins_on_the_grid():
    bins = 16
    phase = (torch.arange(32) % bins / bins)[None]  # two bars of sub-beat steps
    weights = torch.zeros(1, 32)
    weights[0, [0, 4, 16]] = 1.0  # two downbeats and one second beat
    valid = torch.ones(1, 32, dtype=torch.bool)
    hist = bar_phase_histogram(weights, phase, valid, bins)
    expected = torch.zeros(1, bins)
    expected[0, 0], expected[0, 4] = 2 / 3, 1 / 3
    torch.testing.assert_close(hist, expected, atol=1e-5, rtol=0)


def test_sral_zero_for_matching_curves_positive_when_shifted():
    gen = torch.Generator().manual_seed(0)
    n = 16
    phase = (torch.arange(n) % 16 / 16).expand(2, n)
    valid = torch.ones(2, n, dtype=torch.bool)
    valid[1, 12:] = False
    pulse = torch.zeros(2, n)
    pulse[:, ::4] = 1.0  # strikes on every beat
    onset = pulse.clone().requires_grad_(True)
    beat = beat_alignment_loss(onset, pulse, valid, gamma=0.1)
    bar = bar_distribution_loss(onset, pulse, phase, valid, n_bins=16)
    assert abs(beat.item()) < 1e-5 and abs(bar.item()) < 1e-6

    late = torch.roll(pulse, 2, dims=1) + 0.01 * torch.rand(2, n, generator=gen)
    terms = structural_rhythm_alignment_loss(
        onset, late, late, phase, valid, lambda_beat=1.0, lambda_bar=2.0, gamma=0.1, n_bins=16
    )
    assert terms.beat > 0.01 and terms.bar > 0.05
    assert terms.total.item() == pytest.approx(terms.beat.item() + 2 * terms.bar.item(), rel=1e-6)
    terms.total.backward()
    assert onset.grad is not None and torch.isfinite(onset.grad).all()
    assert onset.grad[1, 12:].abs().max() == 0

    with pytest.raises(ValueError):  # sequence losses need right padding
        left = torch.ones(2, n, dtype=torch.bool)
        left[0, 0] = False
        beat_alignment_loss(onset, pulse, left, gamma=0.1)


def test_unit_mean_and_targets():
    valid = torch.tensor([[True, True, True, False]])
    torch.testing.assert_close(
        unit_mean(torch.full((1, 4), 3.0), valid), torch.tensor([[1.0, 1, 1, 0]])
    )

    logmel = torch.zeros(1, 5, 4)
    logmel[0, 2] = 2.0
    torch.testing.assert_close(spectral_flux(logmel), torch.tensor([[0.0, 0, 2, 0, 0]]))

    frames = torch.zeros(1, 6, contract.FRAME_DIM)
    frames[..., contract.ROTATIONS] = torch.tensor([1.0, 0, 0, 0, 1, 0]).repeat(contract.NUM_JOINTS)
    frames[0, 3:, contract.CONTACTS] = 1.0
    torch.testing.assert_close(
        contact_pulse_from_frames(frames), torch.tensor([[0.0, 0, 0, 1, 0, 0]])
    )

    assert kinetic_energy_from_frames(frames).abs().max() < 1e-10  # rest pose, standing still
    speed = 0.5  # m/s along x: every joint moves with the root
    frames[0, :, contract.ROOT_POS.start] = torch.arange(6) * speed / contract.FPS
    energy = kinetic_energy_from_frames(frames)
    expected = 0.5 * contract.NUM_JOINTS * speed**2
    torch.testing.assert_close(energy, torch.full((1, 6), expected), atol=1e-4, rtol=1e-4)


# ---------------------------------------------------------------------------------- total


def _batch(cfg, batch=4, tokens=8):
    gen = torch.Generator().manual_seed(1)
    audio = torch.randn(batch, tokens, cfg.n_mels, generator=gen)
    motion = torch.rand(batch, tokens, contract.FRAME_DIM, generator=gen)
    beats = torch.arange(tokens) / cfg.steps_per_beat
    beat_phase = torch.frac(beats).expand(batch, tokens)
    bar_phase = torch.frac(beats / cfg.beats_per_bar).expand(batch, tokens)
    valid = torch.ones(batch, tokens, dtype=torch.bool)
    valid[2, 6:] = False
    targets = RhythmTargets(*(torch.rand(batch, tokens, generator=gen) for _ in range(3)))
    return audio, motion, beat_phase, bar_phase, valid, targets


def test_total_loss_end_to_end_and_ablations():
    torch.manual_seed(0)
    cfg = config_for("tiny")
    model = MotionBeat(cfg)
    audio, motion, beat_phase, bar_phase, valid, targets = _batch(cfg)
    out = model(audio, motion, beat_phase, bar_phase, valid)
    jitter_motion = torch.roll(motion, 1, dims=1)[:, None].expand(-1, 2, -1, -1)  # (B, J, N, 151)
    jitter = model.encode_motion(
        jitter_motion.flatten(0, 1),
        beat_phase.repeat_interleave(2, 0),
        bar_phase.repeat_interleave(2, 0),
        valid.repeat_interleave(2, 0),
    ).embedding.unflatten(0, (4, 2))  # (B, J, E)
    hard = tempo_aware_negative_mask(torch.tensor([100.0, 100, 120, 90]), torch.arange(4), 0.04)
    terms = motionbeat_loss(
        cfg, out, bar_phase, valid, hard_mask=hard, motion_jitter=jitter, targets=targets
    )
    expected = terms.ecl + 0.2 * terms.sral + cfg.rhythm_supervision_weight * terms.rhythm
    torch.testing.assert_close(terms.total, expected)
    assert terms.sral > 0 and terms.rhythm > 0
    terms.total.backward()
    assert model.log_logit_scale.grad is not None
    assert set(terms.as_floats()) == {"total", "ecl", "sral", "sral_beat", "sral_bar", "rhythm"}

    with pytest.raises(ValueError):
        motionbeat_loss(cfg, out, bar_phase, valid)  # targets needed for rhythm supervision

    base_cfg = config_for("tiny", baseline_logmel=True)
    base = motionbeat_loss(base_cfg, out, bar_phase, valid, hard_mask=hard, motion_jitter=jitter)
    plain = embodied_contrastive_loss(out.audio.embedding, out.motion.embedding, out.temperature)
    torch.testing.assert_close(base.total, plain)
    assert base.sral.item() == 0.0 and base.rhythm.item() == 0.0
