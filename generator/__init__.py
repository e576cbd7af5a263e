"""The diffusion dance generator.

* :mod:`generator.model` - config, denoiser, diffusion (schedulers, guidance), losses, music
  conditioning.
* :mod:`generator.cleanup` - after sampling: turn-snap smoothing, foot locking with leg IK.
* :mod:`generator.sampling` - song -> dance: the pipeline (``generate``), long-form windows,
  editing constraints.
* ``train``, ``evaluate``, ``bench``, ``bench_denoiser``, ``sample``, ``score`` - the commands.
"""
