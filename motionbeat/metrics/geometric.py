"""Geometric ("manual") motion features (32-d) of the AIST++ API, for FID_g / Div_g.

Source: AIST++ API ``aist_plusplus/features/{manual,utils}.py`` (after fairmotion and the
boolean relations of Mueller, Roeder and Clausen, SIGGRAPH 2005), identical to Bailando
``utils/features/manual_new.py``. Input: y-up joints at 60 fps, first root subtracted
(:func:`motionbeat.metrics.kinetic.prepare_for_features`).

For every frame i = 1 .. T-1 (current p, previous p'), 32 booleans, averaged over frames:

* move(j1, j2, q, thr):  [(p_q - p_j1) - (p'_q - p'_j1)] . u / tau > thr, u = unit(p_j2 - p_j1)
* nmove(j1, j2, j3, q, thr): the same with u = unit((p_j3 - p_j1) x (p_j2 - p_j1))
* plane(a, b, c, q, thr): (p_q - p_a) . unit((p_c - p_a) x (p_b - p_a)) > thr
* nplane(n1, n2, a, q, thr): (p_q - p_a) . unit(p_n2 - p_n1) > thr
* angle(j1, j2, k1, k2, lo, hi): lo < angle(p_j2 - p_j1, p_k2 - p_k1) < hi, degrees
* fast(q, thr): |p_q - p'_q| / tau > thr

Virtual points: zero, y_unit = (0, 1, 0), minus_y_unit, y_min = (0, min_j y_j of the current
frame, 0). Thresholds scale with the humerus length hl, shoulder width sw and hip width hw of
the API's fixed reference skeleton.

Quirks kept for comparability: tau = 1/120 s although the data are at 60 fps (the API's default
``time_per_frame``), so "velocities" read twice the true speed; the API's ``f_move`` passes its
third joint as the moving point and ignores its fourth. Degenerate geometry (a zero-length
direction) gives NaN in the API, which compares False; the same here.
"""

from __future__ import annotations

import numpy as np

from motionbeat.core import contract

API_TIME_PER_FRAME: float = 1.0 / 120
"""The API's ``time_per_frame`` default for the velocity relations (applied to 60-fps data)."""

FEATURE_FPS: int = contract.AISTPP_FPS

# Reference joint positions the API measures its scales on (manual.py, ManualFeatures.__init__).
_API_L_SHOULDER = np.array([1.99113488e-01, 2.36807942e-01, -1.80702247e-02])
_API_L_ELBOW = np.array([4.54445392e-01, 2.21158922e-01, -4.10167128e-02])
_API_R_SHOULDER = np.array([-1.91692337e-01, 2.36928746e-01, -1.23055102e-02])
_API_L_HIP = np.array([5.64076714e-02, -3.23069185e-01, 1.09197125e-02])
_API_R_HIP = np.array([-6.24834076e-02, -3.31302464e-01, 1.50412619e-02])
HUMERUS_LENGTH: float = float(np.linalg.norm(_API_L_SHOULDER - _API_L_ELBOW))
SHOULDER_WIDTH: float = float(np.linalg.norm(_API_L_SHOULDER - _API_R_SHOULDER))
HIP_WIDTH: float = float(np.linalg.norm(_API_L_HIP - _API_R_HIP))
_SCALES = {"hl": HUMERUS_LENGTH, "sw": SHOULDER_WIDTH, "hw": HIP_WIDTH}

# API joint names -> SMPL joint names of the contract.
_API_NAMES = {
    "root": "Pelvis",
    "lhip": "L_Hip",
    "rhip": "R_Hip",
    "belly": "Spine1",
    "lknee": "L_Knee",
    "rknee": "R_Knee",
    "spine": "Spine2",
    "lankle": "L_Ankle",
    "rankle": "R_Ankle",
    "chest": "Spine3",
    "ltoes": "L_Foot",
    "rtoes": "R_Foot",
    "neck": "Neck",
    "linshoulder": "L_Collar",
    "rinshoulder": "R_Collar",
    "head": "Head",
    "lshoulder": "L_Shoulder",
    "rshoulder": "R_Shoulder",
    "lelbow": "L_Elbow",
    "relbow": "R_Elbow",
    "lwrist": "L_Wrist",
    "rwrist": "R_Wrist",
    "lhand": "L_Hand",
    "rhand": "R_Hand",
}

