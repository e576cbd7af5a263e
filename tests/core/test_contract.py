"""The data contract is self-consistent."""

import numpy as np

from motionbeat.core import contract


def test_skeleton_tables_agree():
    assert contract.NUM_JOINTS == len(contract.PARENTS) == contract.REST_OFFSETS.shape[0]
    assert all(p < j for j, p in enumerate(contract.PARENTS))  # parents precede children
    assert contract.PARENTS[0] == -1 and contract.PARENTS.count(-1) == 1


def test_frame_layout_is_contiguous():
    assert contract.CONTACTS.start == 0
    assert contract.CONTACTS.stop == contract.ROOT_POS.start
    assert contract.ROOT_POS.stop == contract.ROTATIONS.start
    assert contract.FRAME_DIM == contract.NUM_CONTACTS + 3 + contract.NUM_JOINTS * contract.ROT6D_DIM


def test_feet_and_mirror():
    names = [contract.JOINT_NAMES[j] for j in contract.FOOT_JOINTS]
    assert names == ["L_Ankle", "R_Ankle", "L_Foot", "R_Foot"]
    mirror = np.array(contract.MIRROR_JOINTS)
    assert (mirror[mirror] == np.arange(contract.NUM_JOINTS)).all()
    # +x points to the body's left: the left hip sits at +x, its mirror at -x
    l_hip = contract.JOINT_INDEX["L_Hip"]
    assert contract.REST_OFFSETS[l_hip, 0] > 0 > contract.REST_OFFSETS[mirror[l_hip], 0]
    assert contract.WINDOW_FRAMES == contract.FPS * contract.WINDOW_SECONDS
