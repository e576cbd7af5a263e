"""The SMPL body: the SMPL mesh through ``smplx``, from the user's licensed model files.

:class:`SMPLBody` needs the model files (option or the ``MOTIONBEAT_SMPL_DIR`` environment
variable, found by :func:`find_smpl_model`). Plain ``.npz`` files are read with pickles off;
``.pkl`` files through a restricted unpickler (numpy and scipy sparse only).
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse
import torch

from motionbeat.core import contract
from render.bodies.base import BodyError, PosedMesh, _as_batch, _chunked, _unbatch
from render.bodies.skinning import vertex_normals

SMPL_DIR_ENV = "MOTIONBEAT_SMPL_DIR"
"""Environment variable naming a SMPL model file or a folder that holds one."""

SMPL_COLOR = (0.72, 0.76, 0.86)

_SMPL_FILE_NAMES = (
    "SMPL_{G}.npz",
    "SMPL_{G}.pkl",
    "smpl/SMPL_{G}.npz",
    "smpl/SMPL_{G}.pkl",
    "basicModel_{g}_lbs_10_207_0_v1.0.0.pkl",
    "basicmodel_{g}_lbs_10_207_0_v1.1.0.pkl",
)
DEFAULT_NUM_BETAS = 10
_SMPL_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")
_GENDER_SHORT = {"neutral": "neutral", "male": "m", "female": "f"}


def find_smpl_model(model_path: str | os.PathLike | None = None, gender: str = "neutral") -> Path:
    """Locate a SMPL model file from ``model_path`` or ``$MOTIONBEAT_SMPL_DIR``.

    A path may name the file itself or a folder holding ``SMPL_NEUTRAL.npz`` / ``.pkl``
    (also under ``smpl/``) or the original ``basicModel_neutral_lbs_10_207_0_v1.0.0.pkl``.
    """
    if gender not in _GENDER_SHORT:
        raise BodyError(f"gender must be one of {sorted(_GENDER_SHORT)}, got {gender!r}")
    source = model_path if model_path is not None else os.environ.get(SMPL_DIR_ENV)
    if not source:
        raise BodyError(
            "the SMPL body needs the SMPL model files, which are licensed and not shipped "
            f"(https://smpl.is.tue.mpg.de): set {SMPL_DIR_ENV} to their folder or pass the file "
            "(--smpl PATH); or use --body mannequin, which needs no licensed files"
        )
    path = Path(source).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise BodyError(f"SMPL model path {path} does not exist")
    names = [n.format(G=gender.upper(), g=_GENDER_SHORT[gender]) for n in _SMPL_FILE_NAMES]
    for name in names:
        for candidate in (path / name, path / name.lower()):
            if candidate.is_file():
                return candidate
    raise BodyError(f"no SMPL {gender} model in {path} (looked for {', '.join(names)})")


class _SMPLUnpickler(pickle.Unpickler):
    """Admits numpy arrays, scipy sparse matrices and plain containers; nothing that runs code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
        ("copy_reg", "_reconstructor"),
        ("copyreg", "_reconstructor"),
        ("__builtin__", "object"),
        ("builtins", "object"),
    }
    _SPARSE = {"csc_matrix", "csr_matrix", "coo_matrix"}

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        if module.startswith("scipy.sparse") and name in self._SPARSE:
            return getattr(scipy.sparse, name)
        if module.startswith("chumpy"):
            raise BodyError(
                "this SMPL .pkl stores chumpy objects; convert it once to plain arrays "
                "(smplx's tools/clean_ch.py, or save the arrays to SMPL_NEUTRAL.npz)"
            )
        raise BodyError(f"refusing to load {module}.{name} from a SMPL .pkl (arrays only)")


