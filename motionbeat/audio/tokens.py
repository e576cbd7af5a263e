"""Beat-synchronous tokens: :class:`BeatTokens`, :func:`beat_tokens` and
:func:`pool_frames_to_tokens`, which pools frames (audio features or motion) onto token edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motionbeat.audio.features import FrameFeatures
from motionbeat.audio.rhythm import _EDGE_EPS, Rhythm

# --- constants ---------------------------------------------------------------------------------
STEPS_PER_BEAT: int = 4
"""Default sub-beat steps per beat of the beat-synchronous tokens (sixteenth notes in 4/4)."""


@dataclass(frozen=True, eq=False)
class BeatTokens:
    """Beat-synchronous tokens: K beats x S sub-beat steps, flattened beat-major to N = K * S.

    ``x.reshape(K, S, ...)`` recovers the (beat, step) grid of any per-token array ``x``. The K
    beats are the song's beats plus lead-in beats before the first one down to 0 s and beats
    after the last one up to the end of the song, so the tokens cover every motion frame.
    """

    mel: np.ndarray  # (N, n_mels) float32, pooled log-mel
    onset: np.ndarray  # (N,) float32, pooled onset strength
    beat_phase: np.ndarray  # (N,) float32, s / S in [0, 1)
    bar_phase: np.ndarray  # (N,) float32, (bar_position + s / S) / beats_per_bar in [0, 1)
    bar_position: np.ndarray  # (N,) int64, index of the token's beat within its bar
    beat_index: np.ndarray  # (N,) int64, index into Rhythm.beat_times; -1 for added beats
    time_edges: np.ndarray  # (N + 1,) float64 seconds; token n spans [edges[n], edges[n+1])
    steps_per_beat: int
    beats_per_bar: int
    fps: int
    num_frames: int  # T of the features the tokens were pooled from

    @property
    def num_beats(self) -> int:
        """K."""
        return len(self.beat_phase) // self.steps_per_beat

    @property
    def start_time(self) -> np.ndarray:
        """(N,) seconds."""
        return self.time_edges[:-1]

    @property
    def end_time(self) -> np.ndarray:
        """(N,) seconds."""
        return self.time_edges[1:]

    @property
    def frame_edges(self) -> np.ndarray:
        """(N + 1,) token edges in frame units (``seconds * fps``): pool_frames_to_tokens' input."""
        return self.time_edges * self.fps

    @property
    def frame_range(self) -> np.ndarray:
        """(N, 2) int64 ``[first, stop)`` frame indices owned by each token (may be empty)."""
        idx = _frame_index(self.frame_edges, self.num_frames)  # (N + 1,)
        return np.stack([idx[:-1], idx[1:]], axis=1)

    @property
    def values(self) -> np.ndarray:
        """``(N, n_mels + 1)``: pooled log-mel and onset side by side."""
        return np.concatenate([self.mel, self.onset[:, None]], axis=1)


