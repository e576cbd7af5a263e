"""Bodies: skinning against mannequin-x, feet on the SMPL skeleton, SMPL files and errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from motionbeat.core import contract
from motionbeat.core.motion import Motion
from render import bodies
from render.bodies import BodyError, MannequinBody, SkeletonBody, SMPLBody, skinning


def random_motion(frames: int = 6, seed: int = 0, scale: float = 0.4) -> Motion:
    rng = np.random.default_rng(seed)
    poses = rng.normal(0.0, scale, (frames, contract.NUM_JOINTS, 3)).astype(np.float32)
    trans = rng.normal(0.0, 1.0, (frames, 3)).astype(np.float32)
    return Motion(poses, trans)


@pytest.fixture(scope="module")
def mannequin() -> MannequinBody:
    return MannequinBody()


@pytest.fixture(scope="module")
def smpl_file(tmp_path_factory):
    return bodies.write_synthetic_smpl(tmp_path_factory.mktemp("smpl") / "SMPL_NEUTRAL.npz")


def test_sparse_skinning_matches_mannequin_x(mannequin):
    """Our sparse LBS, fed mannequin-x's own transforms and rest mesh, gives its vertices."""
    model = mannequin.model
    skin = skinning._LinearBlendSkin(
        model._identity["skin_vertices"],
        np.zeros_like(model._identity["skin_vertices"]),
        model._skin_joint_indices,
        model._skin_weights,
        model._identity["skin_bind_positions"],
    )
    pose = model.rest_pose(batch_dims=(3,))
    rng = np.random.default_rng(1)
    pose["body_pose"] = rng.normal(0, 0.4, pose["body_pose"].shape).astype(np.float32)
    pose["global_rotation"] = rng.normal(0, 0.5, (3, 3)).astype(np.float32)
    pose["global_translation"] = rng.normal(0, 1, (3, 3)).astype(np.float32)
    transforms = model.joint_transforms(pose)  # (3, J, 4, 4)
    ours = skin(
        transforms[..., :3, :3].astype(np.float32), transforms[..., :3, 3].astype(np.float32)
    )
    np.testing.assert_allclose(ours.vertices, model.vertices(pose), atol=2e-5)


def test_mannequin_feet_sit_on_the_smpl_skeleton(mannequin):
    motion = random_motion()
    joints = mannequin.joints(motion.poses, motion.trans)
    reference = motion.joints()
    legs = list(bodies.MANNEQUIN_SMPL_JOINTS)
    np.testing.assert_allclose(joints[:, legs], reference[:, legs], atol=1e-5)
    # the upper body keeps the mannequin's own proportions
    assert np.abs(joints - reference).max() > 0.01


def test_mannequin_foot_offset_is_measured_and_corrected():
    offset = bodies.mannequin_foot_offset()
    assert 0.01 < offset["uncorrected_mean_y"] < 0.04  # mannequin-x's feet sit ~2 cm higher
    assert offset["corrected_max_3d"] < 1e-6
    assert 0.0 < offset["sole_below_toe"] < 0.04


def test_mannequin_stands_on_the_floor_at_rest(mannequin):
    zero = np.zeros((contract.NUM_JOINTS, 3), np.float32)
    standing_height = -mannequin.pose(zero, np.zeros(3, np.float32)).vertices[:, 1].min()
    posed = mannequin.pose(zero, np.array([0.0, standing_height, 0.0], np.float32))
    assert posed.vertices.shape == (len(mannequin.vertex_colors), 3)
    assert abs(posed.vertices[:, 1].min()) < 1e-5
    assert 0.9 < standing_height < 1.05  # pelvis height of a ~1.75 m adult