def _load_smpl_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read the SMPL arrays from ``.npz`` (no pickles) or ``.pkl`` (restricted unpickler)."""
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:  # only the arrays SMPL needs
                arrays = {k: data[k] for k in _SMPL_KEYS if k in data.files}
        elif path.suffix == ".pkl":
            with open(path, "rb") as fh:
                arrays = _SMPLUnpickler(io.BytesIO(fh.read()), encoding="latin1").load()
        else:
            raise BodyError(f"{path.name}: a SMPL model must be .npz or .pkl")
    except BodyError:
        raise
    except (OSError, ValueError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile) as err:
        raise BodyError(f"{path.name}: unreadable SMPL model ({err})") from None
    if not isinstance(arrays, dict):
        raise BodyError(f"{path.name}: not a SMPL model (expected a dict of arrays)")
    missing = [k for k in _SMPL_KEYS if k not in arrays]
    if missing:
        raise BodyError(f"{path.name}: not a SMPL model (missing {missing})")
    out = {}
    for key in _SMPL_KEYS:
        value = arrays[key]
        out[key] = np.asarray(value.todense() if scipy.sparse.issparse(value) else value)
    num_verts = out["v_template"].shape[0]
    if out["weights"].shape != (num_verts, contract.NUM_JOINTS) or out["J_regressor"].shape != (
        contract.NUM_JOINTS,
        num_verts,
    ):
        raise BodyError(
            f"{path.name}: not a 24-joint SMPL model (weights {out['weights'].shape}, "
            f"J_regressor {out['J_regressor'].shape})"
        )
    return out


class SMPLBody:
    """The SMPL mesh (Loper et al. 2015) posed by ``smplx`` (its ``lbs``, pose correctives on).

    The pelvis is put at the motion's ``trans``, as in :meth:`Motion.joints`: SMPL's own
    translation is ``trans - J_0(betas)``, J_0 the rest pelvis of the model.

    Args:
        model_path: file or folder; ``$MOTIONBEAT_SMPL_DIR`` when None.
        gender: "neutral", "male" or "female".
        betas: shape coefficients (zeros by default).
    """

    name = "smpl"

    def __init__(
        self, model_path: str | os.PathLike | None = None, gender: str = "neutral", betas=None
    ):
        import smplx
        from smplx.utils import Struct

        self.path = find_smpl_model(model_path, gender)
        arrays = _load_smpl_arrays(self.path)
        wanted = DEFAULT_NUM_BETAS if betas is None else max(DEFAULT_NUM_BETAS, np.size(betas))
        num_betas = min(arrays["shapedirs"].shape[-1], wanted)
        with contextlib.redirect_stdout(io.StringIO()):  # smplx prints a note about 10 betas
            self.model = smplx.SMPL(
                str(self.path),
                data_struct=Struct(**arrays),
                num_betas=num_betas,
                gender=gender,
                create_betas=False,
                create_global_orient=False,
                create_body_pose=False,
                create_transl=False,
            )
        betas_t = torch.zeros(1, self.model.num_betas)
        if betas is not None:
            given = torch.as_tensor(np.asarray(betas, np.float32)).reshape(1, -1)
            if given.shape[1] > self.model.num_betas:
                raise BodyError(
                    f"the model has {self.model.num_betas} shape coefficients, got {given.shape[1]}"
                )
            betas_t[:, : given.shape[1]] = given
        self.betas = betas_t
        self.faces = np.asarray(arrays["f"], dtype=np.int32)
        self.vertex_joints = np.argmax(arrays["weights"], axis=1).astype(np.int64)
        self.vertex_colors = np.tile(np.array(SMPL_COLOR, np.float32), (len(self.vertex_joints), 1))
        with torch.no_grad():
            shaped = self.model.v_template + torch.einsum(
                "vcb,b->vc", self.model.shapedirs, self.betas[0]
            )
            self.rest_pelvis = (self.model.J_regressor[0] @ shaped).numpy()  # (3,)

    def _lbs(self, poses: np.ndarray, trans: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        from smplx.lbs import lbs

        m = self.model
        with torch.no_grad():
            full_pose = torch.from_numpy(poses.reshape(poses.shape[0], -1))  # (T, 72)
            verts, joints = lbs(
                self.betas.expand(poses.shape[0], -1),
                full_pose,
                m.v_template,
                m.shapedirs,
                m.posedirs,
                m.J_regressor,
                m.parents,
                m.lbs_weights,
            )  # (T, V, 3), (T, 24, 3)
            shift = torch.from_numpy(trans - self.rest_pelvis)[:, None, :]  # (T, 1, 3)
            return verts + shift, joints + shift

    def pose(self, poses, trans) -> PosedMesh:
        poses, trans, single = _as_batch(poses, trans)

        def pose_chunk(p, t):
            verts = self._lbs(p, t)[0].numpy()
            return PosedMesh(verts, vertex_normals(verts, self.faces))

        return _unbatch(_chunked(pose_chunk, poses, trans), single)

    def joints(self, poses, trans) -> np.ndarray:
        poses, trans, _ = _as_batch(poses, trans)
        return self._lbs(poses, trans)[1].numpy()
