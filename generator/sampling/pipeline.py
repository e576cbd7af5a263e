"""Song in, dance out: the generator as one object, shared by the web app and the CLI.

    from generator.sampling.pipeline import DanceGenerator
    gen = DanceGenerator.load()                      # checkpoints/generator.{safetensors,json}
    motion = gen.generate("song.mp3", seed=0)        # a motionbeat.core.motion.Motion at 30 fps
    motions = gen.generate_many(["a.wav", "b.ogg"])  # several songs in one sampling run

    from generator.sampling.pipeline import generate          # the same through a cached default model
    motion = generate("song.mp3", start=30.0, duration=20.0)

What :meth:`DanceGenerator.generate` does:

1. ``"features"``: decode the song (``motionbeat.audio.load_audio``; its errors propagate as the
   ``motionbeat.audio`` error classes with messages for end users) and condition it with the
   checkpoint's conditioner (:mod:`generator.model.conditioning`) over the *whole* song, so the beat
   grid and the encoder's context do not depend on the excerpt; then keep frames
   [round(start * FPS), round((start + duration) * FPS)), clipped to the end of the song.
2. ``"sampling"``: long-form diffusion sampling (:func:`generator.sampling.longform.sample_long`: windows
   of 5 s overlapping by half, fused at every step, any length from one frame to hours) with
   classifier-free guidance, optionally under an editing :class:`~generator.sampling.editing.Constraint`
   (inpainting). The initial noise is drawn per song from ``seed``, so a song gets the same dance
   alone or inside :meth:`DanceGenerator.generate_many`.
3. The (T, 151) frames become a :class:`~motionbeat.core.motion.Motion` that names its song, its
   start offset in the song (``round(start * FPS) / FPS`` s: the first frame's time) and the
   generator's model hash (sha256 prefix of the weights file).

A checkpoint is a stem: ``<stem>.safetensors`` (the EMA denoiser's state dict, motion and music
normalisation included; metadata: one ``"generator"`` JSON entry with the config and the training
steps, one entry so the file's bytes, and its hash, do not depend on an ordering of metadata
keys) and ``<stem>.json``
(:class:`~generator.model.config.GeneratorConfig`, which names the conditioner and, for MotionBeat
features, the encoder checkpoint and its hash). :func:`write_untrained_checkpoint` writes a
seeded random one for tests and for the app before a trained model exists.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from generator.cleanup.footlock import clean_feet
from generator.model.conditioning import (
    ConditioningError,
    MusicCondition,
    conditioner_for,
    generator_config,
)
from generator.model.config import GeneratorConfig
from generator.model.denoiser import Denoiser, rest_frame_mean
from generator.model.diffusion import make_sampling_scheduler
from generator.sampling.editing import Constraint, inbetween_constraint, joint_constraint
from generator.sampling.longform import sample_long
from motionbeat import audio as au
from motionbeat.core import contract, kinematics
from motionbeat.core.fileio import atomic_path
from motionbeat.core.motion import Motion
from motionbeat.encoder.encode import file_hash

DEFAULT_CHECKPOINT: str = "checkpoints/generator"
"""Stem of the generator checkpoint the app and the CLI load by default."""
TRAIN_COMMAND: str = "python -m generator.train --corpus DIR --out {stem}"
"""The command that makes a checkpoint (named in the missing-checkpoint error)."""
KEYFRAME_EVERY_S: float = 2.0
"""Seconds between the keyframes :func:`keyframe_constraint` takes from a motion."""
UNTRAINED_INIT_STD: float = 0.02
"""Std of the random weights given to the zero-initialised output layers of an untrained
checkpoint, so its output depends on the music and the noise as a trained model's does."""
UNTRAINED_STD: dict[str, float] = {"contacts": 0.5, "root_pos": 0.05, "rotations": 0.3}
"""Per-channel std of an untrained checkpoint's motion normalisation (small: a calm dance)."""

Progress = Callable[[str, float], None]
"""``progress(stage, fraction)`` with stage ``"features"`` or ``"sampling"``, fraction in [0, 1]."""
AudioInput = au.Audio | str | os.PathLike


class GeneratorCheckpointError(RuntimeError):
    """A generator checkpoint is missing, unreadable, or does not fit its encoder."""


# --------------------------------------------------------------------------- checkpoints


def checkpoint_paths(stem: str | os.PathLike) -> tuple[Path, Path]:
    """``<stem>.safetensors`` and ``<stem>.json`` (a ``.safetensors`` / ``.json`` suffix on
    ``stem`` is dropped first)."""
    stem = Path(stem)
    if stem.suffix in (".safetensors", ".json"):
        stem = stem.with_suffix("")
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