@pytest.mark.parametrize("make", [MannequinBody, SkeletonBody])
def test_pose_shapes_and_unit_normals(make):
    body = make()
    motion = random_motion(frames=bodies.POSE_CHUNK_FRAMES + 3)
    posed = body.pose(motion.poses, motion.trans)
    num_verts = len(body.vertex_colors)
    assert posed.vertices.shape == posed.normals.shape == (motion.num_frames, num_verts, 3)
    assert posed.vertices.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(posed.normals, axis=-1), 1.0, atol=1e-4)
    assert body.faces.max() < num_verts and body.faces.shape[1] == 3
    assert (
        body.vertex_joints.shape == (num_verts,) and body.vertex_joints.max() < contract.NUM_JOINTS
    )
    single = body.pose(motion.poses[0], motion.trans[0])
    np.testing.assert_allclose(single.vertices, posed.vertices[0], atol=1e-5)
    flat = body.pose(motion.poses.reshape(motion.num_frames, -1), motion.trans)  # (T, 72)
    np.testing.assert_allclose(flat.vertices, posed.vertices, atol=1e-5)
    assert isinstance(body, bodies.Body)


def test_skeleton_joints_are_the_motion_joints():
    motion = random_motion()
    np.testing.assert_allclose(
        SkeletonBody().joints(motion.poses, motion.trans), motion.joints(), atol=1e-5
    )


def test_bad_pose_shapes_are_named(mannequin):
    with pytest.raises(BodyError, match=r"poses must be"):
        mannequin.pose(np.zeros((4, 23, 3)), np.zeros((4, 3)))
    with pytest.raises(BodyError, match=r"trans must be"):
        mannequin.pose(np.zeros((4, 24, 3)), np.zeros((5, 3)))


def test_synthetic_smpl_through_smplx(smpl_file):
    body = SMPLBody(smpl_file)
    motion = random_motion()
    # the synthetic regressor reproduces the contract skeleton, pelvis at trans
    np.testing.assert_allclose(body.joints(motion.poses, motion.trans), motion.joints(), atol=1e-4)
    posed = body.pose(motion.poses, motion.trans)
    assert posed.vertices.shape == (motion.num_frames, len(body.vertex_colors), 3)
    np.testing.assert_allclose(np.linalg.norm(posed.normals, axis=-1), 1.0, atol=1e-4)


def test_smpl_found_through_the_environment(smpl_file, monkeypatch):
    monkeypatch.setenv(bodies.SMPL_DIR_ENV, str(smpl_file.parent))
    assert bodies.find_smpl_model() == smpl_file
    assert isinstance(bodies.make_body("smpl"), SMPLBody)


def test_missing_smpl_files_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(bodies.SMPL_DIR_ENV, raising=False)
    with pytest.raises(BodyError, match=bodies.SMPL_DIR_ENV):
        SMPLBody()
    with pytest.raises(BodyError, match="no SMPL neutral model"):
        SMPLBody(tmp_path)
    with pytest.raises(BodyError, match="does not exist"):
        SMPLBody(tmp_path / "nowhere")


def test_smpl_pkl_plain_arrays_load(smpl_file, tmp_path):
    with np.load(smpl_file) as data:
        arrays = {k: data[k] for k in data.files}
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps(arrays, protocol=2))
    body = SMPLBody(tmp_path)
    assert body.path == path


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def test_smpl_pkl_with_code_is_refused(tmp_path):
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps({"v_template": _Evil()}))
    with pytest.raises(BodyError, match="refusing"):
        SMPLBody(path)


def test_smpl_file_that_is_not_a_model(tmp_path):
    path = tmp_path / "SMPL_NEUTRAL.npz"
    np.savez(path, v_template=np.zeros((3, 3)))
    with pytest.raises(BodyError, match="missing"):
        SMPLBody(path)


def test_unknown_body():
    with pytest.raises(BodyError, match="unknown body"):
        bodies.make_body("robot")


def test_smpl_betas_reshape_the_body(smpl_file):
    zero = np.zeros((1, contract.NUM_JOINTS, 3), np.float32)
    at = np.zeros((1, 3), np.float32)
    plain = SMPLBody(smpl_file).joints(zero, at)
    taller = SMPLBody(smpl_file, betas=[2.0]).joints(zero, at)  # synthetic beta 0 scales by 5%
    head = contract.JOINT_INDEX["Head"]
    np.testing.assert_allclose(taller[0, 0], plain[0, 0], atol=1e-6)  # the pelvis stays at trans
    assert taller[0, head, 1] == pytest.approx(plain[0, head, 1] * 1.1, rel=1e-4)
    with pytest.raises(BodyError, match="shape coefficients"):
        SMPLBody(smpl_file, betas=np.zeros(11))
