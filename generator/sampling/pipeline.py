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

Checkpoints (their format, saving, loading, seeded untrained ones) are
:mod:`generator.sampling.checkpoint`; constraints taken from a motion are
:mod:`generator.sampling.constraints`; the options of a run, checked and defaulted, are
:mod:`generator.sampling.options`; the finishing steps after sampling (foot clean-up, beat warp)
:mod:`generator.cleanup`.

Long file: :class:`DanceGenerator`'s three entry points (one song, many songs, many songs with
and without the clean-up) each name and document every sampling option a caller may set.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from generator.cleanup.beat_warp import warp_dance
from generator.cleanup.footlock import clean_feet
from generator.model.conditioning import ConditioningError, MusicCondition, conditioner_for
from generator.model.config import GeneratorConfig
from generator.model.denoiser import Denoiser
from generator.model.diffusion import make_sampling_scheduler
from generator.model.style import STYLE_NAMES, style_seed
from generator.model.style_prior import song_summary
from generator.sampling.checkpoint import (
    DEFAULT_CHECKPOINT,
    GeneratorCheckpointError,
    checkpoint_paths,
    load_denoiser,
)
from generator.sampling.constraints import fit_constraint
from generator.sampling.editing import Constraint
from generator.sampling.longform import sample_long
from generator.sampling.options import (
    SamplingOptions,
    check_number,
    dance_rhythm,
    sampling_options,
)
from motionbeat import audio as au
from motionbeat.core import contract
from motionbeat.core.motion import Motion
from motionbeat.encoder.encode import file_hash

Progress = Callable[[str, float], None]
"""``progress(stage, fraction)`` with stage ``"features"`` or ``"sampling"``, fraction in [0, 1]."""
AudioInput = au.Audio | str | os.PathLike


# ----------------------------------------------------------------------------- helpers


def segment_frames(
    song_frames: int, start: float = 0.0, duration: float | None = None
) -> tuple[int, int]:
    """``[first, stop)`` frames of the excerpt ``start`` s .. ``start + duration`` s of a song of
    ``song_frames`` frames; ``duration`` None = to the end, and an excerpt past the end is
    clipped to it. Raises ValueError for a negative start, a start at or past the end, or a
    duration shorter than one frame."""
    start = check_number("start", start, minimum=0.0)
    song_seconds = song_frames / contract.FPS
    first = round(start * contract.FPS)
    if first >= song_frames:
        raise ValueError(
            f"start {start:g} s is at or past the end of the {song_seconds:.2f} s song"
        )
    if duration is None:
        return first, song_frames
    duration = check_number("duration", duration, minimum=0.0, allow_equal=False)
    count = round(duration * contract.FPS)
    if count < 1:
        raise ValueError(
            f"duration {duration:g} s is shorter than one frame (1/{contract.FPS} s)"
        )
    return first, min(song_frames, first + count)


def _cleaned(motion: Motion, frames: np.ndarray) -> Motion:
    """``motion`` with its feet held (:func:`generator.cleanup.footlock.clean_feet` on the model's
    contact channels of ``frames``), ``foot_lock`` True in its meta."""
    poses, trans = clean_feet(motion.poses, motion.trans, frames[:, contract.CONTACTS])
    meta = {**motion.meta, "generator": {**motion.meta["generator"], "foot_lock": True}}
    return dataclasses.replace(motion, poses=poses, trans=trans, meta=meta)


