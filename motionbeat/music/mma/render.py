"""Rendering a sheet to audio: mma writes the MIDI, fluidsynth plays it, the beats come from the sheet.

Because the tempo and meter are written by us and kept constant, the beats are exact: beat k
plays at ``k * 60 / bpm`` seconds (mma starts bar 1 at time 0; fluidsynth renders from time 0,
measured within 5 ms). Commands are run with ``subprocess.run([...], check=True)``; nothing goes
through a shell.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionbeat.music.mma.library import check_tools, find_soundfont
from motionbeat.music.mma.sheets import SongSheet, sheet_to_mma

RENDER_RATE: int = 22050
"""fluidsynth output sample rate, Hz (the audio front end's analysis rate)."""
RENDER_GAIN: float = 0.6
"""fluidsynth master gain; mma's default volumes reach about -12 dBFS RMS with it."""


@dataclass(frozen=True)
class RenderedSong:
    """A rendered song and its exact rhythm."""

    sheet: SongSheet
    wav: Path
    beat_times: np.ndarray
    downbeat_times: np.ndarray
    section_times: list[float]
    duration: float


def render_song(
    sheet: SongSheet,
    out_dir: str | os.PathLike,
    soundfont: str | os.PathLike | None = None,
    keep_sources: bool = False,
) -> RenderedSong:
    """Write ``<song_id>.wav`` (mono, RENDER_RATE) in ``out_dir`` with mma + fluidsynth.

    The ``.mma`` and ``.mid`` go to a temporary folder beside it and are removed unless
    ``keep_sources``. Raises :class:`MusicToolError` when a tool is missing and
    ``subprocess.CalledProcessError`` when one fails.
    """
    import soundfile as sf

    check_tools()
    sf2 = find_soundfont(str(soundfont) if soundfont else None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / f".{sheet.song_id}.work"
    work.mkdir(exist_ok=True)
    try:
        src = work / f"{sheet.song_id}.mma"
        mid = work / f"{sheet.song_id}.mid"
        raw = work / f"{sheet.song_id}.raw.wav"
        src.write_text(sheet_to_mma(sheet))
        subprocess.run(["mma", str(src), "-f", str(mid)], check=True, capture_output=True)
        subprocess.run(
            [
                "fluidsynth",
                "-ni",
                "-q",
                "-g",
                str(RENDER_GAIN),
                "-r",
                str(RENDER_RATE),
                "-F",
                str(raw),
                str(sf2),
                str(mid),
            ],
            check=True,
            capture_output=True,
        )
        audio, sr = sf.read(raw, dtype="float32", always_2d=True)
        mono = audio.mean(axis=1)  # (N,)
        # trim the reverb tail to one bar after the music
        keep = int(round((sheet.music_duration + sheet.beats_per_bar * sheet.beat_period) * sr))
        mono = mono[:keep]
        peak = float(np.max(np.abs(mono))) if mono.size else 0.0
        if peak > 0.99:
            mono = mono * (0.99 / peak)
        wav = out_dir / f"{sheet.song_id}.wav"
        tmp = out_dir / f".{sheet.song_id}.tmp.wav"
        sf.write(tmp, mono, sr, subtype="PCM_16")
        tmp.replace(wav)
        if keep_sources:
            shutil.copy(src, out_dir / src.name)
            (out_dir / f"{sheet.song_id}.sheet.json").write_text(
                json.dumps(sheet.to_dict(), indent=1)
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    beats = sheet.beat_times()
    return RenderedSong(
        sheet, wav, beats, sheet.downbeat_times(), sheet.section_times(), len(mono) / sr
    )
