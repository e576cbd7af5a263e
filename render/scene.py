"""The stage: a pyrender scene drawn headless through EGL, one frame per motion frame.

One :class:`DanceScene` holds one OpenGL context, one scene and one body mesh for a whole
video. Per frame only the body's vertex buffer (positions, normals, colours) is rewritten in
place with ``glBufferSubData`` and the camera node moves; nothing is rebuilt.

Speed. On a CPU, OpenGL is Mesa's software rasteriser (llvmpipe), and three of pyrender's
defaults cost most of a frame there: its physically based fragment shader, 4x multisampling,
and a per-vertex 4x4 inverse in its vertex shader. This module keeps pyrender's scene graph
and draw loop but swaps in its own ``mesh.vert`` / ``mesh.frag`` (:data:`MESH_VERT`,
:data:`MESH_FRAG`), single-sample buffers with one FXAA pass over the body's box
(:class:`_FramebufferReader`), and programs that look uniform locations up once
(:func:`_program_cache`). Reading back skips pyrender's depth read-back.

Shading (:data:`MESH_FRAG`): hemispherical sky/ground ambient + Lambert + Blinn-Phong from
pyrender's directional lights; on the floor only (the one primitive with texture coordinates,
which hold world x, z in metres) a procedural grid anti-aliased with ``fwidth``, soft contact
shadows (Gaussian blobs under the pelvis and feet, fading with height), the beat flash, and
distance fog into the background colour. The extra uniforms (``u_*``) are set directly on
the compiled programs.

Camera (:func:`plan_camera`). It looks at the dancer from the mean facing direction, turned
:data:`CAMERA_AZIMUTH_DEG` to the side and raised :data:`CAMERA_ELEVATION_DEG`. The distance
is the smallest that keeps every joint (padded by :data:`BODY_PADDING`) of every frame inside
the frame with a margin, and stays fixed for the whole dance (no zoom pumping). The camera
stays put when the whole dance fits from one place at most :data:`STATIC_CAMERA_SLACK` times
farther than a following camera needs; otherwise it follows the pelvis, smoothed by a
Gaussian of :data:`FOLLOW_SMOOTHING_S` seconds.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from motionbeat.core import contract, kinematics
from motionbeat.core.motion import Motion
from render.bodies import POSE_CHUNK_FRAMES, Body

DEFAULT_SIZE = 512
MAX_SIZE = 4096

# camera
CAMERA_YFOV_DEG = 38.0
CAMERA_ELEVATION_DEG = 11.0
CAMERA_AZIMUTH_DEG = 25.0
FRAME_MARGIN = 0.08
"""Fraction of the half field of view kept free at the frame edges."""
BODY_PADDING = 0.14
"""Metres added around every joint for the body's thickness (head, hands, feet)."""
MIN_CAMERA_DISTANCE = 2.2
STATIC_CAMERA_SLACK = 1.35
FOLLOW_SMOOTHING_S = 1.0
CAMERA_ZNEAR = 0.05
CAMERA_ZFAR = 300.0

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
SHADOW_RADIUS_BODY = 0.42
SHADOW_RADIUS_FOOT = 0.17
SHADOW_STRENGTH = 0.55
SHADOW_FADE_HEIGHT = 0.6
"""A blob's strength falls as exp(-height / this), height of its joint above the floor."""
CONTACT_COLOR = (0.15, 0.85, 0.45)
CONTACT_MIX = 0.75
FLASH_COLOR = (1.0, 0.78, 0.35)
FLASH_DECAY_S = 0.12
FLASH_RADIUS = 2.2
FLASH_STRENGTH = 0.4
ANTIALIAS_MODES = ("fxaa", "msaa", "none")
"""fxaa (default): one fast post pass; msaa: pyrender's 4x multisampling, about twice the
rasterising time under llvmpipe; none: raw pixels."""

