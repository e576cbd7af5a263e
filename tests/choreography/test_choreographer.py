"""The choreographer: slide-free feet on the floor, joint limits, beats, determinism, the CLI."""

from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from motionbeat import metrics
from motionbeat.choreography import choreograph as cli
from motionbeat.choreography import choreographer as ch
from motionbeat.choreography import dance_genres as dg
from motionbeat.core import contract
from motionbeat.core.motion import load_motion

J = contract.JOINT_INDEX
BPM = 124.0
DURATION = 40.0


def _info(bpb: int = 4, energy: float | None = None) -> ch.SongInfo:
    """A song with rising energy, three sections, an accent on every third beat and a melody
    that rises and falls over full range every 3 s."""
    beats = np.arange(0.25, DURATION, 60.0 / BPM)
    k = len(beats)
    e = np.linspace(0.1, 1.0, k) if energy is None else np.full(k, energy)
    info = ch.song_info_from_beats(
        beats,
        beats[::bpb],
        bpb,
        DURATION,
        energy=e,
        density=np.full(k, 1.0),
        section_starts=np.array([0, k // 3, 2 * k // 3]),
    )
    frames = np.arange(round(DURATION * contract.FPS)) / contract.FPS
    return replace(info, accent_times=beats[::3], accent_strength=np.ones(len(beats[::3])),
                   contour=0.99 * np.sin(2 * np.pi * frames / 3.0), contour_fps=contract.FPS)


@pytest.fixture(scope="module", params=[(4, "dip"), (3, "arms"), (4, "chest")])
def dance(request):
    """Dances whose dancer hits every accent and follows the melody fully, so the invariants
    hold with both on."""
    bpb, kind = request.param
    style = replace(ch.DancerStyle.sample(np.random.default_rng(7)), hit_rate=1.0, hit_kind=kind,
                    contour=1.0)
    return ch.choreograph_info(_info(bpb), style=style, seed=7), bpb


def test_covers_the_song(dance):
    d, _ = dance
    assert d.motion.fps == contract.FPS
    assert d.motion.num_frames == round(DURATION * contract.FPS)
    assert len(set(d.motion.meta["moves"])) >= 5


def test_planted_feet_do_not_slide_and_touch_the_floor(dance):
    d, _ = dance
    j = d.motion.joints()
    toes = j[:, [contract.L_TOE, contract.R_TOE]]  # (T, 2, 3)
    planted = d.planted
    assert planted.any(axis=1).mean() > 0.8  # mostly on the ground
    both = planted[1:] & planted[:-1]
    speed = np.linalg.norm(np.diff(toes, axis=0), axis=-1) * contract.FPS  # (T-1, 2)
    assert speed[both].max() < 1e-3  # m/s: a planted toe stays put
    assert np.abs(toes[..., 1][planted]).max() < 1e-4  # on the floor while planted
    feet = j[:, list(contract.FOOT_JOINTS), 1]
    assert feet.min() > -1e-4  # never below the floor


def test_joint_limits(dance):
    d, _ = dance
    poses = d.motion.poses
    for name in ("L_Knee", "R_Knee"):
        aa = poses[:, J[name]]
        assert np.abs(aa[:, 1:]).max() < 1e-4  # a hinge about x
        assert aa[:, 0].min() > -1e-4 and aa[:, 0].max() < ch.KNEE_MAX + 1e-3
    for name in ("L_Elbow", "R_Elbow"):
        ang = np.linalg.norm(poses[:, J[name]], axis=-1)
        assert ang.max() < np.radians(146)
    for name in ("Spine1", "Spine2", "Spine3", "Neck", "Head"):
        assert np.linalg.norm(poses[:, J[name]], axis=-1).max() < np.radians(40)


def test_hands_stay_out_of_the_torso(dance):
    d, _ = dance
    j = d.motion.joints()
    base, top = j[:, J["Pelvis"]], j[:, J["Neck"]]
    axis = top - base
    for name in ("L_Wrist", "R_Wrist", "L_Hand", "R_Hand", "L_Elbow", "R_Elbow"):
        rel = j[:, J[name]] - base
        t = np.clip(np.sum(rel * axis, -1) / np.sum(axis * axis, -1), 0.0, 1.0)
        dist = np.linalg.norm(rel - t[:, None] * axis, axis=-1)
        assert dist.min() > 0.1, name


def test_on_the_beat_and_physical():
    info = _info(4, energy=0.6)
    d = ch.choreograph_info(info, seed=3)
    j = d.motion.joints()
    n, fps = contract.WINDOW_FRAMES, contract.FPS
    bas, pfc = [], []
    for s in range(0, len(j) - n, n):
        beats = (
            info.beat_times[(info.beat_times >= s / fps) & (info.beat_times < (s + n) / fps)]
            - s / fps
        )
        bas.append(metrics.beat_alignment(j[s : s + n], contract.FPS, beats)["bas"])
        pfc.append(metrics.pfc(j[s : s + n], contract.FPS))
    assert np.mean(bas) > 0.2  # motion beats land on music beats
    assert np.mean(pfc) < 3.0  # AIST++ ground truth is 1.332
    # landings (a foot becoming planted) happen near beats
    land = np.nonzero(d.planted[1:] & ~d.planted[:-1])[0] + 1
    t = land / contract.FPS
    half = 60.0 / BPM / 2
    dist = np.min(
        np.abs(t[:, None] - np.r_[info.beat_times, info.beat_times + half][None, :]), axis=1
    )
    assert np.median(dist) < 0.06


def test_deterministic_and_varied():
    info = _info()
    a = ch.choreograph_info(info, seed=11).motion
    b = ch.choreograph_info(info, seed=11).motion
    c = ch.choreograph_info(info, seed=12).motion
    np.testing.assert_array_equal(a.poses, b.poses)
    np.testing.assert_array_equal(a.trans, b.trans)
    assert np.abs(a.poses - c.poses).mean() > 0.01


def test_styles_sample_in_range():
    rng = np.random.default_rng(0)
    for _ in range(20):
        s = ch.DancerStyle.sample(rng)
        assert 0.7 <= s.amplitude <= 1.35 and 1.7 <= s.sharpness <= 4.01
        assert set(s.to_dict()) >= {"amplitude", "sharpness", "feel", "jitter"}


def test_melodic_contour_rises_with_pitch():
    """A tone gliding up an octave and back: the contour follows it up and down."""
    from motionbeat import audio as au

    sr, seconds = 22050, 8.0
    t = np.arange(int(sr * seconds)) / sr
    freq = 440.0 * 2.0 ** (1.0 - np.abs(t / seconds * 2.0 - 1.0))  # 440 -> 880 -> 440 Hz
    y = 0.3 * np.sin(2 * np.pi * np.cumsum(freq) / sr)
    f = au.frame_features(au.Audio(y.astype(np.float32), sr))
    c = ch.melodic_contour(f.mel, f.fps)
    assert c.shape == (len(f.mel),) and np.all(np.abs(c) < 1.0)
    mid, q = len(c) // 2, len(c) // 8
    assert c[mid - q : mid + q].mean() > 0.3 > -0.3 > c[: q].mean()  # high at 880 Hz, low at 440
    assert c[-q:].mean() < -0.3
    assert np.all(ch.melodic_contour(np.full((50, 8), -30.0), 30.0) == 0.0)  # flat: nothing


def test_dancer_shows_the_melody_with_the_arms():
    """Same dancer, same moves: the hands are higher where the melody is high."""
    info = _info(4, energy=0.6)
    style = replace(ch.DancerStyle.sample(np.random.default_rng(3)), contour=1.0, hit_rate=0.0)
    up = ch.choreograph_info(replace(info, contour=np.full_like(info.contour, 0.9)), style, 5)
    down = ch.choreograph_info(replace(info, contour=np.full_like(info.contour, -0.9)), style, 5)
    flat = ch.choreograph_info(replace(info, contour=np.zeros(0)), replace(style, contour=0.0), 5)
    hands = [J["L_Wrist"], J["R_Wrist"]]
    h = [d.motion.joints()[:, hands, 1].mean() for d in (up, flat, down)]  # mean wrist height, m
    assert h[0] > h[1] + 0.05 and h[1] > h[2] + 0.05
    np.testing.assert_allclose(up.motion.trans[:, 1], down.motion.trans[:, 1], atol=1e-9)
    np.testing.assert_array_equal(up.planted, down.planted)  # the feet do not change


def _click_track(path, bpm=120.0, seconds=12.0, sr=22050):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.02 * np.sin(2 * np.pi * 220 * t)
    for k, b in enumerate(np.arange(0.0, seconds, 60.0 / bpm)):
        i = int(b * sr)
        n = min(2000, len(y) - i)
        amp = 0.9 if k % 4 == 0 else 0.5
        y[i : i + n] += (
            amp * np.exp(-np.arange(n) / 300.0) * np.sin(2 * np.pi * 1000 * np.arange(n) / sr)
        )
    sf.write(path, y.astype(np.float32), sr)


def test_choreograph_audio_and_cli(tmp_path):
    song = tmp_path / "click.wav"
    _click_track(song)
    m = ch.choreograph(song, seed=1)
    assert m.num_frames == pytest.approx(12.0 * contract.FPS, abs=1)
    out = tmp_path / "dance.npz"
    assert cli.main([str(song), "--out", str(out), "--seed", "2", "--genre", "latin"]) == 0
    loaded = load_motion(out)
    assert loaded.num_frames == m.num_frames and loaded.meta["moves"]
    assert loaded.meta["genre"] == "latin" and m.meta["genre"] in dg.GENRES
    with pytest.raises(ValueError, match="genre"):
        ch.choreograph(song, genre="polka")


def test_fast_songs_are_danced_half_time():
    beats = np.arange(0.0, 20.0, 60.0 / 220.0)
    info = ch.song_info_from_beats(beats, beats[::4], 4, 20.0)
    half = ch.half_time(info)
    np.testing.assert_allclose(np.diff(half.beat_times), 2 * 60.0 / 220.0)
    assert half.beat_times[0] == info.downbeat_times[0]
    assert ch.half_time(_info()) is not None and len(ch.half_time(_info()).beat_times) == len(
        _info().beat_times
    )
    d = ch.choreograph_info(info, seed=0)
    assert d.motion.num_frames == round(20.0 * contract.FPS)
