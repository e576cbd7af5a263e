"""Songs for MotionBeat: :class:`SongData`, one song on its beat-token grid, computed once and cached.

Per song, the audio front end runs once: ``frame_features`` and the Rhythm-derived
``beat_tokens`` (the corpus' own beats: exact for synthesized mma songs, ``analyse_rhythm``'s for
recorded ones). Every dance of the song is turned into 151-wide contract frames
(``kinematics.motion_to_features``: velocity contact labels, root position, 6-D rotations) and
pooled onto the *same* tokens with ``pool_frames_to_tokens``, together with the rhythm targets of
``motionbeat.encoder.losses`` (foot-strike pulse, kinetic energy). The result is cached as
``.npz`` under ``<corpus>/cache/motionbeat-<frontend_version>/<song_id>.npz``; the version hashes
every front-end constant and the cache format, and each file records a hash of the song record
it was made from, so a changed corpus or front end is recomputed, never silently reused.
:func:`load_corpus_songs` reads our corpus (``motionbeat.choreography.build`` layout),
:func:`load_aistpp_songs` an AIST++ release through ``motionbeat.datasets.aistpp``.

Clips of these songs are :mod:`motionbeat.datasets.clips`, their batches
:mod:`motionbeat.datasets.batches`.

Shapes: D dances of a song, T frames, N tokens, S steps per beat, C = ``contract.FRAME_DIM`` = 151.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motionbeat.audio.decode import SAMPLE_RATE, load_audio
from motionbeat.audio.features import FMAX, FMIN, LOG_AMIN, N_FFT, N_MELS, FrameFeatures, frame_features
from motionbeat.audio.rhythm import DEFAULT_BPM, Rhythm, analyse_rhythm
from motionbeat.audio.tokens import STEPS_PER_BEAT, BeatTokens, beat_tokens, pool_frames_to_tokens
from motionbeat.core import contract, kinematics
from motionbeat.core.fileio import atomic_path
from motionbeat.music.groove_families import groove_family

log = logging.getLogger(__name__)

# --- constants ---------------------------------------------------------------------------------
CACHE_FORMAT: int = 1
"""Version of the song cache layout; part of :func:`frontend_version`."""
CACHE_SUBDIR: str = "cache"
"""Cache folder inside a corpus (or an AIST++ root) unless another is given."""
BEAT_EDGE_TOLERANCE: float = 0.5
"""A beat counts as covered by a dance when its token edges lie inside ``[0, T]`` frames with
this many frames of slack (half a frame: the frame centred there still belongs to it)."""
SPLITS: tuple[str, ...] = ("train", "val", "test")
"""Corpus splits; a tie in an AIST++ music piece's split vote goes to the earlier one."""


def frontend_version(steps_per_beat: int) -> str:
    """Short hash of everything that shapes a cached song: front-end constants, S, cache format."""
    spec = {
        "cache_format": CACHE_FORMAT,
        "fps": contract.FPS,
        "frame_dim": contract.FRAME_DIM,
        "contact_speed": contract.CONTACT_SPEED,
        "sample_rate": SAMPLE_RATE,
        "n_mels": N_MELS,
        "n_fft": N_FFT,
        "fmin": FMIN,
        "fmax": FMAX,
        "log_amin": LOG_AMIN,
        "steps_per_beat": int(steps_per_beat),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]


