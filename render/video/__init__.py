"""Video: rendered frames piped into ffmpeg as H.264 + AAC with the song, ready for browsers.

Modules, bottom first:

* :mod:`render.video.ffmpeg` - locating ffmpeg, :class:`FrameEncoder`, :func:`probe`, joining
  pieces while muxing the song.
* :mod:`render.video.parallel` - long dances cut into pieces rendered by spawned processes.
* :mod:`render.video.pipeline` - :func:`render_video` (checks, one process or parallel) and
  :func:`render_frame_image`.
"""

from render.video.ffmpeg import (
    X264_CRF,
    FrameEncoder,
    VideoInfo,
    ffmpeg_exe,
    mp4_top_level_boxes,
    probe,
)
from render.video.parallel import default_workers, piece_bounds
from render.video.pipeline import render_frame_image, render_video

__all__ = [
    "X264_CRF",
    "FrameEncoder",
    "VideoInfo",
    "default_workers",
    "ffmpeg_exe",
    "mp4_top_level_boxes",
    "piece_bounds",
    "probe",
    "render_frame_image",
    "render_video",
]
