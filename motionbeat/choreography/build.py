"""Build the synthetic dance corpus: songs (mma and Debian), choreographed dances, shards.

    python -m motionbeat.choreography.build --out DIR --hours H --seed S

Layout of ``DIR``::

    manifest.json            corpus summary + one record per song (see below)
    audio/<song_id>.flac     mono song audio at the audio front end's rate
    shards/<song_id>.npz     every dance of the song: poses (D, T, 24, 3) axis-angle,
                             trans (D, T, 3) metres y-up, contacts (D, T, 4) planted feet in the
                             contract's FOOT_JOINTS order, fps, dance_ids (D,)
    songs/<song_id>.json     the song's record, written last: its presence marks the song done
    licences/<package>.copyright   copyright files of the Debian packages used

A song record holds: song_id, source ("mma" or "debian"), licence, title, tempo_bpm,
beat_times, downbeat_times, beats_per_bar (meter), groove (mma style and grooves, or "" for
Debian), sections, duration, split, audio, shard, and per dance: dance_id, seed, style (the
dancer's parameters), frames and move usage.

Determinism: the song list, each song's sheet, every dancer's style and choreography derive
from ``--seed`` alone (numpy SeedSequence keyed by the song's index and the dancer's index).
The split is by song, never by clip: each song goes wholly to train, val or test. Resumable:
songs whose record exists are skipped, so an interrupted build continues where it stopped.
The song list, its seeds and splits are planned in :mod:`motionbeat.choreography.build_plan`.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from motionbeat.choreography.build_plan import (
    DEBIAN_DANCERS,
    MAX_SONG_SECONDS,
    MMA_DANCERS,
    SongJob,
    child_seed,
    plan_jobs,
    split_of,
)
from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.datasets.manifest import MANIFEST, load_manifest

DEFAULT_HOURS: float = 10.0
"""Dance hours of the default build."""
FORMAT_VERSION: int = 1


def _rhythm_from_beats(beats: np.ndarray, bpb: int, duration: float):
    from motionbeat import audio as au

    pos = (np.arange(len(beats)) % bpb).astype(np.int64)
    return au.Rhythm(
        tempo_bpm=60.0 / float(np.mean(np.diff(beats))),
        beat_times=beats,
        downbeat_times=beats[pos == 0],
        beats_per_bar=bpb,
        bar_position=pos,
        reliable=True,
        pulse_clarity=1.0,
        duration=duration,
    )


def build_song(job: SongJob, out: Path, soundfont: str | None = None) -> dict:
    """Make one song's audio, rhythm, dances, shard and record; returns the record."""
    import soundfile as sf

    from motionbeat import audio as au
    from motionbeat.choreography import choreographer as ch
    from motionbeat.music.groove_families import groove_family
    from motionbeat.music.mma.library import find_soundfont
    from motionbeat.music.mma.render import render_song

    audio_dir, shard_dir, song_dir = out / "audio", out / "shards", out / "songs"
    for d in (audio_dir, shard_dir, song_dir):
        d.mkdir(parents=True, exist_ok=True)
    record: dict = {"song_id": job.song_id, "source": job.source}
    work = out / ".work"
    if job.source == "mma":
        sheet = job.sheet
        rendered = render_song(sheet, work, soundfont)
        audio = au.load_audio(rendered.wav)
        rendered.wav.unlink(missing_ok=True)
        beats = rendered.beat_times[rendered.beat_times < audio.duration]
        rhythm = _rhythm_from_beats(beats, sheet.beats_per_bar, audio.duration)
        sections = rendered.section_times
        record.update(
            licence="generated (mma + GM soundfont); see docs/corpus.md",
            title=f"{sheet.style} in {sheet.key}",
            groove={
                "style": sheet.style,
                "grooves": sorted({s.groove for s in sheet.sections}),
                "chord_voice": sheet.chord_voice,
                "melody_voice": sheet.melody_voice,
            },
            key=sheet.key,
            sections=[
                {
                    "name": s.name,
                    "start": t,
                    "bars": s.bars,
                    "groove": s.groove,
                    "volume": s.volume,
                    "energy": s.energy,
                }
                for s, t in zip(sheet.sections, sections, strict=True)
            ],
            soundfont=Path(find_soundfont(soundfont)).name,
            beats_exact=True,
        )
    else:
        tr = job.track
        full = au.load_audio(tr.path)
        n = min(len(full.samples), int(MAX_SONG_SECONDS * full.sr))
        audio = au.audio_from_array(full.samples[:n], full.sr, name=tr.track_id)
        rhythm = au.analyse_rhythm(audio)
        sections = None
        record.update(
            licence=tr.licence,
            title=Path(tr.member.split(":")[-1]).stem,
            groove="",
            package=tr.package,
            package_version=tr.version,
            member=tr.member,
            copyright=f"licences/{tr.package}.copyright",
            beats_exact=False,
            rhythm_reliable=bool(rhythm.reliable),
        )
        lic_dir = out / "licences"
        lic_dir.mkdir(exist_ok=True)
        if tr.copyright_file and Path(tr.copyright_file).is_file():
            shutil.copy(tr.copyright_file, lic_dir / f"{tr.package}.copyright")
    family = groove_family(job.sheet.style) if job.source == "mma" else ""
    info = ch.analyse_song(audio, rhythm, sections, groove_family=family)
    record["dance_genre"] = info.genre
    record["accents"] = len(info.accent_times)
    if record.get("sections") is None:
        record["sections"] = [
            {"name": f"part{i}", "start": float(rhythm.beat_times[b])}
            for i, b in enumerate(info.section_starts)
            if b < len(rhythm.beat_times)
        ]
    audio_rel = f"audio/{job.song_id}.flac"
    with atomic_path(out / audio_rel) as tmp:
        sf.write(tmp, audio.samples, audio.sr, format="FLAC")
    dances, poses, trans, contacts = [], [], [], []
    for d in range(job.dancers):
        dseed = child_seed(job.seed, d)
        dance = ch.choreograph_info(info, seed=dseed, source_song=audio_rel)
        m = dance.motion
        poses.append(m.poses)
        trans.append(m.trans)
        planted = dance.planted.astype(np.float32)  # (T, 2) left, right
        contacts.append(
            planted[:, [0, 1, 0, 1]]
        )  # (T, 4) as FOOT_JOINTS: L ankle, R ankle, L toe, R toe
        dances.append(
            {
                "dance_id": f"{job.song_id}-d{d}",
                "seed": dseed,
                "style": dance.style.to_dict(),
                "frames": m.num_frames,
                "moves": dance.usage,
                "sections": m.meta["sections"],
            }
        )
    shard_rel = f"shards/{job.song_id}.npz"
    with atomic_path(out / shard_rel) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            poses=np.stack(poses),
            trans=np.stack(trans),
            contacts=np.stack(contacts),
            fps=np.float64(contract.FPS),
            dance_ids=np.array([x["dance_id"] for x in dances]),
            format_version=np.int64(FORMAT_VERSION),
        )
    record.update(
        tempo_bpm=round(float(rhythm.tempo_bpm), 3),
        beat_times=[round(float(t), 4) for t in rhythm.beat_times],
        downbeat_times=[round(float(t), 4) for t in rhythm.downbeat_times],
        beats_per_bar=int(rhythm.beats_per_bar),
        duration=round(float(audio.duration), 3),
        split=None,  # filled by the caller
        audio=audio_rel,
        shard=shard_rel,
        dances=dances,
    )
    return record


