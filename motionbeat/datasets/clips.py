"""Clips for MotionBeat: :class:`ClipDataset`, windows of K beats of one dance of a song.

A clip is K = ``beats_per_clip`` consecutive beats of one dance, N = K * S tokens. It keeps
``jitter_beats`` spare beats on each side so that the beat-jitter negatives of the Embodied
Contrastive Loss, the same dance shifted by +-jitter_beats beats, exist for every clip. Clips
start every ``stride_beats`` beats inside the beats the dance covers. Root x/z of every window is
made relative to its first token (where a dancer stands on the floor says nothing about the
music).

Shapes: N tokens, S steps per beat, K beats per clip, J = 2 jitter windows (shift -j and +j
beats), C = ``contract.FRAME_DIM`` = 151.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from motionbeat.audio.tokens import STEPS_PER_BEAT
from motionbeat.core import contract
from motionbeat.datasets.songs import SongData

# --- constants ---------------------------------------------------------------------------------
ROOT_X, ROOT_Z = contract.ROOT_POS.start, contract.ROOT_POS.start + 2
"""Frame channels of the horizontal root position (y-up: x and z are the floor plane)."""
DEFAULT_STRIDE_BEATS: int = 2
"""Training clips start every 2 beats: consecutive clips overlap by K - 2 beats."""
JITTER_WINDOWS: int = 2
"""Beat-jitter windows per clip: shifted by -jitter_beats and by +jitter_beats."""


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
        self.steps_per_beat = steps.pop() if steps else STEPS_PER_BEAT
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