METADATA_KEY: str = "generator"
"""The one safetensors metadata entry of a generator checkpoint (JSON)."""


def save_generator(
    model: Denoiser, stem: str | os.PathLike, metadata: dict | None = None
) -> tuple[Path, Path]:
    """Write the state dict (normalisation buffers included) and the config JSON, atomically.

    ``metadata`` (JSON values, e.g. ``trained_steps``) is stored with the config under
    :data:`METADATA_KEY` in the weights file.
    """
    from safetensors.torch import save_file

    weights, config = checkpoint_paths(stem)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"config": model.config.to_dict(), **(metadata or {})}
    with atomic_path(weights) as tmp:
        save_file(state, str(tmp), metadata={METADATA_KEY: json.dumps(meta, sort_keys=True)})
    with atomic_path(config) as tmp:
        tmp.write_text(model.config.to_json() + "\n")
    return weights, config


def _missing(path: Path, stem: Path) -> GeneratorCheckpointError:
    return GeneratorCheckpointError(
        f"{path}: no such generator checkpoint file; make it with "
        f"`{TRAIN_COMMAND.format(stem=stem)}` (or, for tests, "
        f"generator.sampling.pipeline.write_untrained_checkpoint('{stem}'))"
    )


def load_denoiser(
    stem: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[Denoiser, dict]:
    """Rebuild the denoiser from ``<stem>.json``, load ``<stem>.safetensors`` strictly (eval mode);
    returns it with the weights file's metadata (:func:`save_generator`)."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    weights, config_path = checkpoint_paths(stem)
    for path in (weights, config_path):
        if not path.is_file():
            raise _missing(path, weights.with_suffix(""))
    try:
        config = GeneratorConfig.from_json(config_path.read_text())
    except (ValueError, TypeError) as err:
        raise GeneratorCheckpointError(f"{config_path}: not a generator config ({err})") from None
    model = Denoiser(config)
    try:
        with safe_open(str(weights), framework="pt") as fh:
            metadata = json.loads((fh.metadata() or {}).get(METADATA_KEY, "{}"))
        model.load_state_dict(load_file(str(weights)), strict=True)
    except (OSError, RuntimeError, ValueError, SafetensorError) as err:
        raise GeneratorCheckpointError(
            f"{weights}: does not hold the weights {config_path.name} describes ({err})"
        ) from None
    return model.to(device).eval(), metadata


def write_untrained_checkpoint(
    stem: str | os.PathLike,
    size: str = "tiny",
    conditioner: str = "librosa",
    encoder_checkpoint: str | os.PathLike | None = None,
    seed: int = 0,
) -> Path:
    """Seeded random weights and their config at ``stem``; returns the stem.

    For tests and for the app before a trained model exists: the zero-initialised output layers
    get small random weights (:data:`UNTRAINED_INIT_STD`), the motion statistics are the rest
    pose standing on the floor (pelvis at its rest height) with the small stds of
    :data:`UNTRAINED_STD`, the music statistics the identity. The weights' metadata records
    ``trained_steps = 0``. ``conditioner="motionbeat"`` needs ``encoder_checkpoint`` (its width
    and hash go into the config).
    """
    if conditioner == "motionbeat" and encoder_checkpoint is None:
        raise ValueError("an untrained motionbeat-conditioned generator needs encoder_checkpoint")
    stem = Path(stem)
    if stem.suffix in (".safetensors", ".json"):
        stem = stem.with_suffix("")
    config = generator_config(size, conditioner, encoder_checkpoint, generator_stem=stem)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Denoiser(config)
        with torch.no_grad():
            layers = [block.modulation[1] for block in model.blocks]
            layers += [model.final_modulation[1], model.motion_out]
            for layer in layers:
                layer.weight.normal_(0.0, UNTRAINED_INIT_STD)
                layer.bias.normal_(0.0, UNTRAINED_INIT_STD)
    mean, std = rest_frame_mean(), torch.ones(contract.FRAME_DIM)
    mean[contract.CONTACTS] = 0.5
    mean[contract.ROOT_POS.start + contract.UP_AXIS] = standing_pelvis_height()
    for name, value in UNTRAINED_STD.items():
        std[contract.FRAME_SLICES[name]] = value
    model.set_normalization(mean, std)
    save_generator(model, stem, {"trained_steps": 0, "seed": seed})
    return stem


def standing_pelvis_height() -> float:
    """Pelvis height, metres, at which the rest pose's lowest joint touches the floor."""
    with torch.no_grad():
        joints = kinematics.forward_kinematics(
            torch.zeros(1, contract.NUM_JOINTS, 3), torch.zeros(1, 3)
        )  # (1, 24, 3)
    return contract.FLOOR_HEIGHT - float(joints[..., contract.UP_AXIS].min())


# ------------------------------------------------------------------------- constraints


def keyframe_constraint(source: Motion, every: float = KEYFRAME_EVERY_S) -> Constraint:
    """In-betweening: the poses (root position and rotations) of ``source`` every ``every``
    seconds from its first frame, and its last frame; the rest is left to the model.

    The constraint has the source's length (at :data:`contract.FPS`); frame 0 of the source
    lines up with frame 0 of the generated excerpt.
    """
    if not (math.isfinite(every) and every > 0):
        raise ValueError(f"keyframes must be a positive number of seconds apart, got {every}")
    frames = source.resampled(contract.FPS).to_features()  # (T, D)
    count = frames.shape[0]
    step = max(1, round(every * contract.FPS))
    keys = sorted(set(range(0, count, step)) | {count - 1})
    return inbetween_constraint(count, {k: frames[k] for k in keys})


def keep_joints_constraint(source: Motion, joints: str | Sequence[str] = "lower_body") -> Constraint:
    """Keep ``joints`` of ``source`` (a :data:`generator.sampling.editing.JOINT_GROUPS` name such as
    ``"lower_body"``, or joint names) for all its frames and generate the rest."""
    return joint_constraint(source.resampled(contract.FPS).to_features(), joints)


def fit_constraint(constraint: Constraint, num_frames: int) -> Constraint:
    """The constraint cropped, or padded with unconstrained frames, to ``num_frames``."""
    have = constraint.num_frames
    if have == num_frames:
        return constraint
    if have > num_frames:
        return Constraint(constraint.mask[:num_frames], constraint.values[:num_frames])
    pad = num_frames - have
    mask = torch.cat([constraint.mask, constraint.mask.new_zeros(pad, contract.FRAME_DIM)])
    values = torch.cat([constraint.values, constraint.values.new_zeros(pad, contract.FRAME_DIM)])
    return Constraint(mask, values)


# ----------------------------------------------------------------------------- helpers


def _check_number(name: str, value, *, minimum: float, allow_equal: bool = True) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < minimum or (not allow_equal and number == minimum):
        relation = ">=" if allow_equal else ">"
        raise ValueError(f"{name} must be a finite number {relation} {minimum:g}, got {value!r}")
    return number


def segment_frames(
    song_frames: int, start: float = 0.0, duration: float | None = None
) -> tuple[int, int]:
    """``[first, stop)`` frames of the excerpt ``start`` s .. ``start + duration`` s of a song of
    ``song_frames`` frames; ``duration`` None = to the end, and an excerpt past the end is
    clipped to it. Raises ValueError for a negative start, a start at or past the end, or a
    duration shorter than one frame."""
    start = _check_number("start", start, minimum=0.0)
    song_seconds = song_frames / contract.FPS
    first = round(start * contract.FPS)
    if first >= song_frames:
        raise ValueError(
            f"start {start:g} s is at or past the end of the {song_seconds:.2f} s song"
        )
    if duration is None:
        return first, song_frames
    duration = _check_number("duration", duration, minimum=0.0, allow_equal=False)
    count = round(duration * contract.FPS)
    if count < 1:
        raise ValueError(
            f"duration {duration:g} s is shorter than one frame (1/{contract.FPS} s)"
        )
    return first, min(song_frames, first + count)


def _audio_label(audio: AudioInput) -> str:
    if isinstance(audio, au.Audio):
        return str(audio.path) if audio.path is not None else audio.name
    return str(audio)


@dataclass(frozen=True)
class _Options:
    seed: int
    steps: int
    guidance: float
    start: float
    duration: float | None
    foot_lock: bool = True


# --------------------------------------------------------------------------- generator


class DanceGenerator:
    """A loaded generator checkpoint: denoiser, conditioner, sampler settings.

    Build it with :meth:`load`; it is immutable afterwards and may serve many songs (each call
    makes its own scheduler, so calls do not share state).
    """

    def __init__(
        self,
        model: Denoiser,
        conditioner,
        *,
        model_hash: str = "",
        checkpoint: Path | None = None,
        trained_steps: int | None = None,
    ):
        self.model = model.eval()
        self.conditioner = conditioner
        self.model_hash = model_hash
        self.checkpoint = checkpoint
        self.trained_steps = trained_steps

    @property
    def config(self) -> GeneratorConfig:
        return self.model.config

    @property
    def device(self) -> torch.device:
        return self.model.feat_mean.device

    @property
    def untrained(self) -> bool:
        """True for a checkpoint of :func:`write_untrained_checkpoint` (no training steps)."""
        return self.trained_steps == 0

    @classmethod
    def load(
        cls, checkpoint: str | os.PathLike = DEFAULT_CHECKPOINT, device: str | None = None
    ) -> DanceGenerator:
        """Load ``<checkpoint>.safetensors`` + ``.json`` and its conditioner (encoder checked).

        ``device`` None picks CUDA when available, else the CPU. Raises
        :class:`GeneratorCheckpointError` naming a missing file and the command that makes it.
        """
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if str(device).startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but CUDA is not available here")
        weights, _ = checkpoint_paths(checkpoint)
        model, metadata = load_denoiser(checkpoint, device)
        try:
            conditioner = conditioner_for(model.config, weights.with_suffix(""), device=device)
        except ConditioningError as err:
            raise GeneratorCheckpointError(f"{weights.with_suffix('')}: {err}") from None
        steps = metadata.get("trained_steps") if isinstance(metadata, dict) else None
        return cls(
            model,
            conditioner,
            model_hash=file_hash(weights),
            checkpoint=weights.with_suffix(""),
            trained_steps=steps if isinstance(steps, int) else None,
        )

    # --------------------------------------------------------------------- features
    def condition(self, audio: AudioInput) -> MusicCondition:
        """Decode (if a path) and condition a whole song: (T, C) features and (T, 2) phase."""
        song = audio if isinstance(audio, au.Audio) else au.load_audio(audio)
        return self.conditioner.condition(song)

    # ---------------------------------------------------------------------- options
    def _options(self, seed, steps, guidance, start, duration, foot_lock=True) -> _Options:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        if steps is None:
            steps = self.config.sample_steps
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if guidance is None:
            guidance = self.config.guidance_weight
        guidance = _check_number("guidance", guidance, minimum=0.0)
        start = _check_number("start", start, minimum=0.0)
        if duration is not None:
            duration = _check_number("duration", duration, minimum=0.0, allow_equal=False)
        return _Options(int(seed), int(steps), guidance, start, duration, bool(foot_lock))

    # --------------------------------------------------------------------- generate
    def generate(
        self,
        audio: AudioInput,
        *,
        seed: int = 0,
        steps: int | None = None,
        guidance: float | None = None,
        start: float = 0.0,
        duration: float | None = None,
        constraint: Constraint | None = None,
        progress: Progress | None = None,
        foot_lock: bool = True,
    ) -> Motion:
        """Dance for one song (a path or a decoded :class:`motionbeat.audio.Audio`).

        Args:
            seed: seeds the initial noise; the same seed, song and options give the same dance.
            steps: denoising steps (default: the config's ``sample_steps``).
            guidance: classifier-free guidance weight w (default: the config's; 1 = plain
                conditional sampling, 0 = ignore the music).
            start, duration: the excerpt, seconds (default: the whole song); an excerpt past
                the end of the song is clipped to it.
            constraint: an editing constraint (:func:`keyframe_constraint`,
                :func:`keep_joints_constraint`, :mod:`generator.sampling.editing`); its frame 0 is the
                excerpt's first frame, and it is cropped or padded to the excerpt's length.
            progress: ``progress(stage, fraction)``, stages ``"features"`` then ``"sampling"``.
            foot_lock: hold the feet the model marks planted still, by correcting the root
                path and then pinning each foot with leg IK (:mod:`generator.cleanup.footlock`);
                skipped for a song with a constraint, whose given poses and root win.
        Returns:
            a :class:`Motion` at :data:`contract.FPS` naming the song, the excerpt's start
            offset in it and this generator's model hash.
        """
        return self.generate_many(
            [audio], seed=seed, steps=steps, guidance=guidance, start=start, duration=duration,
            constraint=constraint, progress=progress, foot_lock=foot_lock,
        )[0]

    def generate_many(
        self,
        audios: Sequence[AudioInput],
        *,
        seed: int = 0,
        steps: int | None = None,
        guidance: float | None = None,
        start: float = 0.0,
        duration: float | None = None,
        constraint: Constraint | Sequence[Constraint | None] | None = None,
        progress: Progress | None = None,
        foot_lock: bool = True,
    ) -> list[Motion]:
        """Dances for several songs in one sampling run; options as :meth:`generate`, the same
        for every song (``constraint`` may also be a list, one per song). Each song's dance
        equals what :meth:`generate` gives it alone (same seed), up to float rounding."""
        if isinstance(audios, str | os.PathLike | au.Audio):
            raise TypeError("generate_many takes a list of songs; use generate for one")
        audios = list(audios)
        if not audios:
            return []
        opts = self._options(seed, steps, guidance, start, duration, foot_lock)
        if constraint is None or isinstance(constraint, Constraint):
            constraints = [constraint] * len(audios)
        else:
            constraints = list(constraint)
            if len(constraints) != len(audios):
                raise ValueError(
                    f"{len(audios)} songs but {len(constraints)} constraints: give one per song"
                )
        report = progress or (lambda stage, fraction: None)

        report("features", 0.0)
        rows: list[MusicCondition] = []
        for i, audio in enumerate(audios):
            decoded = audio if isinstance(audio, au.Audio) else au.load_audio(audio)
            # check the excerpt before the (slower) conditioning of the whole song
            segment_frames(au.num_frames(decoded), opts.start, opts.duration)
            song = self.conditioner.condition(decoded)
            first, stop = segment_frames(song.num_frames, opts.start, opts.duration)
            rows.append(song.sliced(first, stop))
            report("features", (i + 1) / len(audios))

        report("sampling", 0.0)
        frames = self._sample(rows, constraints, opts, report)
        return [
            self._motion(f, r, audio, opts, lock=opts.foot_lock and c is None)
            for f, r, audio, c in zip(frames, rows, audios, constraints, strict=True)
        ]

    @torch.no_grad()
    def _sample(
        self,
        rows: list[MusicCondition],
        constraints: list[Constraint | None],
        opts: _Options,
        report: Progress,
    ) -> list[np.ndarray]:
        device, window = self.device, self.config.window_frames
        musics = [torch.from_numpy(np.asarray(r.features, np.float32)).to(device) for r in rows]
        phases = [torch.from_numpy(np.asarray(r.phase, np.float32)).to(device) for r in rows]
        noises = []
        for r in rows:
            gen = torch.Generator().manual_seed(opts.seed)
            noises.append(torch.randn(max(r.num_frames, window), contract.FRAME_DIM, generator=gen))
        masks: list[torch.Tensor | None] = []
        knowns: list[torch.Tensor | None] = []
        for c, r in zip(constraints, rows, strict=True):
            fitted = None if c is None else fit_constraint(c, r.num_frames)
            masks.append(None if fitted is None else fitted.mask)
            knowns.append(None if fitted is None else fitted.values)
        any_constraint = any(m is not None for m in masks)
        out = sample_long(
            self.model,
            make_sampling_scheduler(self.config),
            musics,
            phases,
            num_steps=opts.steps,
            guidance_weight=opts.guidance,
            known_mask=masks if any_constraint else None,
            known_frames=knowns if any_constraint else None,
            generator=torch.Generator().manual_seed(opts.seed),
            noise=noises,
            callback=lambda done, total: report("sampling", done / total),
        )
        return [f.float().cpu().numpy() for f in out]

    def _motion(
        self, frames: np.ndarray, rows: MusicCondition, audio, opts: _Options, lock: bool = False
    ) -> Motion:
        first_s = rows.start_frame / contract.FPS
        end_s = first_s + rows.num_frames / contract.FPS
        beats = rows.beat_times[(rows.beat_times >= first_s) & (rows.beat_times < end_s)]
        meta = {
            "generator": {
                "checkpoint": str(self.checkpoint) if self.checkpoint else None,
                "conditioner": self.config.conditioner,
                "encoder_hash": self.config.encoder_hash,
                "trained_steps": self.trained_steps,
                "seed": opts.seed,
                "steps": opts.steps,
                "guidance": opts.guidance,
                "sampler": self.config.sampler,
                "foot_lock": lock,
            },
            "song_duration": rows.duration,
            "tempo_bpm": rows.tempo_bpm,
            "beats_per_bar": rows.beats_per_bar,
            "beat_times": [round(float(b), 4) for b in beats],
        }
        motion = Motion.from_features(
            frames,
            contract.FPS,
            source_song=_audio_label(audio),
            start_offset=first_s,
            model_hash=self.model_hash,
            meta=meta,
        )
        if lock:
            poses, trans = clean_feet(motion.poses, motion.trans, frames[:, contract.CONTACTS])
            motion = dataclasses.replace(motion, poses=poses, trans=trans)
        return motion


# ------------------------------------------------------------------------ module level


@functools.lru_cache(maxsize=1)
def default_generator() -> DanceGenerator:
    """The generator at :data:`DEFAULT_CHECKPOINT`, loaded on first use and kept."""
    return DanceGenerator.load(DEFAULT_CHECKPOINT)


def generate(audio: AudioInput, **kwargs) -> Motion:
    """:meth:`DanceGenerator.generate` with :func:`default_generator`."""
    return default_generator().generate(audio, **kwargs)