def _write_record(out: Path, record: dict) -> None:
    with atomic_path(out / "songs" / f"{record['song_id']}.json") as tmp:
        tmp.write_text(json.dumps(record))


def _one(args: tuple[SongJob, str, str | None, int]) -> dict:
    job, out, soundfont, seed = args
    record = build_song(job, Path(out), soundfont)
    record["split"] = split_of(job.song_id, seed)
    _write_record(Path(out), record)
    return record


def build_corpus(
    out: str | os.PathLike,
    hours: float = DEFAULT_HOURS,
    seed: int = 0,
    sources: tuple[str, ...] = ("mma", "debian"),
    soundfont: str | None = None,
    cache: str | os.PathLike | None = None,
    song_bars: int | None = None,
    workers: int = 1,
    progress: bool = True,
    mma_dancers: int = MMA_DANCERS,
    debian_dancers: int = DEBIAN_DANCERS,
) -> Path:
    """Build (or resume) a corpus in ``out``; returns the manifest path.

    Args:
        hours: dance hours to reach (the sum over dances of their durations).
        sources: "mma" (synthesized) and / or "debian" (recorded game music).
        soundfont: General MIDI soundfont for mma songs (default: best installed).
        cache: where Debian packages are downloaded and unpacked (default ``OUT/debian-cache``).
        song_bars: cut synthesized songs to this many bars (tiny test corpora).
        workers: songs built in parallel processes.
        mma_dancers, debian_dancers: dancers per synthesized / recorded song.
    """
    if mma_dancers < 1 or debian_dancers < 1:
        raise ValueError("every song needs at least one dancer")
    from tqdm import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(cache) if cache else out / "debian-cache"
    t0 = time.time()
    jobs, notes = plan_jobs(hours, seed, tuple(sources), cache, song_bars, mma_dancers,
                            debian_dancers)
    todo = [j for j in jobs if not (out / "songs" / f"{j.song_id}.json").is_file()]
    records: dict[str, dict] = {}
    bar = tqdm(
        total=len(jobs),
        initial=len(jobs) - len(todo),
        unit="song",
        disable=not progress,
        desc="corpus",
        file=sys.stderr,
    )
    args = [(j, str(out), soundfont, seed) for j in todo]
    if workers > 1 and len(args) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            for rec in pool.map(_one, args):
                records[rec["song_id"]] = rec
                bar.update(1)
    else:
        for a in args:
            rec = _one(a)
            records[rec["song_id"]] = rec
            bar.update(1)
    bar.close()
    shutil.rmtree(out / ".work", ignore_errors=True)
    songs = []
    for j in jobs:
        path = out / "songs" / f"{j.song_id}.json"
        songs.append(records.get(j.song_id) or json.loads(path.read_text()))
    dance_s = sum(d["frames"] for s in songs for d in s["dances"]) / contract.FPS
    manifest = {
        "format_version": FORMAT_VERSION,
        "fps": contract.FPS,
        "seed": seed,
        "hours_requested": hours,
        "dance_hours": round(dance_s / 3600.0, 4),
        "music_hours": round(sum(s["duration"] for s in songs) / 3600.0, 4),
        "num_songs": len(songs),
        "num_dances": sum(len(s["dances"]) for s in songs),
        "sources": list(sources),
        "dancers_per_song": {"mma": mma_dancers, "debian": debian_dancers},
        "splits": {k: sum(1 for s in songs if s["split"] == k) for k in ("train", "val", "test")},
        "build_seconds_this_run": round(time.time() - t0, 1),
        "notes": notes,
        "songs": songs,
    }
    with atomic_path(out / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest))
    return out / MANIFEST


