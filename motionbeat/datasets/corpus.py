"""Beat-synchronous clip datasets for MotionBeat: songs, clips, batches with hard negatives.

Three layers, each a plain value or a small class:

1. **Songs** (:class:`SongData`). Per song, the audio front end runs once: ``frame_features``
   and the Rhythm-derived ``beat_tokens`` (the corpus' own beats: exact for synthesized mma
   songs, ``analyse_rhythm``'s for recorded ones). Every dance of the song is turned into
   151-wide contract frames (``kinematics.motion_to_features``: velocity contact labels, root
   position, 6-D rotations) and pooled onto the *same* tokens with ``pool_frames_to_tokens``,
   together with the rhythm targets of ``motionbeat.encoder.losses`` (foot-strike pulse, kinetic
   energy). The result is cached as ``.npz`` under
   ``<corpus>/cache/motionbeat-<frontend_version>/<song_id>.npz``; the version hashes every
   front-end constant and the cache format, and each file records a hash of the song record it
   was made from, so a changed corpus or front end is recomputed, never silently reused.
   :func:`load_corpus_songs` reads our corpus (``motionbeat.choreography.build`` layout),
   :func:`load_aistpp_songs` an AIST++ release through ``motionbeat.datasets.aistpp``.
2. **Clips** (:class:`ClipDataset`). A clip is K = ``beats_per_clip`` consecutive beats of one
   dance, N = K * S tokens. It keeps ``jitter_beats`` spare beats on each side so that the
   beat-jitter negatives of the Embodied Contrastive Loss, the same dance shifted by
   +-jitter_beats beats, exist for every clip. Clips start every ``stride_beats`` beats inside
   the beats the dance covers. Root x/z of every window is made relative to its first token
   (where a dancer stands on the floor says nothing about the music).
3. **Batches** (:class:`HardNegativeBatchSampler`). InfoNCE only learns fine rhythm when a batch
   holds confusable negatives. Batches are built from groups: an anchor clip, ``same_song``
   clips of the same song at other positions (MotionBeat's "same BPM, different phase"), and
   clips of other songs within the tempo tolerance ``|log t_a - log t_b| <= log(1 + tol)``
   (the relation ``losses.tempo_aware_negative_mask`` uses), filled up with random clips.

Shapes: D dances of a song, T frames, N tokens, S steps per beat, K beats per clip,
J = 2 jitter windows (shift -j and +j beats), C = ``contract.FRAME_DIM`` = 151.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motionbeat import audio as au
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
ROOT_X, ROOT_Z = contract.ROOT_POS.start, contract.ROOT_POS.start + 2
"""Frame channels of the horizontal root position (y-up: x and z are the floor plane)."""
DEFAULT_STRIDE_BEATS: int = 2
"""Training clips start every 2 beats: consecutive clips overlap by K - 2 beats."""
DEFAULT_GROUP_SIZE: int = 8
"""Clips per hard-negative group: the anchor, DEFAULT_SAME_SONG of its song, one of its tempo."""
DEFAULT_SAME_SONG: int = 6
"""Clips of the anchor's own song in a group. Song identity (timbre, the dancers) cannot tell
them apart, so the encoders must read where in the clip the melody and the hits fall. Chosen
on the validation songs: the compact encoder reached validation R@1 8.8 % / 5.3 % with 6 of 8
against 5.0 % / 4.1 % with the earlier 1 of 4 (``docs/motionbeat.md``)."""
JITTER_WINDOWS: int = 2
"""Beat-jitter windows per clip: shifted by -jitter_beats and by +jitter_beats."""
SPLITS: tuple[str, ...] = ("train", "val", "test")

def frontend_version(steps_per_beat: int) -> str:
    """Short hash of everything that shapes a cached song: front-end constants, S, cache format."""
    spec = {
        "cache_format": CACHE_FORMAT,
        "fps": contract.FPS,
        "frame_dim": contract.FRAME_DIM,
        "contact_speed": contract.CONTACT_SPEED,
        "sample_rate": au.SAMPLE_RATE,
        "n_mels": au.N_MELS,
        "n_fft": au.N_FFT,
        "fmin": au.FMIN,
        "fmax": au.FMAX,
        "log_amin": au.LOG_AMIN,
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
    tokens: au.BeatTokens
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

    def rhythm(self) -> au.Rhythm:
        """The song's rhythm as the front end's value (from the recorded beats)."""
        return rhythm_from_beats(
            self.beat_times, self.downbeat_times, self.beats_per_bar, self.duration, self.tempo_bpm
        )

    def frame_features(self) -> au.FrameFeatures:
        """The (T, n_mels) log-mel and (T,) onset frames, read from the cache on demand."""
        if self.cache_path is None:
            raise ValueError(f"{self.song_id}: no cache file to read frame features from")
        with np.load(self.cache_path, allow_pickle=False) as z:
            return au.FrameFeatures(
                mel=z["frame_mel"], onset=z["frame_onset"], fps=int(z["fps"]),
                duration=float(z["duration"]),
            )


def rhythm_from_beats(
    beat_times: np.ndarray,
    downbeat_times: np.ndarray,
    beats_per_bar: int,
    duration: float,
    tempo_bpm: float | None = None,
) -> au.Rhythm:
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
        tempo_bpm = 60.0 / float(np.mean(np.diff(beats))) if len(beats) >= 2 else au.DEFAULT_BPM
    return au.Rhythm(
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


def pool_dances(tokens: au.BeatTokens, frames: np.ndarray) -> dict[str, np.ndarray]:
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
    pooled = au.pool_frames_to_tokens(np.moveaxis(frames, 0, 1), edges)  # (N, D, C)
    return {
        "motion": np.ascontiguousarray(np.moveaxis(pooled, 0, 1), dtype=np.float32),
        "contact_pulse": np.ascontiguousarray(au.pool_frames_to_tokens(pulse.T, edges).T,
                                              dtype=np.float32),
        "kinetic_energy": np.ascontiguousarray(au.pool_frames_to_tokens(energy.T, edges).T,
                                               dtype=np.float32),
    }


def covered_beats(tokens: au.BeatTokens, num_frames: int) -> tuple[int, int]:
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


def _tokens_to_arrays(tokens: au.BeatTokens) -> dict[str, np.ndarray]:
    return {
        "tok_mel": tokens.mel, "tok_onset": tokens.onset, "tok_beat_phase": tokens.beat_phase,
        "tok_bar_phase": tokens.bar_phase, "tok_bar_position": tokens.bar_position,
        "tok_beat_index": tokens.beat_index, "tok_time_edges": tokens.time_edges,
        "tok_meta": np.array([tokens.steps_per_beat, tokens.beats_per_bar, tokens.fps,
                              tokens.num_frames], dtype=np.int64),
    }


def _tokens_from_arrays(z) -> au.BeatTokens:
    s, bpb, fps, t = (int(v) for v in z["tok_meta"])
    return au.BeatTokens(
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
    audio = au.load_audio(src.audio_path)
    features = au.frame_features(audio)
    rhythm = src.rhythm(audio)
    tokens = au.beat_tokens(features, rhythm, steps_per_beat)
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
    steps_per_beat: int = au.STEPS_PER_BEAT,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> list[SongData]:
    """Every song of our corpus (optionally of some splits), cached and pooled.

    The grid comes from each record's beats (``beat_times``, ``downbeat_times``,
    ``beats_per_bar``): the beats the dances were choreographed to. The genre label is the
    mma groove family of ``groove["style"]`` (``""`` for recorded Debian songs).
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
            genre=groove_family(style), beats_exact=bool(rec.get("beats_exact", False)),
            audio_path=audio_path, key=key, rhythm=rhythm, dances=dances,
        ))
    return _load_sources(sources, steps_per_beat, cache, progress)


