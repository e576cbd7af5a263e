"""``python -m generator.sample --formats ... --rig ...``: which motion files, which joint names."""

import pytest

from generator import sample
from motionbeat.core import contract
from render.export import read_bvh
from render.gltf_read import glb_animation
from render.rigs import MIXAMO_PREFIX


def test_formats_and_rig_choose_the_files(untrained_checkpoint, click_tracks, tmp_path, capsys):
    out = tmp_path / "out"
    code = sample.main([str(click_tracks["short"]), "--checkpoint", str(untrained_checkpoint),
                        "--out", str(out), "--no-video", "--steps", "2", "--quiet",
                        "--formats", "glb,bvh", "--rig", "mixamo", "--body", "skeleton"])
    printed = capsys.readouterr().out
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["short.bvh", "short.glb"]
    assert str(out / "short.glb") in printed
    animation = glb_animation(out / "short.glb")
    assert animation.names[0] == f"{MIXAMO_PREFIX}Hips" and len(animation.names) == contract.NUM_JOINTS
    assert len(animation.times) == 3 * contract.FPS  # the 3 s click track
    assert read_bvh(out / "short.bvh").names[0] == f"{MIXAMO_PREFIX}Hips"


@pytest.mark.parametrize("formats", ["npz,fbx", ",", "obj"])
def test_unknown_formats_are_a_one_line_usage_error(click_tracks, capsys, formats):
    with pytest.raises(SystemExit) as exit_info:
        sample.main([str(click_tracks["short"]), "--formats", formats])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "--formats" in err and "npz" in err.splitlines()[-1]


def test_parse_formats_normalises():
    assert sample.parse_formats("NPZ, .glb,npz") == (".npz", ".glb")
