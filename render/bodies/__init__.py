"""Bodies: turn SMPL poses (axis-angle, metres, y-up) into meshes to draw.

Three bodies share one small protocol, :class:`Body`:

* :mod:`.mannequin` - :class:`MannequinBody`, the free wooden mannequin of ``mannequin-x``
  (Apache-2.0), its legs retargeted onto the SMPL skeleton (:func:`mannequin_foot_offset`
  measures why).
* :mod:`.smpl` - :class:`SMPLBody`, the SMPL mesh through ``smplx`` when the user has the
  licensed model files (option or the ``MOTIONBEAT_SMPL_DIR`` environment variable).
* :mod:`.skeleton` - :class:`SkeletonBody`, spheres on the joints and capsules on the bones of
  the contract skeleton: fast, licence free, exact joint positions.

And what they share or are built with:

* :mod:`.base` - the :class:`Body` protocol, :class:`PosedMesh`, :class:`BodyError`, frame batching.
* :mod:`.skinning` - rotations, forward kinematics, normals and linear blend skinning.
* :mod:`.factory` - :data:`BODY_NAMES` and :func:`make_body`.
* :mod:`.synthetic_smpl` - :func:`write_synthetic_smpl`, a licence-free SMPL-format file.
"""

from render.bodies.base import POSE_CHUNK_FRAMES, Body, BodyError, PosedMesh
from render.bodies.factory import BODY_NAMES, make_body
from render.bodies.mannequin import MANNEQUIN_SMPL_JOINTS, MannequinBody, mannequin_foot_offset
from render.bodies.skeleton import SkeletonBody
from render.bodies.smpl import SMPL_DIR_ENV, SMPLBody, find_smpl_model
from render.bodies.synthetic_smpl import write_synthetic_smpl

__all__ = [
    "BODY_NAMES",
    "MANNEQUIN_SMPL_JOINTS",
    "POSE_CHUNK_FRAMES",
    "SMPL_DIR_ENV",
    "Body",
    "BodyError",
    "MannequinBody",
    "PosedMesh",
    "SMPLBody",
    "SkeletonBody",
    "find_smpl_model",
    "make_body",
    "mannequin_foot_offset",
    "write_synthetic_smpl",
]
