"""Recorded music from Debian packages: finding tracks and their licences (offline fakes)."""

import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from motionbeat.music import debian as md

DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fakegame

Files: *
Copyright: 2010 Someone
License: GPL-3+

Files: data/music/*
Copyright: 2011 A Composer
License: CC-BY-SA-3.0

Files: data/sounds/*
License: CC0
"""

FREE_FORM = """This package was debianized by someone.

This program is free software; you can redistribute it and/or modify it under the terms of the
GNU General Public License as published by the Free Software Foundation; either version 2 of the
License, or (at your option) any later version.
"""


def test_licence_of_dep5_and_free_form():
    assert md.licence_of("usr/share/games/fakegame/music/theme.ogg", DEP5) == "CC-BY-SA-3.0"
    assert md.licence_of("usr/share/games/fakegame/levels/x.ogg", DEP5) == "GPL-3+"
    assert md.licence_of("usr/share/games/fakegame/music/a.ogg", FREE_FORM) == "GPL-2+"
    assert md.licence_of("x.ogg", "nothing useful") == "see copyright file"


def _tone(path, seconds, sr=22050):
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), sr)


def test_find_tracks_in_an_unpacked_package(tmp_path):
    root = tmp_path / "root" / "supertux-data"
    music = root / "usr/share/games/fakegame/music"
    music.mkdir(parents=True)
    _tone(music / "theme.ogg", 25.0)
    _tone(music / "jingle.ogg", 3.0)  # too short to dance to
    sounds = root / "usr/share/games/fakegame/sounds"
    sounds.mkdir(parents=True)
    _tone(sounds / "rain.ogg", 30.0)  # not music
    _tone(tmp_path / "inner.ogg", 21.0)
    with zipfile.ZipFile(root / "usr/share/games/fakegame/music.pk3", "w") as zf:
        zf.write(tmp_path / "inner.ogg", "sound/cdtracks/inner.ogg")
    doc = root / "usr/share/doc/supertux-data"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(DEP5)
    tracks = md.find_tracks(root, "supertux-data", "1.0")
    ids = sorted(t.track_id for t in tracks)
    assert ids == ["debian-supertux-data-inner", "debian-supertux-data-theme"]
    theme = next(t for t in tracks if t.track_id.endswith("theme"))
    assert theme.licence == "CC-BY-SA-3.0" and theme.duration == pytest.approx(25.0, abs=0.1)
    assert theme.to_dict()["package"] == "supertux-data"


def test_only_the_listed_packages(tmp_path):
    with pytest.raises(ValueError, match="allowed"):
        md.fetch_package("some-other-music", tmp_path)
    assert md.PACKAGES == (
        "nexuiz-music",
        "supertux-data",
        "hedgewars-data",
        "frozen-bubble-data",
        "xmoto-data",
        "extremetuxracer-data",
    )


def test_fetch_is_resumable(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(md, "_run", lambda cmd, cwd: calls.append(cmd))
    root = tmp_path / "root" / "xmoto-data"
    root.mkdir(parents=True)
    (root / md._DONE).write_text("0.6.1\n")
    got, version = md.fetch_package("xmoto-data", tmp_path)
    assert got == root and version == "0.6.1" and calls == []


def test_fetch_with_a_relative_cache(tmp_path, monkeypatch):
    """The commands run inside the cache, so every path they name must resolve from there
    (a relative ``--out`` once sent dpkg looking for ``corpus/debian-cache/...`` inside itself)."""
    monkeypatch.chdir(tmp_path)
    debs = tmp_path / "corpus" / "debian-cache" / "debs"
    debs.mkdir(parents=True)
    (debs / "xmoto-data_0.6.1_all.deb").write_bytes(b"not a real package")
    seen = []

    def fake_run(cmd, cwd):
        seen.append(cmd)
        for arg in cmd[2:]:  # dpkg -x DEB ROOT
            assert (Path(cwd) / arg).exists(), f"{arg} does not resolve from {cwd}"

    monkeypatch.setattr(md, "_run", fake_run)
    root, version = md.fetch_package("xmoto-data", Path("corpus/debian-cache"))
    assert seen and seen[0][:2] == ["dpkg", "-x"] and version == "0.6.1"
    assert root == tmp_path / "corpus" / "debian-cache" / "root" / "xmoto-data"
