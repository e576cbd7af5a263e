"""The MotionBeat encoder: music and dance Transformers over beat-synchronous tokens.

* :mod:`.config` - the frozen config and its size registry; :mod:`.ablations` - the ablations.
* :mod:`.layers` - phase rotation, contact-guided attention, pooling, rhythm heads.
* :mod:`.model` - the dual encoder assembled from them, and its checkpoint files.
* :mod:`.losses` - the total objective, from :mod:`.contrastive` (Embodied Contrastive Loss)
  and :mod:`.rhythm_alignment` (Structural Rhythm Alignment, on :mod:`.softdtw`).
* :mod:`.train` - training, with :mod:`.batches` (songs, batches, the objective, clip
  embeddings) and :mod:`.training_state` (resumable state and history files).
* :mod:`.evaluate` - the retrieval / probe evaluation, with :mod:`.eval_retrieval`,
  :mod:`.eval_probes` and :mod:`.eval_report`.
* :mod:`.encode` - the frozen encoder as a library (per-frame music features) and its CLI.
"""