MESH_FRAG = """#version 330 core
struct DirectionalLight { vec3 color; float intensity; vec3 direction; };
struct Material {
    vec3 emissive_factor;
#ifdef USE_METALLIC_MATERIAL
    vec4 base_color_factor;
    float metallic_factor;
    float roughness_factor;
#endif
#ifdef HAS_BASE_COLOR_TEX
    sampler2D base_color_texture;
#endif
};
uniform Material material;
uniform DirectionalLight directional_lights[MAX_DIRECTIONAL_LIGHTS];
uniform int n_directional_lights;
uniform vec3 cam_pos;
uniform vec3 ambient_light;
uniform vec4 u_shadow[3];      // x, z, radius, strength
uniform float u_flash;         // 0..1
uniform vec2 u_flash_center;   // x, z
uniform vec2 u_fog;            // start, end (metres from the camera)
uniform vec3 u_fog_color;
uniform vec4 u_grid;           // spacing, line width, flash radius, flash strength
const vec3 GRID_COLOR = vec3(%(grid)s);
const vec3 FLASH_COLOR = vec3(%(flash)s);

in vec3 frag_position;
#ifdef NORMAL_LOC
in vec3 frag_normal;
#endif
#ifdef TEXCOORD_0_LOC
in vec2 uv_0;
#endif
#ifdef COLOR_0_LOC
in vec4 color_multiplier;
#endif
out vec4 frag_color;

void main()
{
    vec4 base = vec4(1.0);
#ifdef USE_METALLIC_MATERIAL
    base = material.base_color_factor;
    float gloss = 1.0 - material.roughness_factor;
#else
    float gloss = 0.3;
#endif
#ifdef HAS_BASE_COLOR_TEX
    base *= texture(material.base_color_texture, uv_0);
#endif
#ifdef COLOR_0_LOC
    base *= color_multiplier;
#endif
    vec3 v = normalize(cam_pos - frag_position);
#ifdef NORMAL_LOC
    vec3 n = normalize(frag_normal);
#else
    vec3 n = vec3(0.0, 1.0, 0.0);
#endif
#ifdef TEXCOORD_0_LOC
    // floor: grid lines, contact shadows and the beat flash, in world metres
    vec2 p = uv_0;
    vec2 w = max(fwidth(p), vec2(1e-6));
    vec2 d = abs(fract(p / u_grid.x - 0.5) - 0.5) * u_grid.x;
    vec2 cover = 1.0 - smoothstep(vec2(0.5 * u_grid.y), vec2(0.5 * u_grid.y) + w, d);
    float fade = clamp(1.5 - 0.5 * max(w.x, w.y) / u_grid.y, 0.0, 1.0);
    base.rgb = mix(base.rgb, GRID_COLOR, max(cover.x, cover.y) * fade);
    float shade = 1.0;
    for (int i = 0; i < 3; i++) {
        vec2 q = (p - u_shadow[i].xy) / u_shadow[i].z;
        shade *= 1.0 - u_shadow[i].w * exp(-2.0 * dot(q, q));
    }
    base.rgb *= shade;
    if (u_flash > 0.0) {
        vec2 f = (p - u_flash_center) / u_grid.z;
        base.rgb = mix(base.rgb, FLASH_COLOR, u_flash * u_grid.w * exp(-dot(f, f)));
    }
    // The floor faces the sky and the lights are directional: its lighting is one constant,
    // folded into FLOOR_COLOR, so the floor skips the lighting below.
    float fog_floor = smoothstep(u_fog.x, u_fog.y, length(cam_pos - frag_position));
    frag_color = vec4(mix(base.rgb, u_fog_color, fog_floor), base.a);
    return;
#endif
    float sky = 0.5 + 0.5 * n.y;
    vec3 color = base.rgb * ambient_light * mix(0.45, 1.0, sky);
    for (int i = 0; i < n_directional_lights; i++) {
        vec3 l = -normalize(directional_lights[i].direction);
        float ndl = max(dot(n, l), 0.0);
        vec3 h = normalize(l + v);
        float spec = gloss * 0.35 * pow(max(dot(n, h), 0.0), 8.0 + 56.0 * gloss);
        color += directional_lights[i].color * directional_lights[i].intensity * 0.35
                 * (base.rgb * ndl + spec * ndl);
    }
#ifdef USE_METALLIC_MATERIAL
    color += material.emissive_factor;
#endif
    float fog = smoothstep(u_fog.x, u_fog.y, length(cam_pos - frag_position));
    frag_color = vec4(mix(clamp(color, 0.0, 1.0), u_fog_color, fog), base.a);
}
"""


class RenderError(RuntimeError):
    """Rendering failed: no EGL, a bad size, a bad motion, an encoder error."""


# -------------------------------------------------------------------------------- OpenGL


