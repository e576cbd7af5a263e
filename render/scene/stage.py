"""The stage: floor, lights, materials and the EGL scene (:class:`DanceScene`) that poses the body.

One :class:`DanceScene` holds one OpenGL context, one scene and one body mesh for a whole
video. Per frame only the body's vertex buffer (positions, normals, colours) is rewritten in
place with ``glBufferSubData`` and the camera node moves; nothing is rebuilt. Its frame loop
(:meth:`DanceScene.frames`) poses the body chunk by chunk along a
:func:`render.scene.plan.plan_dance`.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from motionbeat.core import contract
from motionbeat.core.motion import Motion
from render.bodies import POSE_CHUNK_FRAMES, Body
from render.scene.camera import (
    CAMERA_YFOV_DEG,
    CAMERA_ZFAR,
    CAMERA_ZNEAR,
    MIN_CAMERA_DISTANCE,
    CameraPath,
)
from render.scene.errors import RenderError
from render.scene.opengl import _FramebufferReader, _import_pyrender, _program_cache
from render.scene.plan import DancePlan, plan_dance
from render.scene.shaders import MESH_FRAG, MESH_VERT

DEFAULT_SIZE = 512
MAX_SIZE = 4096

# look
BACKGROUND = (0.925, 0.93, 0.945)
FLOOR_COLOR = (0.87, 0.875, 0.89)
"""Final (lit) colour of the floor between the grid lines."""
GRID_COLOR = (0.6, 0.62, 0.67)
GRID_SPACING = 0.5
GRID_LINE_WIDTH = 0.012
FLOOR_SIZE = 400.0
"""Side of the floor square, metres, centred on the origin; fog hides its edges."""
FOG_START = 1.6
FOG_END = 4.5
"""Fog starts and ends at these multiples of the camera distance."""
AMBIENT = (0.52, 0.52, 0.55)
KEY_LIGHT = (2.4, (1.0, 0.97, 0.92), (-0.45, -0.75, -0.5))
FILL_LIGHT = (0.9, (0.85, 0.9, 1.0), (0.7, -0.35, -0.3))
"""(intensity, colour, direction in camera-aligned axes: x right, y up, z toward the viewer)."""
CONTACT_COLOR = (0.15, 0.85, 0.45)
CONTACT_MIX = 0.75
FLASH_COLOR = (1.0, 0.78, 0.35)
FLASH_RADIUS = 2.2
FLASH_STRENGTH = 0.4
ANTIALIAS_MODES = ("fxaa", "msaa", "none")
"""fxaa (default): one fast post pass; msaa: pyrender's 4x multisampling, about twice the
rasterising time under llvmpipe; none: raw pixels."""


class DanceScene:
    """A reusable headless scene for one body at one size.

    Use as a context manager (or call :meth:`close`): it owns an EGL context.

    Args:
        body: any :class:`render.bodies.Body`.
        size: frame width and height in pixels.
    """

    def __init__(self, body: Body, size: int = DEFAULT_SIZE, antialias: str = "fxaa"):
        if not isinstance(size, int | np.integer) or not 16 <= int(size) <= MAX_SIZE:
            raise RenderError(f"size must be an integer from 16 to {MAX_SIZE} pixels, got {size!r}")
        if antialias not in ANTIALIAS_MODES:
            raise RenderError(
                f"antialias must be one of {', '.join(ANTIALIAS_MODES)}, got {antialias!r}"
            )
        self.body = body
        self.size = int(size)
        self.antialias = antialias
        self._reader = None
        self._uniform_locations: dict[int, list[int]] = {}
        pyrender = _import_pyrender()

        self._pyrender = pyrender
        self._shader_dir = Path(tempfile.mkdtemp(prefix="motionbeat-shaders-"))
        try:
            stock = Path(pyrender.__file__).parent / "shaders"
            for item in stock.iterdir():
                shutil.copy(item, self._shader_dir / item.name)
            (self._shader_dir / "mesh.frag").write_text(
                MESH_FRAG % {"grid": _vec(GRID_COLOR), "flash": _vec(FLASH_COLOR)}
            )
            (self._shader_dir / "mesh.vert").write_text(MESH_VERT)
            try:
                self._gl = pyrender.OffscreenRenderer(self.size, self.size)
            except Exception as err:  # EGL reports many kinds of failure
                raise RenderError(
                    f"cannot start headless OpenGL through EGL ({type(err).__name__}: {err}); "
                    "the Mesa EGL driver is needed "
                    "(Debian: apt-get install libegl1 libgl1-mesa-dri)"
                ) from err
            renderer = self._gl._renderer
            renderer._program_cache = _program_cache(self._shader_dir)
            self._build_scene()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ construction
    def _build_scene(self):
        pyrender = self._pyrender
        body = self.body
        self.scene = pyrender.Scene(bg_color=(*BACKGROUND, 1.0), ambient_light=AMBIENT)
        num_verts = len(body.vertex_colors)
        self._colors = np.ones((num_verts, 4), np.float32)
        self._colors[:, :3] = body.vertex_colors
        self._feet = [
            np.flatnonzero(np.isin(body.vertex_joints, foot))
            for foot in (contract.LEFT_FOOT, contract.RIGHT_FOOT)
        ]
        # Interleaved vertex buffer, pyrender's layout: position 3 | normal 3 | colour 4.
        self._vbo_data = np.zeros((num_verts, 10), np.float32)
        self._vbo_data[:, 6:] = self._colors
        self._vbo_data[:, 4] = 1.0
        material = pyrender.MetallicRoughnessMaterial(
            baseColorFactor=(1.0, 1.0, 1.0, 1.0), metallicFactor=0.0, roughnessFactor=0.55
        )
        self._body_primitive = pyrender.Primitive(
            positions=self._vbo_data[:, :3],
            normals=self._vbo_data[:, 3:6],
            color_0=self._colors,
            indices=body.faces,
            material=material,
        )
        self.scene.add(pyrender.Mesh([self._body_primitive]))

        half = FLOOR_SIZE / 2
        corners = np.array(
            [[-half, 0, -half], [half, 0, -half], [half, 0, half], [-half, 0, half]], np.float32
        )
        floor = pyrender.Primitive(
            positions=corners,
            normals=np.tile([0.0, 1.0, 0.0], (4, 1)).astype(np.float32),
            texcoord_0=corners[:, [0, 2]],
            indices=np.array([[0, 2, 1], [0, 3, 2]]),
            material=pyrender.MetallicRoughnessMaterial(
                baseColorFactor=(*FLOOR_COLOR, 1.0), metallicFactor=0.0, roughnessFactor=1.0
            ),
        )
        self.scene.add(pyrender.Mesh([floor]))
        self._camera = pyrender.PerspectiveCamera(
            yfov=math.radians(CAMERA_YFOV_DEG),
            aspectRatio=1.0,
            znear=CAMERA_ZNEAR,
            zfar=CAMERA_ZFAR,
        )
        self._camera_node = self.scene.add(self._camera, pose=np.eye(4))
        self._lights = []
        for intensity, colour, _ in (KEY_LIGHT, FILL_LIGHT):
            light = pyrender.DirectionalLight(color=colour, intensity=intensity)
            self._lights.append(self.scene.add(light, pose=np.eye(4)))
        # The first draw compiles the programs and creates the vertex buffers and framebuffers
        # that are reused (and, for anti-aliasing, rewired) from then on.
        self._fog = (FOG_START * MIN_CAMERA_DISTANCE, FOG_END * MIN_CAMERA_DISTANCE)
        renderer = self._gl._renderer
        renderer._read_main_framebuffer = lambda scene, flags: None
        self._draw()
        self._reader = _FramebufferReader(renderer, self.antialias)
        renderer._read_main_framebuffer = self._reader.read
        self._set_uniforms(np.zeros((3, 4), np.float32) + [0, 0, 1, 0], 0.0, (0.0, 0.0))

    # ------------------------------------------------------------------ per dance
    def _aim_lights(self, camera_pose: np.ndarray):
        for node, (_, _, direction) in zip(self._lights, (KEY_LIGHT, FILL_LIGHT), strict=True):
            world = camera_pose[:3, :3] @ np.asarray(direction, float)
            self.scene.set_pose(node, _look_along(world))

    def _programs(self):
        return list(self._gl._renderer._program_cache._program_cache.values())

    def _set_uniforms(self, shadows: np.ndarray, flash: float, flash_center):
        """Set this module's own ``u_*`` uniforms on every compiled mesh program."""
        from OpenGL import GL

        for program in self._programs():
            pid = program._program_id
            if pid is None:
                continue
            locs = self._uniform_locations.get(pid)
            if locs is None:
                names = ("u_shadow", "u_flash", "u_flash_center", "u_fog", "u_fog_color", "u_grid")
                locs = self._uniform_locations[pid] = [
                    GL.glGetUniformLocation(pid, n) for n in names
                ]
            if all(loc == -1 for loc in locs):
                continue
            GL.glUseProgram(pid)
            GL.glUniform4fv(locs[0], 3, np.ascontiguousarray(shadows, np.float32))
            GL.glUniform1f(locs[1], float(flash))
            GL.glUniform2f(locs[2], *map(float, flash_center))
            GL.glUniform2f(locs[3], *map(float, self._fog))
            GL.glUniform3f(locs[4], *BACKGROUND)
            GL.glUniform4f(locs[5], GRID_SPACING, GRID_LINE_WIDTH, FLASH_RADIUS, FLASH_STRENGTH)
        GL.glUseProgram(0)

    def _upload(self, vertices: np.ndarray, normals: np.ndarray, colors: np.ndarray | None):
        from OpenGL import GL

        data = self._vbo_data
        data[:, 0:3] = vertices
        data[:, 3:6] = normals
        data[:, 6:10] = self._colors if colors is None else colors
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._body_primitive._buffers[0])
        GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, data.nbytes, data)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def _draw(self) -> np.ndarray:
        self._gl._platform.make_current()
        return self._gl._renderer.render(self.scene, self._pyrender.RenderFlags.OFFSCREEN)

    # ------------------------------------------------------------------ public
    def frames(
        self,
        motion: Motion,
        beats: Sequence[float] | None = None,
        contacts: bool = False,
        camera: CameraPath | None = None,
        start: int = 0,
        stop: int | None = None,
        plan: DancePlan | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield one (size, size, 3) uint8 RGB frame per motion frame, posed chunk by chunk.

        Args:
            motion: the dance; rendered at its own frame rate.
            beats: beat times in seconds of the song (the motion's frame i plays at
                ``start_offset + i / fps``); each flashes the floor.
            contacts: colour a foot while it is in contact (contract speed threshold).
            camera: a camera path; :func:`plan_camera` by default (planned on the whole motion).
            start, stop: render only frames [start, stop); the camera, contacts and flashes are
                still those of the whole dance, so pieces rendered apart join seamlessly.
            plan: a :func:`plan_dance` made once for pieces of one dance (then ``beats``,
                ``contacts`` and ``camera`` are ignored).
        """
        if plan is None:
            plan = plan_dance(motion, self.size, beats=beats, contacts=contacts, camera=camera)
        camera = plan.camera
        self._fog = (FOG_START * camera.distance, FOG_END * camera.distance)
        self._aim_lights(camera.pose(0))  # the camera turns not at all during a dance
        contact_rgba = np.array([*CONTACT_COLOR, 1.0], np.float32)
        stop = motion.num_frames if stop is None else min(stop, motion.num_frames)
        with _single_torch_thread():
            for first in range(start, stop, POSE_CHUNK_FRAMES):
                last = min(first + POSE_CHUNK_FRAMES, stop)
                posed = self.body.pose(motion.poses[first:last], motion.trans[first:last])
                for k, i in enumerate(range(first, last)):
                    colors = None
                    if plan.contacts is not None and plan.contacts[i].any():
                        colors = self._colors.copy()
                        for side in np.flatnonzero(plan.contacts[i]):
                            idx = self._feet[side]
                            colors[idx] = (1 - CONTACT_MIX) * colors[
                                idx
                            ] + CONTACT_MIX * contact_rgba
                    yield self.render_frame(
                        posed.vertices[k],
                        posed.normals[k],
                        camera.pose(i),
                        colors=colors,
                        shadows=plan.shadows[i],
                        flash=plan.flash[i],
                        flash_center=plan.joints[i, 0, [0, 2]],
                        aim_lights=False,
                        region=plan.boxes[i],
                    )

    def render_frame(
        self,
        vertices: np.ndarray,
        normals: np.ndarray,
        camera_pose: np.ndarray,
        colors: np.ndarray | None = None,
        shadows: np.ndarray | None = None,
        flash: float = 0.0,
        flash_center=(0.0, 0.0),
        aim_lights: bool = True,
        region=None,
    ) -> np.ndarray:
        """Draw one frame: body vertices/normals (V, 3), camera-to-world (4, 4) -> (H, W, 3) uint8.

        The lights keep their place relative to the camera; ``aim_lights=False`` leaves them
        where the last frame put them (the camera of one dance only translates). ``region``
        (x, y, width, height in GL pixels) limits FXAA to the body's box on screen.
        """
        self._gl._platform.make_current()
        self._upload(vertices, normals, colors)
        self.scene.set_pose(self._camera_node, camera_pose)
        if aim_lights:
            self._aim_lights(camera_pose)
        if shadows is None:
            shadows = np.zeros((3, 4), np.float32) + [0, 0, 1, 0]
        self._set_uniforms(shadows, flash, flash_center)
        self._reader.region = None if region is None else tuple(int(v) for v in region)
        return self._draw()

    def close(self):
        """Free the OpenGL context and the temporary shader folder."""
        gl = getattr(self, "_gl", None)
        if gl is not None:
            if getattr(self, "_reader", None) is not None:
                with contextlib.suppress(Exception):
                    gl._platform.make_current()
                    self._reader.delete()
                self._reader = None
            with contextlib.suppress(Exception):
                gl.delete()
            self._gl = None
        shader_dir = getattr(self, "_shader_dir", None)
        if shader_dir is not None:
            shutil.rmtree(shader_dir, ignore_errors=True)
            self._shader_dir = None

    def __enter__(self) -> DanceScene:
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


def _vec(rgb) -> str:
    return ", ".join(f"{c:.4f}" for c in rgb)


def _look_along(direction: np.ndarray) -> np.ndarray:
    """(4, 4) pose whose -z axis points along ``direction`` (pyrender lights shine along -z)."""
    z = -np.asarray(direction, float) / np.linalg.norm(direction)
    helper = np.array([0.0, 1.0, 0.0]) if abs(z[1]) < 0.95 else np.array([1.0, 0.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2] = x, np.cross(z, x), z
    return pose


@contextlib.contextmanager
def _single_torch_thread():
    """Run torch on one thread while rendering: the rasteriser and the encoder use the others."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
