"""Music conditioning of the generator: per-frame features and beat / bar phase of a song.

The generator config records which conditioner a checkpoint was trained with
(``GeneratorConfig.conditioner``):

* ``"motionbeat"``: the frozen MotionBeat encoder (:class:`motionbeat.encoder.encode.FrozenEncoder`),
  (T, D_enc) features at the motion frame rate. The config keeps the encoder's checkpoint stem
  (relative to the generator checkpoint's folder) and the sha256 prefix of its weights
  (:func:`motionbeat.encoder.encode.file_hash`); loading checks that the weights are the same.
* ``"librosa"``: the plain audio front end, ``motionbeat.audio.frame_features``: (T, 64) log-mel
  in dB and (T,) onset strength side by side, (T, 65). It needs no trained encoder, which makes
  it the baseline of the evaluation and lets tests run without one.

Both give the same phase, (T, 2) = (beat phase, bar phase) in [0, 1), from the beat grid of
``motionbeat.audio.analyse_rhythm`` (or a corpus song's recorded beats) through
:func:`motionbeat.encoder.encode.frame_phases`: for frame t at t / FPS seconds inside beat k spanning
[b_k, b_{k+1}), beat phase = (t / FPS - b_k) / (b_{k+1} - b_k), bar phase = (bar position of k +
beat phase) / beats per bar.

Features are standardised inside the denoiser, (x - mu) / sigma per channel, with statistics of
the training songs (:func:`feature_statistics`) stored as denoiser buffers, so they are saved with
the generator's weights (:meth:`generator.model.denoiser.Denoiser.set_music_normalization`).

Training conditions every corpus song once and caches it as ``.npz`` under
``<corpus>/cache/generator-<cache_key>/`` (:func:`condition_corpus`); the cache key names the
conditioner and the encoder's hash (or the front end's version), and every file records the song
cache entry it was made from, so a changed encoder, front end or song is recomputed.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from generator.model.config import CONDITIONERS, LIBROSA_FEATURE_DIM, GeneratorConfig, config_for
from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path

DEFAULT_ENCODER: str = "checkpoints/motionbeat"
"""Checkpoint stem of the MotionBeat encoder (``python -m motionbeat.encoder.train`` writes it)."""
CACHE_PREFIX: str = "generator-"
"""Folder name prefix of the conditioning caches under ``<corpus>/cache/``."""
CACHE_FORMAT: int = 1
"""Version of the conditioning cache files; part of every cache key."""
STATS_FLOOR: float = 1e-3
"""Smallest per-channel std of the feature statistics (constant channels stay finite)."""


class ConditioningError(ValueError):
    """A conditioner cannot be built: unknown name, missing or changed encoder checkpoint."""


# --------------------------------------------------------------------------------- values


@dataclass(frozen=True, eq=False)
class MusicCondition:
    """A song as the generator sees it, at the motion frame rate.

    Attributes:
        features: (T, C) float32 raw per-frame features (the denoiser standardises them).
        phase: (T, 2) float32 beat and bar phase in [0, 1).
        duration: seconds of the song; T == round(duration * FPS) for a whole song.
        tempo_bpm, beats_per_bar: the rhythm used.
        beat_times: (K,) float64 beat times in seconds from the start of the song.
        start_frame: first frame of the song these rows hold (0 unless :meth:`sliced`).
    """

    features: np.ndarray
    phase: np.ndarray
    duration: float
    tempo_bpm: float
    beats_per_bar: int
    beat_times: np.ndarray
    start_frame: int = 0

    def __post_init__(self):
        if self.features.ndim != 2 or self.phase.shape != (self.features.shape[0], 2):
            raise ValueError(
                f"features must be (T, C) and phase (T, 2), got {self.features.shape} and "
                f"{self.phase.shape}"
            )

    @property
    def num_frames(self) -> int:
        return self.features.shape[0]

    def sliced(self, first: int, stop: int) -> MusicCondition:
        """Frames ``[first, stop)`` of these rows (``start_frame`` follows)."""
        if not 0 <= first < stop <= self.num_frames:
            raise ValueError(f"frames [{first}, {stop}) outside a {self.num_frames}-frame song")
        return replace(
            self,
            features=self.features[first:stop],
            phase=self.phase[first:stop],
            start_frame=self.start_frame + first,
        )


def phase_from_tokens(tokens: au.BeatTokens, num_frames: int) -> np.ndarray:
    """(T, 2) beat and bar phase of every frame from a song's beat grid (module docstring)."""
    from motionbeat.encoder.encode import frame_phases

    beat, bar = frame_phases(tokens, num_frames)
    return np.stack([beat, bar], axis=1).astype(np.float32)  # (T, 2)


