"""Planning, the choreographer's second stage: which moves, where (:func:`plan_dance`).

Two-bar phrases; each section picks a primary move family and a small palette of moves that
fit the music's energy and step density, weighted by the genre; phrases repeat mirrored;
arm moves are layered on stepping moves; travel and turns are steered back to the centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from motionbeat.choreography import dance_genres as dg
from motionbeat.choreography import moves as mv
from motionbeat.choreography.choreographer.listening import SongInfo
from motionbeat.choreography.choreographer.style import DancerStyle
from motionbeat.core import contract


@dataclass(frozen=True)
class Instance:
    """A move placed on the beat grid: beats [start, start + length) of the (extended) grid."""

    clip: mv.MoveClip
    start: float
    length: float
    anchor: tuple[float, float, float]  # x, z, yaw of the move's start frame in the world
    energy: float


@dataclass
class _Floor:
    x: float = 0.0
    z: float = 0.0
    yaw: float = 0.0

    def after(self, clip: mv.MoveClip) -> tuple[float, float, float]:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        dx, dz = clip.travel
        return (self.x + c * dx + s * dz, self.z - s * dx + c * dz, self.yaw + clip.turn)


USAGE_DECAY: float = 6.0
"""Uses of a move in the song after which its palette weight has halved."""
ACCENT_FAMILIES: frozenset[str] = frozenset({"turn", "jump"})
"""At most one move of these families per phrase."""
FAMILY_BOOST: float = 4.0
"""Weight multiplier of the section's primary family in move selection."""
ENERGY_WIDTH: float = 0.22
DENSITY_WIDTH: float = 0.8
"""Tolerance (foot events per beat) for moves busier than the music's onset density."""
DENSITY_WIDTH_BELOW: float = 1.6
"""Tolerance for moves calmer than the music: dancers groove half-time over busy songs."""
JUMP_MIN_ENERGY: float = 0.5
"""Jumps only where the phrase energy exceeds this."""
JUMP_RARITY: float = 0.35
"""Jumps tire dancers: their selection weight is scaled by this."""
FLOOR_RADIUS: float = 0.7
"""Beyond this distance from the centre (m), travelling moves head back."""
EDGE_BEATS: int = 2
"""Beats added to the grid beyond both ends of the song so every frame has a phase."""


def _wrap(a: float) -> float:
    return (a + math.pi) % (2 * math.pi) - math.pi


@dataclass(frozen=True)
class Plan:
    """A dance plan: the beat grid (extended past both song ends) and the move instances."""

    grid: np.ndarray  # (M,) seconds
    instances: tuple[Instance, ...]
    beats_per_bar: int
    first_downbeat: int  # grid index
    sections: tuple[tuple[int, str], ...]  # (grid index, primary family)
    accent_times: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (A,) seconds
    accent_strength: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (A,)
    contour: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (F,) in (-1, 1)
    contour_fps: float = float(contract.FPS)


def _extended_grid(info: SongInfo) -> tuple[np.ndarray, int]:
    beats = info.beat_times
    if len(beats) < 2:
        period = 0.5
        beats = np.arange(0.0, max(info.duration, 1.0), period)
    period = float(np.median(np.diff(beats)))
    n_before = int(math.ceil(beats[0] / period)) + EDGE_BEATS
    n_after = int(math.ceil(max(info.duration - beats[-1], 0.0) / period)) + EDGE_BEATS
    grid = np.r_[
        beats[0] - period * np.arange(n_before, 0, -1),
        beats,
        beats[-1] + period * np.arange(1, n_after + 1),
    ]
    return grid, n_before