# The 32 relations in the API's order: (kind, points..., factor, scale), or for angles
# (angle, 4 points, lo, hi).
# "move" lists the API's four names; only the first three are used (see module doc).
RELATIONS: tuple[tuple, ...] = (
    ("nmove", "neck", "rhip", "lhip", "rwrist", 1.8, "hl"),
    ("nmove", "neck", "lhip", "rhip", "lwrist", 1.8, "hl"),
    ("nplane", "chest", "neck", "neck", "rwrist", 0.2, "hl"),
    ("nplane", "chest", "neck", "neck", "lwrist", 0.2, "hl"),
    ("move", "belly", "chest", "chest", "rwrist", 1.8, "hl"),
    ("move", "belly", "chest", "chest", "lwrist", 1.8, "hl"),
    ("angle", "relbow", "rshoulder", "relbow", "rwrist", 0, 110),
    ("angle", "lelbow", "lshoulder", "lelbow", "lwrist", 0, 110),
    ("nplane", "lshoulder", "rshoulder", "lwrist", "rwrist", 2.5, "sw"),
    ("move", "lwrist", "rwrist", "rwrist", "lwrist", 1.4, "hl"),
    ("move", "rwrist", "root", "lwrist", "root", 1.4, "hl"),
    ("move", "lwrist", "root", "rwrist", "root", 1.4, "hl"),
    ("fast", "rwrist", 2.5, "hl"),
    ("fast", "lwrist", 2.5, "hl"),
    ("plane", "root", "lhip", "ltoes", "rankle", 0.38, "hl"),
    ("plane", "root", "rhip", "rtoes", "lankle", 0.38, "hl"),
    ("nplane", "zero", "y_unit", "y_min", "rankle", 1.2, "hl"),
    ("nplane", "zero", "y_unit", "y_min", "lankle", 1.2, "hl"),
    ("nplane", "lhip", "rhip", "lankle", "rankle", 2.1, "hw"),
    ("angle", "rknee", "rhip", "rknee", "rankle", 0, 110),
    ("angle", "lknee", "lhip", "lknee", "lankle", 0, 110),
    ("fast", "rankle", 2.5, "hl"),
    ("fast", "lankle", 2.5, "hl"),
    ("angle", "neck", "root", "rshoulder", "relbow", 25, 180),
    ("angle", "neck", "root", "lshoulder", "lelbow", 25, 180),
    ("angle", "neck", "root", "rhip", "rknee", 50, 180),
    ("angle", "neck", "root", "lhip", "lknee", 50, 180),
    ("plane", "rankle", "neck", "lankle", "root", 0.5, "hl"),
    ("angle", "neck", "root", "zero", "y_unit", 70, 110),
    ("nplane", "zero", "minus_y_unit", "y_min", "rwrist", -1.2, "hl"),
    ("nplane", "zero", "minus_y_unit", "y_min", "lwrist", -1.2, "hl"),
    ("fast", "root", 2.3, "hl"),
)
GEOMETRIC_DIM: int = len(RELATIONS)


class _Frames:
    """Named points of the current (frames 1 .. T-1) and previous (0 .. T-2) frames."""

    def __init__(self, p: np.ndarray):
        self.cur, self.prev = p[1:], p[:-1]  # (T-1, 24, 3) each
        up = contract.UP_AXIS
        n = self.cur.shape[0]
        unit = np.zeros((n, 3))
        unit[:, up] = 1.0
        y_min = np.zeros((n, 3))
        y_min[:, up] = self.cur[..., up].min(axis=1)
        self.virtual = {
            "zero": np.zeros((n, 3)),
            "y_unit": unit,
            "minus_y_unit": -unit,
            "y_min": y_min,
        }

    def now(self, name: str) -> np.ndarray:
        if name in self.virtual:
            return self.virtual[name]
        return self.cur[:, contract.JOINT_INDEX[_API_NAMES[name]]]  # (T-1, 3)

    def before(self, name: str) -> np.ndarray:
        return self.prev[:, contract.JOINT_INDEX[_API_NAMES[name]]]  # (T-1, 3)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1)


def _component(v: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """v . direction / |direction|, NaN where the direction vanishes."""
    return _dot(v, direction) / np.linalg.norm(direction, axis=-1)


def _relation(f: _Frames, rel: tuple) -> np.ndarray:
    """(T-1,) booleans of one relation."""
    kind = rel[0]
    if kind == "angle":
        j1, j2, k1, k2, lo, hi = rel[1:]
        a, b = f.now(j2) - f.now(j1), f.now(k2) - f.now(k1)
        cos = _dot(a, b) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
        # clipping only turns rounding past +-1 into 0 or 180 degrees, both outside every range
        angle = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
        return (angle > lo) & (angle < hi)
    *names, factor, scale = rel[1:]
    threshold = factor * _SCALES[scale]
    if kind == "fast":
        (q,) = names
        speed = np.linalg.norm(f.now(q) - f.before(q), axis=-1) / API_TIME_PER_FRAME
        return speed > threshold
    if kind in ("move", "nmove"):
        j1 = names[0]
        q = names[2] if kind == "move" else names[3]  # the API's f_move uses its third name
        velocity = (f.now(q) - f.now(j1)) - (f.before(q) - f.before(j1))
        if kind == "move":
            direction = f.now(names[1]) - f.now(j1)
        else:
            direction = np.cross(f.now(names[2]) - f.now(j1), f.now(names[1]) - f.now(j1))
        return _component(velocity, direction) / API_TIME_PER_FRAME > threshold
    if kind == "plane":
        a, b, c, q = (f.now(n) for n in names)
        return _component(q - a, np.cross(c - a, b - a)) > threshold
    if kind == "nplane":
        n1, n2, a, q = (f.now(n) for n in names)
        return _component(q - a, n2 - n1) > threshold
    raise ValueError(f"unknown relation {kind}")


def geometric_features(joints: np.ndarray, fps: float = FEATURE_FPS) -> np.ndarray:
    """(T, 24, 3) prepared joints -> (32,) fraction of frames each relation holds, in [0, 1].

    Args:
        joints: y-up positions after ``prepare_for_features`` (T >= 2).
        fps: must be ``contract.AISTPP_FPS``: the relations and thresholds are defined per
            60-fps frame (with the API's 1/120-s time step), so other rates are refused.
    """
    if fps != FEATURE_FPS:
        raise ValueError(
            f"geometric features are defined at {FEATURE_FPS} fps, got {fps}; "
            "resample with prepare_for_features"
        )
    p = np.asarray(joints, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (contract.NUM_JOINTS, 3):
        raise ValueError(f"expected joints of shape (T, {contract.NUM_JOINTS}, 3), got {p.shape}")
    if p.shape[0] < 2:
        raise ValueError(f"geometric features need at least 2 frames, got {p.shape[0]}")
    frames = _Frames(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = np.stack([_relation(frames, rel) for rel in RELATIONS], axis=-1)  # (T-1, 32)
    return table.mean(axis=0)
