"""The move vocabulary: coverage, and steps that chain without sliding or hovering."""

import math

import numpy as np
import pytest

from motionbeat.choreography import moves as mv

REQUIRED_FAMILIES = {"groove", "step", "travel", "kick", "jump", "turn", "arms", "waltz"}


def test_vocabulary_is_large_and_covers_the_families():
    assert len(mv.VOCABULARY) >= 40
    assert {s.family for s in mv.VOCABULARY.values()} >= REQUIRED_FAMILIES
    names = set(mv.VOCABULARY)
    for kind in (
        "bounce",
        "sway",
        "step_touch",
        "arm_wave",
        "clap",
        "kick_front",
        "spin",
        "jump_in_place",
        "grapevine",
        "quarter_turn",
        "waltz_box",
    ):
        assert kind in names
    assert sum(3 in s.meters for s in mv.VOCABULARY.values()) >= 5  # moves for 3/4


def _cases():
    for name, spec in mv.VOCABULARY.items():
        for bpb in spec.meters:
            for mirror in (False, True):
                yield name, bpb, mirror


@pytest.mark.parametrize(("name", "bpb", "mirror"), list(_cases()))
def test_move_steps_chain(name, bpb, mirror):
    p = mv.MoveParams(amp=1.2, bpb=bpb, rng=np.random.default_rng(1))
    clip = mv.build_move(name, p, mirror)
    steps = sorted(clip.steps, key=lambda s: s.start)
    for foot in (mv.LEFT, mv.RIGHT):
        own = [s for s in steps if s.foot == foot]
        for a, b in zip(own, own[1:], strict=False):
            assert b.start >= a.end - 1e-9, "a foot lifts before it has landed"
    for a in steps:
        assert 0.0 <= a.start < a.end <= clip.beats + 1e-9
        if not a.ballistic:  # feet land on beats or half-beats
            assert abs(a.end * 2 - round(a.end * 2)) < 1e-6
        for b in steps:
            if a.foot != b.foot and a.start < b.end - 1e-6 and b.start < a.end - 1e-6:
                assert a.ballistic or b.ballistic, "both feet swing at once outside a jump"
    # both feet end at home in the move's end frame
    c, s = math.cos(clip.turn), math.sin(clip.turn)
    for foot in (mv.LEFT, mv.RIGHT):
        own = [st for st in steps if st.foot == foot]
        end = own[-1].to if own else p.home(foot)
        hx, hz = p.home(foot)
        assert end[0] == pytest.approx(clip.travel[0] + c * hx + s * hz, abs=1e-6)
        assert end[1] == pytest.approx(clip.travel[1] - s * hx + c * hz, abs=1e-6)
    ch = clip.channels(np.linspace(-1.0, clip.beats + 1.0, 97))
    assert set(ch) <= set(mv.LOWER_CHANNELS + mv.UPPER_CHANNELS)
    for key, val in ch.items():
        assert np.all(np.isfinite(val)), key
        assert val.shape[0] == 97


def test_easing_stops_on_keyframes():
    u = np.array([0.0, 1e-4, 0.5, 1.0 - 1e-4])
    y = mv.keys(u, [(0.0, 0.0), (0.5, 1.0)], 1.0, 2.5)
    assert y[0] == 0.0 and y[2] == pytest.approx(1.0)
    assert abs(y[1] - y[0]) < 1e-6 and abs(y[3]) < 1e-6  # zero slope at the keys


def test_mirror_swaps_sides():
    clip = mv.build_move("side_tap", mv.MoveParams())
    mir = clip.mirrored()
    assert [s.foot for s in mir.steps] == [1 - s.foot for s in clip.steps]
    u = np.linspace(0, 4, 9)
    np.testing.assert_allclose(mir.channels(u)["lh"], clip.channels(u)["rh"])
