"""OpenGL plumbing of the stage: pyrender on EGL, cheap shader programs, the frame read-back.

Speed. On a CPU, OpenGL is Mesa's software rasteriser (llvmpipe), and three of pyrender's
defaults cost most of a frame there: its physically based fragment shader, 4x multisampling,
and a per-vertex 4x4 inverse in its vertex shader. This package keeps pyrender's scene graph
and draw loop but swaps in its own ``mesh.vert`` / ``mesh.frag``
(:data:`render.scene.shaders.MESH_VERT`, :data:`render.scene.shaders.MESH_FRAG`),
single-sample buffers with one FXAA pass over the body's box (:class:`_FramebufferReader`),
and programs that look uniform locations up once (:func:`_program_cache`). Reading back
skips pyrender's depth read-back.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

from render.scene.errors import RenderError
from render.scene.shaders import FXAA_FRAG, FXAA_VERT


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