# --- songs -------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SongData:
    """One song on its beat-token grid, with every dance pooled onto the same tokens.

    ``tokens`` is the audio side (``BeatTokens``: (N, n_mels) log-mel, phases, edges);
    ``motion`` (D, N, C) the pooled contract frames of each dance, ``contact_pulse`` and
    ``kinetic_energy`` (D, N) its rhythm targets; ``beat_range`` (D, 2) the ``[first, stop)``
    beats (token-grid beat indices) each dance covers. ``genre`` is the label of the genre
    probe (mma groove family, AIST++ genre code, ``""`` when unknown).
    """

    song_id: str
    split: str
    source: str
    genre: str
    tempo_bpm: float
    beats_exact: bool
    duration: float
    tokens: BeatTokens
    motion: np.ndarray  # (D, N, C) float32
    contact_pulse: np.ndarray  # (D, N) float32
    kinetic_energy: np.ndarray  # (D, N) float32
    beat_range: np.ndarray  # (D, 2) int64
    dance_ids: tuple[str, ...]
    beat_times: np.ndarray  # (K_song,) seconds, the song's own beats (the grid's source)
    downbeat_times: np.ndarray  # (B,) seconds
    cache_path: Path | None = None
    audio_path: Path | None = None

    @property
    def num_dances(self) -> int:
        return self.motion.shape[0]

    @property
    def beats_per_bar(self) -> int:
        return self.tokens.beats_per_bar

    def rhythm(self) -> Rhythm:
        """The song's rhythm as the front end's value (from the recorded beats)."""
        return rhythm_from_beats(
            self.beat_times, self.downbeat_times, self.beats_per_bar, self.duration, self.tempo_bpm
        )

    def frame_features(self) -> FrameFeatures:
        """The (T, n_mels) log-mel and (T,) onset frames, read from the cache on demand."""
        if self.cache_path is None:
            raise ValueError(f"{self.song_id}: no cache file to read frame features from")
        with np.load(self.cache_path, allow_pickle=False) as z:
            return FrameFeatures(
                mel=z["frame_mel"], onset=z["frame_onset"], fps=int(z["fps"]),
                duration=float(z["duration"]),
            )


def rhythm_from_beats(
    beat_times: np.ndarray,
    downbeat_times: np.ndarray,
    beats_per_bar: int,
    duration: float,
    tempo_bpm: float | None = None,
) -> Rhythm:
    """A :class:`~motionbeat.audio.Rhythm` from recorded beats and downbeats.

    The bar position of beat k is ``(k - k0) mod beats_per_bar`` with k0 the beat nearest to
    the first downbeat (0 when there is none), which is how the front end numbers bars too.
    """
    beats = np.asarray(beat_times, dtype=np.float64)
    downs = np.asarray(downbeat_times, dtype=np.float64)
    meter = int(beats_per_bar)
    first = int(np.argmin(np.abs(beats - downs[0]))) if len(downs) and len(beats) else 0
    position = ((np.arange(len(beats)) - first) % meter).astype(np.int64)  # (K,)
    if tempo_bpm is None:
        tempo_bpm = 60.0 / float(np.mean(np.diff(beats))) if len(beats) >= 2 else DEFAULT_BPM
    return Rhythm(
        tempo_bpm=float(tempo_bpm), beat_times=beats, downbeat_times=beats[position == 0],
        beats_per_bar=meter, bar_position=position, reliable=True, pulse_clarity=1.0,
        duration=float(duration),
    )


def motion_frames(poses: np.ndarray, trans: np.ndarray, fps: float) -> np.ndarray:
    """(D, T, 24, 3) axis-angle + (D, T, 3) root -> (D, T, C) contract frames at contract.FPS.

    Motions at another rate are resampled first (``kinematics.resample``: slerp).
    """
    with torch.no_grad():
        p = torch.as_tensor(np.asarray(poses, dtype=np.float32))
        t = torch.as_tensor(np.asarray(trans, dtype=np.float32))
        if fps != contract.FPS:
            pairs = [kinematics.resample(p[d], t[d], fps, contract.FPS) for d in range(len(p))]
            p = torch.stack([a for a, _ in pairs])
            t = torch.stack([b for _, b in pairs])
        return kinematics.motion_to_features(p, t, contract.FPS).numpy()  # (D, T, C)


