"""Turn snaps are spread over their neighbours; ordinary turning is left alone."""

import math

import numpy as np
from scipy.spatial.transform import Rotation

from generator.cleanup.turns import MAX_TURN_PER_FRAME, smooth_turn_snaps, snap_windows


def yaw_rotvecs(yaw: np.ndarray) -> np.ndarray:
    return Rotation.from_euler("y", yaw[:, None]).as_rotvec().astype(np.float32)  # (T, 3)


def per_frame_turn(rotvec: np.ndarray) -> np.ndarray:
    r = Rotation.from_rotvec(rotvec.astype(np.float64))
    return (r[1:] * r[:-1].inv()).magnitude()  # (T-1,) radians


def test_a_snap_in_a_spin_is_spread_and_the_spin_ends_where_it_did():
    yaw = np.cumsum(np.full(60, math.radians(5.0)))
    yaw[30:] += math.radians(120.0)  # the body snaps round by 120 degrees in one frame
    rv = yaw_rotvecs(yaw)
    out = smooth_turn_snaps(rv)
    turn = per_frame_turn(out)
    assert turn.max() <= MAX_TURN_PER_FRAME + 1e-5
    np.testing.assert_allclose(turn.sum(), per_frame_turn(rv).sum(), atol=1e-4)  # no turn lost
    np.testing.assert_allclose(out[:20], rv[:20], atol=1e-6)  # far from the snap: untouched
    np.testing.assert_allclose(out[45:], rv[45:], atol=1e-5)


def test_ordinary_turning_and_sustained_fast_spins_are_left_alone():
    slow = yaw_rotvecs(np.cumsum(np.full(40, math.radians(20.0))))  # under the limit
    np.testing.assert_array_equal(smooth_turn_snaps(slow), slow)
    fast = np.cumsum(np.full(40, math.radians(40.0)))  # 1200 deg/s for 1.3 s: not a snap
    steps = np.zeros((39, 3))
    steps[:, 1] = math.radians(40.0)
    assert snap_windows(steps, MAX_TURN_PER_FRAME, 15) == []
    np.testing.assert_array_equal(smooth_turn_snaps(yaw_rotvecs(fast)), yaw_rotvecs(fast))
    one = yaw_rotvecs(np.zeros(1))
    np.testing.assert_array_equal(smooth_turn_snaps(one), one)