def _import_pyrender():
    """Import pyrender on EGL (headless); never OSMesa."""
    platform = os.environ.get("PYOPENGL_PLATFORM")
    if "OpenGL" in sys.modules and platform != "egl":
        raise RenderError(
            f"PyOpenGL was imported with PYOPENGL_PLATFORM={platform!r}; the renderer needs 'egl'. "
            "Import render before anything that imports OpenGL, or set PYOPENGL_PLATFORM=egl."
        )
    os.environ["PYOPENGL_PLATFORM"] = "egl"
    import pyrender

    return pyrender


MESH_VERT = """#version 330 core
// pyrender's mesh.vert without its per-vertex 4x4 inverse (every model matrix here is rigid).
layout(location = 0) in vec3 position;
#ifdef NORMAL_LOC
layout(location = NORMAL_LOC) in vec3 normal;
#endif
#ifdef TEXCOORD_0_LOC
layout(location = TEXCOORD_0_LOC) in vec2 texcoord_0;
#endif
#ifdef COLOR_0_LOC
layout(location = COLOR_0_LOC) in vec4 color_0;
#endif
layout(location = INST_M_LOC) in mat4 inst_m;
uniform mat4 M;
uniform mat4 V;
uniform mat4 P;
out vec3 frag_position;
#ifdef NORMAL_LOC
out vec3 frag_normal;
#endif
#ifdef TEXCOORD_0_LOC
out vec2 uv_0;
#endif
#ifdef COLOR_0_LOC
out vec4 color_multiplier;
#endif
void main()
{
    mat4 model = M * inst_m;
    vec4 world = model * vec4(position, 1.0);
    gl_Position = P * V * world;
    frag_position = world.xyz;
#ifdef NORMAL_LOC
    frag_normal = mat3(model) * normal;
#endif
#ifdef TEXCOORD_0_LOC
    uv_0 = texcoord_0;
#endif
#ifdef COLOR_0_LOC
    color_multiplier = color_0;
#endif
}
"""

FXAA_VERT = """#version 330 core
out vec2 uv;
void main()
{
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);  // one triangle covers the screen
    uv = corner;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
"""

FXAA_FRAG = """#version 330 core
// Fast approximate anti-aliasing, after T. Lottes, "FXAA" (NVIDIA white paper, 2009): find the
// local edge direction from the luma of the four diagonal neighbours and blend along it.
uniform sampler2D frame;
uniform vec2 texel;
in vec2 uv;
out vec4 color;
const float REDUCE_MIN = 1.0 / 128.0;
const float REDUCE_MUL = 1.0 / 8.0;
const float SPAN_MAX = 8.0;
float luma(vec3 c) { return dot(c, vec3(0.299, 0.587, 0.114)); }
ivec2 last;
float luma_at(ivec2 p) { return luma(texelFetch(frame, clamp(p, ivec2(0), last), 0).rgb); }
void main()
{
    last = textureSize(frame, 0) - 1;
    ivec2 px = ivec2(gl_FragCoord.xy);  // unfiltered fetches for the edge test: cheaper
    vec3 m = texelFetch(frame, px, 0).rgb;
    float lm = luma(m);
    float nw = luma_at(px + ivec2(-1, 1));
    float ne = luma_at(px + ivec2(1, 1));
    float sw = luma_at(px + ivec2(-1, -1));
    float se = luma_at(px + ivec2(1, -1));
    float lo = min(lm, min(min(nw, ne), min(sw, se)));
    float hi = max(lm, max(max(nw, ne), max(sw, se)));
    if (hi - lo < max(0.0312, hi * 0.125)) { color = vec4(m, 1.0); return; }
    vec2 dir = vec2(-((nw + ne) - (sw + se)), (nw + sw) - (ne + se));
    float reduce = max((nw + ne + sw + se) * 0.25 * REDUCE_MUL, REDUCE_MIN);
    float scale = 1.0 / (min(abs(dir.x), abs(dir.y)) + reduce);
    dir = clamp(dir * scale, vec2(-SPAN_MAX), vec2(SPAN_MAX)) * texel;
    vec3 a = 0.5 * (texture(frame, uv + dir * (1.0 / 3.0 - 0.5)).rgb
                    + texture(frame, uv + dir * (2.0 / 3.0 - 0.5)).rgb);
    vec3 b = 0.5 * a + 0.25 * (texture(frame, uv - 0.5 * dir).rgb
                               + texture(frame, uv + 0.5 * dir).rgb);
    float lb = luma(b);
    color = vec4((lb < lo || lb > hi) ? a : b, 1.0);
}
"""