def load_aistpp_songs(
    root: str | os.PathLike,
    splits: Sequence[str] | None = None,
    *,
    steps_per_beat: int = au.STEPS_PER_BEAT,
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
            audio_path=wav, key=key, rhythm=lambda audio: au.analyse_rhythm(audio),
            dances=dances,
        ))
    return _load_sources(sources, steps_per_beat, cache, progress)


# --- clips -------------------------------------------------------------------------------------
def canonical_root(motion: np.ndarray) -> np.ndarray:
    """Copy of (..., N, C) motion tokens with root x/z relative to the window's first token."""
    out = np.array(motion, dtype=np.float32, copy=True)
    for ch in (ROOT_X, ROOT_Z):
        out[..., ch] -= out[..., :1, ch]
    return out


class ClipDataset(torch.utils.data.Dataset):
    """Clips of K beats (N = K * S tokens) over a list of songs.

    Item ``i`` (a dict of numpy arrays, so ``default_collate`` stacks it into tensors):

    * ``audio`` (N, n_mels), ``motion`` (N, C), ``beat_phase`` / ``bar_phase`` (N,);
    * rhythm targets ``onset`` / ``contact_pulse`` / ``kinetic_energy`` (N,);
    * ``jitter_motion`` (J, N, C) with ``jitter_beat_phase`` / ``jitter_bar_phase`` (J, N): the
      same dance's windows starting ``-jitter_beats`` and ``+jitter_beats`` beats away, each
      with its own phases (J = 0 when ``jitter_beats`` is 0);
    * ``tempo`` (local tempo of the clip, 60 K / clip seconds), ``song`` (index into
      ``songs``), ``dance``, ``start_beat`` (token-grid beat index of the first beat).

    Args:
        songs: the songs (:func:`load_corpus_songs` / :func:`load_aistpp_songs`).
        beats_per_clip: K; steps per beat come from the songs' tokens.
        jitter_beats: spare beats kept on each side; clips start only where they exist.
        stride_beats: beats between the starts of consecutive clips of a dance.
        first_dance_only: one dance per song (retrieval galleries: two dances of one window
            would be two correct answers).
    """

    def __init__(
        self,
        songs: Sequence[SongData],
        beats_per_clip: int,
        *,
        jitter_beats: int = 1,
        stride_beats: int = DEFAULT_STRIDE_BEATS,
        first_dance_only: bool = False,
    ):
        if beats_per_clip < 1 or stride_beats < 1 or jitter_beats < 0:
            raise ValueError("need beats_per_clip >= 1, stride_beats >= 1, jitter_beats >= 0")
        self.songs = list(songs)
        self.beats_per_clip = int(beats_per_clip)
        self.jitter_beats = int(jitter_beats)
        self.stride_beats = int(stride_beats)
        steps = {s.tokens.steps_per_beat for s in self.songs}
        if len(steps) > 1:
            raise ValueError(f"songs tokenised with different steps per beat: {sorted(steps)}")
        self.steps_per_beat = steps.pop() if steps else au.STEPS_PER_BEAT
        rows = []  # (song, dance, start_beat)
        k, j = self.beats_per_clip, self.jitter_beats
        for si, song in enumerate(self.songs):
            for d in range(1 if first_dance_only else song.num_dances):
                first, stop = (int(v) for v in song.beat_range[d])
                rows += [(si, d, b) for b in range(first + j, stop - k - j + 1, self.stride_beats)]
        table = np.array(rows, dtype=np.int64).reshape(-1, 3)
        self.clip_song, self.clip_dance, self.clip_start = table[:, 0], table[:, 1], table[:, 2]
        pairs = zip(self.clip_song, self.clip_start, strict=True)
        self.clip_tempo = np.array([self._tempo(int(s), int(b)) for s, b in pairs], np.float64)

    @property
    def tokens_per_clip(self) -> int:
        return self.beats_per_clip * self.steps_per_beat

    def _tempo(self, song: int, start: int) -> float:
        edges = self.songs[song].tokens.time_edges
        s, k = self.steps_per_beat, self.beats_per_clip
        return 60.0 * k / float(edges[(start + k) * s] - edges[start * s])

    def __len__(self) -> int:
        return len(self.clip_song)

    def clip(self, i: int) -> tuple[int, int, int]:
        """(song, dance, start_beat) of clip ``i``."""
        return int(self.clip_song[i]), int(self.clip_dance[i]), int(self.clip_start[i])

    def window(self, song: int, dance: int, start_beat: int) -> dict[str, np.ndarray]:
        """Tokens of K beats from ``start_beat`` (no jitter windows)."""
        sd = self.songs[song]
        s = self.steps_per_beat
        a, b = start_beat * s, start_beat * s + self.tokens_per_clip
        return {
            "audio": sd.tokens.mel[a:b],
            "motion": canonical_root(sd.motion[dance, a:b]),
            "beat_phase": sd.tokens.beat_phase[a:b],
            "bar_phase": sd.tokens.bar_phase[a:b],
            "onset": sd.tokens.onset[a:b],
            "contact_pulse": sd.contact_pulse[dance, a:b],
            "kinetic_energy": sd.kinetic_energy[dance, a:b],
        }

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        song, dance, start = self.clip(i)
        item = self.window(song, dance, start)
        n, j = self.tokens_per_clip, self.jitter_beats
        shifted = [self.window(song, dance, start + o) for o in ((-j, j) if j else ())]
        width = self.songs[song].motion.shape[-1]
        item["jitter_motion"] = (np.stack([w["motion"] for w in shifted]) if shifted
                                 else np.zeros((0, n, width), np.float32))  # (J, N, C)
        for name in ("beat_phase", "bar_phase"):
            item[f"jitter_{name}"] = (np.stack([w[name] for w in shifted]) if shifted
                                      else np.zeros((0, n), np.float32))  # (J, N)
        item.update(
            tempo=np.float32(self.clip_tempo[i]), song=np.int64(song), dance=np.int64(dance),
            start_beat=np.int64(start),
        )
        return item

    def input_statistics(
        self, max_clips: int = 4096, seed: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-channel mean and std of audio (n_mels,) and motion (C,) tokens of the clips.

        Over at most ``max_clips`` clips drawn with ``seed`` (root-canonicalised, as the model
        sees them), accumulated in float64. Pass to ``MotionBeat.set_input_statistics``.
        """
        if len(self) == 0:
            raise ValueError("no clips to take input statistics from")
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(len(self), size=min(max_clips, len(self)), replace=False))
        windows = [self.window(*self.clip(int(i))) for i in idx]
        audio = np.concatenate([w["audio"] for w in windows])  # (M * N, n_mels)
        motion = np.concatenate([w["motion"] for w in windows])  # (M * N, C)
        stats = [audio.mean(0, dtype=np.float64), audio.std(0, dtype=np.float64),
                 motion.mean(0, dtype=np.float64), motion.std(0, dtype=np.float64)]
        return tuple(torch.as_tensor(s, dtype=torch.float32) for s in stats)


# --- batches -----------------------------------------------------------------------------------
class HardNegativeBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Batches of clip indices made of hard-negative groups (see the module docstring).

    Each group: an anchor (anchors are a fresh permutation of all clips every epoch),
    ``same_song`` other clips of the anchor's song at other start beats, and clips of other
    songs whose tempo is within ``tempo_tolerance`` of the anchor's, ``group_size`` in all;
    missing members are filled with random clips. No clip repeats within a batch. An epoch has
    ``ceil(n / batch_size)`` batches, so each clip is seen about once per epoch.

    Deterministic given ``seed`` and the epoch (:meth:`set_epoch`). For several processes
    (``num_replicas``), every process draws the same global sequence and keeps the batches
    ``b`` with ``b mod num_replicas == rank``; each process's batch is a full batch.
    ``set_epoch(epoch, start_batch)`` skips the first batches of the epoch (resuming).
    """

    def __init__(
        self,
        clip_song: np.ndarray,
        clip_start: np.ndarray,
        clip_tempo: np.ndarray,
        batch_size: int,
        *,
        group_size: int = DEFAULT_GROUP_SIZE,
        same_song: int = DEFAULT_SAME_SONG,
        tempo_tolerance: float = 0.04,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ):
        if batch_size < 1 or group_size < 1 or not 0 <= same_song < group_size:
            raise ValueError("need batch_size >= 1, group_size >= 1, 0 <= same_song < group_size")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} outside [0, {num_replicas})")
        self.song = np.asarray(clip_song, dtype=np.int64)
        self.start = np.asarray(clip_start, dtype=np.int64)
        self.log_tempo = np.log(np.asarray(clip_tempo, dtype=np.float64))
        self.batch_size, self.group_size, self.same_song = batch_size, group_size, same_song
        self.log_tol = float(np.log1p(tempo_tolerance))
        self.seed, self.num_replicas, self.rank = seed, num_replicas, rank
        self.epoch, self.start_batch = 0, 0
        self.by_tempo = np.argsort(self.log_tempo, kind="stable")  # clip ids sorted by tempo
        self.sorted_tempo = self.log_tempo[self.by_tempo]
        order = np.argsort(self.song, kind="stable")
        bounds = np.flatnonzero(np.diff(self.song[order])) + 1
        self.song_clips = {int(self.song[g[0]]): g for g in np.split(order, bounds) if len(g)}

    @classmethod
    def for_dataset(
        cls, dataset: ClipDataset, batch_size: int, **kwargs
    ) -> HardNegativeBatchSampler:
        """The sampler over ``dataset``'s clips."""
        return cls(dataset.clip_song, dataset.clip_start, dataset.clip_tempo, batch_size, **kwargs)

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        self.epoch, self.start_batch = int(epoch), int(start_batch)

    def __len__(self) -> int:
        n = len(self.song)
        if n == 0:
            return 0
        total = -(-n // self.batch_size)  # ceil
        return max(total // self.num_replicas, 1)

    def _pick(self, pool: np.ndarray, count: int, taken: set, windows: set,
              rng: np.random.Generator) -> list[int]:
        """Up to ``count`` clips of ``pool`` that are not in the batch, nor their windows."""
        if count <= 0 or len(pool) == 0:
            return []
        tries = pool if len(pool) <= 8 * count else pool[rng.integers(len(pool), size=8 * count)]
        tries = rng.permutation(tries)
        fresh = [int(c) for c in tries
                 if int(c) not in taken and (int(self.song[c]), int(self.start[c])) not in windows]
        out = list(dict.fromkeys(fresh))[:count]
        return out

    def _batch(self, anchors: Iterator[int], rng: np.random.Generator) -> list[int]:
        n = len(self.song)
        target = min(self.batch_size, n)
        batch: list[int] = []
        taken: set[int] = set()
        windows: set[tuple[int, int]] = set()

        def add(c: int) -> None:
            batch.append(c)
            taken.add(c)
            windows.add((int(self.song[c]), int(self.start[c])))

        misses = 0
        while len(batch) < target:
            a = next(anchors)
            if a in taken:
                misses += 1
                if misses > n:  # every clip is in the batch already (tiny datasets)
                    break
                continue
            add(a)
            members = self._pick(self.song_clips[int(self.song[a])], self.same_song,
                                 taken, windows, rng)
            for c in members:
                add(c)
            want = self.group_size - 1 - len(members)
            lo = np.searchsorted(self.sorted_tempo, self.log_tempo[a] - self.log_tol, "left")
            hi = np.searchsorted(self.sorted_tempo, self.log_tempo[a] + self.log_tol, "right")
            near = self.by_tempo[lo:hi]
            near = near[self.song[near] != self.song[a]]
            for c in self._pick(near, want, taken, windows, rng):
                add(c)
            want = self.group_size - (len(batch) - batch.index(a))
            if want > 0:  # fill the group with random clips
                for c in self._pick(rng.integers(n, size=8 * want), want, taken, windows, rng):
                    add(c)
        return batch[:target]

    def __iter__(self) -> Iterator[list[int]]:
        n = len(self.song)
        if n == 0:
            return
        rng = np.random.default_rng([self.seed, self.epoch])

        def anchor_stream() -> Iterator[int]:
            while True:
                yield from (int(c) for c in rng.permutation(n))

        anchors = anchor_stream()
        for b in range(len(self) * self.num_replicas):
            batch = self._batch(anchors, rng)
            if b // self.num_replicas < self.start_batch:
                continue
            if b % self.num_replicas == self.rank:
                yield batch


def clip_batches(indices: Sequence[int], batch_size: int) -> list[list[int]]:
    """Consecutive fixed-order batches (evaluation)."""
    idx = [int(i) for i in indices]
    return [idx[a:a + batch_size] for a in range(0, len(idx), batch_size)]


def collate(items: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Stack clip items into a batch of tensors (B leading)."""
    return {k: torch.as_tensor(np.stack([it[k] for it in items])) for k in items[0]}


# --- toy corpus --------------------------------------------------------------------------------
TOY_STYLES: tuple[tuple[str, int], ...] = (("rock-128", 4), ("waltz", 3), ("bossanova", 4))
"""(mma style name, meter) of the toy songs: three groove families (rock_pop, waltz, latin)."""
TOY_SAMPLE_RATE: int = au.SAMPLE_RATE
TOY_LEVEL: float = 0.3
"""Peak amplitude of one drum hit of the toy songs (well above the front end's silence level)."""


def _toy_hit(freq: float, seconds: float, decay: float, noise: float, rng) -> np.ndarray:
    """One decaying drum-like hit: a sine at ``freq`` plus white noise, exp(-t / decay)."""
    t = np.arange(int(seconds * TOY_SAMPLE_RATE)) / TOY_SAMPLE_RATE
    tone = (1 - noise) * np.sin(2 * np.pi * freq * t) + noise * rng.standard_normal(len(t))
    return (TOY_LEVEL * np.exp(-t / decay) * tone).astype(np.float32)


def _toy_audio(style: int, bpm: float, meter: int, seconds: float, rng) -> np.ndarray:
    """Drum pattern of toy style ``style`` at ``bpm``: beat k plays at exactly k * 60 / bpm."""
    y = np.zeros(int(seconds * TOY_SAMPLE_RATE), np.float32)
    period = 60.0 / bpm
    kick, snare = _toy_hit(60, 0.2, 0.05, 0.05, rng), _toy_hit(200, 0.15, 0.04, 0.8, rng)
    hat = _toy_hit(6000, 0.05, 0.01, 0.9, rng)
    tone = _toy_hit(440 * (1 + style), 0.25, 0.1, 0.0, rng)
    events = []
    for k in range(int(seconds / period) + 1):
        t, pos = k * period, k % meter
        if style == 0:  # rock: kick on 1 and 3, snare on 2 and 4, eighth-note hats
            events += [(t, kick if pos in (0, 2) else snare), (t, hat), (t + period / 2, hat)]
        elif style == 1:  # waltz: bass on 1, a tone on 2 and 3
            events += [(t, kick if pos == 0 else tone)]
        else:  # bossa: kick on every beat, off-beat tones and hats on sixteenths
            events += [(t, kick), (t + period / 2, tone)]
            events += [(t + q * period / 4, hat) for q in range(4)]
    for t, hit in events:
        a = int(round(t * TOY_SAMPLE_RATE))
        if a < len(y):
            n = min(len(hit), len(y) - a)
            y[a:a + n] += hit[:n]
    return y


def _toy_dance(beats: np.ndarray, meter: int, frames: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """A beat-locked toy dance: knees bend and the pelvis dips on every beat, arms swing per bar.

    Returns poses (T, 24, 3) axis-angle and trans (T, 3), y-up, at contract.FPS.
    """
    t = np.arange(frames) / contract.FPS
    k = np.clip(np.searchsorted(beats, t, "right") - 1, 0, len(beats) - 2)
    phase = np.clip((t - beats[k]) / (beats[k + 1] - beats[k]), 0.0, 1.0)  # (T,) beat phase
    bar = ((k % meter) + phase) / meter  # (T,) bar phase
    dip = 0.5 * (1 + np.cos(2 * np.pi * phase))  # 1 on the beat, 0 between beats
    amp, arm, lag = rng.uniform(0.2, 0.45), rng.uniform(0.3, 0.8), rng.uniform(0.0, 0.1)
    poses = np.zeros((frames, contract.NUM_JOINTS, 3), np.float32)
    j = contract.JOINT_INDEX
    for knee, hip in (("L_Knee", "L_Hip"), ("R_Knee", "R_Hip")):
        poses[:, j[knee], 0] = amp * dip
        poses[:, j[hip], 0] = -0.5 * amp * dip
    swing = arm * np.sin(2 * np.pi * (bar - lag))
    poses[:, j["L_Shoulder"], 2], poses[:, j["R_Shoulder"], 2] = swing - 1.0, swing + 1.0
    trans = np.zeros((frames, 3), np.float32)
    trans[:, 1] = 0.92 - 0.06 * amp * dip
    trans[:, 0] = 0.05 * np.sin(2 * np.pi * bar)
    return poses, trans


def write_toy_corpus(
    out: str | os.PathLike,
    splits: Sequence[str] = ("train", "train", "train", "train", "val", "test"),
    *,
    seconds: float = 8.0,
    seed: int = 0,
    dancers: int = 2,
) -> Path:
    """Write a tiny corpus in the ``motionbeat.choreography.build`` layout in about a second.

    For tests and smoke runs only: song ``i`` is a synthetic drum pattern of toy style
    ``i mod 3`` (:data:`TOY_STYLES`, one groove family each) at a tempo from 96 to 150 BPM with
    exact beats (``beats_exact``, ``source = "mma"``), split ``splits[i]``, danced by
    ``dancers`` beat-locked toy dancers. Returns the manifest path.
    """
    import soundfile as sf

    out = Path(out)
    for sub in ("audio", "shards", "songs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tempi = np.linspace(96.0, 150.0, max(len(splits), 2))
    songs = []
    for i, split in enumerate(splits):
        style, meter = TOY_STYLES[i % len(TOY_STYLES)]
        bpm = float(round(tempi[(i * 7) % len(tempi)]))
        song_id = f"toy-{seed}-{i:03d}"
        y = _toy_audio(i % len(TOY_STYLES), bpm, meter, seconds, rng)
        sf.write(out / "audio" / f"{song_id}.flac", y, TOY_SAMPLE_RATE, format="FLAC")
        beats = np.arange(0.0, seconds, 60.0 / bpm)
        frames = round(seconds * contract.FPS)
        dances = [_toy_dance(beats, meter, frames, rng) for _ in range(dancers)]
        ids = [f"{song_id}-d{d}" for d in range(dancers)]
        with open(out / "shards" / f"{song_id}.npz", "wb") as fh:
            np.savez(fh, poses=np.stack([p for p, _ in dances]),
                     trans=np.stack([t for _, t in dances]),
                     contacts=np.ones((dancers, frames, contract.NUM_CONTACTS), np.float32),
                     fps=np.float64(contract.FPS), dance_ids=np.array(ids),
                     format_version=np.int64(1))
        record = {
            "song_id": song_id, "source": "mma", "licence": "toy", "title": f"toy {style}",
            "groove": {"style": style, "grooves": [style]}, "beats_exact": True, "sections": [],
            "tempo_bpm": bpm, "beat_times": [round(float(b), 6) for b in beats],
            "downbeat_times": [round(float(b), 6) for b in beats[::meter]],
            "beats_per_bar": meter, "duration": seconds, "split": split,
            "audio": f"audio/{song_id}.flac", "shard": f"shards/{song_id}.npz",
            "dances": [{"dance_id": d, "seed": seed, "frames": frames} for d in ids],
        }
        (out / "songs" / f"{song_id}.json").write_text(json.dumps(record))
        songs.append(record)
    manifest = {
        "format_version": 1, "fps": contract.FPS, "seed": seed, "num_songs": len(songs),
        "num_dances": len(songs) * dancers, "sources": ["toy"],
        "splits": {k: sum(s["split"] == k for s in songs) for k in SPLITS}, "songs": songs,
    }
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path
