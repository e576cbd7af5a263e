"""Planning the corpus build: the deterministic song list, its seeds and the split of each song.

:func:`plan_jobs` draws the songs (Debian tracks up to a share of the hours, mma sheets for the
rest) as :class:`SongJob` records; :func:`child_seed` derives every song's and dancer's seed
from the build's ``--seed``; :func:`split_of` sends each song wholly to train, val or test.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SPLIT_FRACTIONS: dict[str, float] = {"test": 0.08, "val": 0.07}
"""Share of songs in the held-out splits; the rest is train."""
MMA_DANCERS: int = 2
"""Dancers per synthesized song."""
DEBIAN_DANCERS: int = 1
"""Dancers per recorded song (there are fewer of them and their beats are estimated)."""
DEBIAN_SHARE: float = 0.4
"""At most this share of the dance hours comes from recorded Debian music."""
MAX_SONG_SECONDS: float = 240.0
"""Recorded tracks are cut to their first four minutes."""


@dataclass(frozen=True)
class SongJob:
    """One song to build: where its music comes from and how many dancers it gets."""

    index: int
    song_id: str
    source: str  # "mma" | "debian"
    dancers: int
    seed: int
    est_seconds: float
    sheet: object | None = None  # motionbeat.music.mma.sheets.SongSheet
    track: object | None = None  # music_debian.DebianTrack


def child_seed(seed: int, *keys: int) -> int:
    """A seed derived from ``seed`` and ``keys`` (numpy SeedSequence)."""
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0])


def split_of(song_id: str, seed: int) -> str:
    """train / val / test from a hash of the song id and the seed (stable, by song)."""
    h = int(hashlib.sha256(f"{seed}:{song_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if h < SPLIT_FRACTIONS["test"]:
        return "test"
    if h < SPLIT_FRACTIONS["test"] + SPLIT_FRACTIONS["val"]:
        return "val"
    return "train"


def plan_jobs(
    hours: float,
    seed: int,
    sources: tuple[str, ...],
    cache: Path | None,
    song_bars: int | None = None,
    mma_dancers: int = MMA_DANCERS,
    debian_dancers: int = DEBIAN_DANCERS,
) -> tuple[list[SongJob], dict]:
    """The deterministic song list reaching ``hours`` of dance.

    Debian tracks (shuffled by the seed) take up to DEBIAN_SHARE of the hours; mma songs fill
    the rest. Each synthesized song is danced by ``mma_dancers`` dancers, each recorded one by
    ``debian_dancers``. Returns the jobs and notes (e.g. why Debian music was left out).
    """
    from motionbeat.music.mma.library import discover_grooves
    from motionbeat.music.mma.sheets import random_sheet

    notes: dict = {}
    target = hours * 3600.0
    jobs: list[SongJob] = []
    total = 0.0
    if "debian" in sources:
        from motionbeat.music import debian as music_debian
        try:
            tracks = music_debian.fetch_tracks(cache or Path("debian-cache"))
        except music_debian.DebianFetchError as err:
            log.warning("Debian music unavailable, building from mma only: %s", err)
            notes["debian_error"] = str(err)
            tracks = []
        order = np.random.default_rng(child_seed(seed, 1)).permutation(len(tracks))
        share = target * (DEBIAN_SHARE if "mma" in sources else 1.0)
        for i in order:
            tr = tracks[int(i)]
            secs = min(tr.duration, MAX_SONG_SECONDS) * debian_dancers
            if total + secs > share:
                continue
            jobs.append(
                SongJob(
                    len(jobs),
                    tr.track_id,
                    "debian",
                    debian_dancers,
                    child_seed(seed, 2, len(jobs)),
                    secs,
                    track=tr,
                )
            )
            total += secs
    if "mma" in sources:
        styles = discover_grooves()
        k = 0
        while total < target:
            song_seed = child_seed(seed, 3, k)
            sheet = random_sheet(
                f"mma-{seed}-{k:05d}", song_seed, styles, max_bars=song_bars
            )
            secs = sheet.music_duration * mma_dancers
            jobs.append(
                SongJob(
                    len(jobs),
                    sheet.song_id,
                    "mma",
                    mma_dancers,
                    child_seed(seed, 4, k),
                    secs,
                    sheet=sheet,
                )
            )
            total += secs
            k += 1
    # interleave sources so a partial build is a fair sample
    jobs.sort(key=lambda j: child_seed(seed, 5, j.index))
    return jobs, notes
