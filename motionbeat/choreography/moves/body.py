"""Body numbers of the move vocabulary.

Rest-pose toe positions, the jump physics constant, arm length, the body channel names
(and how mirroring treats them) and the hand target poses, all from the neutral SMPL skeleton.
"""

from __future__ import annotations

import numpy as np

from motionbeat.core import contract

# ----------------------------------------------------------------------------- body numbers
_LEFT_TOE_REST = (
    contract.REST_OFFSETS[contract.JOINT_INDEX["L_Hip"]]
    + contract.REST_OFFSETS[contract.JOINT_INDEX["L_Knee"]]
    + contract.REST_OFFSETS[contract.JOINT_INDEX["L_Ankle"]]
    + contract.REST_OFFSETS[contract.L_TOE]
)
TOE_Z: float = float(_LEFT_TOE_REST[2])
"""Forward offset of the toe joint from the pelvis in the rest pose (about 7.5 cm)."""
REST_TOE_HALF_WIDTH: float = float(_LEFT_TOE_REST[0])
"""Half distance between the toe joints in the rest pose (about 12.8 cm)."""
GRAVITY: float = 9.81
"""m/s^2, for physically timed jumps: apex height h = g T^2 / 8 for an airtime T."""
ARM_LEN: float = float(
    np.linalg.norm(contract.REST_OFFSETS[contract.JOINT_INDEX["L_Elbow"]])
    + np.linalg.norm(contract.REST_OFFSETS[contract.JOINT_INDEX["L_Wrist"]])
)
"""Shoulder to wrist length of the neutral SMPL arm (about 0.52 m)."""

CLOSE: float = 0.15
"""Distance between the toes when the feet are brought together, m."""

LEFT, RIGHT = 0, 1
SIDE_SIGN = (1.0, -1.0)
"""x sign of each side: the dancer's left is +x in SMPL's frame."""

LOWER_CHANNELS: tuple[str, ...] = (
    "bounce",  # pelvis height offset, m (+ up)
    "sway",  # pelvis sideways offset in the anchor frame, m (+ toward the dancer's left)
    "surge",  # pelvis forward offset, m
    "pyaw",
    "proll",
    "ppitch",  # pelvis rotation offsets, rad
    "heel_l",
    "heel_r",  # heel raise of a planted foot (pivot about the toe), rad
    "shift",  # weight shift added to the automatic support weight, -0.5 (left) .. 0.5 (right)
    "facing",  # yaw of the body frame relative to the move's start frame, rad (turns)
)
UPPER_CHANNELS: tuple[str, ...] = (
    "sp",
    "sr",
    "sy",  # spine pitch (+ forward bend), roll (+ lean to the dancer's right), yaw
    "hp",
    "hr",
    "hy",  # head pitch, roll, yaw
    "lh",
    "rh",  # (N, 3) wrist target from the shoulder, chest frame, (outward, up, forward) m
    "shrug_l",
    "shrug_r",  # collar raise, rad
)
VECTOR_CHANNELS: frozenset[str] = frozenset({"lh", "rh"})
_NEGATED_ON_MIRROR = frozenset({"sway", "pyaw", "proll", "sr", "sy", "hr", "hy", "facing", "shift"})
_SWAPPED_ON_MIRROR = {
    "heel_l": "heel_r",
    "heel_r": "heel_l",
    "lh": "rh",
    "rh": "lh",
    "shrug_l": "shrug_r",
    "shrug_r": "shrug_l",
}

# Hand targets (outward, up, forward) from the shoulder, metres. The torso midline lies at
# outward = -SHOULDER_OUT.
SHOULDER_OUT: float = 0.19
"""Distance of the shoulder joint from the body's midline (neutral SMPL, about 19 cm)."""
HAND_DOWN = np.array([0.07, -0.48, 0.08])
"""Arms hanging relaxed, elbows soft."""
HAND_HIP = np.array([0.02, -0.36, -0.02])
"""Hand resting on the hip, elbow out."""
HAND_CHEST = np.array([-0.12, -0.2, 0.3])
"""Hand in front of the chest."""
HAND_UP = np.array([0.08, 0.5, 0.06])
"""Arm raised overhead."""
HAND_SIDE = np.array([0.5, 0.0, 0.05])
"""Arm out to the side at shoulder height."""
HAND_FRONT = np.array([-0.06, -0.02, 0.5])
"""Arm reaching forward at shoulder height."""
