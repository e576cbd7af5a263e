"""Root turn per frame: golden values by hand."""

import numpy as np
import pytest

from motionbeat.core import contract
from motionbeat.metrics.turns import max_turn, root_turns


def _spin(degrees_per_frame, frames=10):
    """(T, 24, 3) poses whose root turns steadily about the vertical axis."""
    poses = np.zeros((frames, contract.NUM_JOINTS, 3))
    poses[:, 0, contract.UP_AXIS] = np.radians(degrees_per_frame) * np.arange(frames)
    return poses


def test_a_still_body_does_not_turn():
    assert max_turn(np.zeros((5, contract.NUM_JOINTS, 3))) == 0.0
    assert max_turn(np.zeros((1, contract.NUM_JOINTS, 3))) == 0.0


def test_a_steady_spin_turns_its_rate_every_frame():
    np.testing.assert_allclose(root_turns(_spin(10.0)), 10.0, atol=1e-9)
    # the same spin at 60 fps turns 5 degrees a 60 fps frame: 10 per 1/30 s
    np.testing.assert_allclose(root_turns(_spin(5.0), fps=60), 10.0, atol=1e-9)


def test_a_snap_is_its_angle_whatever_the_heading_and_axis():
    poses = _spin(0.0)
    poses[:, 0, 0] = np.radians(30.0)  # leaning forward 30 degrees about x
    poses[5:, 0] = [0.0, np.radians(120.0), 0.0]  # then facing 120 degrees round, upright
    # the step 4 -> 5 combines undoing the lean (30) with the turn (120): the angle of
    # Ry(120) Rx(-30): cos(theta) = (trace - 1) / 2 with trace = cos120 + cos30 + cos120 cos30
    c1, c3 = np.cos(np.radians(120.0)), np.cos(np.radians(30.0))
    expected = np.degrees(np.arccos((c1 + c3 + c1 * c3 - 1) / 2))
    turns = root_turns(poses)
    assert turns[4] == pytest.approx(expected, abs=1e-9)
    assert max_turn(poses) == pytest.approx(expected, abs=1e-9)
    np.testing.assert_allclose(np.delete(turns, 4), 0.0, atol=1e-9)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="poses must be"):
        root_turns(np.zeros((5, 3)))
