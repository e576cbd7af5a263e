"""The foundation every other package stands on: no import from anywhere else in the project.

* :mod:`.contract` - FPS, windows, the SMPL skeleton, foot indices, the 151-wide frame layout.
* :mod:`.motion` - the ``Motion`` value and its ``.npz`` / AIST++ ``.pkl`` files.
* :mod:`.kinematics` - rotations, forward kinematics, contacts, resampling (torch).
* :mod:`.motion_signals` - foot-strike pulse and kinetic energy of motion frames.
* :mod:`.fileio` - atomic writes and the arrays-only unpickler.
* :mod:`.training` - optimiser groups, learning-rate schedule and state files shared by trainers.
"""