# --------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m motionbeat.choreography.build", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "--out", required=True, type=Path, help="corpus folder (created; resumed if present)"
    )
    p.add_argument(
        "--hours", type=float, default=DEFAULT_HOURS, help="dance hours (default %(default)s)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--sources", default="mma,debian", help="comma list of mma, debian (default %(default)s)"
    )
    p.add_argument(
        "--soundfont", default=None, help="GM soundfont path or name (default: best installed)"
    )
    p.add_argument(
        "--cache", type=Path, default=None, help="Debian download cache (default OUT/debian-cache)"
    )
    p.add_argument("--song-bars", type=int, default=None, help="cut synthesized songs to N bars")
    p.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    p.add_argument("--mma-dancers", type=int, default=MMA_DANCERS,
                   help="dancers per synthesized song (default %(default)s)")
    p.add_argument("--debian-dancers", type=int, default=DEBIAN_DANCERS,
                   help="dancers per recorded song (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    sources = tuple(s.strip() for s in a.sources.split(",") if s.strip())
    bad = set(sources) - {"mma", "debian"}
    if bad or not sources:
        p.error(f"unknown sources {sorted(bad)}; use mma and/or debian")
    if a.hours <= 0 or not math.isfinite(a.hours):
        p.error("--hours must be positive")
    if a.mma_dancers < 1 or a.debian_dancers < 1:
        p.error("--mma-dancers and --debian-dancers must be at least 1")
    t0 = time.time()
    path = build_corpus(
        a.out,
        a.hours,
        a.seed,
        sources,
        a.soundfont,
        a.cache,
        a.song_bars,
        a.workers,
        progress=not a.quiet,
        mma_dancers=a.mma_dancers,
        debian_dancers=a.debian_dancers,
    )
    m = load_manifest(a.out)
    print(
        f"{path}: {m['num_songs']} songs, {m['num_dances']} dances, "
        f"{m['dance_hours']:.2f} dance hours, "
        f"splits {m['splits']}, {time.time() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
