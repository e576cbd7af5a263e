"""Old command names only: the corpus code now lives in :mod:`motionbeat.choreography`."""