def _program_cache(shader_dir: Path):
    """A pyrender ShaderProgramCache over ``shader_dir`` whose programs set uniforms cheaply.

    pyrender looks every uniform location up again on every draw and sets every value, about
    forty OpenGL calls per primitive per frame; these programs look each location up once and
    skip values that did not change since the last draw.
    """
    from OpenGL import GL
    from pyrender.shader_program import ShaderProgram, ShaderProgramCache

    class FastProgram(ShaderProgram):
        def _add_to_context(self):
            super()._add_to_context()
            self._locations, self._last = {}, {}

        def set_uniform(self, name, value, unsigned=False):
            loc = self._locations.get(name)
            if loc is None:
                loc = self._locations[name] = GL.glGetUniformLocation(self._program_id, name)
            if loc == -1:
                return
            if isinstance(value, np.ndarray):
                previous = self._last.get(name)
                if (
                    previous is not None
                    and previous.shape == value.shape
                    and np.array_equal(previous, value)
                ):
                    return
                self._last[name] = value.copy()
                if value.ndim == 1:
                    if np.issubdtype(value.dtype, np.unsignedinteger) or unsigned:
                        self._FUNC_MAP[(value.shape[0], "u")](loc, 1, value.astype(np.uint32))
                    elif np.issubdtype(value.dtype, np.integer):
                        self._FUNC_MAP[(value.shape[0], "i")](loc, 1, value.astype(np.int32))
                    else:
                        self._FUNC_MAP[(value.shape[0], "f")](loc, 1, value.astype(np.float32))
                else:
                    self._FUNC_MAP[value.shape](loc, 1, GL.GL_TRUE, value)
                return
            if self._last.get(name, None) == (value, unsigned):
                return
            self._last[name] = (value, unsigned)
            if isinstance(value, bool | int | np.integer):
                (GL.glUniform1ui if unsigned else GL.glUniform1i)(loc, int(value))
            elif isinstance(value, float | np.floating):
                GL.glUniform1f(loc, float(value))

    class FastProgramCache(ShaderProgramCache):
        def get_program(self, *args, **kwargs):
            program = super().get_program(*args, **kwargs)
            if type(program) is ShaderProgram:
                program.__class__ = FastProgram
                program._locations, program._last = {}, {}
            return program

    return FastProgramCache(shader_dir=str(shader_dir))


