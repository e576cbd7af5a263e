"""Each row's dances: the generators', the rule-based choreographer's and the random clips.

**Rows.** Each row has, for every song, as many dances as the song has ground-truth dances in the
corpus (``--samples`` overrides), so all rows weigh the songs alike and FID sees the same sample
count everywhere; the k-th dance of a song uses seed ``seed + k``.

* *ground truth*: the corpus dances of the held-out songs, cut to the span.
* *generator (MotionBeat)* / *generator (librosa features)*: each ``--generators`` checkpoint
  (label from the conditioner its config names), through
  :meth:`generator.sampling.pipeline.DanceGenerator.generate_many_variants` on the song audio with
  ``duration = S`` (the whole song is conditioned, the first S seconds sampled); a raw row
  (clean-up off) is the same samples as its generator's row, from the same sampling run.
* *rule-based choreographer*: :func:`motionbeat.choreography.choreographer.choreograph` on the song
  audio with the scoring rhythm (below) and seed ``seed + k``, the whole song, cut to the span.
  The synthetic corpus' dances are made by this choreographer (with the songs' exact beats), so
  on such a corpus this row is the data's own generator, not a weak baseline.
* *random clips*: the field's "random" baseline. For each held-out song, dances of OTHER songs of
  the ``train`` split (never one of the same song id), drawn without replacement per song with
  ``numpy.random.default_rng(seed)``, each cut at a random frame to the span's length (among the
  dances at least that long) and laid on the held-out song from its first frame.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from generator.evaluate.songs import (
    DEFAULT_SECONDS,
    POOL_SPLIT,
    EvaluationError,
    HeldOutSong,
    Log,
    PoolDance,
    cut_motion,
)
from motionbeat import audio as au
from motionbeat.core.motion import Motion

DEFAULT_BATCH_SONGS: int = 16
"""Songs per :meth:`DanceGenerator.generate_many` call (bounds memory on long splits)."""
CONDITIONER_LABELS: dict[str, str] = {
    "motionbeat": "generator (MotionBeat)",
    "librosa": "generator (librosa features)",
}


def plan_random_clips(
    songs: Sequence[HeldOutSong], pool: Sequence[PoolDance], counts: Sequence[int], seed: int = 0
) -> list[list[tuple[PoolDance, int, int]]]:
    """Per song, ``counts[i]`` (dance, first frame, frames) picks of dances of OTHER songs.

    Picks are without replacement within a song, among the dances at least as long as the span
    (all other-song dances when none is); the first frame is uniform over the positions where
    the span fits. Deterministic in ``seed``.
    """
    rng = np.random.default_rng(seed)
    plans = []
    for song, count in zip(songs, counts, strict=True):
        others = [d for d in pool if d.song_id != song.song_id]
        if not others:
            raise EvaluationError(f"{song.song_id}: no dance of another {POOL_SPLIT} song for random clips")

        def need(d: PoolDance, song=song) -> int:
            return max(1, round(song.span_s * d.fps))

        long_enough = [d for d in others if d.frames >= need(d)]
        candidates = long_enough or others
        chosen = rng.choice(len(candidates), size=count, replace=count > len(candidates))
        picks = []
        for c in chosen:
            d = candidates[int(c)]
            frames = min(need(d), d.frames)
            picks.append((d, int(rng.integers(0, d.frames - frames + 1)), frames))
        plans.append(picks)
    return plans


def random_clips(
    songs: Sequence[HeldOutSong], pool: Sequence[PoolDance], counts: Sequence[int], seed: int = 0
) -> list[list[Motion]]:
    """The random-clip baseline (module docstring): per song, clips of other songs' dances laid on
    it from its first frame; ``meta`` names the dance, its song and the cut."""
    plans = plan_random_clips(songs, pool, counts, seed)
    shards: dict[Path, list[tuple[int, int, PoolDance, int, int]]] = {}
    for i, picks in enumerate(plans):
        for j, (d, first, frames) in enumerate(picks):
            shards.setdefault(d.shard, []).append((i, j, d, first, frames))
    out: list[list[Motion | None]] = [[None] * len(p) for p in plans]
    for shard, wanted in shards.items():
        with np.load(shard, allow_pickle=False) as z:
            poses, trans, fps = z["poses"], z["trans"], float(z["fps"])  # (D, T, 24, 3), (D, T, 3)
        for i, j, d, first, frames in wanted:
            clip = Motion(
                poses[d.index, first:first + frames], trans[d.index, first:first + frames], fps,
                source_song=str(songs[i].audio_path),
                meta={"random_clip_of": d.dance_id, "from_song": d.song_id,
                      "from_seconds": round(first / fps, 4)},
            )
            out[i][j] = cut_motion(clip, songs[i].num_frames)
    return [list(row) for row in out]  # type: ignore[arg-type]


def choreographer_dances(
    songs: Sequence[HeldOutSong], counts: Sequence[int], seed: int = 0
) -> list[list[Motion]]:
    """The rule-based choreographer on each whole song (scoring rhythm, seed ``seed + k``), cut."""
    from motionbeat.choreography.choreographer import choreograph

    out = []
    for song, count in zip(songs, counts, strict=True):
        audio = au.load_audio(song.audio_path)
        out.append([cut_motion(choreograph(audio, rhythm=song.rhythm, seed=seed + k), song.num_frames)
                    for k in range(count)])
    return out


def generator_label(conditioner: str, checkpoint: str | os.PathLike, taken: Sequence[str] = (),
                    untrained: bool = False) -> str:
    """"generator (MotionBeat)" / "generator (librosa features)", made unique with the
    checkpoint's name when two checkpoints share a conditioner; ", untrained" when it is."""
    label = CONDITIONER_LABELS.get(conditioner, f"generator ({conditioner})")
    if untrained:
        label = label[:-1] + ", untrained)"
    if label in taken:
        label = f"{label} [{Path(checkpoint).name}]"
    return label


