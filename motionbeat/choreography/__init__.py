"""The rule-based choreographer and the offline training corpus it dances.

* :mod:`.moves` - the move vocabulary, keyed poses per beat.
* :mod:`.dance_genres` - nine dance genres: move weights and dancer-style priors.
* :mod:`.choreographer` - song -> dance: sections, genre, moves, accents, melody.
* :mod:`.build` - songs (``motionbeat.music``) x dancers -> the corpus on disk.
* :mod:`.report` - the corpus report (PFC, BAS, diversity, move statistics).
* :mod:`.choreograph` - ``python -m motionbeat.choreography.choreograph``: one song, one dance.
"""