def pool_dances(tokens: BeatTokens, frames: np.ndarray) -> dict[str, np.ndarray]:
    """Pool D dances' frames onto the song's tokens, with their rhythm targets.

    Args:
        tokens: the song's beat tokens (their ``frame_edges`` decide which frames a token owns).
        frames: (D, T, C) contract frames at ``tokens.fps``; T may differ from the song's.
    Returns:
        ``motion`` (D, N, C), ``contact_pulse`` and ``kinetic_energy`` (D, N), float32.
    """
    from motionbeat.core.motion_signals import contact_pulse_from_frames, kinetic_energy_from_frames

    with torch.no_grad():
        x = torch.as_tensor(frames)
        pulse = contact_pulse_from_frames(x).numpy()  # (D, T)
        energy = kinetic_energy_from_frames(x, float(tokens.fps)).numpy()  # (D, T)
    edges = tokens.frame_edges  # (N + 1,)
    # pool_frames_to_tokens pools along axis 0: (D, T, ...) -> (T, D, ...) and back
    pooled = pool_frames_to_tokens(np.moveaxis(frames, 0, 1), edges)  # (N, D, C)
    return {
        "motion": np.ascontiguousarray(np.moveaxis(pooled, 0, 1), dtype=np.float32),
        "contact_pulse": np.ascontiguousarray(pool_frames_to_tokens(pulse.T, edges).T,
                                              dtype=np.float32),
        "kinetic_energy": np.ascontiguousarray(pool_frames_to_tokens(energy.T, edges).T,
                                               dtype=np.float32),
    }


def covered_beats(tokens: BeatTokens, num_frames: int) -> tuple[int, int]:
    """``[first, stop)`` token-grid beats that lie inside frames ``[0, num_frames)``.

    Beat k spans edges ``[e_k, e_{k+1})`` in frame units (``tokens.frame_edges[::S]``); it is
    covered when ``e_k >= -BEAT_EDGE_TOLERANCE`` and ``e_{k+1} <= num_frames +
    BEAT_EDGE_TOLERANCE``, and ``e_{k+1}`` is inside the song's own frames too. Returns an
    empty range ``(0, 0)`` when no beat is covered.
    """
    s = tokens.steps_per_beat
    edges = tokens.frame_edges[::s]  # (K + 1,)
    limit = min(num_frames, tokens.num_frames) + BEAT_EDGE_TOLERANCE
    ok = (edges[:-1] >= -BEAT_EDGE_TOLERANCE) & (edges[1:] <= limit)  # (K,)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return 0, 0
    return int(idx[0]), int(idx[-1]) + 1


