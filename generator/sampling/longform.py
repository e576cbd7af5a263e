"""Long-form sampling: songs of any length from a denoiser trained on fixed windows.

EDGE (Tseng et al., CVPR 2023, Sec. 3.3) samples a batch of windows that overlap by half and, at
every denoising step, makes each window's first half equal to the previous window's second half;
the final windows are joined by crossfading positions linearly and rotations by slerp.

Here the consistency is built in (as MultiDiffusion, Bar-Tal et al., ICML 2023): the sampler state
is *one* sequence per song, x_t of shape (L, D). At every step each window w_k = x_t[s_k : s_k + W]
is denoised, and the clean predictions are fused by a weighted average over the windows covering
each frame f,

    x̂_0[f] = sum_k a_k(f - s_k) x̂_0^k[f - s_k] / sum_k a_k(f - s_k),

with a triangular weight a(i) = min(1, min(i + 1, W - i) / (O + 1)) (O = overlap frames), which
for a half-window overlap is EDGE's linear crossfade. The scheduler then steps the whole sequence,
so overlapping windows share exactly the same x_t at every step. The output is the last step's
windows joined in physical units: contacts and root positions by the same weighted average,
joint rotations by weighted slerp (Shoemake 1985) of their quaternions, so no seam shows.

Windows are spread evenly: n = ceil((T - W) / (W - O)) + 1 windows starting at
s_k = round(k (T - W) / (n - 1)), so every window is full and consecutive windows overlap by at
least O frames. A song shorter than a window is sampled in one window padded to W frames, whose
padding is masked out of attention (``frame_mask``), and the output is cropped back to T. Several
songs are sampled together: their windows share one denoiser batch per step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from generator.model.denoiser import Denoiser
from generator.model.diffusion import (
    SamplingScheduler,
    guided_condition,
    guided_denoise,
    make_inpainting,
    restore_known,
    run_sampler,
)
from generator.sampling.beat_guidance import beat_guided
from motionbeat.core import contract, kinematics

MAX_WINDOWS_PER_CALL: int = 64
"""Windows (before the 2x of guidance) denoised in one batched call; bounds memory on long songs."""


def window_starts(num_frames: int, window: int, overlap: int) -> list[int]:
    """Start frames of evenly spread full windows covering ``num_frames`` ([0] when T <= W)."""
    if num_frames <= window:
        return [0]
    hop = window - overlap
    count = math.ceil((num_frames - window) / hop) + 1
    span = num_frames - window
    return [round(k * span / (count - 1)) for k in range(count)]


def blend_weights(window: int, overlap: int) -> torch.Tensor:
    """(W,) triangular weights a(i) = min(1, min(i + 1, W - i) / (O + 1)), all > 0."""
    i = torch.arange(window, dtype=torch.float32)
    return (torch.minimum(i + 1, window - i) / (overlap + 1)).clamp(max=1.0)


@dataclass
class WindowLayout:
    """Where every window of every song sits on one flat timeline of concatenated songs.

    Attributes:
        lengths: frames T_i of each song.
        offsets: first flat index of each song; song i owns max(T_i, W) flat frames.
        total: flat length L.
        index: (N, W) long, flat frame index of each window position.
        song: (N,) long, the song of each window.
        starts: per song, the start frames of its windows.
        valid: (L,) bool, True on real frames (False on the padding of short songs).
    """

    lengths: list[int]
    offsets: list[int]
    total: int
    index: torch.Tensor
    song: torch.Tensor
    starts: list[list[int]]
    valid: torch.Tensor

    @classmethod
    def build(cls, lengths: Sequence[int], window: int, overlap: int) -> WindowLayout:
        offsets, rows, song, starts = [], [], [], []
        total = 0
        for i, num_frames in enumerate(lengths):
            offsets.append(total)
            song_starts = window_starts(num_frames, window, overlap)
            starts.append(song_starts)
            for s in song_starts:
                rows.append(torch.arange(window) + total + s)  # (W,)
                song.append(i)
            total += max(num_frames, window)
        valid = torch.zeros(total, dtype=torch.bool)
        for off, num_frames in zip(offsets, lengths, strict=True):
            valid[off : off + num_frames] = True
        return cls(
            list(lengths), offsets, total, torch.stack(rows), torch.tensor(song), starts, valid
        )

    def flatten(self, per_song: Sequence[torch.Tensor], fill: float = 0.0) -> torch.Tensor:
        """Per-song (T_i, F) tensors -> (L, F) flat, padding filled with ``fill``."""
        feat = per_song[0].shape[-1]
        flat = per_song[0].new_full((self.total, feat), fill)
        for off, x in zip(self.offsets, per_song, strict=True):
            flat[off : off + x.shape[0]] = x
        return flat

    def unflatten(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """(L, F) flat -> per-song (T_i, F), padding dropped."""
        return [flat[off : off + n] for off, n in zip(self.offsets, self.lengths, strict=True)]


def fuse_windows(
    windows: torch.Tensor, layout: WindowLayout, weights: torch.Tensor
) -> torch.Tensor:
    """(N, W, F) per-window values -> (L, F) weighted mean over the windows covering each frame."""
    flat_idx = layout.index.reshape(-1)  # (N*W,)
    w = weights.to(windows).expand(windows.shape[0], -1)  # (N, W)
    num = windows.new_zeros(layout.total, windows.shape[-1])
    num.index_add_(
        0, flat_idx, (windows * w.unsqueeze(-1)).reshape(-1, windows.shape[-1])
    )  # (L, F)
    den = windows.new_zeros(layout.total).index_add_(0, flat_idx, w.reshape(-1))  # (L,)
    return num / den.clamp_min(torch.finfo(windows.dtype).tiny).unsqueeze(-1)


def join_windows(
    windows: torch.Tensor, layout: WindowLayout, weights: torch.Tensor
) -> torch.Tensor:
    """(N, W, D) physical frames of every window -> (L, D) joined frames.

    Contacts and root position: weighted average (a linear crossfade). Rotations: weighted slerp,
    q <- slerp(q, q_k, a_k / (sum of the weights so far)), window by window, on the unit
    quaternions of the Gram-Schmidt-decoded 6-D rotations; written back as 6-D.
    """
    joined = fuse_windows(windows, layout, weights)  # (L, D); rotations replaced below
    rot6d = windows[..., contract.ROTATIONS].unflatten(
        -1, (contract.NUM_JOINTS, contract.ROT6D_DIM)
    )
    quats = kinematics.matrix_to_quaternion(kinematics.rot6d_to_matrix(rot6d))  # (N, W, 24, 4)
    acc_q = quats.new_zeros(layout.total, contract.NUM_JOINTS, 4)  # (L, 24, 4)
    acc_w = quats.new_zeros(layout.total)  # (L,)
    w = weights.to(quats)  # (W,)
    for k in range(windows.shape[0]):
        idx = layout.index[k]  # (W,)
        prev_w = acc_w[idx]  # (W,)
        total_w = prev_w + w
        frac = torch.where(prev_w > 0, w / total_w, torch.ones_like(w))  # (W,)
        start = torch.where((prev_w > 0)[:, None, None], acc_q[idx], quats[k])  # (W, 24, 4)
        frac_j = frac[:, None].expand(-1, contract.NUM_JOINTS)  # (W, 24)
        acc_q[idx] = kinematics.quaternion_slerp(start, quats[k], frac_j)  # (W, 24, 4)
        acc_w[idx] = total_w
    mats = kinematics.quaternion_to_matrix(acc_q)  # (L, 24, 3, 3)
    joined[:, contract.ROTATIONS] = kinematics.matrix_to_rot6d(mats).flatten(-2)  # (L, 24*6)
    return joined


@dataclass
class LongformResult:
    """Frames per song plus, for inspection, each song's final windows before the join.

    Attributes:
        frames: per song, (T_i, D) physical frames.
        windows: per song, (n_i, W, D) physical frames of its windows' last clean prediction.
        starts: per song, the start frame of each window.
    """

    frames: list[torch.Tensor]
    windows: list[torch.Tensor]
    starts: list[list[int]]


@torch.no_grad()
def sample_long(
    denoiser: Denoiser,
    scheduler: SamplingScheduler,
    music_feats: torch.Tensor | Sequence[torch.Tensor],
    phase: torch.Tensor | Sequence[torch.Tensor] | None = None,
    *,
    num_steps: int | None = None,
    guidance_weight: float | None = None,
    overlap_frames: int | None = None,
    known_mask: torch.Tensor | Sequence[torch.Tensor] | None = None,
    known_frames: torch.Tensor | Sequence[torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
    song_generators: Sequence[torch.Generator] | None = None,
    callback: Callable[[int, int], None] | None = None,
    max_windows_per_call: int = MAX_WINDOWS_PER_CALL,
    return_windows: bool = False,
    beat_guidance: float = 0.0,
    style: torch.Tensor | Sequence[torch.Tensor | None] | None = None,
) -> torch.Tensor | list[torch.Tensor] | LongformResult:
    """Dance for whole songs: (T, C) music features -> (T, D) physical frames, any T >= 1.

    Args:
        music_feats: (T, C) frozen encoder features at the motion frame rate, or a list of them
            (one per song, lengths may differ) to sample several songs in one batch.
        phase: (T, 2) beat and bar phase in [0, 1) per frame (a list for several songs), or None.
        num_steps, guidance_weight, overlap_frames: default to the denoiser config's
            ``sample_steps``, ``guidance_weight`` and ``overlap_frames``.
        known_mask, known_frames: (T, D) inpainting constraint per song (see
            :mod:`generator.sampling.editing`); the output equals ``known_frames`` where the mask is set.
        generator: seeds the noise (all songs' at once) unless ``song_generators`` are given.
        song_generators: one per song: it draws the song's initial noise, (max(T, W), D) (a song
            shorter than a window owns W frames), then the song's share of the fresh noise a
            stochastic sampler (``"ddpm"``, ``"sde-dpm++"``) adds at each step. A song's dance
            is then the same whether it is sampled alone or in a batch.
        callback: ``callback(done, total)`` after each denoising step.
        max_windows_per_call: windows per denoiser call (memory bound for very long songs).
        return_windows: return a :class:`LongformResult` with the windows before the join.
        beat_guidance: strength of :mod:`generator.sampling.beat_guidance` (0 = off; needs
            ``phase``): each step's clean windows are nudged so the body settles on the beats.
        style: (style_dim,) the dance's style (:mod:`generator.model.style`; a list for several
            songs, None entries for none), given to every window of its song; ignored by a
            model without a style input.
    Returns:
        (T, D) for one song, a list for a list, or a :class:`LongformResult`.
    """
    cfg = denoiser.config
    single = isinstance(music_feats, torch.Tensor)
    musics = [music_feats] if single else list(music_feats)
    phases = _as_list(phase, single, len(musics))
    masks = _as_list(known_mask, single, len(musics))
    knowns = _as_list(known_frames, single, len(musics))
    if any(m.ndim != 2 or m.shape[0] < 1 for m in musics):
        raise ValueError("music features must be (T, C) with T >= 1")
    if beat_guidance and all(p is None for p in phases):
        raise ValueError("beat guidance needs the songs' phase (beat phase per frame)")
    num_steps = num_steps or cfg.sample_steps
    w = cfg.guidance_weight if guidance_weight is None else float(guidance_weight)
    overlap = cfg.overlap_frames if overlap_frames is None else int(overlap_frames)
    window = cfg.window_frames
    device = musics[0].device

    layout = WindowLayout.build([m.shape[0] for m in musics], window, overlap)
    weights = blend_weights(window, overlap).to(device)  # (W,)
    index = layout.index.to(device)  # (N, W)
    music_win = layout.flatten(musics)[index]  # (N, W, C)
    phase_win = None
    if any(p is not None for p in phases):
        filled = [
            p if p is not None else m.new_zeros(m.shape[0], cfg.phase_dim)
            for p, m in zip(phases, musics, strict=True)
        ]
        phase_win = layout.flatten(filled)[index]  # (N, W, 2)
    style_win = None
    styles = _as_list(style, single, len(musics))
    if cfg.style_dim and any(st is not None for st in styles):
        rows = [torch.full((cfg.style_dim,), torch.nan) if st is None else st.reshape(-1).float().cpu()
                for st in styles]
        style_win = torch.stack(rows).to(device)[layout.song.to(device)]  # (N, K), NaN = none
    valid_win = layout.valid.to(device)[index]  # (N, W)
    mask_win = None if bool(valid_win.all()) else valid_win

    chunks = [
        slice(i, i + max_windows_per_call) for i in range(0, index.shape[0], max_windows_per_call)
    ]
    conds = [
        guided_condition(
            denoiser,
            music_win[c],
            None if phase_win is None else phase_win[c],
            None if mask_win is None else mask_win[c],
            w,
            None if style_win is None else style_win[c],
        )
        for c in chunks
    ]
    last_windows: list[torch.Tensor] = []

    def predict(x_flat: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x_win = x_flat[index]  # (N, W, D): overlapping windows share the same x_t
        parts = []
        for c, cond in zip(chunks, conds, strict=True):
            mask = None if mask_win is None else mask_win[c]
            x0 = guided_denoise(denoiser, x_win[c], t, cond, w, mask)  # (n, W, D)
            if beat_guidance:  # per window, so per chunk: memory stays bounded on long songs
                x0 = beat_guided(x0, denoiser, phase_win[c], beat_guidance, mask)
            parts.append(x0)
        x0_win = torch.cat(parts)  # (N, W, D)
        last_windows[:] = [x0_win]
        return fuse_windows(x0_win, layout, weights)  # (L, D)

    flat_mask, flat_known = _flat_constraint(layout, masks, knowns, cfg.frame_dim, device)
    inpainting = make_inpainting(denoiser, flat_mask, flat_known)

    step_noise = None
    if song_generators is None:
        flat_noise = torch.randn((layout.total, cfg.frame_dim), generator=generator)  # (L, D)
    else:
        gens = list(song_generators)
        if len(gens) != len(musics):
            raise ValueError(f"{len(musics)} songs but {len(gens)} song generators")
        shapes = [(max(length, window), cfg.frame_dim) for length in layout.lengths]

        def per_song_noise() -> torch.Tensor:  # (L, D), songs in layout order
            return torch.cat([torch.randn(s, generator=g) for s, g in zip(shapes, gens, strict=True)])

        flat_noise = per_song_noise()
        step_noise = per_song_noise
    flat_noise = flat_noise.to(device)
    run_sampler(
        scheduler, flat_noise, predict, num_steps, inpainting, generator, callback, step_noise
    )
    windows_phys = denoiser.denormalize(last_windows[0])  # (N, W, D)
    joined = join_windows(windows_phys, layout, weights)  # (L, D)
    joined = restore_known(joined, flat_mask, flat_known)
    frames = layout.unflatten(joined)
    if return_windows:
        song = layout.song.to(device)
        per_song = [windows_phys[song == i] for i in range(len(musics))]
        return LongformResult(frames, per_song, layout.starts)
    return frames[0] if single else frames


def _flat_constraint(
    layout: WindowLayout, masks: list, knowns: list, frame_dim: int, device
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Per-song (T_i, D) masks / known frames (None = nothing known) -> (L, D) flat, or Nones."""
    if all(m is None for m in masks):
        return None, None
    filled_masks, filled_known = [], []
    for mask, known, length in zip(masks, knowns, layout.lengths, strict=True):
        if mask is not None and known is None:
            raise ValueError("known_mask needs known_frames")
        empty = torch.zeros(length, frame_dim, device=device)
        filled_masks.append(empty if mask is None else mask.to(device=device, dtype=empty.dtype))
        filled_known.append(empty if mask is None else known.to(device=device, dtype=empty.dtype))
    return layout.flatten(filled_masks), layout.flatten(filled_known)  # 2 x (L, D)


def _as_list(value, single: bool, count: int) -> list:
    if value is None:
        return [None] * count
    if single:
        return [value]
    values = list(value)
    if len(values) != count:
        raise ValueError(f"expected {count} per-song tensors, got {len(values)}")
    return values
