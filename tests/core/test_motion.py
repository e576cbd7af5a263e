"""Motion value and its files: .npz, AIST++ .pkl, the restricted unpickler, atomic writes."""

import os
import pickle

import numpy as np
import pytest

from motionbeat.core import contract
from motionbeat.core.fileio import UnsafePickleError, atomic_path, load_arrays_pickle
from motionbeat.core.motion import Motion, MotionFileError, load_motion


def _motion(frames: int = 20, fps: float = contract.FPS, seed: int = 0) -> Motion:
    rng = np.random.default_rng(seed)
    return Motion(
        poses=rng.normal(scale=0.3, size=(frames, contract.NUM_JOINTS, 3)),
        trans=rng.normal(size=(frames, 3)),
        fps=fps,
        source_song="songs/my song ü.wav",
        start_offset=2.5,
        model_hash="abc123",
        meta={"seed": 7},
    )


def test_npz_round_trip(tmp_path):
    motion = _motion()
    path = motion.save(tmp_path / "dance.npz")
    back = load_motion(path)
    np.testing.assert_array_equal(back.poses, motion.poses)
    np.testing.assert_array_equal(back.trans, motion.trans)
    assert (back.fps, back.source_song, back.start_offset, back.model_hash, back.meta) == (
        motion.fps, motion.source_song, motion.start_offset, motion.model_hash, motion.meta
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dance.npz"]  # no temporary left


def test_npz_from_newer_version_is_refused(tmp_path):
    path = tmp_path / "future.npz"
    np.savez(path, format_version=contract.MOTION_FORMAT_VERSION + 1, fps=30.0,
             poses=np.zeros((2, 24, 3)), trans=np.zeros((2, 3)))
    with pytest.raises(MotionFileError, match="newer"):
        load_motion(path)


def test_aistpp_pkl_real_layout_is_read_in_metres(tmp_path):
    """AIST++ stores translation scaled by smpl_scaling at 60 fps; we read metres."""
    rng = np.random.default_rng(3)
    poses = rng.normal(scale=0.2, size=(12, 72)).astype(np.float32)
    trans_m = rng.normal(size=(12, 3)).astype(np.float32)
    scaling = np.array([93.7], dtype=np.float32)
    for protocol in (2, 3, 4, 5):
        path = tmp_path / f"gBR_sBM_cAll_d04_mBR0_ch01_p{protocol}.pkl"
        with open(path, "wb") as fh:
            pickle.dump({"smpl_loss": 1.5, "smpl_poses": poses, "smpl_scaling": scaling,
                         "smpl_trans": trans_m * scaling}, fh, protocol=protocol)
        motion = load_motion(path)
        assert motion.fps == contract.AISTPP_FPS
        np.testing.assert_allclose(motion.trans, trans_m, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(motion.poses.reshape(12, 72), poses)


def test_pkl_written_is_aistpp_style_at_60fps(tmp_path):
    motion = _motion(frames=31)
    path = motion.save(tmp_path / "dance.pkl")
    raw = load_arrays_pickle(path)
    assert set(raw) == {"smpl_poses", "smpl_trans", "smpl_scaling"}
    assert raw["smpl_poses"].shape == (61, 72)
    back = load_motion(path).resampled(contract.FPS)
    np.testing.assert_allclose(back.joints(), motion.joints(), atol=1e-4)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo owned > /dev/null",))


def test_malicious_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"smpl_poses": _Evil()}))
    with pytest.raises(UnsafePickleError, match="system"):
        load_arrays_pickle(path)
    with pytest.raises(MotionFileError, match="evil.pkl"):
        load_motion(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.npz", None, "no such motion file"),
        ("garbage.npz", b"not a zip", "unreadable"),
        ("garbage.pkl", b"\x00\x01junk", "not a readable pickle"),
        ("dance.bvh", b"HIERARCHY", "unknown motion format"),
    ],
)
def test_bad_motion_files_give_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MotionFileError, match=message):
        load_motion(path)


def test_motion_validates_shapes():
    with pytest.raises(ValueError, match="poses"):
        Motion(np.zeros((5, 23, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="trans"):
        Motion(np.zeros((5, 24, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        Motion(np.full((5, 24, 3), np.nan), np.zeros((5, 3)))
    assert Motion(np.zeros((5, 72)), np.zeros((5, 3))).poses.shape == (5, 24, 3)


def test_slice_and_resample():
    motion = _motion(frames=90)
    part = motion.sliced(1.0, 1.0)
    assert part.num_frames == contract.FPS and part.start_offset == pytest.approx(3.5)
    np.testing.assert_array_equal(part.poses, motion.poses[contract.FPS:2 * contract.FPS])
    assert motion.resampled(contract.AISTPP_FPS).num_frames == 179
    with pytest.raises(ValueError, match="outside"):
        motion.sliced(10.0, 1.0)


def test_features_round_trip():
    motion = _motion()
    back = Motion.from_features(motion.to_features(), fps=motion.fps)
    np.testing.assert_allclose(back.joints(), motion.joints(), atol=1e-4)


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_outputs_get_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "out.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644