def _record_key(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _tokens_to_arrays(tokens: BeatTokens) -> dict[str, np.ndarray]:
    return {
        "tok_mel": tokens.mel, "tok_onset": tokens.onset, "tok_beat_phase": tokens.beat_phase,
        "tok_bar_phase": tokens.bar_phase, "tok_bar_position": tokens.bar_position,
        "tok_beat_index": tokens.beat_index, "tok_time_edges": tokens.time_edges,
        "tok_meta": np.array([tokens.steps_per_beat, tokens.beats_per_bar, tokens.fps,
                              tokens.num_frames], dtype=np.int64),
    }


def _tokens_from_arrays(z) -> BeatTokens:
    s, bpb, fps, t = (int(v) for v in z["tok_meta"])
    return BeatTokens(
        mel=z["tok_mel"], onset=z["tok_onset"], beat_phase=z["tok_beat_phase"],
        bar_phase=z["tok_bar_phase"], bar_position=z["tok_bar_position"],
        beat_index=z["tok_beat_index"], time_edges=z["tok_time_edges"], steps_per_beat=s,
        beats_per_bar=bpb, fps=fps, num_frames=t,
    )


@dataclass(frozen=True)
class _SongSource:
    """What is needed to (re)compute one song's cache entry."""

    song_id: str
    split: str
    source: str
    genre: str
    beats_exact: bool
    audio_path: Path
    key: str  # hash of the inputs: a cached file with another key is recomputed
    rhythm: object  # callable (Audio) -> Rhythm (the corpus' beats; analyse_rhythm for AIST++)
    dances: object  # callable () -> (dance_ids, frames (D, T, C), true frame count per dance)


def _song_from_cache(src: _SongSource, path: Path) -> SongData | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != src.key:
                return None
            tokens = _tokens_from_arrays(z)
            return SongData(
                song_id=src.song_id, split=src.split, source=src.source, genre=src.genre,
                tempo_bpm=float(z["tempo_bpm"]), beats_exact=src.beats_exact,
                duration=float(z["duration"]), tokens=tokens, motion=z["motion"],
                contact_pulse=z["contact_pulse"], kinetic_energy=z["kinetic_energy"],
                beat_range=z["beat_range"], dance_ids=tuple(str(d) for d in z["dance_ids"]),
                beat_times=z["beat_times"], downbeat_times=z["downbeat_times"], cache_path=path,
                audio_path=src.audio_path,
            )
    except (OSError, KeyError, ValueError):
        return None


def _compute_song(src: _SongSource, steps_per_beat: int, path: Path) -> SongData:
    audio = load_audio(src.audio_path)
    features = frame_features(audio)
    rhythm = src.rhythm(audio)
    tokens = beat_tokens(features, rhythm, steps_per_beat)
    dance_ids, frames, lengths = src.dances()
    pooled = pool_dances(tokens, frames)
    beat_range = np.array([covered_beats(tokens, t) for t in lengths], dtype=np.int64)
    arrays = {
        "key": np.str_(src.key), "fps": np.int64(features.fps),
        "duration": np.float64(features.duration), "tempo_bpm": np.float64(rhythm.tempo_bpm),
        "frame_mel": features.mel, "frame_onset": features.onset,
        "beat_times": np.asarray(rhythm.beat_times, dtype=np.float64),
        "downbeat_times": np.asarray(rhythm.downbeat_times, dtype=np.float64),
        "beat_range": beat_range.reshape(-1, 2), "dance_ids": np.array(dance_ids, dtype=np.str_),
        **_tokens_to_arrays(tokens), **pooled,
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    song = _song_from_cache(src, path)
    assert song is not None  # just written with this key
    return song


def _load_sources(
    sources: Sequence[_SongSource], steps_per_beat: int, cache_dir: Path, progress: bool
) -> list[SongData]:
    from tqdm import tqdm

    cache_dir.mkdir(parents=True, exist_ok=True)
    songs = []
    bar = tqdm(sources, desc="songs", unit="song", disable=not progress, file=sys.stderr)
    for src in bar:
        path = cache_dir / f"{src.song_id}.npz"
        song = _song_from_cache(src, path) if path.is_file() else None
        songs.append(song or _compute_song(src, steps_per_beat, path))
    return songs


def default_cache_dir(root: str | os.PathLike, steps_per_beat: int) -> Path:
    """``<root>/cache/motionbeat-<frontend_version>``."""
    return Path(root) / CACHE_SUBDIR / f"motionbeat-{frontend_version(steps_per_beat)}"


def load_corpus_songs(
    corpus: str | os.PathLike,
    splits: Sequence[str] | None = None,
    *,
    steps_per_beat: int = STEPS_PER_BEAT,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> list[SongData]:
    """Every song of our corpus (optionally of some splits), cached and pooled.

    The grid comes from each record's beats (``beat_times``, ``downbeat_times``,
    ``beats_per_bar``): the beats the dances were choreographed to. The genre label is the
    record's ``genre`` when it has one (datasets converted by ``corpus_view``), else the mma
    groove family of ``groove["style"]`` (``""`` for recorded Debian songs).
    """
    from motionbeat.datasets.manifest import load_manifest

    corpus = Path(corpus)
    cache = Path(cache_dir) if cache_dir else default_cache_dir(corpus, steps_per_beat)
    manifest = load_manifest(corpus)
    sources = []
    for rec in manifest["songs"]:
        if splits is not None and rec["split"] not in splits:
            continue
        shard, audio_path = corpus / rec["shard"], corpus / rec["audio"]
        groove = rec.get("groove") or {}
        style = groove.get("style", "") if isinstance(groove, dict) else ""
        key = _record_key({
            "version": frontend_version(steps_per_beat),
            "beats": rec["beat_times"], "downbeats": rec["downbeat_times"],
            "bpb": rec["beats_per_bar"], "duration": rec["duration"],
            "dances": [[d["dance_id"], d.get("seed"), d.get("frames")] for d in rec["dances"]],
            "sizes": [shard.stat().st_size, audio_path.stat().st_size],
        })

        def rhythm(audio, rec=rec):
            return rhythm_from_beats(rec["beat_times"], rec["downbeat_times"],
                                     rec["beats_per_bar"], audio.duration, rec.get("tempo_bpm"))

        def dances(shard=shard, rec=rec):
            with np.load(shard, allow_pickle=False) as z:
                frames = motion_frames(z["poses"], z["trans"], float(z["fps"]))  # (D, T, C)
            ids = tuple(d["dance_id"] for d in rec["dances"])
            return ids, frames, [frames.shape[1]] * len(frames)

        sources.append(_SongSource(
            song_id=rec["song_id"], split=rec["split"], source=rec.get("source", ""),
            genre=rec.get("genre") or groove_family(style),
            beats_exact=bool(rec.get("beats_exact", False)),
            audio_path=audio_path, key=key, rhythm=rhythm, dances=dances,
        ))
    return _load_sources(sources, steps_per_beat, cache, progress)


def load_aistpp_songs(
    root: str | os.PathLike,
    splits: Sequence[str] | None = None,
    *,
    steps_per_beat: int = STEPS_PER_BEAT,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> list[SongData]:
    """AIST++ as songs: one per music piece (``mBR0``), every sequence on it a dance.

    Beats come from ``analyse_rhythm`` (AIST++ has no beat annotations), motion from
    :class:`motionbeat.datasets.aistpp.AISTPP` (30 fps, metres, floor at 0). A music piece takes
    the split most of its sequences are in (counted over all splits, so train and test never
    share a piece), with all its sequences; the genre label is the music's genre code
    (``mBR0`` -> ``BR``). Pieces whose wav is missing are skipped with a warning.
    """
    from motionbeat.datasets.aistpp import AISTPP, music_id

    data = AISTPP(root)
    cache = Path(cache_dir) if cache_dir else default_cache_dir(root, steps_per_beat)
    by_music: dict[str, list[tuple[str, str]]] = {}
    for split in SPLITS:  # every split votes, so a piece has one split whatever is asked for
        for seq in data.sequences(split):
            by_music.setdefault(music_id(seq), []).append((seq, split))
    sources = []
    for mid, seqs in sorted(by_music.items()):
        votes = [sp for _, sp in seqs]
        split = max(SPLITS, key=votes.count)
        if splits is not None and split not in splits:
            continue
        wav = data.music_path(seqs[0][0])
        if wav is None:
            log.warning("AIST++ music %s is missing; its %d sequences are skipped", mid, len(seqs))
            continue
        names = sorted(s for s, _ in seqs)
        sizes = [(data.motion_dir / f"{n}.pkl").stat().st_size for n in names]
        key = _record_key({"version": frontend_version(steps_per_beat), "sequences": names,
                           "sizes": sizes, "wav": wav.stat().st_size})

        def dances(names=names):
            motions = [data.load(n) for n in names]
            frames = [motion_frames(m.poses[None], m.trans[None], m.fps)[0] for m in motions]
            t_max = max(f.shape[0] for f in frames)
            # pad to a common length by repeating the last frame; beat_range excludes the pad
            stacked = np.stack([np.concatenate([f, np.repeat(f[-1:], t_max - len(f), 0)])
                                for f in frames])  # (D, T_max, C)
            return tuple(names), stacked, [f.shape[0] for f in frames]

        sources.append(_SongSource(
            song_id=mid, split=split, source="aist++", genre=mid[1:3], beats_exact=False,
            audio_path=wav, key=key, rhythm=lambda audio: analyse_rhythm(audio),
            dances=dances,
        ))
    return _load_sources(sources, steps_per_beat, cache, progress)