def generator_dances(
    generator,
    songs: Sequence[HeldOutSong],
    counts: Sequence[int],
    seed: int = 0,
    seconds: float = DEFAULT_SECONDS,
    *,
    steps: int | None = None,
    guidance: float | None = None,
    sampler: str | None = None,
    beat_guidance: float | None = None,
    halftime_above_bpm: float | None = None,
    beat_warp: float | None = None,
    batch_songs: int = DEFAULT_BATCH_SONGS,
    log: Log | None = None,
    foot_locks: Sequence[bool] = (True,),
) -> list[list[list[Motion]]]:
    """Dances of a :class:`~generator.sampling.pipeline.DanceGenerator`: the k-th dance of every song in
    one :meth:`generate_many_variants` call (``batch_songs`` songs at a time) with seed ``seed + k``,
    finished once per ``foot_locks`` setting: one row of dances (a list per song) per setting,
    all from the same samples."""
    out: list[list[list[Motion]]] = [[[] for _ in songs] for _ in foot_locks]
    for k in range(max(counts, default=0)):
        todo = [i for i, c in enumerate(counts) if c > k]
        for a in range(0, len(todo), batch_songs):
            batch = todo[a:a + batch_songs]
            variants = generator.generate_many_variants(
                [songs[i].audio_path for i in batch], foot_locks=foot_locks, seed=seed + k,
                steps=steps, guidance=guidance, sampler=sampler, beat_guidance=beat_guidance,
                halftime_above_bpm=halftime_above_bpm, beat_warp=beat_warp, start=0.0,
                duration=seconds,
            )
            for row, motions in zip(out, variants, strict=True):
                for i, m in zip(batch, motions, strict=True):
                    row[i].append(cut_motion(m, songs[i].num_frames))
            if log:
                log(f"  seed {seed + k}: {min(a + batch_songs, len(todo))}/{len(todo)} songs")
    return out
