"""Short double lifts bridged: a foot that barely leaves the floor between steps stays planted.

The model predicts foot contacts frame by frame, and between two steps it now and then labels
every foot joint free for a few frames, or lifts one foot a frame before the other lands, while
the lowest foot stays within a few centimetres of the floor: a little hop that nothing in the
training dances does (their lowest foot touches the floor in every frame). With no planted
foot, :func:`generator.cleanup.footlock.lock_planted_feet` can only coast the root through the
span, both feet slide with it, and those frames are nearly all of the foot skating left after
the clean-up (``docs/generator.md``).

:func:`bridge_short_lifts` marks one foot joint planted through each such span:

    span = the frames a .. b of a run of steps a -> a+1, ..., b-1 -> b in which no foot joint
           is planted (contact above tau) in both frames of the step, b - a <= N
    j*   = argmin over the foot joints j of max over the span of height_j
    contacts[span, j*] <- 1      if max over the span of height_{j*} <= H

with tau the contact threshold, N = :data:`MAX_BRIDGE_FRAMES` and H = :data:`MAX_BRIDGE_HEIGHT`.
The locking and the leg IK pins then hold that joint where it stood (horizontally; its height
stays the model's), so the hop becomes a lift in place. Longer spans and higher lifts (jumps)
are left to the coasting flight of the root.
"""

from __future__ import annotations

import numpy as np

from motionbeat.core import contract

MAX_BRIDGE_FRAMES: int = round(0.4 * contract.FPS)
"""Most steps bridged: 0.4 s, two thirds of a beat at 100 BPM. On 48 dances of 24 training songs
(both shipped generators, seed 100) the unsupported runs lasted at most 9 steps (median 5)."""
MAX_BRIDGE_HEIGHT: float = 0.08
"""Highest lift of the bridged joint, metres: on the same dances the lowest joint of an
unsupported run rose at most 4.8 cm (90th percentile 4.3 cm); a jump clears tens of centimetres."""


def false_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[(first, stop), ...] the runs of False in the (S,) booleans ``flags``."""
    free = ~np.asarray(flags, bool)  # (S,)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], free.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def supported_steps(contacts: np.ndarray, threshold: float) -> np.ndarray:
    """(T-1,) whether some foot joint is planted in both frames of each step t -> t+1 (the steps
    :func:`generator.cleanup.footlock.lock_planted_feet` can hold)."""
    planted = np.asarray(contacts) > threshold  # (T, 4)
    return (planted[1:] & planted[:-1]).any(axis=1)


def bridge_short_lifts(
    contacts: np.ndarray, heights: np.ndarray, threshold: float,
    max_frames: int = MAX_BRIDGE_FRAMES, max_height: float = MAX_BRIDGE_HEIGHT,
) -> np.ndarray:
    """(T, 4) contacts with one foot joint planted through each short, low unsupported span.

    Args:
        contacts: (T, 4) predicted contact probabilities in ``contract.FOOT_JOINTS`` order.
        heights: (T, 4) heights above the floor of the same joints, metres.
        threshold: probability above which a joint counts as planted.
    Returns:
        a copy of ``contacts``, the chosen joint of each bridged span set to 1 (module docstring).
    """
    contacts = np.asarray(contacts, np.float32)
    heights = np.asarray(heights, np.float32)
    if heights.shape != contacts.shape:
        raise ValueError(f"contacts {contacts.shape} and heights {heights.shape} must match")
    out = contacts.copy()
    for first, stop in false_runs(supported_steps(contacts, threshold)):
        if stop - first > max_frames:
            continue
        span = slice(first, stop + 1)  # steps first .. stop-1 join frames first .. stop
        peak = heights[span].max(axis=0)  # (4,) highest point of each joint in the span
        joint = int(np.argmin(peak))
        if peak[joint] <= max_height:
            out[span, joint] = 1.0
    return out