class _FramebufferReader:
    """Reads finished frames out of pyrender's renderer, with the chosen anti-aliasing.

    pyrender draws into a 4x multisampled framebuffer, resolves it and reads colour *and*
    depth (converted to metres). Here: ``msaa`` resolves and reads colour only; ``none`` and
    ``fxaa`` first give the "multisampled" buffers a single sample; ``fxaa`` also swaps the
    colour renderbuffer for a texture, then draws one pass of :data:`FXAA_FRAG` into the
    resolve framebuffer - over :attr:`region` only (the body's box on screen) when it is set,
    the rest copied - which is read back.
    """

    def __init__(self, renderer, mode: str):
        from OpenGL import GL
        from OpenGL.GL import shaders

        self.renderer, self.mode = renderer, mode
        self.region: tuple[int, int, int, int] | None = None
        """(x, y, width, height), GL pixels from the bottom left, that FXAA smooths (None: all)."""
        width, height = renderer._main_fb_dims
        self.width, self.height = width, height
        self.texture = self.vao = self.program = None
        if mode == "msaa":
            return
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, renderer._main_db_ms)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH_COMPONENT24, width, height)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, renderer._main_cb_ms)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_RGBA8, width, height)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, 0)
        if mode == "fxaa":
            self.texture = GL.glGenTextures(1)
            GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
            GL.glTexImage2D(
                GL.GL_TEXTURE_2D,
                0,
                GL.GL_RGBA8,
                width,
                height,
                0,
                GL.GL_RGBA,
                GL.GL_UNSIGNED_BYTE,
                None,
            )
            for key, value in (
                (GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR),
                (GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR),
                (GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE),
                (GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE),
            ):
                GL.glTexParameteri(GL.GL_TEXTURE_2D, key, value)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, renderer._main_fb_ms)
            GL.glFramebufferTexture2D(
                GL.GL_DRAW_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, self.texture, 0
            )
            self.program = shaders.compileProgram(
                shaders.compileShader(FXAA_VERT, GL.GL_VERTEX_SHADER),
                shaders.compileShader(FXAA_FRAG, GL.GL_FRAGMENT_SHADER),
            )
            self.vao = GL.glGenVertexArrays(1)
            self._loc_frame = GL.glGetUniformLocation(self.program, "frame")
            self._loc_texel = GL.glGetUniformLocation(self.program, "texel")
        status = GL.glCheckFramebufferStatus(GL.GL_DRAW_FRAMEBUFFER)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, 0)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            raise RenderError(
                f"OpenGL framebuffer incomplete for {mode} anti-aliasing (status {status})"
            )

    def read(self, scene=None, flags=None) -> np.ndarray:
        """Stands in for ``Renderer._read_main_framebuffer``: (H, W, 3) uint8, top row first."""
        from OpenGL import GL

        r, width, height = self.renderer, self.width, self.height
        if self.mode == "fxaa":
            if self.region is not None:  # copy everything, then smooth only around the body
                GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, r._main_fb_ms)
                GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, r._main_fb)
                GL.glBlitFramebuffer(
                    0, 0, width, height, 0, 0, width, height, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST
                )
                GL.glEnable(GL.GL_SCISSOR_TEST)
                GL.glScissor(*self.region)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, r._main_fb)
            GL.glViewport(0, 0, width, height)
            GL.glDisable(GL.GL_DEPTH_TEST)
            GL.glDisable(GL.GL_BLEND)
            GL.glUseProgram(self.program)
            GL.glActiveTexture(GL.GL_TEXTURE0)
            GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
            GL.glUniform1i(self._loc_frame, 0)
            GL.glUniform2f(self._loc_texel, 1.0 / width, 1.0 / height)
            GL.glBindVertexArray(self.vao)
            GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)
            GL.glBindVertexArray(0)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
            GL.glUseProgram(0)
            GL.glDisable(GL.GL_SCISSOR_TEST)
            GL.glEnable(GL.GL_DEPTH_TEST)
        else:
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, r._main_fb_ms)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, r._main_fb)
            GL.glBlitFramebuffer(
                0, 0, width, height, 0, 0, width, height, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR
            )
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, r._main_fb)
        raw = GL.glReadPixels(0, 0, width, height, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
        return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)[
            ::-1
        ]  # GL rows: bottom-up

    def delete(self):
        from OpenGL import GL

        with contextlib.suppress(Exception):
            if self.program is not None:
                GL.glDeleteProgram(self.program)
            if self.vao is not None:
                GL.glDeleteVertexArrays(1, [self.vao])
            if self.texture is not None:
                GL.glDeleteTextures(1, [self.texture])


# --------------------------------------------------------------------------------- camera


@dataclass(frozen=True)
class CameraPath:
    """Per-frame camera.

    Attributes:
        eye, target: (T, 3) metres. yfov: vertical field of view, radians.
        distance: eye-to-target metres (fixed). follows: whether the target moves.
        poses: (T, 4, 4) camera-to-world, OpenGL convention (the camera looks along its -z).
    """

    eye: np.ndarray
    target: np.ndarray
    yfov: float
    distance: float
    follows: bool
    poses: np.ndarray

    def pose(self, frame: int) -> np.ndarray:
        return self.poses[frame]


def _look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(T, 3) eyes and targets -> (T, 4, 4) camera-to-world poses, y up."""
    back = eye - target
    back /= np.linalg.norm(back, axis=-1, keepdims=True)
    right = np.cross([0.0, 1.0, 0.0], back)
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    up = np.cross(back, right)
    poses = np.tile(np.eye(4), (len(eye), 1, 1))
    poses[:, :3, 0], poses[:, :3, 1], poses[:, :3, 2], poses[:, :3, 3] = right, up, back, eye
    return poses


def screen_boxes(
    camera: CameraPath, joints: np.ndarray, size: int, padding: float = 0.3
) -> np.ndarray:
    """(T, 4) integer boxes (x, y, width, height), GL pixels from the bottom left, that hold
    each frame's joints (T, N, 3) padded by ``padding`` metres, clipped to the frame."""
    world_to_cam = np.linalg.inv(camera.poses)  # (T, 4, 4)
    cam = np.einsum("tab,tnb->tna", world_to_cam[:, :3, :3], joints) + world_to_cam[:, None, :3, 3]
    depth = np.maximum(-cam[..., 2], CAMERA_ZNEAR)  # (T, N)
    focal = size / 2 / math.tan(camera.yfov / 2)  # pixels per unit of x / depth
    px = size / 2 + focal * cam[..., :2] / depth[..., None]  # (T, N, 2)
    pad = focal * padding / depth + 2  # (T, N)
    lo = np.floor((px - pad[..., None]).min(axis=1)).clip(0, size)
    hi = np.ceil((px + pad[..., None]).max(axis=1)).clip(0, size)
    return np.concatenate([lo, hi - lo], axis=-1).astype(int)


