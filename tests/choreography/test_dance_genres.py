"""Dance genres and accents: the music chooses the moves and the hits."""

from collections import Counter

import numpy as np
import pytest

from motionbeat.choreography import choreographer as ch
from motionbeat.choreography import dance_genres as dg
from motionbeat.choreography import moves as mv
from motionbeat.music.groove_families import GROOVE_FAMILY_RULES


def test_genre_table_names_real_moves_and_ranges():
    families = {s.family for s in mv.VOCABULARY.values()}
    for g in dg.GENRES.values():
        assert set(g.families) <= families, g.name
        assert set(g.moves) <= set(mv.VOCABULARY), g.name
        assert set(g.hits) <= set(dg.HIT_KINDS) and g.hits
        for lo, hi in (g.sharpness, g.amplitude, g.arm_activity, g.travel, g.hit_rate):
            assert lo <= hi
    # every groove family of the corpus has its dance genre
    assert {f for f, _ in GROOVE_FAMILY_RULES} | {"rock_pop"} <= set(dg.GENRES)
    assert set(ch.HIT_CHANNELS) == set(dg.HIT_KINDS)


@pytest.mark.parametrize(
    ("family", "bpm", "bpb", "energy", "density", "expected"),
    [
        ("latin", 60.0, 3, 0.1, 0.1, "latin"),  # a label wins
        ("", 120.0, 3, 0.5, 1.0, "waltz"),
        ("", 80.0, 4, 0.3, 1.0, "ballad"),
        ("", 80.0, 4, 0.8, 1.0, "blues"),
        ("", 110.0, 4, 0.6, 2.0, "funk_soul"),
        ("", 150.0, 4, 0.6, 2.0, "rock_pop"),
        ("", 120.0, 4, 0.6, 1.0, "rock_pop"),
    ],
)
def test_genre_for_song(family, bpm, bpb, energy, density, expected):
    assert dg.genre_for_song(family, bpm, bpb, energy, density) == expected


def test_unknown_genres_are_named():
    with pytest.raises(ValueError, match="polka"):
        dg.get_genre("polka")
    with pytest.raises(ValueError, match="choose from"):
        ch.DancerStyle.sample(np.random.default_rng(0), "polka")


def test_styles_follow_the_genre():
    rng = np.random.default_rng(0)
    for name, g in dg.GENRES.items():
        for _ in range(10):
            s = ch.DancerStyle.sample(rng, name)
            assert g.sharpness[0] <= s.sharpness <= g.sharpness[1]
            assert g.hit_rate[0] <= s.hit_rate <= g.hit_rate[1]
            assert s.hit_kind in g.hits
            assert s.to_dict()["hit_kind"] == s.hit_kind


def test_genre_changes_the_moves():
    """Latin dancers do latin steps far more often than rock dancers, and vice versa."""
    beats = np.arange(0.0, 60.0, 0.5)
    counts = {}
    for genre in ("latin", "rock_pop"):
        info = ch.song_info_from_beats(beats, beats[::4], 4, 60.0, energy=np.full(len(beats), 0.6),
                                       genre=genre)
        c = Counter()
        for seed in range(6):
            plan = ch.plan_dance(info, ch.DancerStyle.sample(np.random.default_rng(seed), genre),
                                 np.random.default_rng(seed))
            c.update(i.clip.name for i in plan.instances)
        counts[genre] = c
    latin = {"mambo", "cha_cha", "rock_step", "hip_sway", "shimmy"}
    rock = {"bounce", "head_nod", "march", "jump_in_place", "side_hops", "rise_bounce"}

    def share(c, names):
        return sum(v for k, v in c.items() if k in names) / sum(c.values())

    assert share(counts["latin"], latin) > 2 * share(counts["rock_pop"], latin)
    assert share(counts["rock_pop"], rock) > 2 * share(counts["latin"], rock)


def test_find_accents_picks_the_loud_positions():
    fps, period = 100.0, 0.5
    beats = np.arange(0.0, 16.0, period)
    onset = np.zeros(int(16.0 * fps))
    onset[np.round(beats * fps).astype(int)] = 1.0  # every beat
    onset[np.round((beats + period / 2) * fps).astype(int)[:-1]] = 0.5  # every half-beat
    loud = [4, 11, 20]  # beats with a crash on them
    onset[np.round(beats[loud] * fps).astype(int)] = 4.0
    onset[int(round((beats[7] + period / 2) * fps))] = 3.0  # a syncopated stab
    times, strength = ch.find_accents(onset, fps, beats)
    expected = np.sort(np.r_[beats[loud], beats[7] + period / 2])
    # the median of beats and half-beats is 0.5 or 1: plain beats (ratio 1 or 2) may count as
    # weak accents; the crashes and the stab must be found at full strength
    for t in expected:
        i = np.argmin(np.abs(times - t))
        assert abs(times[i] - t) < 1e-9 and strength[i] == pytest.approx(1.0)
    assert (strength[~np.isin(np.round(times, 6), np.round(expected, 6))] < 0.6).all()
    none_t, _ = ch.find_accents(np.ones(1600), fps, beats)  # a flat envelope has no accents
    assert len(none_t) == 0


def test_accent_hits_land_on_the_accents():
    fps = 30.0
    times = np.arange(0, 10 * int(fps)) / fps
    style = ch.DancerStyle(hit_rate=1.0, hit_kind="head", jitter=0.0, feel=0.0, amplitude=1.2)
    acc = np.array([2.0, 5.0, 8.0])
    out = ch.accent_hits(times, acc, np.array([1.0, 0.5, 1.0]), style, np.random.default_rng(0))
    assert set(out) == {"hp", "sp"}
    hp = out["hp"]
    for t, a in zip(acc, (1.0, 0.5, 1.0), strict=True):
        f = int(round(t * fps))
        assert hp[f] == pytest.approx(0.3 * 1.2 * a)  # full size on the accent frame
        assert hp[f] == hp[f - 3 : f + 4].max()
    assert hp[int(3.5 * fps)] == pytest.approx(0.0, abs=1e-9)  # nothing between accents
    arms = ch.accent_hits(times, acc, np.ones(3), ch.DancerStyle(hit_rate=1.0, hit_kind="arms"),
                          np.random.default_rng(0))
    assert arms["lh"].shape == (len(times), 3)
    never = ch.accent_hits(times, acc, np.ones(3), ch.DancerStyle(hit_rate=0.0),
                           np.random.default_rng(0))
    assert all(np.all(v == 0) for v in never.values())
