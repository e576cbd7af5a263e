"""A toy corpus for tests and smoke runs: :func:`write_toy_corpus` writes synthetic drum songs
with exact beats and beat-locked toy dancers in the ``motionbeat.choreography.build`` layout.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from motionbeat.audio.decode import SAMPLE_RATE
from motionbeat.core import contract
from motionbeat.datasets.songs import SPLITS

# --- toy corpus --------------------------------------------------------------------------------
TOY_STYLES: tuple[tuple[str, int], ...] = (("rock-128", 4), ("waltz", 3), ("bossanova", 4))
"""(mma style name, meter) of the toy songs: three groove families (rock_pop, waltz, latin)."""
TOY_SAMPLE_RATE: int = SAMPLE_RATE
"""Sample rate, Hz, of the toy songs: the front end's own, so no resampling."""
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