# ---------------------------------------------------------------------------- conditioners


class Conditioner(Protocol):
    """Turns songs into :class:`MusicCondition` rows (see the module docstring)."""

    name: str
    feature_dim: int
    steps_per_beat: int
    cache_key: str

    def condition(
        self, audio: au.Audio, rhythm: au.Rhythm | None = None
    ) -> MusicCondition:  # pragma: no cover - protocol
        ...

    def condition_song(self, song) -> MusicCondition:  # pragma: no cover - protocol
        ...


def _analyse(audio: au.Audio, rhythm: au.Rhythm | None) -> tuple[au.FrameFeatures, au.Rhythm]:
    rhythm = rhythm if rhythm is not None else au.analyse_rhythm(audio)
    return au.frame_features(audio), rhythm


class LibrosaConditioner:
    """Log-mel + onset per frame (``motionbeat.audio.frame_features``), (T, 65), and the phase."""

    name = "librosa"
    feature_dim = LIBROSA_FEATURE_DIM
    steps_per_beat = au.STEPS_PER_BEAT

    @property
    def cache_key(self) -> str:
        from motionbeat.datasets.songs import frontend_version

        return f"librosa-{frontend_version(self.steps_per_beat)}-v{CACHE_FORMAT}"

    def from_features(
        self, features: au.FrameFeatures, rhythm: au.Rhythm, tokens: au.BeatTokens | None = None
    ) -> MusicCondition:
        """Rows from ready front-end features on the beat grid of ``rhythm``."""
        if tokens is None:
            tokens = au.beat_tokens(features, rhythm, self.steps_per_beat)
        values = features.values  # (T, n_mels + 1)
        return MusicCondition(
            features=np.ascontiguousarray(values, dtype=np.float32),
            phase=phase_from_tokens(tokens, values.shape[0]),
            duration=float(features.duration),
            tempo_bpm=float(rhythm.tempo_bpm),
            beats_per_bar=int(rhythm.beats_per_bar),
            beat_times=np.asarray(rhythm.beat_times, dtype=np.float64),
        )

    def condition(self, audio: au.Audio, rhythm: au.Rhythm | None = None) -> MusicCondition:
        """A decoded song -> rows (rhythm from ``analyse_rhythm`` unless given)."""
        features, rhythm = _analyse(audio, rhythm)
        return self.from_features(features, rhythm)

    def condition_song(self, song) -> MusicCondition:
        """A corpus :class:`~motionbeat.datasets.songs.SongData` -> rows on its recorded beats."""
        return self.from_features(song.frame_features(), song.rhythm(), song.tokens)


class MotionBeatConditioner:
    """Frozen MotionBeat features per frame and their phase (:mod:`motionbeat.encoder.encode`)."""

    name = "motionbeat"

    def __init__(self, checkpoint: str | os.PathLike, device: str | None = None):
        from motionbeat.encoder.encode import FrozenEncoder
        from motionbeat.encoder.model import checkpoint_paths

        weights, config = checkpoint_paths(checkpoint)
        for path in (weights, config):
            if not path.is_file():
                raise ConditioningError(
                    f"{path}: no such MotionBeat encoder file; train the encoder with "
                    f"`python -m motionbeat.encoder.train --corpus DIR --out {Path(checkpoint)}`"
                )
        self.checkpoint = Path(checkpoint)
        self.encoder = FrozenEncoder(checkpoint, device=device)

    @property
    def feature_dim(self) -> int:
        return self.encoder.feature_dim

    @property
    def steps_per_beat(self) -> int:
        return self.encoder.config.steps_per_beat

    @property
    def model_hash(self) -> str:
        return self.encoder.model_hash

    @property
    def cache_key(self) -> str:
        return f"motionbeat-{self.model_hash}-v{CACHE_FORMAT}"

    def _rows(self, encoded) -> MusicCondition:
        return MusicCondition(
            features=encoded.features,
            phase=np.stack([encoded.beat_phase, encoded.bar_phase], axis=1),  # (T, 2)
            duration=float(encoded.duration),
            tempo_bpm=float(encoded.tempo_bpm),
            beats_per_bar=int(encoded.beats_per_bar),
            beat_times=encoded.beat_times,
        )

    def condition(self, audio: au.Audio, rhythm: au.Rhythm | None = None) -> MusicCondition:
        features, rhythm = _analyse(audio, rhythm)
        return self._rows(self.encoder.encode_features(features, rhythm))

    def condition_song(self, song) -> MusicCondition:
        if song.tokens.steps_per_beat != self.steps_per_beat:
            raise ConditioningError(
                f"{song.song_id}: tokens of {song.tokens.steps_per_beat} steps per beat, the "
                f"encoder needs {self.steps_per_beat}"
            )
        return self._rows(self.encoder.encode_beat_tokens(song.tokens, song.rhythm(),
                                                          song.duration))


