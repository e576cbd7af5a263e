"""Dance data on disk, read into songs, clips and batches.

* :mod:`.manifest` - the corpus manifest and its dances (the layout the corpus build writes).
* :mod:`.songs` - beat-synchronous songs (``SongData``): front end once per song, cached; our
  corpus and AIST++ read into the same value.
* :mod:`.clips` - ``ClipDataset``: K-beat clips with beat-jitter windows.
* :mod:`.batches` - hard-negative batches for the contrastive loss, and ``collate``.
* :mod:`.toy` - a tiny synthetic corpus for tests.
* :mod:`.aistpp` - the AIST++ release (motions, music ids, splits), when a user has it.

A new dataset loader goes here and yields the same ``SongData`` as :mod:`.songs`.
"""