def plan_dance(info: SongInfo, style: DancerStyle, rng: np.random.Generator) -> Plan:
    """Choose the moves: two-bar phrases, section palettes, mirrored repeats (module doc)."""
    grid, offset = _extended_grid(info)
    bpb = info.beats_per_bar if info.beats_per_bar in (3, 4) else 4
    meter_ok = 3 if bpb == 3 else 4
    beat_s = float(np.median(np.diff(grid)))
    k_song = len(info.beat_times)

    def beat_value(arr: np.ndarray, g: int, n: int) -> float:
        lo = min(max(g - offset, 0), k_song - 1)
        hi = min(max(g - offset + n, lo + 1), k_song)
        return float(np.mean(arr[lo:hi])) if k_song else 0.5

    if len(info.downbeat_times):
        first_db = int(np.argmin(np.abs(grid - info.downbeat_times[0])))
        first_db = first_db % bpb if first_db >= bpb else first_db
    else:
        first_db = 0
    section_grid = sorted({int(s) + offset for s in info.section_starts})
    phrase = 2 * bpb
    floor = _Floor()
    instances: list[Instance] = []
    sections: list[tuple[int, str]] = []
    specs = [s for s in mv.VOCABULARY.values() if meter_ok in s.meters]
    lower_specs = [s for s in specs if s.family != "arms"]
    arm_specs = [s for s in specs if s.family == "arms"]
    genre = dg.get_genre(info.genre)

    def params(e: float) -> mv.MoveParams:
        amp = style.amplitude * (0.6 + 0.7 * e) * float(rng.uniform(0.9, 1.1))
        k = style.sharpness * float(rng.uniform(0.9, 1.1))
        return mv.MoveParams(amp=amp, k=k, stance=style.stance, beat_s=beat_s, bpb=bpb, rng=rng)

    # pickup: idle groove until the first downbeat
    if first_db > 0:
        idle = mv.build_move("sway", params(0.2))
        instances.append(Instance(idle, 0.0, float(first_db), (0.0, 0.0, 0.0), 0.2))

    g = first_db
    section_id = -1
    palette: list[mv.MoveSpec] = []
    arm_palette: list[mv.MoveSpec] = []
    primary = "groove"
    previous: list[tuple[str, bool, str | None]] = []
    repeated = False
    used: dict[str, int] = {}
    while g < len(grid) - 1:
        sec = int(np.searchsorted(section_grid, g, side="right")) - 1
        e = beat_value(info.energy, g, phrase)
        d = beat_value(info.density, g, phrase)
        if sec != section_id:
            section_id = sec
            primary, palette, arm_palette = _section_palette(
                lower_specs, arm_specs, e, d, bpb, style, rng, used, genre
            )
            sections.append((g, primary))
            previous, repeated = [], False
        # a phrase: repeat the previous one mirrored, or choose anew
        if previous and not repeated and rng.random() < style.repeat:
            chosen = [(name, not mirror, arms) for name, mirror, arms in previous]
            repeated = True
        else:
            chosen = _choose_phrase(
                palette, arm_palette, phrase, e, d, style, rng, primary, genre
            )
            repeated = False
        previous = chosen
        done = 0
        for name, mirror, arms in chosen:
            if g + done >= len(grid) - 1:
                break
            spec = mv.VOCABULARY[name]
            clip = spec.build(params(e))
            mirror = _steer(clip, mirror, floor, style, rng)
            clip = clip.mirrored() if mirror else clip
            if arms is not None:
                arm_clip = mv.build_move(arms, params(e), mirror)
                clip = clip.with_upper(arm_clip)
            length = clip.beats if clip.steps else min(clip.beats, phrase - done)
            instances.append(
                Instance(clip, float(g + done), float(length), (floor.x, floor.z, floor.yaw), e)
            )
            used[name] = used.get(name, 0) + 1
            floor.x, floor.z, floor.yaw = floor.after(clip)
            done += length
        g += max(done, 1)
    return Plan(grid, tuple(instances), bpb, first_db, tuple(sections),
                info.accent_times, info.accent_strength, info.contour, info.contour_fps)


def _section_palette(lower, arms, e, d, bpb, style, rng, used, genre: dg.DanceGenre):
    """Primary family and a small palette of moves for one section.

    Families are weighted by the genre (``genre.families``) and by how well their moves fit the
    energy. Moves already used often in the song are less likely: weight / (1 + uses /
    USAGE_DECAY).
    """
    fams = sorted({s.family for s in lower})
    fam_w = []
    for fam in fams:
        members = [s for s in lower if s.family == fam]
        fit = max(math.exp(-((s.energy - e) ** 2) / (2 * ENERGY_WIDTH**2)) for s in members)
        if fam in ("travel", "turn"):
            fit *= 0.4 + style.travel
        if fam == "jump" and e < JUMP_MIN_ENERGY:
            fit *= 0.05
        fam_w.append(fit * genre.families.get(fam, 1.0))
    fam_w = np.asarray(fam_w) / np.sum(fam_w)
    primary = str(rng.choice(fams, p=fam_w))
    weights = np.array(
        [
            _fit(s, e, d, style, genre)
            * (FAMILY_BOOST if s.family == primary else 1.0)
            / (1.0 + used.get(s.name, 0) / USAGE_DECAY)
            for s in lower
        ]
    )
    n = min(len(lower), int(rng.integers(3, 6)))
    idx = rng.choice(len(lower), size=n, replace=False, p=weights / weights.sum())
    palette = [lower[i] for i in idx]
    # the palette always holds a move of the primary family and a groove to fill with
    if not any(s.family == primary for s in palette):
        members = [s for s in lower if s.family == primary]
        palette.append(members[int(rng.integers(len(members)))])
    if not any(s.family in ("groove", "waltz") and not _has_steps(s, bpb) for s in palette):
        grooves = [s for s in lower if s.family in ("groove", "waltz") and not _has_steps(s, bpb)]
        palette.append(grooves[int(rng.integers(len(grooves)))])
    aw = np.array([_fit(s, e, d, style, genre) for s in arms])
    arm_palette = [
        arms[i]
        for i in rng.choice(len(arms), size=min(3, len(arms)), replace=False, p=aw / aw.sum())
    ]
    return primary, palette, arm_palette


