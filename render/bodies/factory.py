"""Bodies by name: :data:`BODY_NAMES` and :func:`make_body` (what ``--body`` chooses from)."""

from __future__ import annotations

import os

from render.bodies.base import Body, BodyError
from render.bodies.mannequin import MannequinBody
from render.bodies.skeleton import SkeletonBody
from render.bodies.smpl import SMPLBody

BODY_NAMES: tuple[str, ...] = ("mannequin", "smpl", "skeleton")
"""Names accepted by :func:`make_body` and ``--body``."""


def make_body(
    name: str = "mannequin", smpl_path: str | os.PathLike | None = None, **options
) -> Body:
    """Build a body by name: "mannequin" (default), "smpl" (needs model files) or "skeleton"."""
    if name == "mannequin":
        return MannequinBody()
    if name == "smpl":
        return SMPLBody(smpl_path, **options)
    if name == "skeleton":
        return SkeletonBody()
    raise BodyError(f"unknown body {name!r}; choose one of {', '.join(BODY_NAMES)}")
