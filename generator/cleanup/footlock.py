"""Foot locking: planted feet held still, first through the root path, then by leg IK.

(:func:`clean_feet` first spreads out the model's rare turn snaps, :mod:`generator.cleanup.turns`,
and bridges short low double lifts, :mod:`generator.cleanup.contact_gaps`.)

A diffusion model predicts root translation and foot contacts separately, so a foot it labels
planted can still slide a little on the floor (the foot skate that PFC measures and that
animators clean by hand). Following the usual root-motion clean-up of character animation,
the horizontal root path is corrected so that planted feet stay where they landed:

    planted[t, f] = c[t-1, f] > tau and c[t, f] > tau            (contact in both frames)
    d[t] = mean over planted f of (p[t, f] - p[t-1, f]), horizontal components only
    trans'[t] = trans[t] - sum_{s <= t} d[s]

with c the predicted contact channels (ordered as ``contract.FOOT_JOINTS``), p the FK
positions of those joints and tau = :data:`CONTACT_THRESHOLD`. Translating the root moves every
joint by the same vector, so a single planted foot joint ends up exactly still; with several
planted joints their mean slide is removed, so travelling steps travel by their footholds.
Nothing can push the body sideways while no foot is planted, so a short unsupported span
(a hop, the flight of a travelling step; at most :data:`MAX_COAST_FRAMES`, between planted
frames) coasts: its horizontal root velocity goes linearly from the last supported step's to
the next one's instead of the model's (momentum is kept; the path stays smooth). Longer spans,
and spans at a clip's ends, keep the model's own root velocity. Poses, heights and contacts
are unchanged.

The root can remove only one slide per frame, and with both feet down each keeps the part of its
slide that differs from their mean. :func:`pin_planted_feet` then pins each planted foot where it
landed with two-bone leg IK (:mod:`generator.cleanup.leg_ik`), as animators clean mocap:

    a planted ankle holds its floor position from the frame it landed, a planted toe its own
    (the foot turns about the ankle to keep both); a foot planted on its toe only (heel
    raised) moves its ankle with the held toe (the foot turning to keep the toe down);
    a lifted toe moves with the ankle;
    after the foot lifts, the pin's offset fades out linearly over :data:`RELEASE_FRAMES`.

Only horizontal positions are pinned (heights stay the model's) and a new hold starts where the
foot is at that frame, so no pin ever jumps. Unreachable targets are reached as far as the
straight leg allows.
"""

from __future__ import annotations

import numpy as np
import torch

from generator.cleanup.contact_gaps import bridge_short_lifts
from generator.cleanup.leg_ik import LEGS, solve_leg
from generator.cleanup.turns import smooth_turn_snaps
from motionbeat.core import contract
from motionbeat.core.kinematics import (
    axis_angle_to_matrix,
    forward_kinematics_with_rotations,
    matrix_to_axis_angle,
)

CONTACT_THRESHOLD: float = 0.5
"""Predicted contact probability above which a foot joint counts as planted (midpoint)."""
HORIZONTAL: tuple[int, int] = tuple(a for a in range(3) if a != contract.UP_AXIS)
"""The two floor axes of the contract's y-up frame."""
RELEASE_FRAMES: int = round(0.2 * contract.FPS)
"""Frames over which a released pin fades out: 0.2 s, about a third of a beat at 100 BPM."""
MAX_COAST_FRAMES: int = round(0.5 * contract.FPS)
"""Longest unsupported span that coasts: 0.5 s, the flight time of a 30 cm jump (2 sqrt(2h/g))."""
MAX_OFFSET: float = 0.10
"""Longest pull of a pin, metres: a planted foot the model moves further than this from where it
landed is let slide by the excess instead of bending the leg further. On 18 dances of the
12000-step generator (first version of the pins: no coasting, no turn smoothing, no toe lead
fading) the pulls' median was 2.3 cm, their 99th percentile 11 cm and their
maximum over 20 cm; a cap of 5 / 8 / 10 / 12 cm left PFC at 0.052 / 0.034 / 0.027 / 0.026
(0.179 with the root correction alone, 0.395 raw)."""