_STEPS_CACHE: dict[tuple[str, int], bool] = {}


def _has_steps(spec: mv.MoveSpec, bpb: int) -> bool:
    key = (spec.name, bpb)
    if key not in _STEPS_CACHE:
        _STEPS_CACHE[key] = bool(spec.build(mv.MoveParams(bpb=bpb)).steps)
    return _STEPS_CACHE[key]


def _fit(spec: mv.MoveSpec, e: float, d: float, style: DancerStyle,
         genre: dg.DanceGenre) -> float:
    """Selection weight of a move: its own weight, the genre's multiplier, and the fit of its
    energy and step density to the music's."""
    w = spec.weight * genre.weight(spec.family, spec.name)
    w *= math.exp(-((spec.energy - e) ** 2) / (2 * ENERGY_WIDTH**2))
    if spec.family != "arms":
        # busy moves over sparse music are penalised harder than half-time grooving over busy music
        width = DENSITY_WIDTH if spec.density > d else DENSITY_WIDTH_BELOW
        w *= math.exp(-((spec.density - d) ** 2) / (2 * width**2))
    if spec.family == "jump":
        w *= JUMP_RARITY * (1.0 if e >= JUMP_MIN_ENERGY else 0.05)
    if spec.family in ("travel", "turn"):
        w *= 0.3 + style.travel
    return max(w, 1e-4)


def _choose_phrase(palette, arm_palette, phrase, e, d, style, rng, primary, genre):
    """Moves filling one phrase: (name, mirror, arm overlay or None)."""
    chosen = []
    filled = 0
    lead_right = rng.random() < style.lead_right
    guard = 0
    while filled < phrase and guard < 10:
        guard += 1
        room = phrase - filled
        cands = []
        accent_done = any(mv.VOCABULARY[c[0]].family in ACCENT_FAMILIES for c in chosen)
        for s in palette:
            if accent_done and s.family in ACCENT_FAMILIES:
                continue
            clip_beats = _move_beats(s, phrase // 2)
            if clip_beats <= room or not _has_steps(s, phrase // 2):
                cands.append(s)
        if not cands:
            break
        w = np.array(
            [
                _fit(s, e, d, style, genre) * (FAMILY_BOOST if s.family == primary else 1.0)
                for s in cands
            ]
        )
        if chosen:  # avoid the same move twice in a row inside a phrase, mostly
            w = np.array(
                [
                    wi * (0.3 if s.name == chosen[-1][0] else 1.0)
                    for wi, s in zip(w, cands, strict=True)
                ]
            )
        spec = cands[int(rng.choice(len(cands), p=w / w.sum()))]
        arms = None
        if (
            spec.family not in ("jump",)
            and rng.random() < style.arm_activity * (0.4 + 0.6 * e)
            and arm_palette
        ):
            aw = np.array([_fit(a, e, d, style, genre) for a in arm_palette])
            arms = arm_palette[int(rng.choice(len(arm_palette), p=aw / aw.sum()))].name
        mirror = lead_right if len(chosen) % 2 == 0 else not lead_right
        chosen.append((spec.name, bool(mirror), arms))
        beats = _move_beats(spec, phrase // 2)
        filled += beats if _has_steps(spec, phrase // 2) else room
    return chosen


_BEATS_CACHE: dict[tuple[str, int], int] = {}


def _move_beats(spec: mv.MoveSpec, bpb: int) -> int:
    key = (spec.name, bpb)
    if key not in _BEATS_CACHE:
        _BEATS_CACHE[key] = spec.build(mv.MoveParams(bpb=bpb)).beats
    return _BEATS_CACHE[key]


def _steer(clip: mv.MoveClip, mirror: bool, floor: _Floor, style: DancerStyle, rng) -> bool:
    """Pick the mirror that brings a travelling or turning move back to centre and front."""
    if clip.turn != 0.0 and abs(abs(clip.turn) - 2 * math.pi) > 1e-6:
        after = [_wrap(floor.yaw + (-clip.turn if m else clip.turn)) for m in (False, True)]
        if abs(_wrap(floor.yaw)) > 1e-3:
            return bool(abs(after[1]) < abs(after[0]))
        return mirror
    if clip.travel != (0.0, 0.0) and math.hypot(floor.x, floor.z) > FLOOR_RADIUS * (
        1.5 - style.travel
    ):
        dist = []
        for m in (False, True):
            c = clip.mirrored() if m else clip
            x, z, _ = floor.after(c)
            dist.append(math.hypot(x, z))
        return bool(dist[1] < dist[0])
    return mirror

