"""Dance data on disk, read into songs, clips and batches.

* :mod:`.manifest` - the corpus manifest and its dances (the layout the corpus build writes).
* :mod:`.corpus` - beat-synchronous songs, clip datasets and hard-negative batches for MotionBeat.
* :mod:`.aistpp` - the AIST++ release (motions, music ids, splits), when a user has it.

A new dataset loader goes here and yields the same ``SongData`` as :mod:`.corpus`.
"""
