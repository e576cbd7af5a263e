"""Render dances: bodies, a headless pyrender stage, H.264 + AAC video with the song, exports.

Public API::

    from render import render_video
    render_video("dance.npz", "song.wav", "dance.mp4", body="mannequin", size=512, progress=True)

* :func:`render_video` - motion (+ song) -> browser-ready ``.mp4``; ``python -m render`` wraps it.
* :func:`render_frame_image` - one frame to a PNG.
* :func:`make_body` and :class:`MannequinBody` / :class:`SMPLBody` / :class:`SkeletonBody` -
  pose SMPL parameters into meshes (:class:`Body` protocol); :func:`mannequin_foot_offset`
  measures the mannequin-vs-SMPL-skeleton foot difference that :class:`MannequinBody` corrects.
* :class:`DanceScene`, :func:`plan_camera` - the EGL scene and its camera, frame by frame.
* :func:`write_bvh`, :func:`read_bvh`, :func:`bvh_joint_positions`, :func:`load_bvh_motion`,
  :func:`export_motion` - BVH of the SMPL skeleton (metres, y up), ``.npz``, AIST++ ``.pkl``.
* :func:`write_synthetic_smpl` - a licence-free SMPL-format file for tests and benchmarks.

Importing this package does not start OpenGL; :class:`DanceScene` does, through EGL.
"""

from render.bodies import (
    BODY_NAMES,
    SMPL_DIR_ENV,
    Body,
    BodyError,
    MannequinBody,
    PosedMesh,
    SkeletonBody,
    SMPLBody,
    find_smpl_model,
    make_body,
    mannequin_foot_offset,
    write_synthetic_smpl,
)
from render.export import (
    ExportError,
    bvh_joint_positions,
    bvh_round_trip_error,
    export_motion,
    load_bvh_motion,
    read_bvh,
    write_bvh,
)
from render.scene.camera import CameraPath, plan_camera
from render.scene.errors import RenderError
from render.scene.stage import ANTIALIAS_MODES, DanceScene
from render.video.ffmpeg import FrameEncoder, probe
from render.video.pipeline import render_frame_image, render_video

__all__ = [
    "ANTIALIAS_MODES",
    "BODY_NAMES",
    "SMPL_DIR_ENV",
    "Body",
    "BodyError",
    "CameraPath",
    "DanceScene",
    "ExportError",
    "FrameEncoder",
    "MannequinBody",
    "PosedMesh",
    "RenderError",
    "SMPLBody",
    "SkeletonBody",
    "bvh_joint_positions",
    "bvh_round_trip_error",
    "export_motion",
    "find_smpl_model",
    "load_bvh_motion",
    "make_body",
    "mannequin_foot_offset",
    "plan_camera",
    "probe",
    "read_bvh",
    "render_frame_image",
    "render_video",
    "write_bvh",
    "write_synthetic_smpl",
]