def make_conditioner(
    name: str = "librosa",
    encoder_checkpoint: str | os.PathLike | None = None,
    device: str | None = None,
) -> LibrosaConditioner | MotionBeatConditioner:
    """A conditioner by name; ``"motionbeat"`` loads ``encoder_checkpoint`` (default
    :data:`DEFAULT_ENCODER`)."""
    if name == "librosa":
        return LibrosaConditioner()
    if name == "motionbeat":
        return MotionBeatConditioner(encoder_checkpoint or DEFAULT_ENCODER, device=device)
    raise ConditioningError(f"unknown conditioner {name!r}; choose from {CONDITIONERS}")


def encoder_reference(encoder_checkpoint: str | os.PathLike, generator_stem: str | os.PathLike) -> str:
    """The encoder stem as the generator config stores it: relative to the generator
    checkpoint's folder when both lie on one tree, else absolute."""
    target = Path(encoder_checkpoint).resolve()
    base = Path(generator_stem).resolve().parent
    try:
        return Path(os.path.relpath(target, base)).as_posix()
    except ValueError:  # another drive (Windows)
        return target.as_posix()


def resolve_encoder(config: GeneratorConfig, generator_stem: str | os.PathLike) -> Path:
    """Where the encoder of a ``"motionbeat"`` config lives: its stored stem relative to the
    generator checkpoint's folder, else relative to the working directory."""
    if not config.encoder_checkpoint:
        raise ConditioningError(
            "the generator config names no MotionBeat encoder checkpoint (encoder_checkpoint)"
        )
    from motionbeat.encoder.model import checkpoint_paths

    stored = Path(config.encoder_checkpoint)
    if stored.is_absolute():
        return stored
    # lexical normalisation: the generator's folder may not exist yet (a training run's output)
    beside = Path(os.path.normpath(Path(generator_stem).parent / stored))
    for candidate in (beside, stored):
        if checkpoint_paths(candidate)[0].is_file():
            return candidate
    return beside  # missing: the error names where it was expected


def conditioner_for(
    config: GeneratorConfig, generator_stem: str | os.PathLike, device: str | None = None
) -> LibrosaConditioner | MotionBeatConditioner:
    """The conditioner a generator checkpoint was trained with, checked against its config."""
    if config.conditioner == "librosa":
        return LibrosaConditioner()
    conditioner = MotionBeatConditioner(resolve_encoder(config, generator_stem), device=device)
    if config.encoder_hash and conditioner.model_hash != config.encoder_hash:
        raise ConditioningError(
            f"{conditioner.checkpoint}: the MotionBeat encoder weights changed (hash "
            f"{conditioner.model_hash}); the generator was trained on {config.encoder_hash}. "
            "Retrain the generator or restore the encoder it was trained with"
        )
    if conditioner.feature_dim != config.music_dim:
        raise ConditioningError(
            f"{conditioner.checkpoint}: the encoder gives {conditioner.feature_dim} features, "
            f"the generator expects {config.music_dim}"
        )
    return conditioner


