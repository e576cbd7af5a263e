"""A training pack: the generator's training data in a few compressed files that travel.

A lent GPU machine (``docs/generator.md``, "Training on a lent GPU") receives the working tree and
at most 64 MiB per call, and it has neither the corpus' audio, nor librosa, nor the song caches.
The generator's training reads only three things per song: the dances, the conditioned music
rows (:class:`~generator.model.conditioning.MusicCondition`) and the split. A pack holds exactly
those, computed here once from the corpus and its conditioning cache, so that
``python -m generator.train --pack DIR`` trains there with numpy and torch alone.

Layout of a pack folder (written atomically, file by file, ``pack.json`` last):

* ``pack.json``: ``format`` (:data:`PACK_FORMAT`), the conditioner, its cache key, the feature
  width, the MotionBeat encoder's stem and hash (the generator config records both), the
  quantisation steps, and per song its id, split, frame and dance counts, rhythm and part file.
* ``part-NNN.npz``: uncompressed ``.npz`` files of byte arrays, each an LZMA stream (Python's
  ``lzma``, preset :data:`LZMA_PRESET`) of one array of one song, a part closed once it reaches
  ``part_bytes``, so a pack over one call's limit can travel in several.

Encodings (measured on the 5-hour corpus, ``docs/generator.md``):

* **dances**: the corpus' axis-angle rotations (D, T, 24, 3) and root positions (D, T, 3),
  quantised, q = round(x / step) with :data:`POSE_STEP_RAD` and :data:`TRANS_STEP_M`, stored as
  first differences along time (q_t - q_{t-1}, q_{-1} = 0), channel-major (each channel's time
  series contiguous; LZMA then sees smooth runs: 113 KB instead of 181 KB for one song), int16
  for rotations (|q| <= pi / step < 2^15, so differences fit) and int32 for positions (a dancer
  may travel tens of metres). Decoding is a cumulative sum, exact in integers; the error is at
  most step / 2 (0.028 degrees, 0.5 mm). The 151-wide contract frames are rebuilt from them by
  :func:`motionbeat.datasets.songs.motion_frames`, as from the corpus' shards, except the foot
  contacts: they are thresholds on the feet's speed, which the quantisation flips in 0.16 % of
  the frames, so the corpus frames' contact bits are stored as they are (``numpy.packbits``).
* **music features**, ``music_bits`` 8 (the default) or 16. With 8, each song's channel c is
  stored as uint8, q = round((x - lo_c) / s_c) with lo_c its minimum and s_c = (max_c - lo_c) /
  255 (both float32 in the pack), so the error is at most s_c / 2: on the 5-hour corpus at most
  1.6 % of the channel's std within the song for MotionBeat features and 7.5 % for log-mel +
  onset (the spiky onset channel; a uniform error of that width has a std of 2 %), noise far
  below what the denoiser's condition dropout does to them. With 16, float16 (relative error at
  most 2^-11), twice the bytes. Channel major; MotionBeat features repeat within a beat token,
  which LZMA folds away.
* **phase** as float16 (error at most 2.4e-4 of a beat), wrapped back into [0, 1) on reading.
* beat times stay float64 (a few hundred numbers per song).
"""

from __future__ import annotations

import json
import lzma
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.model.conditioning import (
    MusicCondition,
    cache_dir_for,
    condition_corpus,
    generator_config,
    make_conditioner,
)
from generator.model.config import GeneratorConfig
from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path

PACK_FORMAT: int = 1
"""Version of the pack layout; a reader refuses any other."""
PACK_INDEX: str = "pack.json"
"""The pack's index file, written last: a folder without it is not a (finished) pack."""
POSE_STEP_RAD: float = 2.0**-10
"""Quantisation step of the axis-angle rotations, radians (0.056 degrees; error at most half)."""
TRANS_STEP_M: float = 1e-3
"""Quantisation step of the root position, metres."""
MUSIC_BITS: tuple[int, ...] = (8, 16)
"""Bits per music feature value a pack can hold (module docstring)."""
DEFAULT_MUSIC_BITS: int = 8
"""Bits per music feature value of a new pack: the 5-hour corpus' MotionBeat pack is 38.6 MiB
with 8 and 51.3 MiB with 16, and a device call carries 64 MiB with the tree and the wheels."""
DEFAULT_PART_BYTES: int = 48 * 2**20
"""Bytes after which a part file is closed: under one device call's 64 MiB with the tree."""
LZMA_PRESET: int = 9
"""LZMA compression preset (the strongest; writing the 5-hour corpus' pack takes minutes)."""


class PackError(ValueError):
    """A pack cannot be written or read: not a pack, another format, a value out of range."""


