"""A real browser (headless Debian Chromium through playwright) uses the page like a person.

It uploads a song, presses Generate, waits for the video and checks that it plays, and saves
a screenshot of the finished page (to docs/img/app.png when MOTIONBEAT_UPDATE_DOCS=1 is set,
so an ordinary test run leaves the committed picture alone); it records a song from Chromium's fake
microphone (a beeping tone) and dances to it; and it checks that a bad song is answered with a
readable error message on the page.
"""

from __future__ import annotations

import os
import re

import pytest
from app_testing import (
    REPO,
    SERVER_MAX_SECONDS,
    SONG_SECONDS,
    VIDEO_READY_JS,
    browser_page,
    upload,
    wait_until,
)

from motionbeat.core.fileio import atomic_path

SCREENSHOT = REPO / "docs" / "img" / "app.png"
UPDATE_DOCS_ENV = "MOTIONBEAT_UPDATE_DOCS"
"""Set to 1 to let the browser test refresh the screenshot in docs/."""
GENERATE_TIMEOUT_MS = 180_000
"""Upload + features + sampling + rendering of a 4 s song; about 7 s on a quiet 2-core machine."""
OUTPUT_TIMEOUT_MS = 10_000
PLAYBACK_WAIT_MS = 700
RECORD_MS = 3_000
MIN_RECORDING_S = 1.0
"""The audio front end's shortest song; the recording is longer unless the browser stalls."""
RECORDING_SLACK_S = 1.5
"""How much longer than RECORD_MS the recording may be (clicks on a loaded machine are slow)."""
RENDERING = re.compile(r"rendering the video \(frame \d+ of \d+\)")
"""The progress text while the video is being drawn."""


@pytest.fixture
def page(server):
    with browser_page(server.url, GENERATE_TIMEOUT_MS) as page:
        yield page


def _is_local(url: str, server_url: str) -> bool:
    return url.startswith((server_url, "data:", "blob:"))


def test_upload_generate_and_play_in_a_browser(page, songs, tmp_path):
    upload(page, songs["good"])
    page.click("#generate")
    page.wait_for_function(VIDEO_READY_JS)
    video = page.locator("#dance-video video")
    info = video.evaluate("v => ({duration: v.duration, width: v.videoWidth, height: v.videoHeight})")
    assert info["duration"] == pytest.approx(SONG_SECONDS, abs=0.15)
    assert info["width"] > 0 and info["height"] > 0
    video.evaluate("async v => { v.muted = true; await v.play(); }")  # headless: no audio device
    page.wait_for_timeout(PLAYBACK_WAIT_MS)
    state = video.evaluate("v => ({time: v.currentTime, paused: v.paused, error: v.error && v.error.code})")
    assert state["error"] is None and not state["paused"]
    assert state["time"] > 0.1, state  # playback advances

    files = "".join(page.locator("#motion-files").inner_text().split())  # name and suffix are apart
    assert all(f"_dance_seed0{suffix}" in files for suffix in (".npz", ".pkl", ".bvh")), files
    assert "BAS" in page.locator("#scores").inner_text()
    page.locator("#beat-plot img").wait_for(timeout=OUTPUT_TIMEOUT_MS)
    video.evaluate("v => v.pause()")
    target = SCREENSHOT if os.environ.get(UPDATE_DOCS_ENV) == "1" else tmp_path / "app.png"
    with atomic_path(target) as tmp:
        page.screenshot(path=str(tmp), full_page=True)
    assert target.stat().st_size > 0


def test_a_bad_song_shows_a_readable_error(page, songs):
    upload(page, songs["silent"])
    page.click("#generate")
    page.get_by_text("silence.wav: the song is silent").first.wait_for()


def test_record_from_the_microphone_and_generate(page):
    page.click("#song button[aria-label='Record audio']")
    page.get_by_role("button", name="Record", exact=True).click()
    page.wait_for_timeout(RECORD_MS)
    page.locator("#song button:visible", has_text="Stop").first.click()
    page.wait_for_selector("#song a[data-testid=download-link]")  # the recording is uploaded
    page.click("#generate")
    page.wait_for_function(VIDEO_READY_JS)
    seconds = page.locator("#dance-video video").evaluate("v => v.duration")
    assert MIN_RECORDING_S <= seconds <= RECORD_MS / 1000 + RECORDING_SLACK_S  # about RECORD_MS
    assert "BAS" in page.locator("#scores").inner_text()


def test_a_song_over_the_limit_shows_a_notice(page, songs):
    upload(page, songs["too_long"])
    page.click("#generate")
    page.get_by_text("this server makes dances of up to").first.wait_for()  # the toast, at once
    page.wait_for_function(VIDEO_READY_JS)
    assert page.locator("#dance-video video").evaluate("v => v.duration") == pytest.approx(
        SERVER_MAX_SECONDS, abs=0.15
    )
    notice = page.locator("#notice").inner_text()
    assert f"the song lasts 10 s, and this server makes dances of up to {SERVER_MAX_SECONDS:g} s" in notice


def _start_and_wait_for_rendering(page, server, song):
    """Press Generate on ``song`` and wait until the page shows the video being rendered."""
    upload(page, song)
    before = set(server.service.work_dir.glob("req-*"))
    page.click("#generate")
    page.get_by_text(RENDERING).first.wait_for()
    assert server.service.active_requests() == 1
    return before


def test_stop_stops_the_request_and_removes_its_files(page, server, songs):
    before = _start_and_wait_for_rendering(page, server, songs["too_long"])
    page.click("#stop")
    assert wait_until(lambda: server.service.active_requests() == 0)
    assert set(server.service.work_dir.glob("req-*")) == before
    assert not page.locator("#dance-video video").count()  # no dance was shown


def test_leaving_the_page_stops_its_request(page, server, songs):
    before = _start_and_wait_for_rendering(page, server, songs["too_long"])
    page.close()  # the tab's heartbeat ends: gradio's unload event
    assert wait_until(lambda: server.service.active_requests() == 0)
    assert set(server.service.work_dir.glob("req-*")) == before
