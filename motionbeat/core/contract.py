"""The data contract: every number that two parts of the project must agree on.

Nobody else writes the motion frame rate, the window length, the SMPL skeleton or the
151-wide frame layout as literals; they import them from here.

Conventions
-----------
* Internal axes are SMPL's own: **+y up**, +x toward the body's left, +z forward (the
  direction the rest pose faces). Positions are in metres, the floor is the plane y = 0.
  Metrics that need z-up (PFC) convert explicitly through ``kinematics.y_up_to_z_up``.
* Rotations are axis-angle (SMPL, AIST++) at the edges and 6-D (Zhou et al., CVPR 2019,
  "On the Continuity of Rotation Representations") inside the learned models. The 6-D
  layout is the first two *rows* of the rotation matrix, flattened row-major, which is
  pytorch3d's ``matrix_to_rotation_6d`` and therefore EDGE's 151-wide feature files.
* Batch first everywhere: ``(B, T, ...)``.

Sources: the SMPL skeleton (Loper et al., SIGGRAPH Asia 2015) as tabulated in
``shared/reference/smpl-skeleton.md``; the frame layout is EDGE's (Tseng et al., CVPR 2023).
"""

from __future__ import annotations

import numpy as np

# --- time ------------------------------------------------------------------------------
FPS: int = 30
"""Frame rate of every motion inside the project (EDGE and Bailando train at 30 fps)."""

AISTPP_FPS: int = 60
"""Frame rate of AIST++ motion files (``motions/*.pkl``)."""

WINDOW_SECONDS: float = 5.0
"""Length of one generator / encoder training window (EDGE's 5 s)."""

WINDOW_FRAMES: int = round(WINDOW_SECONDS * FPS)
"""Frames in one window at :data:`FPS`."""

# --- skeleton --------------------------------------------------------------------------
JOINT_NAMES: tuple[str, ...] = (
    "Pelvis", "L_Hip", "R_Hip", "Spine1", "L_Knee", "R_Knee", "Spine2", "L_Ankle",
    "R_Ankle", "Spine3", "L_Foot", "R_Foot", "Neck", "L_Collar", "R_Collar", "Head",
    "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow", "L_Wrist", "R_Wrist", "L_Hand",
    "R_Hand",
)
NUM_JOINTS: int = len(JOINT_NAMES)

PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
)
"""Parent joint index of each joint; the root (pelvis) has -1. Parents precede children."""

JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

REST_OFFSETS: np.ndarray = np.array(
    [
        [0.0, 0.0, 0.0],
        [0.05858135, -0.08228004, -0.01766408],
        [-0.06030973, -0.09051332, -0.01354254],
        [0.00443945, 0.12440352, -0.03838522],
        [0.04345142, -0.38646945, 0.008037],
        [-0.04325663, -0.38368791, -0.00484304],
        [0.00448844, 0.1379564, 0.02682033],
        [-0.01479032, -0.42687458, -0.037428],
        [0.01905555, -0.4200455, -0.03456167],
        [-0.00226458, 0.05603239, 0.00285505],
        [0.04105436, -0.06028581, 0.12204243],
        [-0.03483987, -0.06210566, 0.13032329],
        [-0.0133902, 0.21163553, -0.03346758],
        [0.07170245, 0.11399969, -0.01889817],
        [-0.08295366, 0.11247234, -0.02370739],
        [0.01011321, 0.08893734, 0.05040987],
        [0.12292141, 0.04520509, -0.019046],
        [-0.11322832, 0.04685326, -0.00847207],
        [0.2553319, -0.01564902, -0.02294649],
        [-0.26012748, -0.01436928, -0.03126873],
        [0.26570925, 0.01269811, -0.00737473],
        [-0.26910836, 0.00679372, -0.00602676],
        [0.08669055, -0.01063603, -0.01559429],
        [-0.0887537, -0.00865157, -0.01010708],
    ],
    dtype=np.float32,
)
"""(24, 3) neutral SMPL offsets of each joint from its parent, metres, SMPL frame (y-up)."""
REST_OFFSETS.setflags(write=False)

# Joints the field's foot metrics use (EDGE eval_pfc.py; AIST++ feature code).
L_ANKLE, R_ANKLE = JOINT_INDEX["L_Ankle"], JOINT_INDEX["R_Ankle"]
L_TOE, R_TOE = JOINT_INDEX["L_Foot"], JOINT_INDEX["R_Foot"]
FOOT_JOINTS: tuple[int, int, int, int] = (L_ANKLE, R_ANKLE, L_TOE, R_TOE)
"""Order of the 4 contact channels: left ankle, right ankle, left toe, right toe (EDGE)."""
LEFT_FOOT: tuple[int, int] = (L_ANKLE, L_TOE)
RIGHT_FOOT: tuple[int, int] = (R_ANKLE, R_TOE)

MIRROR_JOINTS: tuple[int, ...] = tuple(
    JOINT_INDEX[n.replace("L_", "#").replace("R_", "L_").replace("#", "R_")] for n in JOINT_NAMES
)
"""Index of each joint's left/right mirror partner (itself for the spine)."""

CONTACT_SPEED: float = 0.3
"""Foot speed below which a foot joint counts as in contact, m/s.

EDGE labels contact where the per-frame displacement is under 0.01 m at 30 fps, i.e. 0.3 m/s;
stated in m/s here so the label does not change with the frame rate."""

# --- axes --------------------------------------------------------------------------------
UP_AXIS: int = 1
"""Index of the vertical axis in every position array inside the project (y-up)."""
FLOOR_HEIGHT: float = 0.0

# --- the 151-wide frame layout -------------------------------------------------------------
ROT6D_DIM: int = 6
NUM_CONTACTS: int = len(FOOT_JOINTS)
CONTACTS = slice(0, NUM_CONTACTS)
"""Foot contact channels in [0, 1], ordered as :data:`FOOT_JOINTS`."""
ROOT_POS = slice(CONTACTS.stop, CONTACTS.stop + 3)
"""Root (pelvis) translation in metres."""
ROTATIONS = slice(ROOT_POS.stop, ROOT_POS.stop + NUM_JOINTS * ROT6D_DIM)
"""24 local joint rotations in 6-D, joint-major: ``frame[ROTATIONS].reshape(24, 6)``."""
FRAME_DIM: int = ROTATIONS.stop
"""Width of one motion frame: 4 + 3 + 24 * 6 = 151."""

FRAME_SLICES: dict[str, slice] = {"contacts": CONTACTS, "root_pos": ROOT_POS, "rotations": ROTATIONS}

# --- files -----------------------------------------------------------------------------------
MOTION_FORMAT_VERSION: int = 1
"""Version written into every motion ``.npz``; loaders refuse newer versions."""
