"""Import an exported file into a real Blender, headless, and read back where its joints are.

    python -m render.blender_import dance.glb [--frames 0,15,30]

:func:`blender_import` runs ``blender -b --factory-startup`` on
:mod:`render.blender_sample_joints` (a script for Blender's own Python), which imports the BVH
or glTF with the importer's defaults and samples every bone head's world position at the given
frames. Blender is z-up: both importers turn the file's y-up into z-up by
``(x, y, z) -> (x, -z, y)`` (:func:`motionbeat.core.kinematics.y_up_to_z_up`), so
:func:`blender_joints_y_up` applies the inverse and returns the project's axes.

Blender is Debian's ``blender`` package (3.4; ``scripts/setup.sh --dev`` installs it) or the
program named by ``$MOTIONBEAT_BLENDER``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motionbeat.core import contract, kinematics
from render.rigs import contract_order

BLENDER_ENV = "MOTIONBEAT_BLENDER"
"""Environment variable naming the Blender program (default: ``blender`` on the PATH)."""
BLENDER_SCRIPT: Path = Path(__file__).resolve().parent / "blender_sample_joints.py"
BLENDER_TIMEOUT_S = 600
"""Longest one Blender run may take (it imports one file and samples a few frames)."""
DEFAULT_FRAMES = (0, 1, 15, 30)


class BlenderError(RuntimeError):
    """Blender is missing, failed, or imported something other than the expected skeleton."""


def find_blender() -> str | None:
    """Path of the Blender program, or None when it is not installed."""
    return shutil.which(os.environ.get(BLENDER_ENV, "blender"))


def blender_environment(program: str) -> dict[str, str]:
    """The environment to run ``program`` in: ours, with Blender's own folder first on the PATH.

    Debian's Blender embeds the system Python and finds its home from the first ``python3`` on
    the PATH: under a pyenv or virtualenv ``python3`` it would load that Python's standard
    library without the system's ``dist-packages``, where its glTF importer's numpy lives.
    """
    folder = str(Path(program).resolve().parent)
    return {**os.environ, "PATH": os.pathsep.join([folder, os.environ.get("PATH", "")])}


@dataclass(frozen=True)
class BlenderImport:
    """What Blender made of a file (see :mod:`render.blender_sample_joints` for the fields).

    Attributes:
        heads: (F, B, 3) bone heads in Blender's world (z up), metres, bones as ``bones``.
    """

    blender: str
    bones: tuple[str, ...]
    frames: tuple[int, ...]
    heads: np.ndarray
    mesh: dict | None
    scene_props: dict
    action: dict | None


def blender_import(
    path: str | os.PathLike, frames=DEFAULT_FRAMES, blender: str | None = None, fps: int = contract.FPS
) -> BlenderImport:
    """Import ``path`` (.bvh, .glb, .gltf) into a headless Blender and sample its joints at ``frames``."""
    program = blender or find_blender()
    if program is None:
        raise BlenderError(f"Blender is not installed (apt-get install blender, or set ${BLENDER_ENV})")
    path = Path(path).resolve()
    if not path.is_file():
        raise BlenderError(f"{path}: no such file")
    with tempfile.TemporaryDirectory(prefix="motionbeat-blender-") as tmp:
        out = Path(tmp) / "joints.json"
        command = [
            program, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(BLENDER_SCRIPT),
            "--", str(path), str(out), ",".join(str(int(f)) for f in frames), str(int(fps)),
        ]
        try:
            subprocess.run(
                command, check=True, capture_output=True, text=True, timeout=BLENDER_TIMEOUT_S,
                env=blender_environment(program),
            )
        except subprocess.CalledProcessError as err:
            tail = "\n".join((err.stdout + err.stderr).strip().splitlines()[-15:])
            raise BlenderError(
                f"Blender could not import {path.name} (exit {err.returncode}):\n{tail}"
            ) from None
        except subprocess.TimeoutExpired:
            raise BlenderError(f"Blender took over {BLENDER_TIMEOUT_S} s on {path.name}") from None
        data = json.loads(out.read_text(encoding="utf-8"))
    return BlenderImport(
        blender=data["blender"],
        bones=tuple(data["bones"]),
        frames=tuple(data["frames"]),
        heads=np.asarray(data["heads"], dtype=np.float64),
        mesh=data["mesh"],
        scene_props=data["scene_props"],
        action=data["action"],
    )


def blender_joints_y_up(result: BlenderImport) -> np.ndarray:
    """(F, 24, 3) the contract joints Blender placed, in contract order, back in y-up axes."""
    try:
        order = contract_order(result.bones)
    except ValueError as err:
        raise BlenderError(f"Blender's armature is not the exported skeleton: {err}") from None
    z_up = torch.from_numpy(result.heads[:, order])  # (F, 24, 3)
    return kinematics.z_up_to_y_up(z_up).numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m render.blender_import",
        description="Import a .bvh / .glb into headless Blender and print its joints (y up, metres).",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--frames", default=",".join(map(str, DEFAULT_FRAMES)), help="frame indices")
    args = parser.parse_args(argv)
    try:
        frames = [int(f) for f in args.frames.split(",")]
        result = blender_import(args.file, frames)
        joints = blender_joints_y_up(result)
    except (BlenderError, ValueError) as err:
        print(f"blender_import: error: {err}", file=sys.stderr)
        return 2
    print(f"Blender {result.blender}: {len(result.bones)} bones, action {result.action}, mesh "
          f"{None if result.mesh is None else (result.mesh['vertices'], result.mesh['armature'])}")
    for frame, frame_joints in zip(frames, joints, strict=True):
        pelvis, head = frame_joints[0], frame_joints[contract.JOINT_INDEX["Head"]]
        print(f"frame {frame}: pelvis {np.round(pelvis, 4).tolist()} head {np.round(head, 4).tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
