"""Domain losses: zero at the target, the foot-skate term on planted and sliding feet."""

import numpy as np
import torch

from generator.model.config import config_for
from generator.model.denoiser import rest_frame_mean
from generator.model.losses import (
    diffusion_losses,
    fk_loss,
    foot_skate_loss,
    foot_velocity_loss,
    frames_to_joints,
    kinetic_envelope,
    kinetic_envelope_loss,
    reconstruction_loss,
    root_turn_loss,
    velocity_loss,
)
from motionbeat.core import contract, kinematics
from motionbeat.metrics.beats import bailando_envelope

T = 20


def _motion(batch=2, frames=T, seed=0):
    """Random poses as frames with their true contacts."""
    gen = torch.Generator().manual_seed(seed)
    poses = 0.3 * torch.randn(batch, frames, contract.NUM_JOINTS, 3, generator=gen)
    trans = torch.cumsum(0.01 * torch.randn(batch, frames, 3, generator=gen), dim=1)
    return kinematics.motion_to_features(poses, trans, contract.FPS)  # (B, T, D)


def test_all_terms_are_zero_when_prediction_equals_target():
    frames = _motion()
    weights = config_for("tiny").loss_weights
    total, terms = diffusion_losses(frames, frames, frames, frames, weights)
    assert set(terms) == {"recon", "velocity", "fk", "foot", "foot_velocity", "root_turn"}
    for name in ("recon", "velocity", "fk", "foot_velocity", "root_turn"):
        assert terms[name].item() == 0.0
    # the foot term is no comparison: it scores the prediction's own planted feet moving, and
    # these random poses move their feet; with no foot planted the whole objective is zero
    airborne = frames.clone()
    airborne[..., contract.CONTACTS] = 0.0
    total, terms = diffusion_losses(airborne, airborne, airborne, airborne, weights)
    assert total.item() == 0.0


def test_terms_grow_with_the_error_and_are_differentiable():
    target = _motion()
    pred = (target + 0.05 * torch.randn_like(target)).requires_grad_(True)
    total, terms = diffusion_losses(pred, target, pred, target, config_for("tiny").loss_weights)
    assert all(
        terms[k].item() > 0 for k in ("recon", "velocity", "fk", "foot_velocity", "root_turn")
    )
    total.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


def test_velocity_ignores_a_constant_offset_and_contacts():
    target = _motion()
    shifted = target + 0.3
    assert reconstruction_loss(shifted, target).item() > 0
    assert velocity_loss(shifted, target).item() < 1e-10
    jittered = target.clone()
    jittered[..., contract.CONTACTS] = torch.rand_like(jittered[..., contract.CONTACTS])
    assert velocity_loss(jittered, target).item() == 0.0


def _still_frames(frames=T):
    """The rest pose standing still, feet planted (contacts 1)."""
    still = rest_frame_mean().expand(1, frames, contract.FRAME_DIM).clone()
    still[..., contract.CONTACTS] = 1.0
    return still


def test_foot_skate_zero_for_static_planted_feet_positive_for_sliding():
    still = _still_frames()
    joints = frames_to_joints(still)
    contacts = still[..., contract.CONTACTS]
    assert foot_skate_loss(joints, contacts).item() == 0.0
    sliding = still.clone()
    sliding[..., contract.ROOT_POS.start] = torch.linspace(0.0, 1.0, T)  # glide 1 m along x
    slide_joints = frames_to_joints(sliding)
    assert foot_skate_loss(slide_joints, contacts).item() > 0.0
    # the same slide with the feet declared in the air is not skating
    assert foot_skate_loss(slide_joints, torch.zeros_like(contacts)).item() == 0.0
    assert fk_loss(slide_joints, joints).item() > 0.0


