"""Fixtures in the real formats of the datasets, written here from known SMPL motions.

* :func:`known_motion`: a smooth seeded dance (every body joint turns, the root travels).
* :func:`write_rig_bvh`: a BVH of that dance on another rig: SMPL's bones under other joint names,
  in a T-pose (SMPL's rest) or an A-pose rest (arms 45 degrees down), y-up or z-up, in metres or
  centimetres, optionally with an unmapped joint inside the hip (as CMU's ``LHipJoint``).
* :func:`write_finedance`: FineDance's ``motion/*.npy`` (T, 315) + ``music_wav`` + ``label_json``.
* :func:`write_click_song`: a click track (the music of every fixture).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from scipy.spatial.transform import Rotation

from motionbeat.audio.decode import SAMPLE_RATE
from motionbeat.core import contract, kinematics

A_POSE_DEGREES = 45.0
"""How far the A-pose rig's arms hang below SMPL's T-pose rest."""
ARM_JOINTS = {"L": ("L_Shoulder", "L_Elbow", "L_Wrist", "L_Hand"),
              "R": ("R_Shoulder", "R_Elbow", "R_Wrist", "R_Hand")}


def known_motion(frames: int, seed: int = 0, amplitude: float = 0.5,
                 fps: float = contract.FPS) -> tuple[np.ndarray, np.ndarray]:
    """poses (T, 24, 3) axis-angle and trans (T, 3), y-up metres: sinusoids of random phase."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None, None] / fps
    freq = rng.uniform(0.3, 1.5, (1, contract.NUM_JOINTS, 3))
    phase = rng.uniform(0, 2 * np.pi, (1, contract.NUM_JOINTS, 3))
    poses = amplitude * np.sin(2 * np.pi * freq * t + phase)  # (T, 24, 3)
    poses[:, contract.JOINT_INDEX["L_Hand"]] = 0.0  # SMPL-X has no such joint (FineDance)
    poses[:, contract.JOINT_INDEX["R_Hand"]] = 0.0
    trans = np.zeros((frames, 3))
    tt = t[:, 0, 0]
    trans[:, 0], trans[:, 1], trans[:, 2] = 0.3 * np.sin(tt), 0.9 + 0.03 * np.sin(5 * tt), 0.2 * tt
    return poses.astype(np.float32), trans.astype(np.float32)


def smpl_joints(poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return kinematics.forward_kinematics(torch.from_numpy(poses), torch.from_numpy(trans)).numpy()


def write_click_song(path: Path, seconds: float, bpm: float = 120.0) -> Path:
    y = np.zeros(int(seconds * SAMPLE_RATE), np.float32)
    tt = np.arange(int(0.03 * SAMPLE_RATE)) / SAMPLE_RATE
    click = (0.5 * np.sin(2 * np.pi * 1000 * tt) * np.exp(-tt / 0.01)).astype(np.float32)
    for k, beat in enumerate(np.arange(0.0, seconds, 60.0 / bpm)):
        a = int(beat * SAMPLE_RATE)
        n = min(len(click), len(y) - a)
        y[a:a + n] += (1.0 if k % 4 == 0 else 0.6) * click[:n]
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, SAMPLE_RATE)
    return path


def _a_pose_rotation(side: str) -> np.ndarray:
    """Q: the rotation about +z (forward) that lowers that side's arm by A_POSE_DEGREES."""
    sign = -1.0 if side == "L" else 1.0  # the left arm points +x: lower it by turning about -z
    return Rotation.from_euler("z", sign * A_POSE_DEGREES, degrees=True).as_matrix()


