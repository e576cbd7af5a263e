"""Measuring a built corpus: 5 s clips of its dances, their PFC / BAS / Div, and foot checks.

Protocol notes: clips are non-overlapping :data:`contract.WINDOW_SECONDS` windows, at most
``--clips-per-dance`` per dance, sampled evenly; music beats are the manifest's (exact for
synthesized songs, ``motionbeat.audio.analyse_rhythm`` for recorded ones). Div normalises
the features by the corpus's own mean and std (there is no external reference pool here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionbeat.core import contract

LANDING_TOLERANCE_S: float = 0.05
"""A touch-down within this of a beat or half-beat counts as on the beat (the BAS sigma)."""
CLIPS_PER_DANCE: int = 4
MAX_CLIPS: int = 400


# ------------------------------------------------------------------------------ metrics


def corpus_clips(
    corpus: Path, clips_per_dance: int = CLIPS_PER_DANCE, max_clips: int = MAX_CLIPS, seed: int = 0
) -> list[dict]:
    """Evenly spaced 5 s clips of the corpus's dances with their joints and music beats."""
    from motionbeat.datasets.manifest import iter_dances

    n = contract.WINDOW_FRAMES
    clips = []
    for song, dance, motion in iter_dances(corpus):
        if motion.num_frames < n:
            continue
        joints = motion.joints()  # (T, 24, 3)
        beats = np.asarray(song["beat_times"], dtype=np.float64)
        starts = np.linspace(
            0, motion.num_frames - n, num=min(clips_per_dance, motion.num_frames // n)
        )
        for s in np.unique(starts.astype(int)):
            t0 = s / motion.fps
            clips.append(
                {
                    "joints": joints[s : s + n],
                    "beats": beats[(beats >= t0) & (beats < t0 + n / motion.fps)] - t0,
                    "source": song["source"],
                    "split": song["split"],
                    "dance_id": dance["dance_id"],
                }
            )
    if len(clips) > max_clips:
        keep = np.sort(
            np.random.default_rng(seed).choice(len(clips), size=max_clips, replace=False)
        )
        clips = [clips[i] for i in keep]
    return clips


def clip_metrics(clips: list[dict], fps: float = contract.FPS) -> dict[str, float]:
    """PFC, BAS, BAS_motion (means over clips) and Div_k, Div_g of a list of clips."""
    from motionbeat import metrics

    if not clips:
        return {}
    pfc = [metrics.pfc(c["joints"], fps) for c in clips]
    bas, bas_m = [], []
    for c in clips:
        if len(c["beats"]) == 0:
            continue
        r = metrics.beat_alignment(c["joints"], fps, c["beats"])
        bas.append(r["bas"])
        bas_m.append(r["bas_motion"])
    out = {
        "n_clips": len(clips),
        "pfc": float(np.mean(pfc)),
        "pfc_median": float(np.median(pfc)),
        "bas": float(np.nanmean(bas)) if bas else float("nan"),
        "bas_motion": float(np.nanmean(bas_m)) if bas_m else float("nan"),
    }
    if len(clips) >= 2:
        kin, geo = metrics.motion_features([c["joints"] for c in clips], fps)
        out["div_k"] = metrics.diversity(kin, kin)
        out["div_g"] = metrics.diversity(geo, geo)
    return out


def slide_and_floor(corpus: Path, max_dances: int = 50) -> dict[str, float]:
    """Checks from the shards' contact labels: planted-toe speed and height, and how far each
    touch-down lies from the nearest beat or half-beat of the song."""
    from motionbeat.datasets.manifest import iter_dances

    speeds, heights, landing_err, airborne, frames, done = [], [], [], 0, 0, 0
    for song, dance, motion in iter_dances(corpus):
        if done >= max_dances:
            break
        i = [d["dance_id"] for d in song["dances"]].index(dance["dance_id"])
        with np.load(corpus / song["shard"], allow_pickle=False) as z:
            planted = z["contacts"][i][:, :2] > 0.5  # (T, 2) left, right
        toes = motion.joints()[:, [contract.L_TOE, contract.R_TOE]]  # (T, 2, 3)
        step = np.linalg.norm(np.diff(toes, axis=0), axis=-1) * motion.fps  # (T-1, 2) m/s
        speeds.append(step[planted[1:] & planted[:-1]])
        heights.append(np.abs(toes[..., contract.UP_AXIS][planted]))
        beats = np.asarray(song["beat_times"], dtype=np.float64)
        if beats.size > 1:
            grid = np.sort(np.r_[beats, beats[:-1] + np.diff(beats) / 2])  # beats and half-beats
            land = np.nonzero(planted[1:] & ~planted[:-1])[0] + 1  # frames a foot touches down
            t = land / motion.fps
            t = t[(t > beats[0]) & (t < beats[-1])]
            if t.size:
                i = np.clip(np.searchsorted(grid, t), 1, len(grid) - 1)
                landing_err.append(np.minimum(np.abs(t - grid[i - 1]), np.abs(grid[i] - t)))
        airborne += int((~planted[:, 0] & ~planted[:, 1]).sum())
        frames += len(planted)
        done += 1
    sp = np.concatenate(speeds) if speeds else np.zeros(1)
    hi = np.concatenate(heights) if heights else np.zeros(1)
    land_err = np.concatenate(landing_err) if landing_err else np.zeros(0)
    return {
        "planted_toe_speed_max": float(sp.max()),
        "planted_toe_speed_mean": float(sp.mean()),
        "planted_toe_height_max": float(hi.max()),
        "airborne_share": airborne / max(frames, 1),
        "dances_checked": done,
        "landing_error_median_s": float(np.median(land_err)) if land_err.size else float("nan"),
        "landings_within_50ms": float(np.mean(land_err < LANDING_TOLERANCE_S))
        if land_err.size
        else 0.0,
    }
