"""AIST++ loader on a tiny fixture written in the release's exact layout."""

import pickle

import numpy as np
import pytest
import soundfile as sf

from motionbeat.choreography.choreographer import choreograph_info, song_info_from_beats
from motionbeat.core import contract
from motionbeat.datasets import aistpp

SCALING = 93.7  # AIST++ stores translation in scaled units; trans / scaling is metres
SEQS = [
    "gBR_sBM_cAll_d04_mBR0_ch01",
    "gPO_sFM_cAll_d10_mPO1_ch02",
    "gJS_sBM_cAll_d01_mJS2_ch03",
    "gHO_sBM_cAll_d19_mHO3_ch04",
]


def _dance(seconds: float, seed: int):
    beats = np.arange(0.0, seconds, 0.5)
    info = song_info_from_beats(beats, beats[::4], 4, seconds)
    return choreograph_info(info, seed=seed).motion


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("aist_plusplus_final")
    (root / "motions").mkdir()
    (root / "wav").mkdir()
    (root / "splits").mkdir()
    truth = {}
    for i, seq in enumerate(SEQS):
        m = _dance(8.0, i).resampled(contract.AISTPP_FPS)
        lifted = m.trans + np.array(
            [0.3, 0.25, -1.0], dtype=np.float32
        )  # off-centre, floor not at 0
        payload = {
            "smpl_poses": m.poses.reshape(m.num_frames, -1).astype(np.float64),
            "smpl_trans": (lifted * SCALING).astype(np.float64),
            "smpl_scaling": np.array([SCALING]),
            "smpl_loss": 1.25,  # the release stores the fitting loss too
        }
        with open(root / "motions" / f"{seq}.pkl", "wb") as fh:
            pickle.dump(payload, fh)
        sf.write(
            root / "wav" / f"{aistpp.music_id(seq)}.wav", np.zeros(22050, dtype=np.float32), 22050
        )
        truth[seq] = m
    (root / "splits" / "crossmodal_train.txt").write_text("\n".join(SEQS[:2] + SEQS[3:]) + "\n")
    (root / "splits" / "crossmodal_val.txt").write_text(SEQS[2] + "\n")
    (root / "splits" / "crossmodal_test.txt").write_text(SEQS[2] + "\n")
    (root / "ignore_list.txt").write_text(SEQS[3] + "\n")
    return root, truth


def test_splits_and_ignore_list(release):
    root, _ = release
    ds = aistpp.AISTPP(root)
    assert ds.sequences("train") == SEQS[:2]  # the ignored one is gone
    assert ds.sequences("val") == [SEQS[2]]
    assert SEQS[3] not in ds.sequences()
    assert ds.music_path(SEQS[0]).name == "mBR0.wav"
    with pytest.raises(ValueError):
        ds.sequences("dev")


def test_load_is_30fps_metres_floor_at_zero(release):
    root, truth = release
    ds = aistpp.AISTPP(root)
    m = ds.load(SEQS[0])
    ref = truth[SEQS[0]]
    assert m.fps == contract.FPS
    assert m.num_frames == (ref.num_frames - 1) // 2 + 1
    np.testing.assert_allclose(m.poses, ref.poses[::2], atol=1e-4)
    j = m.joints()
    feet = j[:, list(contract.FOOT_JOINTS), 1]
    assert abs(np.percentile(feet.min(axis=1), aistpp.FLOOR_PERCENTILE)) < 1e-4
    np.testing.assert_allclose(m.trans[0, [0, 2]], 0.0, atol=1e-5)
    # displacement in metres, not scaled units
    np.testing.assert_allclose(np.diff(m.trans[:, 0]), np.diff(ref.trans[::2, 0]), atol=1e-4)
    assert m.meta["music_id"] == "mBR0" and m.source_song.endswith("mBR0.wav")


def test_windows(release):
    root, _ = release
    ds = aistpp.AISTPP(root)
    wins = list(ds.windows("train"))
    per = (8 * contract.FPS - contract.WINDOW_FRAMES) // 15 + 1
    assert len(wins) == 2 * per
    assert all(w.num_frames == contract.WINDOW_FRAMES for w in wins)
    assert wins[1].start_offset == pytest.approx(aistpp.WINDOW_STRIDE_SECONDS)


def test_not_an_aistpp_folder(tmp_path):
    with pytest.raises(aistpp.AISTPPError):
        aistpp.AISTPP(tmp_path)