def test_masked_frames_do_not_count():
    target = _motion(batch=1)
    pred = target.clone()
    pred[:, T // 2 :] += 1.0  # wrong only on the masked half
    mask = torch.arange(T)[None] < T // 2
    assert reconstruction_loss(pred, target, mask).item() == 0.0
    assert velocity_loss(pred, target, mask).item() == 0.0
    assert reconstruction_loss(pred, target).item() > 0.0


def test_losses_survive_degenerate_rotations():
    zeros = torch.zeros(1, T, contract.FRAME_DIM, requires_grad=True)
    # every frame the same: no displacement, where the kinetic envelope's norm has no gradient
    weights = {**config_for("tiny").loss_weights, "kinetic": 300.0}
    total, terms = diffusion_losses(zeros, zeros.detach(), zeros, _motion(batch=1), weights)
    assert "kinetic" in terms
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(zeros.grad).all()


def test_edge_weights_skip_the_new_terms():
    frames = _motion()
    weights = {**config_for("tiny").loss_weights, "foot_velocity": 0.0, "root_turn": 0.0}
    _, terms = diffusion_losses(frames, frames, frames, frames, weights)
    assert set(terms) == {"recon", "velocity", "fk", "foot"}


def test_kinetic_weight_adds_its_term_only_when_set():
    frames = _motion()
    weights = config_for("tiny").loss_weights
    assert weights["kinetic"] == 0.0
    _, terms = diffusion_losses(frames, frames, frames, frames, weights)
    assert "kinetic" not in terms
    moved = frames.clone()
    moved[..., contract.ROOT_POS.start] += torch.linspace(0.0, 0.19, T)  # 1 cm per frame more
    total, terms = diffusion_losses(moved, frames, moved, frames, {**weights, "kinetic": 100.0})
    assert terms["kinetic"].item() > 0
    _, plain = diffusion_losses(moved, frames, moved, frames, weights)
    torch.testing.assert_close(total, sum(weights[k] * v for k, v in plain.items())
                               + 100.0 * terms["kinetic"])


def test_kinetic_envelope_is_bailandos_unsmoothed_envelope():
    joints = frames_to_joints(_motion(batch=2))  # (2, T, 24, 3)
    env = kinetic_envelope(joints)  # (2, T-1)
    for b in range(2):
        np.testing.assert_allclose(env[b].numpy(),
                                   bailando_envelope(joints[b].numpy(), contract.FPS, 0.0),
                                   rtol=1e-5, atol=1e-7)


def test_kinetic_envelope_loss_by_hand():
    still = frames_to_joints(_still_frames())  # (1, T, 24, 3)
    assert kinetic_envelope_loss(still, still).item() == 0.0
    # the whole body gliding 3 cm per frame against standing: every joint's speed is 0.03
    glide = still + torch.tensor([0.03, 0.0, 0.0]) * torch.arange(T)[None, :, None, None]
    torch.testing.assert_close(kinetic_envelope(glide), torch.full((1, T - 1), 0.03))
    assert abs(kinetic_envelope_loss(glide, still).item() - 0.03**2) < 1e-9
    # the envelope sees speed, not direction: the same glide backwards costs nothing against it
    back = still - torch.tensor([0.03, 0.0, 0.0]) * torch.arange(T)[None, :, None, None]
    assert kinetic_envelope_loss(back, glide).item() < 1e-12
    # ... and when the body moves, not only how fast on average: the speed moved by half a cycle
    pulse = torch.cumsum(0.02 * (1 + torch.cos(torch.arange(T) * torch.pi / 2)), 0)  # (T,)
    late = torch.cumsum(0.02 * (1 - torch.cos(torch.arange(T) * torch.pi / 2)), 0)  # (T,)
    on = still + pulse[None, :, None, None] * torch.tensor([1.0, 0.0, 0.0])
    off = still + late[None, :, None, None] * torch.tensor([1.0, 0.0, 0.0])
    assert kinetic_envelope_loss(off, on).item() > 1e-4
    # a single frame has no envelope
    assert kinetic_envelope_loss(still[:, :1], still[:, :1]).item() == 0.0


def _turning(degrees_per_frame, frames=T):
    """(1, T, 3, 3) root rotations about the vertical axis, a fixed turn per frame."""
    angles = torch.arange(frames, dtype=torch.float32) * torch.deg2rad(
        torch.tensor(float(degrees_per_frame))
    )
    aa = torch.zeros(frames, 3)
    aa[:, contract.UP_AXIS] = angles
    return kinematics.axis_angle_to_matrix(aa)[None]  # (1, T, 3, 3)


def test_root_turn_loss_by_hand():
    # a steady turn has the same per-frame increment wherever it starts: no loss
    offset = _turning(30.0)[:, 3:4]  # (1, 1, 3, 3) a fixed heading
    assert root_turn_loss(_turning(10.0) @ offset, _turning(10.0)).item() < 1e-10
    # turning at a rate off by theta per frame costs ||R_theta - I||_F^2 / 9 = 4 (1 - cos) / 9
    theta = torch.deg2rad(torch.tensor(20.0))
    expected = (4 * (1 - torch.cos(theta)) / 9).item()
    got = root_turn_loss(_turning(30.0), _turning(10.0)).item()
    assert abs(got - expected) < 1e-5, (got, expected)
    # one snap of 120 degrees between two frames costs far more than an even error of 2 degrees
    snap = _turning(0.0).clone()
    snap[:, T // 2 :] = _turning(120.0)[:, 1:2]
    assert root_turn_loss(snap, _turning(0.0)).item() > 100 * root_turn_loss(
        _turning(2.0), _turning(0.0)
    ).item()


def test_foot_velocity_loss_sees_skating_not_standing_offsets():
    still = _still_frames()
    joints = frames_to_joints(still)
    moved = still.clone()
    moved[..., contract.ROOT_POS.start] += 0.5  # the same stance half a metre away
    assert foot_velocity_loss(frames_to_joints(moved), joints).item() < 1e-12
    sliding = still.clone()
    sliding[..., contract.ROOT_POS.start] = torch.linspace(0.0, 0.19, T)  # 1 cm per frame
    # every foot coordinate pair differs by (0.01, 0, 0): mean over x, y, z of 1e-4 / 3
    got = foot_velocity_loss(frames_to_joints(sliding), joints).item()
    assert abs(got - 1e-4 / 3) < 1e-8, got


def test_sample_weights_scale_each_window_by_hand():
    target = _motion(batch=2)
    pred = target.clone()
    pred[1] += 0.1  # only the second window is wrong
    weights = config_for("tiny").loss_weights
    _, plain = diffusion_losses(pred, target, pred, target, weights)
    _, scaled = diffusion_losses(pred, target, pred, target, weights,
                                 sample_weight=torch.tensor([7.0, 3.0]))
    # the first window contributes nothing to any term, so each term triples
    for name, value in plain.items():
        torch.testing.assert_close(scaled[name], 3.0 * value)
    assert plain["recon"] > 0 and plain["fk"] > 0
    # a zero weight on the wrong window leaves nothing to learn from
    _, none = diffusion_losses(pred, target, pred, target, weights,
                               sample_weight=torch.tensor([1.0, 0.0]))
    assert all(value.item() == 0.0 for value in none.values())
