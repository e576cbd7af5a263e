"""The corpus report's pictures: stick figures of dance frames, rows of stills, bar charts.

Drawn with matplotlib (Agg backend, imported when a picture is made).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionbeat.core import contract

STILL_FRAMES: int = 8
STILL_SPAN_S: float = 3.0
CAMERA_AZIMUTH_DEG: float = 25.0
CAMERA_ELEVATION_DEG: float = 12.0


# ------------------------------------------------------------------------------ drawing


def draw_skeleton(
    ax, joints: np.ndarray, title: str = "", centre: np.ndarray | None = None
) -> None:
    """Stick figure of (24, 3) y-up joints on a matplotlib axis, seen from the front-right.

    The camera looks at the dancer's front (+z) turned CAMERA_AZIMUTH_DEG about the vertical;
    depth is drawn as a small vertical offset (an oblique projection) so the floor shows.
    Left limbs blue, right limbs red.
    """
    a, e = np.radians(CAMERA_AZIMUTH_DEG), np.radians(CAMERA_ELEVATION_DEG)
    centre = joints[0] if centre is None else centre

    def project(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = -(p[..., 0] * np.cos(a) - p[..., 2] * np.sin(a))
        depth = p[..., 0] * np.sin(a) + p[..., 2] * np.cos(a)
        return x, p[..., 1] + 0.3 * np.sin(e) * depth

    for g in np.linspace(-1.0, 1.0, 5):
        for seg in (((g, -1.0), (g, 1.0)), ((-1.0, g), (1.0, g))):
            pts = np.array([[seg[0][0], 0.0, seg[0][1]], [seg[1][0], 0.0, seg[1][1]]]) + [
                centre[0],
                0,
                centre[2],
            ]
            ax.plot(*project(pts), color="0.85", lw=0.6)
    x, y = project(joints)
    for c, parent in enumerate(contract.PARENTS):
        if parent < 0:
            continue
        name = contract.JOINT_NAMES[c]
        col = "tab:blue" if name.startswith("L_") else "tab:red" if name.startswith("R_") else "0.2"
        ax.plot([x[c], x[parent]], [y[c], y[parent]], color=col, lw=2.2, solid_capstyle="round")
    head = contract.JOINT_INDEX["Head"]
    ax.scatter([x[head]], [y[head] + 0.05], s=110, color="0.2")
    cx, _ = project(centre)
    ax.set_xlim(cx - 0.8, cx + 0.8)
    ax.set_ylim(-0.3, 1.95)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=8)


def stills(joints: np.ndarray, fps: float, start_s: float, path: Path, title: str) -> Path:
    """A row of STILL_FRAMES stick figures over STILL_SPAN_S seconds from ``start_s``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, STILL_FRAMES, figsize=(1.9 * STILL_FRAMES, 3.0))
    for i, ax in enumerate(axes):
        t = start_s + i * STILL_SPAN_S / STILL_FRAMES
        f = min(int(round(t * fps)), len(joints) - 1)
        draw_skeleton(ax, joints[f], f"{t:.2f} s")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=70)
    plt.close(fig)
    return path


def bar_chart(
    counts: dict[str, float], path: Path, title: str, xlabel: str, rotate: bool = False
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(5.0, 0.18 * len(counts) + 2), 3.2))
    ax.bar(range(len(counts)), list(counts.values()), color="tab:blue")
    ax.set_xticks(range(len(counts)))
    ax.set_xticklabels(
        list(counts.keys()), rotation=90 if rotate else 0, fontsize=6 if rotate else 8
    )
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