def write_rig_bvh(path: Path, poses: np.ndarray, trans: np.ndarray, fps: float, names: dict[str, str],
                  *, rest: str = "T", up: str = "y", unit: float = 1.0, hip_joint: bool = False) -> Path:
    """The SMPL dance ``poses``/``trans`` as a BVH of a rig with SMPL's bones (module docstring).

    ``names`` maps SMPL joint names to the rig's. Source world rotations W_j = G_j Q^T on the
    A-pose arm joints (their child offsets are Q o), G_j elsewhere, so the rig's forward kinematics
    puts every joint exactly where SMPL's does.
    """
    with torch.no_grad():
        _, world = kinematics.forward_kinematics_with_rotations(
            torch.from_numpy(poses).double(), torch.from_numpy(trans).double())
    world = world.numpy()  # (T, 24, 3, 3)
    offsets = contract.REST_OFFSETS.astype(np.float64).copy()
    if rest == "A":
        for side, chain in ARM_JOINTS.items():
            q = _a_pose_rotation(side)
            for name in chain[1:]:
                offsets[contract.JOINT_INDEX[name]] = q @ offsets[contract.JOINT_INDEX[name]]
            for name in chain:
                world[:, contract.JOINT_INDEX[name]] = world[:, contract.JOINT_INDEX[name]] @ q.T
    m = kinematics.Y_UP_TO_Z_UP.numpy().astype(np.float64) if up == "z" else np.eye(3)
    world = m @ world @ m.T
    offsets = offsets @ m.T * unit
    root = trans.astype(np.float64) @ m.T * unit
    # the rig: SMPL's tree, optionally with an unmapped joint halfway along each hip bone
    rig_names, rig_parents, rig_offsets, rig_world = [], [], [], []
    index = {}
    for j, p in enumerate(contract.PARENTS):
        parent = index[p] if p >= 0 else -1
        name = contract.JOINT_NAMES[j]
        if hip_joint and name in ("L_Hip", "R_Hip"):
            rig_names.append(f"{name[0]}HipJoint")
            rig_parents.append(parent)
            rig_offsets.append(offsets[j] / 2)
            rig_world.append(world[:, p])
            parent = len(rig_names) - 1
        index[j] = len(rig_names)
        rig_names.append(names.get(name, name))
        rig_parents.append(parent)
        rig_offsets.append(offsets[j] / 2 if hip_joint and name in ("L_Hip", "R_Hip") else offsets[j])
        rig_world.append(world[:, j])
    rig_world = np.stack(rig_world, axis=1)  # (T, J, 3, 3)
    local = rig_world.copy()
    for j, p in enumerate(rig_parents):
        if p >= 0:
            local[:, j] = np.swapaxes(rig_world[:, p], -1, -2) @ rig_world[:, j]
    euler = Rotation.from_matrix(local.reshape(-1, 3, 3)).as_euler("ZXY", degrees=True)
    euler = euler.reshape(len(poses), len(rig_names), 3)
    return write_bvh_text(path, rig_names, rig_parents, np.array(rig_offsets), root, euler, fps)


def write_bvh_text(path: Path, names, parents, offsets, root, euler, fps) -> Path:
    """A BVH: root with 6 channels, the others ``Zrotation Xrotation Yrotation``, root OFFSET 0."""
    kids = [[k for k, p in enumerate(parents) if p == j] for j in range(len(names))]
    order, lines = [], ["HIERARCHY"]

    def emit(j, depth):
        order.append(j)
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if parents[j] < 0 else 'JOINT'} {names[j]}")
        lines.append(pad + "{")
        off = np.zeros(3) if parents[j] < 0 else offsets[j]
        lines.append(f"{pad}  OFFSET {off[0]:.8f} {off[1]:.8f} {off[2]:.8f}")
        pos = "Xposition Yposition Zposition " if parents[j] < 0 else ""
        lines.append(f"{pad}  CHANNELS {6 if parents[j] < 0 else 3} {pos}Zrotation Xrotation Yrotation")
        for k in kids[j]:
            emit(k, depth + 1)
        if not kids[j]:
            lines.extend([f"{pad}  End Site", pad + "  {", f"{pad}    OFFSET 0.0 0.05 0.0", pad + "  }"])
        lines.append(pad + "}")

    emit(0, 0)
    values = np.concatenate([root, euler[:, order].reshape(len(root), -1)], axis=1)
    lines += ["MOTION", f"Frames: {len(root)}", f"Frame Time: {1.0 / fps:.10f}"]
    body = "\n".join(" ".join(f"{v:.8f}" for v in row) for row in values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n" + body + "\n")
    return path


def write_finedance(root: Path, dances: dict[str, tuple[np.ndarray, np.ndarray]], seed: int = 0,
                    genres: dict[str, str] | None = None) -> Path:
    """FineDance's layout for ``{id: (poses, trans)}`` at 30 fps; SMPL-X joints 22-51 get random
    rotations (the finger joints: the loader must ignore them)."""
    rng = np.random.default_rng(seed)
    for dance_id, (poses, trans) in dances.items():
        frames = len(poses)
        mats = np.tile(np.eye(3), (frames, 52, 1, 1))
        body = Rotation.from_rotvec(poses[:, :22].reshape(-1, 3)).as_matrix()
        mats[:, :22] = body.reshape(frames, 22, 3, 3)
        mats[:, 22:] = Rotation.random(52 - 22, random_state=int(rng.integers(1 << 30))).as_matrix()
        rot6d = mats[:, :, :2, :].reshape(frames, 52 * 6)  # first two ROWS, row-major (pytorch3d)
        (root / "motion").mkdir(parents=True, exist_ok=True)
        np.save(root / "motion" / f"{dance_id}.npy", np.concatenate([trans, rot6d], axis=1))
        write_click_song(root / "music_wav" / f"{dance_id}.wav", frames / contract.FPS,
                         bpm=float(rng.uniform(100, 140)))
        (root / "label_json").mkdir(parents=True, exist_ok=True)
        genre = (genres or {}).get(dance_id, "Popping")
        (root / "label_json" / f"{dance_id}.json").write_text(json.dumps({"name": dance_id, "style1": genre}))
    return root