def generator_config(
    size: str = "small",
    conditioner: str = "librosa",
    encoder_checkpoint: str | os.PathLike | None = None,
    generator_stem: str | os.PathLike | None = None,
    *,
    encoder_identity: tuple[int, str] | None = None,
    **overrides,
) -> GeneratorConfig:
    """``config_for(size)`` with the conditioner's fields filled in.

    For ``"motionbeat"`` this loads the encoder to read its width and hash, unless
    ``encoder_identity`` = (width, hash) gives them (a training pack records them, and its
    machine may lack the weights); the stem is stored relative to ``generator_stem``'s folder
    (or as given when there is no generator stem).
    """
    if conditioner == "librosa":
        return config_for(size, conditioner="librosa", music_dim=LIBROSA_FEATURE_DIM, **overrides)
    if conditioner != "motionbeat":
        raise ConditioningError(f"unknown conditioner {conditioner!r}; choose from {CONDITIONERS}")
    stem = Path(encoder_checkpoint or DEFAULT_ENCODER)
    if encoder_identity is None:
        enc = MotionBeatConditioner(stem, device="cpu")
        encoder_identity = (enc.feature_dim, enc.model_hash)
    width, model_hash = encoder_identity
    ref = encoder_reference(stem, generator_stem) if generator_stem is not None else stem.as_posix()
    return config_for(
        size, conditioner="motionbeat", music_dim=width, encoder_checkpoint=ref,
        encoder_hash=model_hash, **overrides,
    )


# ---------------------------------------------------------------------------- statistics


def feature_statistics(rows: Sequence[MusicCondition]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std (C,) over every frame of ``rows`` (float64 sums), std >= floor."""
    if not rows:
        raise ValueError("no songs to compute music feature statistics from")
    width = rows[0].features.shape[1]
    total = np.zeros(width, np.float64)
    square = np.zeros(width, np.float64)
    count = 0
    for r in rows:
        x = r.features.astype(np.float64)  # (T, C)
        total += x.sum(axis=0)
        square += np.square(x).sum(axis=0)
        count += x.shape[0]
    mean = total / count
    var = np.maximum(square / count - np.square(mean), 0.0)
    return mean.astype(np.float32), np.maximum(np.sqrt(var), STATS_FLOOR).astype(np.float32)


# --------------------------------------------------------------------------------- caching


def cache_dir_for(corpus: str | os.PathLike, conditioner) -> Path:
    """``<corpus>/cache/generator-<cache_key>``."""
    from motionbeat.datasets.songs import CACHE_SUBDIR

    return Path(corpus) / CACHE_SUBDIR / f"{CACHE_PREFIX}{conditioner.cache_key}"


def _source_key(song, conditioner) -> str:
    """Hash of what a song's rows are made from: the song cache entry's own key and the
    conditioner's cache key."""
    song_key = ""
    if song.cache_path is not None:
        with np.load(song.cache_path, allow_pickle=False) as z:
            song_key = str(z["key"]) if "key" in z.files else ""
    payload = f"{conditioner.cache_key}|{song.song_id}|{song_key}|{song.duration!r}"
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _save_rows(path: Path, rows: MusicCondition, key: str) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh, key=np.str_(key), features=rows.features, phase=rows.phase,
            duration=np.float64(rows.duration), tempo_bpm=np.float64(rows.tempo_bpm),
            beats_per_bar=np.int64(rows.beats_per_bar), beat_times=rows.beat_times,
        )


def _load_rows(path: Path, key: str) -> MusicCondition | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            return MusicCondition(
                features=z["features"], phase=z["phase"], duration=float(z["duration"]),
                tempo_bpm=float(z["tempo_bpm"]), beats_per_bar=int(z["beats_per_bar"]),
                beat_times=z["beat_times"],
            )
    except (OSError, KeyError, ValueError):
        return None


def condition_corpus(
    songs: Sequence,
    conditioner,
    cache_dir: str | os.PathLike,
    progress: bool = False,
) -> dict[str, MusicCondition]:
    """Rows of every corpus song (:class:`~motionbeat.datasets.songs.SongData`) by song id, cached.

    A song whose cache file is missing, or was made from another song entry or conditioner,
    is conditioned again and written atomically; the others are read back.
    """
    from tqdm import tqdm

    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, MusicCondition] = {}
    bar = tqdm(songs, desc=f"condition ({conditioner.name})", unit="song", disable=not progress,
               file=sys.stderr)
    for song in bar:
        path = cache / f"{song.song_id}.npz"
        key = _source_key(song, conditioner)
        rows = _load_rows(path, key) if path.is_file() else None
        if rows is None:
            rows = conditioner.condition_song(song)
            if rows.num_frames != round(song.duration * contract.FPS):
                raise ConditioningError(
                    f"{song.song_id}: {rows.num_frames} feature frames for a "
                    f"{song.duration:.2f} s song"
                )
            _save_rows(path, rows, key)
        out[song.song_id] = rows
    return out
