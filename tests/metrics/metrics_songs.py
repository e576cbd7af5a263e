"""Songs with known beats for the scoring tests (helpers, not tests)."""

import numpy as np
import soundfile as sf

SR = 22050
"""Sample rate of the test songs."""
SONG_S = 12.0
"""Length of a test song, seconds."""
CLICK_SAMPLES = 2000
"""Length of one click burst (about 90 ms)."""


def click_song(path, bpm=120.0, seconds=SONG_S, first_beat=0.25):
    """A click track at ``bpm`` with accented downbeats (every 4th beat) written to ``path``;
    returns the beat times (K,)."""
    y = np.zeros(int(seconds * SR))
    beats = np.arange(first_beat, seconds, 60.0 / bpm)
    t = np.arange(CLICK_SAMPLES)
    for i, b in enumerate(beats):
        n = int(b * SR)
        pitch = 1500 if i % 4 == 0 else 900
        burst = np.exp(-t / 200.0) * np.sin(2 * np.pi * pitch * t / SR)
        y[n:n + CLICK_SAMPLES] += burst[: len(y[n:n + CLICK_SAMPLES])] * (1.0 if i % 4 == 0 else 0.6)
    sf.write(path, y.astype(np.float32), SR)
    return beats