def _joints(poses: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, 24, 3, 3) local and world rotation matrices and (T, 24, 3) joint positions."""
    with torch.no_grad():
        local = axis_angle_to_matrix(torch.from_numpy(poses))  # (T, 24, 3, 3)
        joints, world = forward_kinematics_with_rotations(local, torch.from_numpy(trans))
    return local.numpy(), world.numpy(), joints.numpy()


def lock_planted_feet(
    poses: np.ndarray, trans: np.ndarray, contacts: np.ndarray,
    threshold: float = CONTACT_THRESHOLD, joints: np.ndarray | None = None,
) -> np.ndarray:
    """(T, 3) root translation with planted feet held still (module docstring).

    Args:
        poses: (T, 24, 3) axis-angle local rotations; trans: (T, 3) root positions (metres, y up);
        contacts: (T, 4) predicted contact probabilities in ``contract.FOOT_JOINTS`` order.
        joints: (T, 24, 3) FK positions of ``poses`` and ``trans`` when the caller has them.
    """
    poses = np.asarray(poses, np.float32)
    trans = np.asarray(trans, np.float32)
    contacts = np.asarray(contacts, np.float32)
    if poses.shape[0] != trans.shape[0] or contacts.shape != (trans.shape[0], contract.NUM_CONTACTS):
        raise ValueError(f"poses {poses.shape}, trans {trans.shape} and contacts {contacts.shape} "
                         "must cover the same frames")
    if trans.shape[0] < 2:
        return trans.copy()
    if joints is None:
        _, _, joints = _joints(poses, trans)  # (T, 24, 3)
    feet = joints[:, list(contract.FOOT_JOINTS)]  # (T, 4, 3)
    step = feet[1:] - feet[:-1]  # (T-1, 4, 3)
    planted = (contacts[1:] > threshold) & (contacts[:-1] > threshold)  # (T-1, 4)
    weight = planted.astype(np.float32)
    slide = (step * weight[..., None]).sum(axis=1) / np.maximum(weight.sum(axis=1), 1.0)[:, None]
    axes = list(HORIZONTAL)
    velocity = trans[1:, axes] - trans[:-1, axes] - slide[:, axes]  # (T-1, 2) per step
    velocity = coast_unsupported(velocity, planted.any(axis=1))
    out = trans.copy()
    out[1:, axes] = trans[0, axes] + np.cumsum(velocity, axis=0)
    return out


def coast_unsupported(
    velocity: np.ndarray, supported: np.ndarray, max_frames: int = MAX_COAST_FRAMES
) -> np.ndarray:
    """(S, 2) per-step horizontal root velocities with short unsupported spans coasting.

    A run of steps with ``supported`` False, of at most ``max_frames`` steps and with supported
    steps on both sides, gets v = (1 - w) v_before + w v_after with w = (i + 1) / (n + 1) for its
    i-th of n steps (module docstring); everything else is returned unchanged.
    """
    out = velocity.copy()
    count = len(supported)
    t = 0
    while t < count:
        if supported[t]:
            t += 1
            continue
        end = t
        while end < count and not supported[end]:
            end += 1
        n = end - t
        if t > 0 and end < count and n <= max_frames:
            w = (np.arange(1, n + 1) / (n + 1))[:, None]  # (n, 1)
            out[t:end] = (1 - w) * velocity[t - 1] + w * velocity[end]
        t = end
    return out


def pin_offsets(
    ankle: np.ndarray, toe: np.ndarray, ankle_planted: np.ndarray, toe_planted: np.ndarray,
    release_frames: int = RELEASE_FRAMES, max_offset: float = MAX_OFFSET,
) -> tuple[np.ndarray, np.ndarray]:
    """(T, 3) horizontal offsets of the ankle and of the toe that pin one foot (module docstring).

    Args:
        ankle, toe: (T, 3) world positions of the foot's ankle and toe joints.
        ankle_planted, toe_planted: (T,) booleans.
    Returns:
        ankle and toe offsets, zero where the foot is free. A planted toe holds its own point; a
        lifted toe moves with the ankle; a toe-only hold moves the ankle with the toe, the
        ankle's lead over it when the heel rose fading out over ``release_frames``. Both
        offsets are continuous: every hold starts where its joint already is.
    """
    axes = list(HORIZONTAL)
    ankle_off, toe_off = np.zeros_like(ankle), np.zeros_like(toe)  # (T, 3) each
    prev_a = prev_t = np.zeros(len(axes), ankle.dtype)
    held_a = held_t = None  # anchors of the ankle's and the toe's current holds
    released = lead = None
    since = lead_since = 0

    def pull(anchor, point):  # offset to the anchor, capped; the anchor follows past the cap
        off = anchor - point
        reach = float(np.linalg.norm(off))
        if reach > max_offset:  # the model's foot moved on: let the hold follow it
            off = off * (max_offset / reach)
            anchor = point + off
        return anchor, off

    for t in range(len(ankle)):
        a_now, t_now = ankle[t, axes], toe[t, axes]
        if toe_planted[t]:
            held_t = t_now + prev_t if held_t is None else held_t
            held_t, cur_t = pull(held_t, t_now)
        else:
            held_t = None
        if ankle_planted[t]:
            held_a = a_now + prev_a if held_a is None else held_a
            held_a, cur_a = pull(held_a, a_now)
            cur_t = cur_t if toe_planted[t] else cur_a
            lead = None
        elif toe_planted[t]:  # heel up: the ankle follows the toe, its lead fading out
            if lead is None:
                lead, lead_since = prev_a - prev_t, 0
            lead_since += 1
            held_a = None
            cur_a = cur_t + lead * max(0.0, 1.0 - lead_since / (release_frames + 1))
        else:
            lead = None
            held_a = None
            if released is None:
                released, since = (prev_a, prev_t), 0
            since += 1
            fade = max(0.0, 1.0 - since / (release_frames + 1))
            cur_a, cur_t = released[0] * fade, released[1] * fade
        if ankle_planted[t] or toe_planted[t]:
            released = None
        ankle_off[t, axes], toe_off[t, axes] = cur_a, cur_t
        prev_a, prev_t = cur_a, cur_t
    return ankle_off, toe_off


def pin_planted_feet(
    poses: np.ndarray, trans: np.ndarray, contacts: np.ndarray,
    threshold: float = CONTACT_THRESHOLD, release_frames: int = RELEASE_FRAMES,
) -> np.ndarray:
    """(T, 24, 3) poses whose legs hold each planted foot still (module docstring).

    Args:
        poses: (T, 24, 3) axis-angle local rotations; trans: (T, 3) root positions (metres, y up),
            best after :func:`lock_planted_feet`; contacts: (T, 4) probabilities in
            ``contract.FOOT_JOINTS`` order. Only hip, knee and ankle rotations of the frames with
            a pin (or a fading one) change.
    """
    poses = np.asarray(poses, np.float32)
    trans = np.asarray(trans, np.float32)
    planted = np.asarray(contacts) > threshold  # (T, 4)
    if planted.shape != (poses.shape[0], contract.NUM_CONTACTS) or trans.shape[0] != poses.shape[0]:
        raise ValueError(f"poses {poses.shape}, trans {trans.shape} and contacts {planted.shape} "
                         "must cover the same frames")
    local, world, joints = _joints(poses, trans)
    ankles, toes = contract.FOOT_JOINTS[:2], contract.FOOT_JOINTS[2:]
    out = poses.copy()
    for side, leg in enumerate(LEGS):
        ankle, toe = ankles[side], toes[side]
        ankle_off, toe_off = pin_offsets(joints[:, ankle], joints[:, toe], planted[:, side],
                                         planted[:, 2 + side], release_frames)  # (T, 3) each
        moved = (np.abs(ankle_off).max(axis=1) > 0) | (np.abs(toe_off).max(axis=1) > 0)  # (T,)
        if not moved.any():
            continue
        # the legs share only the pelvis, which IK leaves alone: each leg is solved on its own
        solved = solve_leg(local[moved], world[moved], joints[moved], leg,
                           joints[moved, ankle] + ankle_off[moved],
                           joints[moved, toe] + toe_off[moved])  # (M, 24, 3, 3)
        with torch.no_grad():
            aa = matrix_to_axis_angle(torch.from_numpy(solved[:, list(leg)])).numpy()  # (M, 3, 3)
        out[np.ix_(moved, list(leg))] = aa
    return out


def clean_feet(
    poses: np.ndarray, trans: np.ndarray, contacts: np.ndarray, threshold: float = CONTACT_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray]:
    """The whole clean-up -> (poses, trans): turn snaps spread out (:mod:`generator.cleanup.turns`: a foot
    cannot hold while the body snaps round over it), short low double lifts bridged by the lowest
    foot (:mod:`generator.cleanup.contact_gaps`), root path from planted feet, leg IK pins."""
    poses = np.array(poses, np.float32)
    poses[:, 0] = smooth_turn_snaps(poses[:, 0])
    joints = _joints(poses, np.asarray(trans, np.float32))[2]  # (T, 24, 3)
    heights = joints[:, list(contract.FOOT_JOINTS), contract.UP_AXIS]  # (T, 4)
    contacts = bridge_short_lifts(contacts, heights, threshold)  # (T, 4)
    trans = lock_planted_feet(poses, trans, contacts, threshold, joints)
    return pin_planted_feet(poses, trans, contacts, threshold), trans
