"""Synthesized songs: mma's groove library, chord sheets, rendering with exact beats.

Needs the Debian packages mma, fluidsynth and timgm6mb-soundfont (scripts/setup.sh installs
them); a missing tool fails these tests rather than skipping them.
"""

import numpy as np
import pytest
import soundfile as sf

from motionbeat.music import mma as mm
from motionbeat.music.mma import library as mm_library


def test_groove_library_is_discovered():
    styles = mm.discover_grooves()
    assert len(styles) >= 80
    meters = {s.beats_per_bar for s in styles}
    assert meters == {3, 4}
    names = {s.name for s in styles}
    assert {"rock-128", "ska", "trance", "waltz", "swing", "salsa", "dsoul", "bvfunk"} <= names
    assert sum(len(s.main) for s in styles) >= 400
    for s in styles:
        lo, hi = s.tempo_range
        assert mm.TEMPO_RANGE[0] <= lo < hi <= mm.TEMPO_RANGE[1]


def test_sheets_are_deterministic_and_varied():
    a = mm.random_sheet("a", 5)
    assert a == mm.random_sheet("a", 5)
    sheets = [mm.random_sheet(f"s{i}", i) for i in range(30)]
    assert len({s.style for s in sheets}) > 15
    assert len({s.melody_voice for s in sheets}) > 5
    for s in sheets:
        assert mm.TEMPO_RANGE[0] <= s.bpm <= mm.TEMPO_RANGE[1]
        assert len(s.chords) == s.num_bars
        assert {sec.name for sec in s.sections} & {"verse", "chorus"}
        assert len({sec.volume for sec in s.sections}) >= 2  # energy changes
    src = mm.sheet_to_mma(a)
    assert f"Tempo {a.bpm:g}" in src and f"Use stdlib/{a.style}" in src and "Begin Aria" in src


def test_beats_are_exact_multiples_of_the_period():
    s = mm.random_sheet("b", 9)
    beats = s.beat_times()
    np.testing.assert_allclose(np.diff(beats), 60.0 / s.bpm)
    np.testing.assert_allclose(s.downbeat_times(), beats[:: s.beats_per_bar])
    assert s.section_times()[0] == 0.0
    assert len(s.section_times()) == len(s.sections)


@pytest.mark.parametrize("style", ["rock-128", "waltz"])
def test_render_small_song(tmp_path, style):
    import librosa

    sheet = mm.random_sheet("tiny", 3, style_name=style, max_bars=4)
    song = mm.render_song(sheet, tmp_path, soundfont="TimGM6mb.sf2")
    y, sr = sf.read(song.wav)
    assert sr == mm.RENDER_RATE and y.ndim == 1
    assert song.duration == pytest.approx(
        sheet.music_duration + sheet.beats_per_bar * 60 / sheet.bpm, abs=0.05
    )
    assert not list(tmp_path.glob(".*work"))  # the temporary folder is gone
    # the accompaniment's onsets fall on the written beats
    onset = librosa.onset.onset_strength(y=y.astype(np.float32), sr=sr, hop_length=256)
    frames = librosa.time_to_frames(song.beat_times, sr=sr, hop_length=256)
    on_beat = np.mean([onset[max(f - 2, 0) : f + 3].max() for f in frames if f + 3 < len(onset)])
    assert on_beat > 1.5 * np.median(onset)


def test_missing_soundfont_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(mm_library, "SOUNDFONT_DIRS", (str(tmp_path),))
    monkeypatch.setattr(mm_library, "SOUNDFONTS", ("none.sf2",))
    monkeypatch.delenv(mm.SOUNDFONT_ENV, raising=False)
    with pytest.raises(mm.MusicToolError, match="soundfont"):
        mm.find_soundfont()