def facing_yaw(joints: np.ndarray) -> float:
    """Mean facing direction of a dance as a yaw angle about +y (0 = facing +z), radians.

    The body's forward is left x up, left = L_Hip - R_Hip (SMPL: +x is the body's left, +z its
    front). A dance that turns all the way round averages out; then the first frame decides.
    """
    left = joints[:, contract.JOINT_INDEX["L_Hip"]] - joints[:, contract.JOINT_INDEX["R_Hip"]]
    forward = np.cross(left, [0.0, 1.0, 0.0])[:, [0, 2]]  # (T, 2) x, z
    forward /= np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-8)
    mean = forward.mean(axis=0)
    if np.linalg.norm(mean) < 0.3:
        mean = forward[0]
    return float(math.atan2(mean[0], mean[1]))


def _distance_needed(
    points: np.ndarray, target: np.ndarray, basis: np.ndarray, tan_half: float
) -> float:
    """Smallest camera distance that frames ``points`` (T, N, 3) around per-frame ``target`` (T, 3).

    With the eye at target - D f, a point q (relative to the target) has depth D + q.f and
    must satisfy |q.r| + pad <= tan(fov/2) (D + q.f - pad), and likewise for q.u.
    """
    right, up, forward = basis
    rel = points - target[:, None, :]  # (T, N, 3)
    depth = rel @ forward
    need_x = (np.abs(rel @ right) + BODY_PADDING) / tan_half - depth + BODY_PADDING
    need_y = (np.abs(rel @ up) + BODY_PADDING) / tan_half - depth + BODY_PADDING
    return float(max(need_x.max(), need_y.max()))


def plan_camera(joints: np.ndarray, fps: float, yfov_deg: float = CAMERA_YFOV_DEG) -> CameraPath:
    """Camera for a whole dance from its joints (T, 24, 3); see the module docstring."""
    joints = np.asarray(joints, dtype=np.float64)
    yaw = facing_yaw(joints) + math.radians(CAMERA_AZIMUTH_DEG)
    elev = math.radians(CAMERA_ELEVATION_DEG)
    back = np.array(
        [math.sin(yaw) * math.cos(elev), math.sin(elev), math.cos(yaw) * math.cos(elev)]
    )
    forward = -back
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    basis = np.stack([right, up, forward])
    tan_half = math.tan(math.radians(yfov_deg) / 2) * (1.0 - FRAME_MARGIN)

    feet = joints[:, list(contract.FOOT_JOINTS)].copy()
    feet[..., contract.UP_AXIS] = contract.FLOOR_HEIGHT  # keep the floor under the feet in view
    points = np.concatenate([joints, feet], axis=1)  # (T, 28, 3)
    top = np.percentile(joints[..., contract.UP_AXIS].max(axis=1), 98)
    height = 0.5 * (contract.FLOOR_HEIGHT + top)

    pelvis = joints[:, 0, [0, 2]]  # (T, 2)
    lo, hi = points[..., [0, 2]].reshape(-1, 2).min(0), points[..., [0, 2]].reshape(-1, 2).max(0)
    centre = np.array([(lo[0] + hi[0]) / 2, height, (lo[1] + hi[1]) / 2])
    static_target = np.broadcast_to(centre, (len(joints), 3))
    sigma = max(FOLLOW_SMOOTHING_S * fps, 1e-3)
    smooth = gaussian_filter1d(pelvis, sigma, axis=0, mode="nearest")
    follow_target = np.column_stack([smooth[:, 0], np.full(len(joints), height), smooth[:, 1]])

    d_static = _distance_needed(points, static_target, basis, tan_half)
    d_follow = _distance_needed(points, follow_target, basis, tan_half)
    follows = d_static > STATIC_CAMERA_SLACK * max(d_follow, MIN_CAMERA_DISTANCE)
    target = follow_target if follows else np.array(static_target)
    distance = max(d_follow if follows else d_static, MIN_CAMERA_DISTANCE)
    eye = target + distance * back
    return CameraPath(
        eye=eye,
        target=target,
        yfov=math.radians(yfov_deg),
        distance=distance,
        follows=follows,
        poses=_look_at(eye, target),
    )


