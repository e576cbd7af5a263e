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

Commands are run with ``subprocess.run([...], check=True)``; nothing goes through a shell.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# ------------------------------------------------------------------------------- constants
MMA_LIBRARY_DIRS: tuple[str, ...] = ("/usr/share/mma/lib/stdlib", "/usr/local/share/mma/lib/stdlib")
"""Where Debian's (or a source install's) mma keeps its standard groove library."""
SOUNDFONT_DIRS: tuple[str, ...] = ("/usr/share/sounds/sf2", "/usr/share/soundfonts")
SOUNDFONTS: tuple[str, ...] = ("FluidR3_GM.sf2", "TimGM6mb.sf2", "default-GM.sf2")
"""Preferred General MIDI soundfonts: fluid-soundfont-gm (141 MB, best), timgm6mb (6 MB)."""
SOUNDFONT_ENV: str = "MOTIONBEAT_SOUNDFONT"
"""Environment variable naming a soundfont to use instead."""
RENDER_RATE: int = 22050
"""fluidsynth output sample rate, Hz (the audio front end's analysis rate)."""
RENDER_GAIN: float = 0.6
"""fluidsynth master gain; mma's default volumes reach about -12 dBFS RMS with it."""
TEMPO_RANGE: tuple[float, float] = (70.0, 180.0)
"""All song tempi lie in this range, BPM (the issue's range)."""
EXCLUDED_STYLES: frozenset[str] = frozenset(
    {"metronome", "metronome3", "metronome6", "metronome68", "none"}
)
"""Library files that are not music."""
METERS: tuple[int, ...] = (3, 4)
"""Beats per bar we keep; 2/4, 5/4 and 6/8 files are skipped."""

# Tempo ranges by style keyword, BPM; the first match wins, the default covers the rest.
_TEMPO_HINTS: tuple[tuple[tuple[str, ...], tuple[float, float]], ...] = (
    (
        ("slow", "ballad", "lullaby", "hymn", "spiritual", "bolero", "mellow", "nite", "evans"),
        (70.0, 96.0),
    ),
    (("vienese", "fastwaltz", "fastjazzwaltz"), (140.0, 180.0)),
    (("waltz",), (84.0, 150.0)),
    (
        (
            "fast",
            "quickstep",
            "bebop",
            "jive",
            "polka",
            "ska",
            "trance",
            "merengue",
            "samba",
            "bluegrass",
            "dixie",
            "charleston",
            "zydeco",
            "boggie",
            "shuffle",
            "march",
            "twist",
        ),
        (125.0, 180.0),
    ),
)
_DEFAULT_TEMPO: tuple[float, float] = (88.0, 150.0)

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


class MusicToolError(RuntimeError):
    """mma, fluidsynth or a soundfont is missing."""


# ------------------------------------------------------------------------- the library


@dataclass(frozen=True)
class GrooveStyle:
    """One mma library file: its grooves and meter."""

    name: str  # file stem, e.g. "rock-128"
    beats_per_bar: int
    main: tuple[str, ...]  # grooves for verses and choruses
    intros: tuple[str, ...]
    endings: tuple[str, ...]

    @property
    def tempo_range(self) -> tuple[float, float]:
        for keys, rng in _TEMPO_HINTS:
            if any(k in self.name.lower() for k in keys):
                return rng
        return _DEFAULT_TEMPO


def library_dir() -> Path:
    """The installed mma groove library; :class:`MusicToolError` when mma is not installed."""
    for d in MMA_LIBRARY_DIRS:
        if Path(d).is_dir():
            return Path(d)
    raise MusicToolError("mma's groove library is missing: install the Debian package 'mma'")


