"""Dance data on disk, read into songs, clips and batches.

* :mod:`.manifest` - the corpus manifest and its dances (the layout the corpus build writes).
* :mod:`.songs` - beat-synchronous songs (``SongData``): front end once per song, cached; our
  corpus and AIST++ read into the same value.
* :mod:`.clips` - ``ClipDataset``: K-beat clips with beat-jitter windows.
* :mod:`.batches` - hard-negative batches for the contrastive loss, and ``collate``.
* :mod:`.toy` - a tiny synthetic corpus for tests.
* :mod:`.aistpp` - the AIST++ release (motions, music ids, splits), when a user has it.
* :mod:`.finedance` - FineDance (SMPL-X 6-D rotations -> SMPL), Lodge's splits and 1024-frame clips.
* :mod:`.bvh_file` - the BVH parser and its forward kinematics (``render.export`` uses it too).
* :mod:`.joint_maps`, :mod:`.retarget`, :mod:`.bvh` - BVH dances of any skeleton, retargeted to SMPL.
* :mod:`.ik`, :mod:`.positions` - positions-only dances solved to SMPL rotations.
* :mod:`.corpus_view` - any of these written once as a corpus; :mod:`.registry` - ``--dataset``.

A new dataset loader goes here and yields the same ``SongData`` as :mod:`.songs`.
"""