# --- beat-synchronous tokens -------------------------------------------------------------------
def beat_tokens(
    features: FrameFeatures, rhythm: Rhythm, steps_per_beat: int = STEPS_PER_BEAT
) -> BeatTokens:
    """Pool frame features into K beats x S sub-beat steps (see :class:`BeatTokens`).

    Beat k spans ``[b_k, b_{k+1})``; step s spans ``b_k + [s, s + 1) / S * (b_{k+1} - b_k)``.
    Lead-in beats at the first interval are added before the first beat until 0 s is reached,
    and beats at the last interval after the last one until the end of the song: the tokens
    cover every motion frame, and added beats have ``beat_index == -1``. Each token's features are
    the mean of the frames it owns, or a linear interpolation at its centre when it owns none
    (:func:`pool_frames_to_tokens`). Phases: ``beat_phase = s / S``,
    ``bar_phase = (bar_position + s / S) / beats_per_bar``.
    """
    s = int(steps_per_beat)
    if s < 1:
        raise ValueError(f"steps_per_beat must be >= 1, got {steps_per_beat}")
    beats, index, meter = rhythm.beat_times, np.arange(len(rhythm.beat_times)), rhythm.beats_per_bar
    position = rhythm.bar_position
    if len(beats) == 0:  # only a hand-built Rhythm can be empty; treat as one bar from 0 s
        beats, index, position = np.zeros(1), np.array([-1]), np.zeros(1, dtype=np.int64)
    if np.any(np.diff(beats) <= 0):
        raise ValueError("rhythm.beat_times must be strictly increasing")
    head = beats[1] - beats[0] if len(beats) >= 2 else 60.0 / rhythm.tempo_bpm
    tail = beats[-1] - beats[-2] if len(beats) >= 2 else 60.0 / rhythm.tempo_bpm
    # Lead-in beats until the first edge is at or before 0 s, beats after the last until the last
    # edge is at or after the end of the song: then every frame centre lies inside some token.
    n_before = max(int(np.ceil(beats[0] / head - _EDGE_EPS)), 0)
    n_after = max(int(np.ceil((features.duration - beats[-1]) / tail - _EDGE_EPS)), 1)
    edges_b = np.concatenate([
        beats[0] - head * np.arange(n_before, 0, -1),
        beats,
        beats[-1] + tail * np.arange(1, n_after + 1),
    ])  # (K + 1,) beat edges in seconds
    n_beats = len(edges_b) - 1
    index = np.concatenate([np.full(n_before, -1), index, np.full(n_after - 1, -1)])  # (K,)
    position = np.concatenate([
        (position[0] - np.arange(n_before, 0, -1)) % meter,
        position,
        (position[-1] + np.arange(1, n_after)) % meter,
    ])  # (K,)
    step = np.arange(s) / s  # (S,)
    starts = edges_b[:-1, None] + np.diff(edges_b)[:, None] * step[None, :]  # (K, S)
    time_edges = np.concatenate([starts.reshape(-1), edges_b[-1:]])  # (K*S + 1,)
    beat_phase = np.tile(step, n_beats)  # (K*S,)
    pos_tok = np.repeat(position, s)  # (K*S,)
    frame_edges = time_edges * features.fps
    return BeatTokens(
        mel=pool_frames_to_tokens(features.mel, frame_edges).astype(np.float32),
        onset=pool_frames_to_tokens(features.onset, frame_edges).astype(np.float32),
        beat_phase=beat_phase.astype(np.float32),
        bar_phase=((pos_tok + beat_phase) / meter).astype(np.float32),
        bar_position=pos_tok.astype(np.int64),
        beat_index=np.repeat(index, s).astype(np.int64),
        time_edges=time_edges,
        steps_per_beat=s,
        beats_per_bar=meter,
        fps=features.fps,
        num_frames=len(features.onset),
    )


def _frame_index(frame_edges: np.ndarray, num_frames: int) -> np.ndarray:
    """First frame whose centre is at or after each edge, clipped to ``[0, num_frames]``."""
    return np.clip(np.ceil(frame_edges - _EDGE_EPS), 0, num_frames).astype(np.int64)


def pool_frames_to_tokens(frames: np.ndarray, token_frame_edges: np.ndarray) -> np.ndarray:
    """Mean of the frames each token owns; linear interpolation at its centre if it owns none.

    ``frames``: ``(T, ...)``, frame t centred at position t. ``token_frame_edges``: ``(N + 1,)``
    non-decreasing, in frame units (seconds * fps; need not be integers). Token n owns the frames
    ``t`` with ``edges[n] <= t < edges[n + 1]``, so the tokens partition the frames. A token that
    owns no frame (shorter than a frame, or outside ``[0, T)``) takes ``frames`` linearly
    interpolated at ``(edges[n] + edges[n + 1]) / 2``, clamped to ``[0, T - 1]``. Returns
    ``(N, ...)`` in float64 (float32 stays float32). Works for audio features and for motion
    frames (``contract.FRAME_DIM`` wide) alike.
    """
    x = np.asarray(frames)
    edges = np.asarray(token_frame_edges, dtype=np.float64)
    if len(x) == 0:
        raise ValueError("pool_frames_to_tokens needs at least one frame")
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) < 0):
        raise ValueError("token_frame_edges must be a non-decreasing 1-D array of length N + 1")
    out_dtype = np.float32 if x.dtype == np.float32 else np.float64
    t_len, tail_shape = len(x), x.shape[1:]
    flat = x.reshape(t_len, -1).astype(np.float64)  # (T, D)
    idx = _frame_index(edges, t_len)  # (N + 1,)
    start, stop = idx[:-1], idx[1:]  # (N,) each
    csum = np.concatenate([np.zeros((1, flat.shape[1])), np.cumsum(flat, axis=0)])  # (T + 1, D)
    count = (stop - start)[:, None]  # (N, 1)
    pooled = (csum[stop] - csum[start]) / np.maximum(count, 1)  # (N, D)
    centre = np.clip((edges[:-1] + edges[1:]) / 2, 0, t_len - 1)  # (N,)
    lo = np.floor(centre).astype(np.int64)
    hi = np.minimum(lo + 1, t_len - 1)
    w = (centre - lo)[:, None]
    interp = (1 - w) * flat[lo] + w * flat[hi]  # (N, D)
    pooled = np.where(count > 0, pooled, interp)
    return pooled.reshape(len(start), *tail_shape).astype(out_dtype)  # (N, ...)
