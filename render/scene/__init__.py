"""The stage: a pyrender scene drawn headless through EGL, one frame per motion frame.

One :class:`DanceScene` holds one OpenGL context, one scene and one body mesh for a whole
video. Per frame only the body's vertex buffer (positions, normals, colours) is rewritten in
place with ``glBufferSubData`` and the camera node moves; nothing is rebuilt.

Modules, bottom first:

* :mod:`render.scene.errors` - :class:`RenderError`.
* :mod:`render.scene.shaders` - the GLSL sources (mesh shading, floor, fog, FXAA).
* :mod:`render.scene.opengl` - pyrender on EGL, cheap shader programs, the frame read-back.
* :mod:`render.scene.camera` - :class:`CameraPath` and :func:`plan_camera`.
* :mod:`render.scene.plan` - :func:`plan_dance`: flash, contacts, shadows, boxes per frame.
* :mod:`render.scene.stage` - floor, lights, materials and :class:`DanceScene`.
"""

from render.scene.camera import (
    CAMERA_AZIMUTH_DEG,
    FRAME_MARGIN,
    MIN_CAMERA_DISTANCE,
    CameraPath,
    facing_yaw,
    plan_camera,
    screen_boxes,
)
from render.scene.errors import RenderError
from render.scene.plan import FLASH_DECAY_S, DancePlan, beat_flash, foot_contacts, plan_dance
from render.scene.stage import (
    ANTIALIAS_MODES,
    BACKGROUND,
    DEFAULT_SIZE,
    FLOOR_COLOR,
    MAX_SIZE,
    DanceScene,
)

__all__ = [
    "ANTIALIAS_MODES",
    "BACKGROUND",
    "CAMERA_AZIMUTH_DEG",
    "DEFAULT_SIZE",
    "FLASH_DECAY_S",
    "FLOOR_COLOR",
    "FRAME_MARGIN",
    "MAX_SIZE",
    "MIN_CAMERA_DISTANCE",
    "CameraPath",
    "DancePlan",
    "DanceScene",
    "RenderError",
    "beat_flash",
    "facing_yaw",
    "foot_contacts",
    "plan_camera",
    "plan_dance",
    "screen_boxes",
]
