"""Synthesized songs with exact beats: random chord sheets played by mma, rendered by fluidsynth.

Musical MIDI Accompaniment (mma, Debian package ``mma``) turns a chord sheet and a *groove*
(a drum / bass / chord accompaniment style from its library: rock, funk, soul, trance, ska,
swing, latin, waltzes in 3/4, ...) into a MIDI file; fluidsynth renders it with a General MIDI
soundfont (``fluid-soundfont-gm``, or the small ``timgm6mb-soundfont`` for tests and CI).

Because we write the tempo and meter ourselves and keep them constant, the beats are exact:
beat k plays at ``k * 60 / bpm`` seconds and every ``beats_per_bar``-th beat is a downbeat
(mma starts bar 1 at time 0; fluidsynth renders from time 0, measured within 5 ms).

A song is a :class:`SongSheet`: key, tempo, groove file, a section form (intro, verses,
choruses, a bridge, an ending), a chord per bar from common progressions, an mma ``Volume``
per section (energy changes) and random General MIDI voices for the chord and melody tracks
(an mma ``Aria`` track improvises a melody over the chords). :func:`random_sheet` draws one
from a seed; :func:`render_song` writes ``.mma``, ``.mid`` and ``.wav``.

* :mod:`.library` - mma's groove library, soundfonts, the tools on PATH.
* :mod:`.sheets` - song sheets and their mma source.
* :mod:`.render` - mma + fluidsynth: a sheet to a ``.wav`` with its exact beats.

Commands are run with ``subprocess.run([...], check=True)``; nothing goes through a shell.
"""

from motionbeat.music.mma.library import (
    EXCLUDED_STYLES,
    METERS,
    MMA_LIBRARY_DIRS,
    SOUNDFONT_DIRS,
    SOUNDFONT_ENV,
    SOUNDFONTS,
    GrooveStyle,
    MusicToolError,
    check_tools,
    discover_grooves,
    find_soundfont,
    library_dir,
)
from motionbeat.music.mma.render import RENDER_GAIN, RENDER_RATE, RenderedSong, render_song
from motionbeat.music.mma.sheets import (
    CHORD_VOICES,
    MELODY_VOICES,
    SECTION_ENERGY,
    TEMPO_RANGE,
    VOLUMES,
    Section,
    SongSheet,
    random_sheet,
    sheet_to_mma,
)

__all__ = [
    "CHORD_VOICES",
    "EXCLUDED_STYLES",
    "MELODY_VOICES",
    "METERS",
    "MMA_LIBRARY_DIRS",
    "RENDER_GAIN",
    "RENDER_RATE",
    "SECTION_ENERGY",
    "SOUNDFONTS",
    "SOUNDFONT_DIRS",
    "SOUNDFONT_ENV",
    "TEMPO_RANGE",
    "VOLUMES",
    "GrooveStyle",
    "MusicToolError",
    "RenderedSong",
    "Section",
    "SongSheet",
    "check_tools",
    "discover_grooves",
    "find_soundfont",
    "library_dir",
    "random_sheet",
    "render_song",
    "sheet_to_mma",
]
