"""Whole songs, as people bring them: a 100 s song through ``/generate`` and a 10-minute one in a browser.

Slow (minutes: a 10-minute dance is 18000 frames), so marked ``slow``; ``.ci/run`` runs them with
``python3 -m pytest -m slow tests/app``. The server is the app with its default limits (dances of up
to 10 minutes), the untrained tiny generator of the other app tests, and 64-pixel videos so the
rendering stays within minutes on a 2-core machine. The songs are click tracks with a bass line,
synthesised by :func:`app.bench.click_song` and written as mp3 (what people bring).
"""

from __future__ import annotations

import re
import time

import pytest
from app_testing import (
    DURATION_TOLERANCE_S,
    VIDEO_READY_JS,
    browser_page,
    check_playable_mp4,
    serving,
    upload,
)
from gradio_client import Client, handle_file

from app.bench import click_song
from app.request import Limits
from app.service import DanceService
from render.video.ffmpeg import probe

pytestmark = pytest.mark.slow

SONG_100_S = 100.0
SONG_10_MIN_S = 600.0
LONG_VIDEO_SIZE = 64
"""The smallest video the CLI allows: the 10-minute dance renders in minutes."""
LONG_GENERATE_TIMEOUT_MS = 30 * 60 * 1000
"""The 10-minute song: about 5 minutes on a quiet 2-core machine; room for a busy one."""
PROGRESS_POLL_MS = 250
STAGES_SHOWN = ("listening to the music", "dancing (diffusion sampling)", "rendering the video")
PROGRESS_TEXT_JS = (
    "() => Array.from(document.querySelectorAll('.progress-level-inner')).map(e => e.innerText)"
)
"""The texts of gradio's progress bars on the page (the desc of gr.Progress, then the percentage)."""
TIME_LEFT = re.compile(r"about (\d+ min )?\d+ s left|about \d+ min left")


@pytest.fixture(scope="module")
def long_server(checkpoint, tmp_path_factory):
    """The app with its default limits, warmed up as ``python -m app`` does, 64-pixel videos."""

    service = DanceService.from_checkpoint(
        checkpoint, device="cpu", work_dir=tmp_path_factory.mktemp("long-work"), limits=Limits(),
        video_size=LONG_VIDEO_SIZE,
    )
    service.warm_up()
    with serving(service) as running:
        yield running


def test_generate_with_only_a_100_s_song_returns_a_100_s_video_with_the_song(long_server, tmp_path):
    song = click_song(tmp_path / "hundred seconds.mp3", SONG_100_S)
    clock = time.perf_counter()
    video, files, scores, _ = Client(long_server.url, verbose=False).predict(
        handle_file(song), api_name="/generate"
    )
    print(f"100 s song through /generate: {time.perf_counter() - clock:.1f} s")
    info = probe(video)
    assert info.duration == pytest.approx(SONG_100_S, abs=DURATION_TOLERANCE_S)
    assert info.audio_codec == "aac" and info.video_codec == "h264"  # the song is muxed in
    check_playable_mp4(video, SONG_100_S, size=LONG_VIDEO_SIZE)
    assert scores["duration_s"] == pytest.approx(SONG_100_S, abs=1.0 / 30) and "notice" not in scores
    assert len(files) == 3


def test_a_10_minute_song_finishes_in_a_browser_with_progress_shown(long_server, tmp_path):
    song = click_song(tmp_path / "ten minutes.mp3", SONG_10_MIN_S)
    before = set(long_server.service.work_dir.glob("req-*"))
    with browser_page(long_server.url, LONG_GENERATE_TIMEOUT_MS) as page:
        upload(page, song)
        clock = time.perf_counter()
        page.click("#generate")
        shown: list[str] = []
        deadline = time.monotonic() + LONG_GENERATE_TIMEOUT_MS / 1000
        while not page.evaluate(VIDEO_READY_JS):
            assert time.monotonic() < deadline, shown[-5:]
            shown += [text for text in page.evaluate(PROGRESS_TEXT_JS) if text not in shown[-1:]]
            page.wait_for_timeout(PROGRESS_POLL_MS)
        elapsed = time.perf_counter() - clock
        duration = page.locator("#dance-video video").evaluate("v => v.duration")
    print(f"10-minute song in the browser: {elapsed:.1f} s; {len(shown)} progress texts")
    for stage in STAGES_SHOWN:
        assert any(stage in text for text in shown), (stage, shown[:20])
    for stage in STAGES_SHOWN[1:]:  # sampling and rendering say how long is left
        assert any(stage in text and TIME_LEFT.search(text) for text in shown), (stage, shown[:20])
    assert duration == pytest.approx(SONG_10_MIN_S, abs=DURATION_TOLERANCE_S)
    (folder,) = set(long_server.service.work_dir.glob("req-*")) - before
    (video,) = folder.glob("*.mp4")
    info = probe(video)
    assert info.duration == pytest.approx(SONG_10_MIN_S, abs=DURATION_TOLERANCE_S)
    assert info.audio_codec == "aac"
