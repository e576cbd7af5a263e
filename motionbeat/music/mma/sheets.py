"""Song sheets: a random key, tempo, form, chords, volumes and voices, and the mma source that plays it.

A song is a :class:`SongSheet`: key, tempo, groove file, a section form (intro, verses,
choruses, a bridge, an ending), a chord per bar from common progressions, an mma ``Volume``
per section (energy changes) and random General MIDI voices for the chord and melody tracks
(an mma ``Aria`` track improvises a melody over the chords). :func:`random_sheet` draws one
from a seed; :func:`sheet_to_mma` writes its mma source.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from motionbeat.music.mma.library import GrooveStyle, discover_grooves

# ------------------------------------------------------------------------------- constants
TEMPO_RANGE: tuple[float, float] = (70.0, 180.0)
"""All song tempi lie in this range, BPM (the issue's range)."""

_NOTES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
# Progressions as (semitones above the key, chord suffix); one chord per bar.
_MAJOR_PROGRESSIONS: tuple[tuple[tuple[int, str], ...], ...] = (
    ((0, ""), (7, ""), (9, "m"), (5, "")),  # I V vi IV
    ((0, ""), (9, "m"), (5, ""), (7, "")),  # I vi IV V
    ((2, "m7"), (7, "7"), (0, "maj7"), (0, "maj7")),  # ii V I
    ((0, ""), (5, ""), (0, ""), (7, "7")),  # I IV I V7
    ((0, "maj7"), (9, "m7"), (2, "m7"), (7, "7")),  # I vi ii V
    ((0, ""), (0, ""), (5, ""), (7, "")),
    ((5, ""), (7, ""), (0, ""), (9, "m")),  # IV V I vi
    ((0, "6"), (4, "m7"), (5, "maj7"), (7, "9")),
)
_MINOR_PROGRESSIONS: tuple[tuple[tuple[int, str], ...], ...] = (
    ((0, "m"), (8, ""), (3, ""), (10, "")),  # i VI III VII
    ((0, "m"), (5, "m"), (7, "7"), (0, "m")),  # i iv V i
    ((0, "m7"), (10, ""), (8, "maj7"), (7, "7")),
    ((0, "m"), (0, "m"), (8, ""), (10, "")),
)
_BLUES: tuple[tuple[int, str], ...] = (
    (0, "7"),
    (5, "7"),
    (0, "7"),
    (0, "7"),
    (5, "7"),
    (5, "7"),
    (0, "7"),
    (0, "7"),
    (7, "7"),
    (5, "7"),
    (0, "7"),
    (7, "7"),
)
# General MIDI voices for the chord and melody tracks, by mma's names.
CHORD_VOICES: tuple[str, ...] = (
    "Piano1",
    "Piano2",
    "EPiano",
    "Organ1",
    "Organ3",
    "ReedOrgan",
    "NylonGuitar",
    "SteelGuitar",
    "JazzGuitar",
    "CleanGuitar",
    "MutedGuitar",
    "OverDriveGuitar",
    "Strings",
    "SlowStrings",
    "SynthStrings1",
    "WarmPad",
    "PolySynth",
    "Vibraphone",
    "Marimba",
    "Accordion",
    "Harpsichord",
)
MELODY_VOICES: tuple[str, ...] = (
    "Flute",
    "Clarinet",
    "AltoSax",
    "TenorSax",
    "Trumpet",
    "Trombone",
    "Oboe",
    "Violin",
    "SquareWave",
    "SawWave",
    "Whistle",
    "Harmonica",
    "Vibraphone",
    "Xylophone",
    "Piano1",
    "ChoirAahs",
    "DistortonGuitar",
    "Charang",
    "Ocarina",
    "Recorder",
    "SteelDrums",
    "Kalimba",
)
VOLUMES: tuple[str, ...] = ("pp", "p", "mp", "m", "mf", "f", "ff")
"""mma's dynamic marks, quiet to loud; sections move along this scale."""

# Section form templates: (name, bars); intro and ending bars may use Intro / End grooves.
_FORMS: tuple[tuple[tuple[str, int], ...], ...] = (
    (
        ("intro", 4),
        ("verse", 8),
        ("chorus", 8),
        ("verse", 8),
        ("chorus", 8),
        ("bridge", 8),
        ("chorus", 8),
        ("end", 2),
    ),
    (("intro", 4), ("verse", 16), ("chorus", 8), ("verse", 8), ("chorus", 8), ("end", 2)),
    (
        ("intro", 2),
        ("verse", 8),
        ("verse", 8),
        ("chorus", 8),
        ("bridge", 4),
        ("chorus", 8),
        ("chorus", 8),
        ("end", 2),
    ),
    (("verse", 8), ("chorus", 8), ("verse", 8), ("chorus", 8), ("bridge", 8), ("chorus", 16)),
)
SECTION_ENERGY: dict[str, float] = {
    "intro": 0.25,
    "verse": 0.5,
    "chorus": 0.85,
    "bridge": 0.4,
    "end": 0.3,
}
"""Nominal energy of each section kind, 0..1 (mapped onto VOLUMES around the song's level)."""



# ------------------------------------------------------------------------------ sheets


@dataclass(frozen=True)
class Section:
    name: str  # intro, verse, chorus, bridge, end
    bars: int
    groove: str
    volume: str
    energy: float


@dataclass(frozen=True)
class SongSheet:
    """Everything mma needs to play a song, and what the choreographer needs to know."""

    song_id: str
    style: str  # mma library file
    bpm: float
    beats_per_bar: int
    key: str
    sections: tuple[Section, ...]
    chords: tuple[str, ...]  # one per bar
    chord_voice: str
    melody_voice: str
    melody_pattern: str
    seed: int

    @property
    def num_bars(self) -> int:
        return sum(s.bars for s in self.sections)

    @property
    def beat_period(self) -> float:
        return 60.0 / self.bpm

    def beat_times(self) -> np.ndarray:
        """(K,) exact beat times, seconds: beat k at k * 60 / bpm."""
        return np.arange(self.num_bars * self.beats_per_bar) * self.beat_period

    def downbeat_times(self) -> np.ndarray:
        """(B,) the first beat of every bar."""
        return self.beat_times()[:: self.beats_per_bar]

    def section_times(self) -> list[float]:
        """Start of each section, seconds."""
        starts = np.cumsum([0] + [s.bars for s in self.sections[:-1]])
        return [float(b * self.beats_per_bar * self.beat_period) for b in starts]

    @property
    def music_duration(self) -> float:
        return self.num_bars * self.beats_per_bar * self.beat_period

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sections"] = [asdict(s) for s in self.sections]
        return d


def _melody_pattern(bpb: int, rng: np.random.Generator) -> str:
    """An mma Aria sequence for one bar: notes on beats and some off-beats."""
    notes = []
    for beat in range(1, bpb + 1):
        if rng.random() < 0.8:
            notes.append(f"{beat} 8 90")
        if rng.random() < 0.45:
            notes.append(f"{beat}.5 8 80")
    if not notes:
        notes = ["1 2 90"]
    return "{" + "; ".join(notes) + "}"


def random_sheet(
    song_id: str,
    seed: int,
    styles: tuple[GrooveStyle, ...] | None = None,
    max_bars: int | None = None,
    style_name: str | None = None,
) -> SongSheet:
    """A random song: groove file, tempo in its range, key, form, chords, volumes and voices.

    Args:
        max_bars: cut the form to at most this many bars (tiny test songs).
        style_name: force one library file.
    """
    rng = np.random.default_rng(seed)
    styles = styles if styles is not None else discover_grooves()
    if style_name is not None:
        style = next(s for s in styles if s.name == style_name)
    else:
        style = styles[int(rng.integers(len(styles)))]
    lo, hi = style.tempo_range
    lo, hi = max(lo, TEMPO_RANGE[0]), min(hi, TEMPO_RANGE[1])
    bpm = float(np.round(rng.uniform(lo, hi)))
    minor = rng.random() < 0.3
    root = int(rng.integers(12))
    key = _NOTES[root] + ("m" if minor else "")
    form = list(_FORMS[int(rng.integers(len(_FORMS)))])
    if max_bars is not None:
        cut, total = [], 0
        for name, bars in form:
            take = min(bars, max_bars - total)
            if take <= 0:
                break
            cut.append((name, take))
            total += take
        form = cut
    base_volume = int(rng.integers(2, 5))  # index into VOLUMES for energy 0.5
    main = list(style.main)
    verse_groove = main[int(rng.integers(len(main)))]
    chorus_groove = main[int(rng.integers(len(main)))]
    bridge_groove = main[int(rng.integers(len(main)))]
    sections = []
    chords: list[str] = []
    progs = {}
    for name, bars in form:
        energy = float(np.clip(SECTION_ENERGY[name] + rng.normal(0.0, 0.08), 0.05, 1.0))
        vol = VOLUMES[int(np.clip(round(base_volume + (energy - 0.5) * 5), 0, len(VOLUMES) - 1))]
        if name == "intro" and style.intros:
            groove = style.intros[int(rng.integers(len(style.intros)))]
        elif name == "end" and style.endings:
            groove = style.endings[int(rng.integers(len(style.endings)))]
        else:
            groove = {"chorus": chorus_groove, "bridge": bridge_groove}.get(name, verse_groove)
        sections.append(Section(name, bars, groove, vol, energy))
        if name not in progs:
            if style.beats_per_bar == 4 and rng.random() < 0.15 and not minor:
                progs[name] = _BLUES
            else:
                pool = _MINOR_PROGRESSIONS if minor else _MAJOR_PROGRESSIONS
                progs[name] = pool[int(rng.integers(len(pool)))]
        prog = progs[name]
        for b in range(bars):
            step, suffix = prog[b % len(prog)]
            chords.append(_NOTES[(root + step) % 12] + suffix)
    if chords:
        chords[-1] = _NOTES[root] + ("m" if minor else "")  # end on the tonic
    return SongSheet(
        song_id=song_id,
        style=style.name,
        bpm=bpm,
        beats_per_bar=style.beats_per_bar,
        key=key,
        sections=tuple(sections),
        chords=tuple(chords),
        chord_voice=str(rng.choice(CHORD_VOICES)),
        melody_voice=str(rng.choice(MELODY_VOICES)),
        melody_pattern=_melody_pattern(style.beats_per_bar, rng),
        seed=int(seed),
    )


def sheet_to_mma(sheet: SongSheet) -> str:
    """The mma source of a sheet."""
    lines = [
        f"// {sheet.song_id}: generated by motionbeat.music.mma (seed {sheet.seed})",
        f"Use stdlib/{sheet.style}",
        f"Tempo {sheet.bpm:g}",
        f"RndSeed {sheet.seed % 100000}",
    ]
    if not sheet.key.endswith(
        "m"
    ):  # mma knows major signatures by name; minor ones only affect notation
        lines.append(f"KeySig {sheet.key}")
    bar = 0
    for sec in sheet.sections:
        lines += [
            f"// section {sec.name}",
            f"Groove {sec.groove}",
            f"Chord Voice {sheet.chord_voice}",
            "Begin Aria",
            f"  Voice {sheet.melody_voice}",
            f"  Sequence {sheet.melody_pattern}",
            "  Octave 5",
            "  Articulate 90",
            "  Range 1.5",
            "  Direction 1 1 -1 r",
            f"  Volume {sec.volume}",
            "End",
            f"Volume {sec.volume}",
        ]
        if sec.name == "intro" or sec.name == "end":
            lines.append("Aria Off")
        for _ in range(sec.bars):
            lines.append(f"{bar + 1} {sheet.chords[bar]}")
            bar += 1
    return "\n".join(lines) + "\n"
