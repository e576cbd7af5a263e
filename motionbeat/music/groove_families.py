"""Genre families of mma's library grooves: the music-genre label of a synthesised song.

``groove_family("jazzwaltz") == "waltz"``. The labels feed the encoder's genre probe and the
choreographer's dance genre (:mod:`motionbeat.choreography.dance_genres`).
"""

from __future__ import annotations

# Groove families of mma's library styles (genre labels of the linear probe). Rules are tried
# in order and the first keyword contained in the style name wins; "rock_pop" takes the rest.
GROOVE_FAMILY_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("waltz", ("waltz",)),
    ("ballad", ("ballad", "lullaby", "hymn", "spiritual")),
    ("latin", ("beguine", "bolero", "bossa", "calypso", "chacha", "cuban", "rhumba", "tango",
               "mambo", "merengue", "salsa", "samba", "lfusion")),
    ("blues", ("blues", "boggie")),
    ("country", ("country", "western", "bluegrass")),
    ("jazz_swing", ("swing", "jazz", "bigband", "dixie", "foxtrot", "quickstep", "charleston",
                    "ragtime", "softshoe", "broadway", "showtune", "strut", "evans")),
    ("folk_march", ("folk", "polka", "zydeco", "march")),
    ("funk_soul", ("funk", "soul")),
)
GROOVE_FAMILY_EXACT: dict[str, str] = {"son": "latin", "rb": "funk_soul"}
"""Style names too short to match as keywords."""
DEFAULT_FAMILY: str = "rock_pop"


def groove_family(style: str) -> str:
    """Genre family of an mma groove file (``"jazzwaltz"`` -> ``"waltz"``); ``""`` for none."""
    name = style.lower().strip()
    if not name:
        return ""
    if name in GROOVE_FAMILY_EXACT:
        return GROOVE_FAMILY_EXACT[name]
    for family, keys in GROOVE_FAMILY_RULES:
        if any(k in name for k in keys):
            return family
    return DEFAULT_FAMILY