@dataclass(frozen=True)
class PackedSong:
    """A song of a pack: its id and split (what :func:`generator.train.data.build_window_data`
    reads of a song)."""

    song_id: str
    split: str


@dataclass(frozen=True, eq=False)
class TrainingPack:
    """A pack read back: ``info`` (the index), the songs, their music rows and dances.

    Attributes:
        info: the parsed ``pack.json``.
        songs: every song of the pack's splits, in the index's order.
        rows: per song id, its :class:`MusicCondition`.
        dances: per song id, (D, T, 151) float32 contract frames.
    """

    info: dict
    songs: list[PackedSong]
    rows: dict[str, MusicCondition]
    dances: dict[str, np.ndarray]

    @property
    def conditioner(self) -> str:
        return str(self.info["conditioner"])

    @property
    def music_dim(self) -> int:
        return int(self.info["music_dim"])


def is_pack(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a finished pack (its index)."""
    return (Path(folder) / PACK_INDEX).is_file()


# ---------------------------------------------------------------------------------- codecs


def _compress(a: np.ndarray) -> np.ndarray:
    return np.frombuffer(lzma.compress(np.ascontiguousarray(a).tobytes(), preset=LZMA_PRESET),
                         dtype=np.uint8)


def _decompress(blob: np.ndarray, dtype, shape: Sequence[int]) -> np.ndarray:
    return np.frombuffer(lzma.decompress(blob.tobytes()), dtype=dtype).reshape(shape)


def encode_quantised(x: np.ndarray, step: float, dtype) -> np.ndarray:
    """(..., T, C) values -> (..., C, T) first differences of round(x / step) along T, channel
    major, as ``dtype`` (module docstring). Raises :class:`PackError` where a value or a
    difference does not fit the type."""
    q = np.round(np.asarray(x, np.float64) / step).astype(np.int64)  # (..., T, C)
    diff = np.diff(q, axis=-2, prepend=0)  # (..., T, C), diff[..., 0, :] = q[..., 0, :]
    limit = np.iinfo(dtype).max
    if diff.size and int(np.abs(diff).max()) > limit:
        raise PackError(f"a value or a change of {int(np.abs(diff).max()) * step:.4g} per frame "
                        f"does not fit {np.dtype(dtype).name} at step {step:g}")
    return np.swapaxes(diff, -1, -2).astype(dtype)  # (..., C, T)


def decode_quantised(diff: np.ndarray, step: float) -> np.ndarray:
    """The inverse of :func:`encode_quantised`: (..., C, T) differences -> (..., T, C) float32."""
    q = np.cumsum(diff.astype(np.int64), axis=-1)  # (..., C, T)
    return np.ascontiguousarray(np.swapaxes(q, -1, -2) * step, dtype=np.float32)  # (..., T, C)


def _half_channel_major(x: np.ndarray, name: str) -> np.ndarray:
    """(T, C) -> (C, T) float16; raises :class:`PackError` where a value overflows float16."""
    half = np.ascontiguousarray(np.asarray(x, np.float32).T.astype(np.float16))  # (C, T)
    if not np.isfinite(half).all():
        raise PackError(f"{name}: values beyond float16's range ({np.abs(x).max():.4g})")
    return half


def _from_half_channel_major(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.T.astype(np.float32))  # (T, C)


def encode_bytes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, C) float -> (C, T) uint8, lo (C,) and step (C,) float32 (module docstring)."""
    x = np.asarray(x, np.float32)
    lo = x.min(axis=0)  # (C,)
    step = np.maximum((x.max(axis=0) - lo) / 255.0, np.finfo(np.float32).tiny).astype(np.float32)
    q = np.clip(np.round((x - lo) / step), 0, 255).astype(np.uint8)  # (T, C)
    return np.ascontiguousarray(q.T), lo.astype(np.float32), step


def decode_bytes(q: np.ndarray, lo: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The inverse of :func:`encode_bytes`: (C, T) uint8 -> (T, C) float32."""
    return np.ascontiguousarray(q.T.astype(np.float32) * step + lo, dtype=np.float32)


# ---------------------------------------------------------------------------------- writing


def write_pack(
    corpus: str | os.PathLike,
    out: str | os.PathLike,
    *,
    conditioner: str = "motionbeat",
    encoder: str | os.PathLike | None = None,
    splits: Sequence[str] = ("train", "val"),
    music_bits: int = DEFAULT_MUSIC_BITS,
    part_bytes: int = DEFAULT_PART_BYTES,
    progress: bool = False,
) -> dict:
    """Pack the training data of ``corpus`` (its ``splits``) for ``conditioner`` into ``out``.

    The music rows come from the corpus' conditioning cache (computed and cached first where
    missing, as training does); the dances from the corpus' shards. ``encoder`` is the MotionBeat
    stem (default ``checkpoints/motionbeat``); its stem as given and its hash go into the index.
    Returns the index. An existing pack in ``out`` is replaced (its index first, so a half
    rewritten folder is never read as a pack); other files there are left alone.
    """
    from tqdm import tqdm

    from motionbeat.datasets.manifest import load_manifest
    from motionbeat.datasets.songs import load_corpus_songs, motion_frames

    corpus, out = Path(corpus), Path(out)
    if part_bytes < 1:
        raise PackError(f"part_bytes must be positive, got {part_bytes}")
    if music_bits not in MUSIC_BITS:
        raise PackError(f"music_bits must be one of {MUSIC_BITS}, got {music_bits}")
    cond = make_conditioner(conditioner, encoder, device="cpu")
    songs = load_corpus_songs(corpus, tuple(splits), steps_per_beat=cond.steps_per_beat,
                              progress=progress)
    if not songs:
        raise PackError(f"{corpus}: no songs in the splits {', '.join(splits)}")
    rows = condition_corpus(songs, cond, cache_dir_for(corpus, cond), progress=progress)
    records = {r["song_id"]: r for r in load_manifest(corpus)["songs"]}

    out.mkdir(parents=True, exist_ok=True)
    (out / PACK_INDEX).unlink(missing_ok=True)
    for old in out.glob("part-*.npz"):
        old.unlink()
    index_songs: list[dict] = []
    part: dict[str, np.ndarray] = {}
    part_size, parts = 0, []

    def close_part() -> None:
        nonlocal part, part_size
        if part:
            name = f"part-{len(parts):03d}.npz"
            with atomic_path(out / name) as tmp, open(tmp, "wb") as fh:
                np.savez(fh, **part)
            parts.append({"file": name, "bytes": (out / name).stat().st_size})
        part, part_size = {}, 0

    for song in tqdm(songs, desc="pack", unit="song", disable=not progress, file=sys.stderr):
        with np.load(corpus / records[song.song_id]["shard"], allow_pickle=False) as z:
            poses = np.asarray(z["poses"], np.float32)  # (D, T, 24, 3)
            trans = np.asarray(z["trans"], np.float32)  # (D, T, 3)
            fps = float(z["fps"])
        d, t = poses.shape[:2]
        contacts = motion_frames(poses, trans, fps)[..., contract.CONTACTS] > 0.5  # (D, T', 4)
        music = rows[song.song_id]
        blobs = {
            "poses": _compress(encode_quantised(poses.reshape(d, t, -1), POSE_STEP_RAD, np.int16)),
            "trans": _compress(encode_quantised(trans, TRANS_STEP_M, np.int32)),
        }
        if music_bits == 8:
            q, lo, step = encode_bytes(music.features)
            blobs.update(features=_compress(q), features_lo=_compress(lo),
                         features_step=_compress(step))
        else:
            blobs["features"] = _compress(_half_channel_major(music.features,
                                                              f"{song.song_id} features"))
        blobs.update({
            "phase": _compress(_half_channel_major(music.phase, f"{song.song_id} phase")),
            "beat_times": _compress(np.asarray(music.beat_times, np.float64)),
            "contacts": _compress(np.packbits(contacts)),
        })
        size = sum(b.nbytes for b in blobs.values())
        if part and part_size + size > part_bytes:
            close_part()
        part.update({f"{song.song_id}.{k}": v for k, v in blobs.items()})
        part_size += size
        index_songs.append({
            "song_id": song.song_id, "split": song.split, "part": len(parts),
            "dances": d, "dance_frames": t, "fps": fps, "joints": poses.shape[2],
            "frames": music.num_frames, "beats": len(music.beat_times),
            "duration": music.duration, "tempo_bpm": music.tempo_bpm,
            "beats_per_bar": music.beats_per_bar,
        })
    close_part()

    info = {
        "format": PACK_FORMAT,
        "conditioner": cond.name,
        "cache_key": cond.cache_key,
        "music_dim": int(cond.feature_dim),
        "steps_per_beat": int(cond.steps_per_beat),
        "encoder": ({"checkpoint": Path(cond.checkpoint).as_posix(), "hash": cond.model_hash}
                    if cond.name == "motionbeat" else None),
        "corpus": corpus.as_posix(),
        "splits": list(splits),
        "quantisation": {"pose_step_rad": POSE_STEP_RAD, "trans_step_m": TRANS_STEP_M,
                         "music_bits": music_bits, "phase": "float16"},
        "parts": parts,
        "bytes": sum(p["bytes"] for p in parts),
        "songs": index_songs,
    }
    with atomic_path(out / PACK_INDEX) as tmp:
        tmp.write_text(json.dumps(info, indent=1))
    return info


# ---------------------------------------------------------------------------------- reading


def read_index(folder: str | os.PathLike) -> dict:
    """The parsed ``pack.json`` of ``folder``, checked for its format."""
    path = Path(folder) / PACK_INDEX
    if not path.is_file():
        raise PackError(f"{folder}: not a training pack (no {PACK_INDEX}); write one with "
                        "`python -m generator.pack --corpus DIR --out DIR`")
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise PackError(f"{path}: unreadable pack index ({err})") from None
    if info.get("format") != PACK_FORMAT:
        raise PackError(f"{path}: pack format {info.get('format')!r}, this code reads "
                        f"{PACK_FORMAT}; write the pack again")
    return info


def read_pack(folder: str | os.PathLike, splits: Sequence[str] | None = None) -> TrainingPack:
    """Read a pack (the songs of ``splits``, default all): dances as contract frames, rows."""
    from motionbeat.datasets.songs import motion_frames

    folder = Path(folder)
    info = read_index(folder)
    chosen = [s for s in info["songs"] if splits is None or s["split"] in splits]
    by_part: dict[int, list[dict]] = {}
    for s in chosen:
        by_part.setdefault(int(s["part"]), []).append(s)
    rows, dances = {}, {}
    for number, members in sorted(by_part.items()):
        path = folder / info["parts"][number]["file"]
        try:
            z = np.load(path, allow_pickle=False)
        except OSError as err:
            raise PackError(f"{path}: missing or unreadable pack part ({err})") from None
        with z:
            for s in members:
                sid, d, t, j = s["song_id"], s["dances"], s["dance_frames"], s["joints"]
                poses = decode_quantised(_decompress(z[f"{sid}.poses"], np.int16, (d, j * 3, t)),
                                         info["quantisation"]["pose_step_rad"])  # (D, T, J*3)
                trans = decode_quantised(_decompress(z[f"{sid}.trans"], np.int32, (d, 3, t)),
                                         info["quantisation"]["trans_step_m"])  # (D, T, 3)
                frames = motion_frames(poses.reshape(d, t, j, 3), trans, s["fps"])  # (D, T', C)
                bits = np.unpackbits(_decompress(z[f"{sid}.contacts"], np.uint8, (-1,)),
                                     count=frames[..., contract.CONTACTS].size)
                frames[..., contract.CONTACTS] = bits.reshape(frames[..., contract.CONTACTS].shape)
                dances[sid] = frames
                width = int(info["music_dim"])
                if info["quantisation"]["music_bits"] == 8:
                    features = decode_bytes(
                        _decompress(z[f"{sid}.features"], np.uint8, (width, s["frames"])),
                        _decompress(z[f"{sid}.features_lo"], np.float32, (width,)),
                        _decompress(z[f"{sid}.features_step"], np.float32, (width,)))
                else:
                    features = _from_half_channel_major(
                        _decompress(z[f"{sid}.features"], np.float16, (width, s["frames"])))
                rows[sid] = MusicCondition(
                    features=features,
                    phase=np.mod(_from_half_channel_major(  # float16 may round 0.9999 to 1
                        _decompress(z[f"{sid}.phase"], np.float16, (2, s["frames"]))), 1.0),
                    duration=float(s["duration"]), tempo_bpm=float(s["tempo_bpm"]),
                    beats_per_bar=int(s["beats_per_bar"]),
                    beat_times=_decompress(z[f"{sid}.beat_times"], np.float64, (s["beats"],)),
                )
    songs = [PackedSong(s["song_id"], s["split"]) for s in chosen]
    return TrainingPack(info=info, songs=songs, rows=rows, dances=dances)



def pack_config(
    info: dict,
    size: str,
    generator_stem: str | os.PathLike,
    conditioner: str | None = None,
    **overrides,
) -> GeneratorConfig:
    """The generator config of a run on a pack (``info``: its index), without the encoder's
    weights: :func:`generator.model.conditioning.generator_config` with the width and hash the
    index records (the pack's encoder stem is relative to the folder it was written from, the
    repository's root)."""
    if conditioner is not None and conditioner != info["conditioner"]:
        raise PackError(f"the pack holds {info['conditioner']} features, not {conditioner}")
    encoder = info["encoder"] or {}
    identity = (int(info["music_dim"]), encoder["hash"]) if encoder else None
    return generator_config(size, info["conditioner"], encoder.get("checkpoint"), generator_stem,
                            encoder_identity=identity, **overrides)
