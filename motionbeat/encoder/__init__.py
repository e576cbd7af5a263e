"""The MotionBeat encoder: music and dance Transformers over beat-synchronous tokens.

* :mod:`.config` - the frozen config and its size registry.
* :mod:`.model` - the dual encoder (phase rotation, contact-guided attention, pooling).
* :mod:`.losses`, :mod:`.softdtw` - Embodied Contrastive Loss and Structural Rhythm Alignment.
* :mod:`.train`, :mod:`.evaluate` - training and the retrieval / probe evaluation.
* :mod:`.encode` - the frozen encoder as a library (per-frame music features) and its CLI.
"""
