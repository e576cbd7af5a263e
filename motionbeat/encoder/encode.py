"""The frozen MotionBeat music encoder for the generator: load once, encode any song.

    encoder = FrozenEncoder("checkpoints/motionbeat")
    music = encoder.encode("song.mp3")        # EncodedMusic
    music.features                            # (T, D) at contract.FPS, T = round(duration * FPS)
    music.beat_phase, music.bar_phase         # (T,) in [0, 1)

    python -m motionbeat.encoder.encode --checkpoint checkpoints/motionbeat --corpus DIR --out DIR

How a song becomes per-frame features:

1. Front end (``motionbeat.audio``): ``analyse_rhythm`` (unless a Rhythm is given),
   ``frame_features`` and ``beat_tokens`` with the checkpoint's steps per beat S.
2. Windows: the model was trained on clips of K = ``beats_per_clip`` beats, so the token
   sequence is encoded in windows of K beats every ``max(1, K // 2)`` beats (the last one
   ends on the last beat). Token n's feature is the average of its window features weighted
   by a triangle that peaks at the window centre, ``w = min(p + 1/2, N - p - 1/2)`` for token
   position p in a window of N = K * S tokens, so every token mostly sees context on both
   sides and consecutive windows blend without seams. A song of K beats or fewer (a 3-second
   song) is one window of its own length; the encoder has no absolute positions, so any
   length is valid input.
3. Frames: tokens partition the motion frames (``BeatTokens.frame_range``); every frame takes
   the features of the token that owns it (so the features are constant within a sub-beat
   step, 1/S of a beat). Beat and bar phase are *continuous* per frame: for frame t at
   ``t / fps`` seconds inside beat k spanning ``[b_k, b_{k+1})``,
   ``beat_phase = (t / fps - b_k) / (b_{k+1} - b_k)`` and
   ``bar_phase = (bar_position_k + beat_phase) / beats_per_bar``.

Deterministic: the model is in eval mode (no dropout) under ``torch.inference_mode``, windows
are batched in a fixed order and size, so the same input gives bit-identical features.
``model_hash`` is the first :data:`HASH_CHARS` hex digits of the sha256 of the weights file,
the value the generator writes into ``Motion.model_hash``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.encoder.model import MotionBeat, checkpoint_paths, load_checkpoint

HASH_CHARS: int = 12
"""Hex digits of the weights' sha256 kept as the model hash (48 bits)."""
DEFAULT_BATCH: int = 64
"""Windows per forward pass."""
FEATURES_FORMAT: str = "motionbeat-features"
FEATURES_VERSION: int = 1
PHASE_CEILING: float = np.nextafter(np.float32(1.0), np.float32(0.0))
"""Largest float32 below 1: phases are kept in [0, 1)."""

MusicInput = au.Audio | str | os.PathLike | tuple[au.FrameFeatures, au.Rhythm]


def file_hash(path: str | os.PathLike, chars: int = HASH_CHARS) -> str:
    """First ``chars`` hex digits of the sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:chars]


@dataclass(frozen=True, eq=False)
class EncodedMusic:
    """A song as the generator sees it: frozen features and rhythm at the motion frame rate.

    features: (T, D) float32 MotionBeat audio features, D = the encoder's ``d_model``.
    beat_phase, bar_phase: (T,) float32 in [0, 1), continuous per frame.
    tempo_bpm, beats_per_bar, beat_times (K,), downbeat_times (B,): the rhythm used.
    fps, duration: ``T == round(duration * fps)``.
    model_hash: sha256 prefix of the encoder's weights file.
    """

    features: np.ndarray
    beat_phase: np.ndarray
    bar_phase: np.ndarray
    tempo_bpm: float
    beats_per_bar: int
    beat_times: np.ndarray
    downbeat_times: np.ndarray
    fps: int
    duration: float
    model_hash: str

    @property
    def num_frames(self) -> int:
        return self.features.shape[0]

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``.npz`` atomically (arrays only, no pickle)."""
        path = Path(path)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh, format=np.str_(FEATURES_FORMAT), version=np.int64(FEATURES_VERSION),
                features=self.features, beat_phase=self.beat_phase, bar_phase=self.bar_phase,
                tempo_bpm=np.float64(self.tempo_bpm), beats_per_bar=np.int64(self.beats_per_bar),
                beat_times=self.beat_times, downbeat_times=self.downbeat_times,
                fps=np.int64(self.fps), duration=np.float64(self.duration),
                model_hash=np.str_(self.model_hash),
            )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> EncodedMusic:
        with np.load(path, allow_pickle=False) as z:
            if str(z["format"]) != FEATURES_FORMAT or int(z["version"]) > FEATURES_VERSION:
                raise ValueError(f"{Path(path).name}: not a MotionBeat features file "
                                 f"(or newer than version {FEATURES_VERSION})")
            return cls(
                features=z["features"], beat_phase=z["beat_phase"], bar_phase=z["bar_phase"],
                tempo_bpm=float(z["tempo_bpm"]), beats_per_bar=int(z["beats_per_bar"]),
                beat_times=z["beat_times"], downbeat_times=z["downbeat_times"],
                fps=int(z["fps"]), duration=float(z["duration"]), model_hash=str(z["model_hash"]),
            )