# ------------------------------------------------------------------------------ per frame


def beat_flash(
    times: np.ndarray, beats: Sequence[float] | None, decay: float = FLASH_DECAY_S
) -> np.ndarray:
    """Flash strength in [0, 1] at each time: exp(-(t - b) / decay) after the latest beat b <= t."""
    times = np.asarray(times, dtype=np.float64)
    if beats is None or len(beats) == 0:
        return np.zeros_like(times)
    beats = np.sort(np.asarray(beats, dtype=np.float64))
    idx = np.searchsorted(beats, times, side="right") - 1
    since = times - beats[np.clip(idx, 0, None)]
    return np.where(idx >= 0, np.exp(-np.clip(since, 0.0, None) / decay), 0.0)


def foot_contacts(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2) left / right foot in contact: either of its joints slower than the contract speed."""
    with torch.no_grad():
        c = kinematics.foot_contacts(
            torch.from_numpy(np.ascontiguousarray(joints, np.float32)), fps
        ).numpy()
    order = {j: i for i, j in enumerate(contract.FOOT_JOINTS)}
    left = np.maximum(c[:, order[contract.L_ANKLE]], c[:, order[contract.L_TOE]])
    right = np.maximum(c[:, order[contract.R_ANKLE]], c[:, order[contract.R_TOE]])
    return np.stack([left, right], axis=-1) > 0.5


def _shadow_blobs(joints: np.ndarray) -> np.ndarray:
    """(T, 3, 4) soft shadow blobs (x, z, radius, strength) under the pelvis and the two feet."""
    up = contract.UP_AXIS
    specs = [
        (joints[:, 0], SHADOW_RADIUS_BODY, 0.6),
        (joints[:, [contract.L_ANKLE, contract.L_TOE]].mean(1), SHADOW_RADIUS_FOOT, 1.0),
        (joints[:, [contract.R_ANKLE, contract.R_TOE]].mean(1), SHADOW_RADIUS_FOOT, 1.0),
    ]
    blobs = []
    for point, radius, weight in specs:
        height = np.clip(point[:, up] - contract.FLOOR_HEIGHT, 0.0, None)
        if weight < 1.0:  # the pelvis stands about a metre up: measure from standing height
            height = np.clip(height - 0.9, 0.0, None)
        strength = SHADOW_STRENGTH * weight * np.exp(-height / SHADOW_FADE_HEIGHT)
        blobs.append(
            np.column_stack([point[:, 0], point[:, 2], np.full(len(point), radius), strength])
        )
    return np.stack(blobs, axis=1)


@dataclass(frozen=True)
class DancePlan:
    """Everything about a dance's frames that needs the whole dance, worked out once.

    Attributes:
        joints: (T, 24, 3) contract-skeleton joints. camera: the camera path.
        flash: (T,) beat flash in [0, 1]. contacts: (T, 2) feet in contact, or None.
        shadows: (T, 3, 4) shadow blobs. boxes: (T, 4) the body's box on screen (GL pixels).
    """

    joints: np.ndarray
    camera: CameraPath
    flash: np.ndarray
    contacts: np.ndarray | None
    shadows: np.ndarray
    boxes: np.ndarray


def plan_dance(
    motion: Motion,
    size: int,
    beats: Sequence[float] | None = None,
    contacts: bool = False,
    camera: CameraPath | None = None,
) -> DancePlan:
    """Plan a whole dance for frames of ``size`` pixels (see :class:`DancePlan`)."""
    joints = motion.joints()  # (T, 24, 3), skeleton of the contract
    camera = camera or plan_camera(joints, motion.fps)
    times = motion.start_offset + np.arange(motion.num_frames) / motion.fps
    return DancePlan(
        joints=joints,
        camera=camera,
        flash=beat_flash(times, beats),
        contacts=foot_contacts(joints, motion.fps) if contacts else None,
        shadows=_shadow_blobs(joints).astype(np.float32),
        boxes=screen_boxes(camera, joints, size),
    )


# ---------------------------------------------------------------------------------- scene


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
