"""The renderer's one error type, shared by the stage, the camera and the video writer."""


class RenderError(RuntimeError):
    """Rendering failed: no EGL, a bad size, a bad motion, an encoder error."""