_DEFGROOVE = re.compile(r"^\s*DefGroove\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_TIME = re.compile(r"^\s*Time\s+(\d+)", re.IGNORECASE | re.MULTILINE)
_TIMESIG = re.compile(r"^\s*TimeSig\s+(\d+)\s*/?\s*(\d+)", re.IGNORECASE | re.MULTILINE)


@lru_cache(maxsize=4)
def discover_grooves(lib: str | None = None) -> tuple[GrooveStyle, ...]:
    """Parse the installed library (``*.mma`` files' ``Time`` and ``DefGroove`` lines).

    Files in 3/4 or 4/4 (``Time 3`` / ``Time 4`` with no contrary ``TimeSig``) are kept;
    grooves named ``*Intro*`` / ``*End*`` serve intros and endings, ``*Fill*`` / ``*Break*``
    are skipped, the rest play verses, choruses and bridges.
    """
    root = Path(lib) if lib else library_dir()
    styles = []
    for path in sorted(root.glob("*.mma")):
        if path.stem.lower() in EXCLUDED_STYLES:
            continue
        text = path.read_text(errors="replace")
        times = _TIME.findall(text)
        if not times or int(times[0]) not in METERS:
            continue
        bpb = int(times[0])
        sig = _TIMESIG.search(text)
        if sig and (int(sig.group(1)) != bpb or int(sig.group(2)) != 4):
            continue
        names = list(dict.fromkeys(_DEFGROOVE.findall(text)))
        main = tuple(n for n in names if not re.search(r"intro|end|fill|break", n, re.IGNORECASE))
        intros = tuple(n for n in names if re.search(r"intro", n, re.IGNORECASE))
        endings = tuple(n for n in names if re.search(r"end", n, re.IGNORECASE))
        if main:
            styles.append(GrooveStyle(path.stem, bpb, main, intros, endings))
    if not styles:
        raise MusicToolError(f"no usable grooves found in {root}")
    return tuple(styles)


def find_soundfont(preferred: str | None = None) -> Path:
    """A General MIDI soundfont: ``preferred`` (a path or a file name), $MOTIONBEAT_SOUNDFONT,
    else the first of :data:`SOUNDFONTS` installed."""
    wanted = [preferred] if preferred else []
    if os.environ.get(SOUNDFONT_ENV):
        wanted.append(os.environ[SOUNDFONT_ENV])
    wanted += list(SOUNDFONTS)
    for name in wanted:
        p = Path(name)
        if p.is_file():
            return p
        for d in SOUNDFONT_DIRS:
            if (Path(d) / name).is_file():
                return Path(d) / name
    raise MusicToolError(
        "no General MIDI soundfont: install 'fluid-soundfont-gm' or 'timgm6mb-soundfont'"
    )


def check_tools() -> None:
    """Raise :class:`MusicToolError` unless mma and fluidsynth are on PATH."""
    for tool, package in (("mma", "mma"), ("fluidsynth", "fluidsynth")):
        if shutil.which(tool) is None:
            raise MusicToolError(f"'{tool}' is not installed: apt-get install {package}")


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


@dataclass(frozen=True)
class RenderedSong:
    """A rendered song and its exact rhythm."""

    sheet: SongSheet
    wav: Path
    beat_times: np.ndarray
    downbeat_times: np.ndarray
    section_times: list[float]
    duration: float


def render_song(
    sheet: SongSheet,
    out_dir: str | os.PathLike,
    soundfont: str | os.PathLike | None = None,
    keep_sources: bool = False,
) -> RenderedSong:
    """Write ``<song_id>.wav`` (mono, RENDER_RATE) in ``out_dir`` with mma + fluidsynth.

    The ``.mma`` and ``.mid`` go to a temporary folder beside it and are removed unless
    ``keep_sources``. Raises :class:`MusicToolError` when a tool is missing and
    ``subprocess.CalledProcessError`` when one fails.
    """
    import soundfile as sf

    check_tools()
    sf2 = find_soundfont(str(soundfont) if soundfont else None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / f".{sheet.song_id}.work"
    work.mkdir(exist_ok=True)
    try:
        src = work / f"{sheet.song_id}.mma"
        mid = work / f"{sheet.song_id}.mid"
        raw = work / f"{sheet.song_id}.raw.wav"
        src.write_text(sheet_to_mma(sheet))
        subprocess.run(["mma", str(src), "-f", str(mid)], check=True, capture_output=True)
        subprocess.run(
            [
                "fluidsynth",
                "-ni",
                "-q",
                "-g",
                str(RENDER_GAIN),
                "-r",
                str(RENDER_RATE),
                "-F",
                str(raw),
                str(sf2),
                str(mid),
            ],
            check=True,
            capture_output=True,
        )
        audio, sr = sf.read(raw, dtype="float32", always_2d=True)
        mono = audio.mean(axis=1)  # (N,)
        # trim the reverb tail to one bar after the music
        keep = int(round((sheet.music_duration + sheet.beats_per_bar * sheet.beat_period) * sr))
        mono = mono[:keep]
        peak = float(np.max(np.abs(mono))) if mono.size else 0.0
        if peak > 0.99:
            mono = mono * (0.99 / peak)
        wav = out_dir / f"{sheet.song_id}.wav"
        tmp = out_dir / f".{sheet.song_id}.tmp.wav"
        sf.write(tmp, mono, sr, subtype="PCM_16")
        tmp.replace(wav)
        if keep_sources:
            shutil.copy(src, out_dir / src.name)
            (out_dir / f"{sheet.song_id}.sheet.json").write_text(
                json.dumps(sheet.to_dict(), indent=1)
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    beats = sheet.beat_times()
    return RenderedSong(
        sheet, wav, beats, sheet.downbeat_times(), sheet.section_times(), len(mono) / sr
    )