def window_starts(num_beats: int, beats_per_window: int) -> list[int]:
    """First beat of each encoding window: every ``max(1, K // 2)`` beats, the last ending on
    the last beat; one window from 0 when the song has K beats or fewer."""
    k = beats_per_window
    if num_beats <= k:
        return [0]
    hop = max(1, k // 2)
    starts = list(range(0, num_beats - k + 1, hop))
    if starts[-1] != num_beats - k:
        starts.append(num_beats - k)
    return starts


def window_weights(num_tokens: int) -> np.ndarray:
    """(N,) triangular blending weights ``min(p + 1/2, N - p - 1/2)``, all positive."""
    p = np.arange(num_tokens, dtype=np.float64)
    return np.minimum(p + 0.5, num_tokens - p - 0.5)


def frame_phases(tokens: au.BeatTokens, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Continuous (T,) beat and bar phase of every frame from the tokens' beat grid."""
    s, meter = tokens.steps_per_beat, tokens.beats_per_bar
    edges = tokens.time_edges[::s]  # (K + 1,) beat edges, seconds
    position = tokens.bar_position[::s]  # (K,) bar position of each beat
    t = np.arange(num_frames) / tokens.fps  # (T,) frame centres, seconds
    k = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(position) - 1)  # (T,)
    beat = np.clip((t - edges[k]) / (edges[k + 1] - edges[k]), 0.0, PHASE_CEILING)
    bar = np.mod((position[k] + beat) / meter, 1.0)
    return (beat.astype(np.float32),
            np.clip(bar, 0.0, PHASE_CEILING).astype(np.float32))


def frame_owner(tokens: au.BeatTokens, num_frames: int) -> np.ndarray:
    """(T,) index of the token that owns each frame (tokens partition ``[0, T)``)."""
    ranges = tokens.frame_range  # (N, 2)
    counts = ranges[:, 1] - ranges[:, 0]
    owner = np.repeat(np.arange(len(ranges)), counts)
    if len(owner) != num_frames:  # defensive: fall back to the token whose span holds t
        starts = tokens.frame_edges[:-1]
        owner = np.clip(np.searchsorted(starts, np.arange(num_frames), side="right") - 1,
                        0, len(ranges) - 1)
    return owner


class FrozenEncoder:
    """A MotionBeat checkpoint loaded once for encoding music (see the module docstring).

    Args:
        checkpoint: checkpoint stem (``checkpoints/motionbeat``: reads ``.safetensors`` and
            ``.json``), or an already built :class:`~motionbeat.encoder.model.MotionBeat`.
        device: ``"cpu"``, ``"cuda"``... (default: cuda when available).
        batch_size: windows per forward pass.
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike | MotionBeat,
        device: str | torch.device | None = None,
        batch_size: int = DEFAULT_BATCH,
    ):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if isinstance(checkpoint, MotionBeat):
            self.model, self.model_hash, self.checkpoint = checkpoint, "", None
        else:
            weights, _ = checkpoint_paths(checkpoint)
            self.model = load_checkpoint(checkpoint)
            self.model_hash, self.checkpoint = file_hash(weights), Path(checkpoint)
        self.model = self.model.to(self.device).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.batch_size = int(batch_size)

    @property
    def config(self):
        return self.model.config

    @property
    def feature_dim(self) -> int:
        """D of :attr:`EncodedMusic.features` (the model's ``d_model``)."""
        return self.model.config.d_model

    # --- tokens --------------------------------------------------------------------------------
    @torch.inference_mode()
    def encode_tokens(self, tokens: au.BeatTokens) -> np.ndarray:
        """(N, D) float32 features of every token, windowed and blended (module docstring)."""
        cfg = self.model.config
        s, k = tokens.steps_per_beat, cfg.beats_per_clip
        if s != cfg.steps_per_beat:
            raise ValueError(f"tokens have {s} steps per beat, the encoder {cfg.steps_per_beat}")
        starts = window_starts(tokens.num_beats, k)
        n_tok = len(tokens.beat_phase)
        width = min(k * s, n_tok)
        weights = window_weights(width)  # (W_len,)
        total = np.zeros((n_tok, cfg.d_model), np.float64)
        norm = np.zeros(n_tok, np.float64)
        mel = torch.as_tensor(tokens.mel)  # (N, n_mels)
        beat = torch.as_tensor(tokens.beat_phase)
        bar = torch.as_tensor(tokens.bar_phase)
        for a in range(0, len(starts), self.batch_size):
            first = [b * s for b in starts[a:a + self.batch_size]]
            idx = torch.as_tensor(first)[:, None] + torch.arange(width)[None, :]  # (W, N_w)
            feats = self.model.audio_token_features(
                mel[idx].to(self.device), beat[idx].to(self.device), bar[idx].to(self.device)
            )  # (W, N_w, D)
            feats = feats.float().cpu().numpy().astype(np.float64)
            for row, f0 in enumerate(first):
                total[f0:f0 + width] += weights[:, None] * feats[row]
                norm[f0:f0 + width] += weights
        return (total / norm[:, None]).astype(np.float32)

    # --- music ---------------------------------------------------------------------------------
    def encode(self, music: MusicInput, rhythm: au.Rhythm | None = None) -> EncodedMusic:
        """Encode a song: an :class:`~motionbeat.audio.Audio`, a file path, or
        ``(FrameFeatures, Rhythm)``. ``rhythm`` overrides the beat tracker for audio input."""
        if isinstance(music, tuple):
            features, rhythm = music
        elif isinstance(music, au.FrameFeatures):
            if rhythm is None:
                raise ValueError("encoding FrameFeatures needs their Rhythm")
            features = music
        else:
            audio = music if isinstance(music, au.Audio) else au.load_audio(music)
            rhythm = rhythm if rhythm is not None else au.analyse_rhythm(audio)
            features = au.frame_features(audio)
        return self.encode_features(features, rhythm)

    def encode_features(self, features: au.FrameFeatures, rhythm: au.Rhythm) -> EncodedMusic:
        """Encode front-end frame features on the beat grid of ``rhythm``."""
        tokens = au.beat_tokens(features, rhythm, self.model.config.steps_per_beat)
        return self.encode_beat_tokens(tokens, rhythm, features.duration)

    def encode_beat_tokens(
        self, tokens: au.BeatTokens, rhythm: au.Rhythm, duration: float
    ) -> EncodedMusic:
        """Encode ready-made tokens (the corpus cache holds them) into per-frame features."""
        if tokens.fps != contract.FPS:
            raise ValueError(f"tokens at {tokens.fps} fps; the project runs at {contract.FPS}")
        num_frames = tokens.num_frames
        token_features = self.encode_tokens(tokens)  # (N, D)
        frames = token_features[frame_owner(tokens, num_frames)]  # (T, D)
        beat_phase, bar_phase = frame_phases(tokens, num_frames)
        return EncodedMusic(
            features=np.ascontiguousarray(frames, dtype=np.float32), beat_phase=beat_phase,
            bar_phase=bar_phase, tempo_bpm=float(rhythm.tempo_bpm),
            beats_per_bar=int(rhythm.beats_per_bar),
            beat_times=np.asarray(rhythm.beat_times, dtype=np.float64),
            downbeat_times=np.asarray(rhythm.downbeat_times, dtype=np.float64),
            fps=int(tokens.fps), duration=float(duration), model_hash=self.model_hash,
        )

    def encode_corpus(self, corpus_dir: str | os.PathLike, out_dir: str | os.PathLike,
                      **kwargs) -> Path:
        """:func:`encode_corpus` with this encoder."""
        return encode_corpus(corpus_dir, out_dir, self, **kwargs)


def encode_corpus(
    corpus_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    encoder: FrozenEncoder | str | os.PathLike,
    *,
    splits: tuple[str, ...] | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> Path:
    """Encode every song of a corpus to ``<out_dir>/<song_id>.npz`` (:class:`EncodedMusic`).

    Uses each song's recorded beats (those its dances were made on) and the song cache of
    ``motionbeat.datasets.songs`` (built on first use). Songs already encoded by the same model hash
    are skipped, so an interrupted run resumes. Writes ``<out_dir>/index.json`` (model hash,
    checkpoint, feature width, fps and one entry per song) and returns its path.
    """
    from tqdm import tqdm

    from motionbeat.datasets.songs import load_corpus_songs

    enc = encoder if isinstance(encoder, FrozenEncoder) else FrozenEncoder(encoder)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    songs = load_corpus_songs(corpus_dir, splits, steps_per_beat=enc.config.steps_per_beat,
                              cache_dir=cache_dir, progress=progress)
    entries = []
    for song in tqdm(songs, desc="encode", unit="song", disable=not progress, file=sys.stderr):
        path = out / f"{song.song_id}.npz"
        done = False
        if path.is_file():
            try:
                done = EncodedMusic.load(path).model_hash == enc.model_hash
            except (OSError, ValueError, KeyError):
                done = False
        if not done:
            enc.encode_beat_tokens(song.tokens, song.rhythm(), song.duration).save(path)
        entries.append({"song_id": song.song_id, "split": song.split, "file": path.name,
                        "frames": song.tokens.num_frames})
    index = {
        "format": FEATURES_FORMAT, "version": FEATURES_VERSION, "model_hash": enc.model_hash,
        "checkpoint": str(enc.checkpoint) if enc.checkpoint else None,
        "feature_dim": enc.feature_dim, "fps": contract.FPS, "corpus": str(corpus_dir),
        "config": enc.config.to_dict(), "songs": entries,
    }
    with atomic_path(out / "index.json") as tmp:
        tmp.write_text(json.dumps(index, indent=1) + "\n")
    return out / "index.json"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m motionbeat.encoder.encode",
        description="Cache frozen MotionBeat features of a corpus or of one song.",
    )
    p.add_argument("--checkpoint", required=True, type=Path, help="checkpoint stem")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--corpus", type=Path, help="corpus folder: encode every song")
    src.add_argument("--song", type=Path, help="one audio file")
    p.add_argument("--out", required=True, type=Path,
                   help="output folder (--corpus) or .npz file (--song)")
    p.add_argument("--splits", default=None, help="comma list of splits (default all)")
    p.add_argument("--device", default=None)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    enc = FrozenEncoder(a.checkpoint, device=a.device)
    if a.song is not None:
        music = enc.encode(a.song)
        music.save(a.out)
        print(f"{a.out}: {music.num_frames} frames x {enc.feature_dim}, "
              f"{music.tempo_bpm:.1f} BPM, model {music.model_hash}")
        return 0
    splits = tuple(s.strip() for s in a.splits.split(",")) if a.splits else None
    index = encode_corpus(a.corpus, a.out, enc, splits=splits, progress=not a.quiet)
    print(f"{index}: {len(json.loads(index.read_text())['songs'])} songs, model {enc.model_hash}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
