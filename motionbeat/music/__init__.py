"""Songs with exact beats, synthesised here: the music side of the offline corpus.

* :mod:`.mma` - MMA groove sheets rendered by fluidsynth (beats known by construction).
* :mod:`.debian` - tracker and MIDI music from Debian's packages.
* :mod:`.groove_families` - the genre family of an mma groove.
"""
