"""Editing: masks over the frame layout, in-betweening and joint-wise constraints."""

import pytest
import torch

from generator.model import diffusion
from generator.sampling import editing, joint_groups
from motionbeat.core import contract, kinematics

D = contract.FRAME_DIM


def _source(frames, seed=0):
    gen = torch.Generator().manual_seed(seed)
    poses = 0.3 * torch.randn(frames, contract.NUM_JOINTS, 3, generator=gen)
    trans = torch.cumsum(0.01 * torch.randn(frames, 3, generator=gen), dim=0)
    return kinematics.motion_to_features(poses, trans, contract.FPS)  # (T, D)


def test_channel_masks_follow_the_layout():
    lower = joint_groups.channel_mask("lower_body")
    n_lower = len(joint_groups.JOINT_GROUPS["lower_body"])
    assert lower.sum() == n_lower * contract.ROT6D_DIM + 3 + contract.NUM_CONTACTS
    assert lower[contract.ROOT_POS].all() and lower[contract.CONTACTS].all()
    pelvis = contract.ROTATIONS.start + contract.JOINT_INDEX["Pelvis"] * contract.ROT6D_DIM
    assert lower[pelvis : pelvis + contract.ROT6D_DIM].all()
    upper = joint_groups.channel_mask("upper_body")
    assert not (upper & lower).any()
    assert (upper | lower).all()  # the two halves cover the whole frame
    arm = joint_groups.channel_mask(["L_Elbow", contract.JOINT_INDEX["L_Wrist"]])
    assert arm.sum() == 2 * contract.ROT6D_DIM and not arm[contract.ROOT_POS].any()
    with pytest.raises(KeyError):
        joint_groups.channel_mask("tail")


def test_constraints_build_and_combine():
    source = _source(50)
    keys = editing.inbetween_constraint(50, {0: source[0], 49: source[49]})
    assert keys.mask[[0, 49]].any(dim=1).all() and not keys.mask[1:49].any()
    assert not keys.mask[:, contract.CONTACTS].any()  # a lone pose has no contact label
    legs = editing.joint_constraint(source, "lower_body", frames=slice(10, 20))
    assert legs.mask[10:20].any(dim=1).all() and not legs.mask[:10].any()
    both = keys | legs
    assert torch.equal(both.mask, keys.mask | legs.mask)
    assert torch.equal(both.values[both.mask], source[both.mask])
    with pytest.raises(IndexError):
        editing.inbetween_constraint(10, {10: source[0]})


@pytest.mark.parametrize("frames", [60, 260])
def test_keep_lower_body_exactly(tiny_model, tiny_config, frames):
    source = _source(frames)
    music = torch.randn(frames, tiny_config.music_dim)
    sampler = diffusion.make_sampling_scheduler(tiny_config)
    out = editing.keep_joints(
        tiny_model, sampler, music, source, "lower_body", generator=torch.Generator().manual_seed(0)
    )
    lower = joint_groups.channel_mask("lower_body")
    assert out.shape == (frames, D)
    assert torch.equal(out[:, lower], source[:, lower])
    assert not torch.allclose(out[:, ~lower], source[:, ~lower])


def test_inbetween_passes_through_the_keyframes(tiny_model, tiny_config):
    frames = 200
    source = _source(frames, seed=3)
    keys = {0: source[0], 90: source[90], frames - 1: source[-1]}
    music = torch.randn(frames, tiny_config.music_dim)
    sampler = diffusion.make_sampling_scheduler(tiny_config, "ddim")
    out = editing.inbetween(
        tiny_model, sampler, music, keys, generator=torch.Generator().manual_seed(0)
    )
    held = joint_groups.channel_mask(contract.JOINT_NAMES, root=True, contacts=False)
    for frame, pose in keys.items():
        assert torch.equal(out[frame, held], pose[held])
    assert out.shape == (frames, D) and torch.isfinite(out).all()