def _audio_label(audio: AudioInput) -> str:
    if isinstance(audio, au.Audio):
        return str(audio.path) if audio.path is not None else audio.name
    return str(audio)


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
        """True for a checkpoint of :func:`~generator.sampling.checkpoint.write_untrained_checkpoint`
        (no training steps)."""
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
        sampler: str | None = None,
        beat_guidance: float | None = None,
        bpm: float | None = None,
        halftime_above_bpm: float | None = None,
        style_scale: float | None = None,
        beat_warp: float | None = None,
    ) -> Motion:
        """Dance for one song (a path or a decoded :class:`motionbeat.audio.Audio`).

        Args:
            seed: seeds the initial noise; the same seed, song and options give the same dance.
            steps: denoising steps (default: the config's ``sample_steps``).
            guidance: classifier-free guidance weight w (default: the config's; 1 = plain
                conditional sampling, 0 = ignore the music).
            start, duration: the excerpt, seconds (default: the whole song); an excerpt past
                the end of the song is clipped to it.
            constraint: an editing constraint (:mod:`generator.sampling.constraints`,
                :mod:`generator.sampling.editing`); its frame 0 is the excerpt's first frame,
                and it is cropped or padded to the excerpt's length.
            progress: ``progress(stage, fraction)``, stages ``"features"`` then ``"sampling"``.
            foot_lock: hold the feet the model marks planted still, by correcting the root
                path and then pinning each foot with leg IK (:mod:`generator.cleanup.footlock`);
                skipped for a song with a constraint, whose given poses and root win.
            sampler: one of :data:`~generator.model.config.SAMPLERS` (default: the config's).
            beat_guidance: strength of the beat guidance
                (:mod:`generator.sampling.beat_guidance`; default: the config's; 0 = off).
            bpm: the song's tempo as the user hears it, for a song whose beats the tracker
                finds at half or double speed (``motionbeat.audio.analyse_rhythm``'s
                ``tempo_hint``); None: the tracker decides.
            halftime_above_bpm: dance a song tracked faster than this at half time
                (:func:`generator.sampling.options.dance_rhythm`; default: the config's; 0 = off);
                a ``bpm`` given wins.
            style_scale: how far from the training dances' mean each dance's style is drawn,
                in multiples of their spread (:mod:`generator.model.style`; default: the
                config's ``style_scale``; 0 = every dance the mean style); an error for a model
                without a style input.
            beat_warp: retime the model's dance so its accents fall on the beats, each
                moved at most this many beats (:mod:`generator.cleanup.beat_warp`; default:
                the config's; 0 = off, at most 0.5); skipped for a song with a constraint,
                whose given frames keep their times.
        Returns:
            a :class:`Motion` at :data:`contract.FPS` naming the song, the excerpt's start
            offset in it and this generator's model hash.
        """
        return self.generate_many(
            [audio], seed=seed, steps=steps, guidance=guidance, start=start, duration=duration,
            constraint=constraint, progress=progress, foot_lock=foot_lock, sampler=sampler,
            beat_guidance=beat_guidance, bpm=bpm, halftime_above_bpm=halftime_above_bpm,
            style_scale=style_scale, beat_warp=beat_warp,
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
        sampler: str | None = None,
        beat_guidance: float | None = None,
        bpm: float | None = None,
        halftime_above_bpm: float | None = None,
        style_scale: float | None = None,
        beat_warp: float | None = None,
    ) -> list[Motion]:
        """Dances for several songs in one sampling run; options as :meth:`generate`, the same
        for every song (``constraint`` may also be a list, one per song). Each song's dance
        equals what :meth:`generate` gives it alone (same seed), up to float rounding."""
        return self.generate_many_variants(
            audios, foot_locks=(foot_lock,), seed=seed, steps=steps, guidance=guidance,
            start=start, duration=duration, constraint=constraint, progress=progress,
            sampler=sampler, beat_guidance=beat_guidance, bpm=bpm,
            halftime_above_bpm=halftime_above_bpm, style_scale=style_scale, beat_warp=beat_warp,
        )[0]

    def generate_many_variants(
        self,
        audios: Sequence[AudioInput],
        *,
        foot_locks: Sequence[bool] = (True, False),
        seed: int = 0,
        steps: int | None = None,
        guidance: float | None = None,
        start: float = 0.0,
        duration: float | None = None,
        constraint: Constraint | Sequence[Constraint | None] | None = None,
        progress: Progress | None = None,
        sampler: str | None = None,
        beat_guidance: float | None = None,
        bpm: float | None = None,
        halftime_above_bpm: float | None = None,
        style_scale: float | None = None,
        beat_warp: float | None = None,
    ) -> list[list[Motion]]:
        """:meth:`generate_many` once, its samples finished once per ``foot_locks`` setting:
        ``[dances with foot_locks[0], dances with foot_locks[1], ...]``. The default gives the
        cleaned dances and the model's raw output of the same samples from one sampling run
        (what the evaluation's raw rows need), at the cost of one run instead of two."""
        if isinstance(audios, str | os.PathLike | au.Audio):
            raise TypeError("give a list of songs; use generate for one")
        locks = [bool(lock) for lock in foot_locks]
        if not locks:
            raise ValueError("foot_locks must name at least one setting")
        audios = list(audios)
        if not audios:
            return [[] for _ in locks]
        opts = sampling_options(self.config, seed, steps, guidance, start, duration, sampler,
                                beat_guidance, bpm, halftime_above_bpm, style_scale, beat_warp)
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
            song = self.conditioner.condition(decoded, dance_rhythm(decoded, opts))
            first, stop = segment_frames(song.num_frames, opts.start, opts.duration)
            rows.append(song.sliced(first, stop))
            report("features", (i + 1) / len(audios))

        report("sampling", 0.0)
        styles = [self.dance_style(opts.seed, r, opts.style_scale) for r in rows]  # None: no style input
        frames = self._sample(rows, constraints, styles, opts, report)
        raw = [self._motion(f, r, audio, st, opts)
               for f, r, audio, st in zip(frames, rows, audios, styles, strict=True)]
        # retimed before the clean-up, so the held feet stay exact; a constraint's frames keep their times
        warps = [opts.beat_warp if c is None else 0.0 for c in constraints]
        raw, frames = map(list, zip(*(warp_dance(m, f, m.meta["beat_times"], w)
                                      for m, f, w in zip(raw, frames, warps, strict=True)), strict=True))
        raw = [dataclasses.replace(m, meta={**m.meta, "generator": {**m.meta["generator"], "beat_warp": w}})
               for m, w in zip(raw, warps, strict=True)]
        cleaned = [
            _cleaned(m, f) if c is None and any(locks) else m
            for m, f, c in zip(raw, frames, constraints, strict=True)
        ]
        return [cleaned if lock else raw for lock in locks]

    @torch.no_grad()
    def _sample(
        self,
        rows: list[MusicCondition],
        constraints: list[Constraint | None],
        styles: list[torch.Tensor | None],
        opts: SamplingOptions,
        report: Progress,
    ) -> list[np.ndarray]:
        device = self.device
        musics = [torch.from_numpy(np.asarray(r.features, np.float32)).to(device) for r in rows]
        phases = [torch.from_numpy(np.asarray(r.phase, np.float32)).to(device) for r in rows]
        # one generator per song, so a dance does not depend on the songs beside it
        gens = [torch.Generator().manual_seed(opts.seed) for _ in rows]
        masks: list[torch.Tensor | None] = []
        knowns: list[torch.Tensor | None] = []
        for c, r in zip(constraints, rows, strict=True):
            fitted = None if c is None else fit_constraint(c, r.num_frames)
            masks.append(None if fitted is None else fitted.mask)
            knowns.append(None if fitted is None else fitted.values)
        any_constraint = any(m is not None for m in masks)
        out = sample_long(
            self.model,
            make_sampling_scheduler(self.config, opts.sampler),
            musics,
            phases,
            num_steps=opts.steps,
            guidance_weight=opts.guidance,
            known_mask=masks if any_constraint else None,
            known_frames=knowns if any_constraint else None,
            song_generators=gens,
            beat_guidance=opts.beat_guidance,
            style=styles,
            callback=lambda done, total: report("sampling", done / total),
        )
        return [f.float().cpu().numpy() for f in out]

    def dance_style(self, seed: int, rows: MusicCondition,
                    scale: float | None = None) -> torch.Tensor | None:
        """(style_dim,) the style of a dance with ``seed`` of the song ``rows`` (the part danced;
        :mod:`generator.model.style`), from a generator seeded by both seed and song length: the
        same song and seed dance alike, the songs of one run differ; with ``style_prior``
        "music", centred on what the song's music predicts; ``scale`` (default: the config's
        ``style_scale``) widens it. None for a model without a style input."""
        if not self.config.style_dim:
            return None
        gen = torch.Generator().manual_seed(style_seed(seed, rows.duration))
        summary = None
        if self.config.style_prior == "music":
            summary = torch.from_numpy(song_summary(rows.features, rows.tempo_bpm))
        scale = self.config.style_scale if scale is None else scale
        return self.model.draw_style(gen, scale=scale, summary=summary)[0]

    def _motion(self, frames: np.ndarray, rows: MusicCondition, audio, style: torch.Tensor | None,
                opts: SamplingOptions) -> Motion:
        """The model's (T, D) frames as a Motion, no clean-up (``foot_lock`` False in its meta);
        ``style``, the dance's style (:meth:`dance_style`), is named in it."""
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
                "sampler": opts.sampler,
                "beat_guidance": opts.beat_guidance,
                "bpm_hint": opts.bpm,
                "halftime_above_bpm": opts.halftime_above_bpm,
                "foot_lock": False,
            },
            "song_duration": rows.duration,
            "tempo_bpm": rows.tempo_bpm,
            "beats_per_bar": rows.beats_per_bar,
            "beat_times": [round(float(b), 4) for b in beats],
        }
        if style is not None:  # log m/s per body part, by name
            meta["generator"]["style"] = {
                name: round(float(v), 4) for name, v in zip(STYLE_NAMES, style, strict=True)
            }
            meta["generator"]["style_scale"] = opts.style_scale
            meta["generator"]["style_prior"] = self.config.style_prior
        motion = Motion.from_features(
            frames,
            contract.FPS,
            source_song=_audio_label(audio),
            start_offset=first_s,
            model_hash=self.model_hash,
            meta=meta,
        )
        return motion


# ------------------------------------------------------------------------ module level


@functools.lru_cache(maxsize=1)
def default_generator() -> DanceGenerator:
    """The generator at :data:`DEFAULT_CHECKPOINT`, loaded on first use and kept."""
    return DanceGenerator.load(DEFAULT_CHECKPOINT)


def generate(audio: AudioInput, **kwargs) -> Motion:
    """:meth:`DanceGenerator.generate` with :func:`default_generator`."""
    return default_generator().generate(audio, **kwargs)
