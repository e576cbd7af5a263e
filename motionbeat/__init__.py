"""How music and motion are represented, and the MotionBeat encoder.

Packages, bottom layer first (each imports only the ones above it in this list):

* :mod:`motionbeat.core` - the data contract, the ``Motion`` value and its files, kinematics.
* :mod:`motionbeat.music` - synthesised songs with exact beats (mma, Debian's music packages).
* :mod:`motionbeat.audio` - the audio front end: decode, rhythm, frame features, beat tokens.
* :mod:`motionbeat.metrics` - dance metrics and the scoring of a dance against its song.
* :mod:`motionbeat.datasets` - the corpus on disk, clip datasets, AIST++.
* :mod:`motionbeat.choreography` - the rule-based choreographer and the corpus build.
* :mod:`motionbeat.encoder` - the MotionBeat encoder: model, losses, training, evaluation.

The layer picture and the data flow are in ``docs/architecture.md``. The modules
``motionbeat.train``, ``motionbeat.evaluate``, ``motionbeat.encode``, ``motionbeat.bench_audio``
and ``motionbeat.data.*`` only keep the old command names working.
"""
