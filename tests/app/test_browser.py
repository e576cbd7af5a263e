"""A real browser (headless Debian Chromium through playwright) uses the page like a person.

It uploads a song, presses Generate, waits for the video and checks that it plays, and saves
a screenshot of the finished page (to docs/img/app.png when MOTIONBEAT_UPDATE_DOCS=1 is set,
so an ordinary test run leaves the committed picture alone); it records a song from Chromium's fake
microphone (a beeping tone) and dances to it; and it checks that a bad song is answered with a
readable error message on the page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from app_testing import REPO, SONG_SECONDS

from motionbeat.core.fileio import atomic_path

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (scripts/setup.sh --dev); playwright's own browser download is not used."""
SCREENSHOT = REPO / "docs" / "img" / "app.png"
UPDATE_DOCS_ENV = "MOTIONBEAT_UPDATE_DOCS"
"""Set to 1 to let the browser test refresh the screenshot in docs/."""
VIEWPORT = {"width": 1280, "height": 1000}
GENERATE_TIMEOUT_MS = 180_000
"""Upload + features + sampling + rendering of a 4 s song; about 7 s on a quiet 2-core machine."""
OUTPUT_TIMEOUT_MS = 10_000
PLAYBACK_WAIT_MS = 700
HAVE_CURRENT_DATA = 2
"""HTMLMediaElement.readyState at which the current frame can be shown."""
RECORD_MS = 3_000
MIN_RECORDING_S = 1.0
"""The audio front end's shortest song; the recording is longer unless the browser stalls."""
RECORDING_SLACK_S = 1.5
"""How much longer than RECORD_MS the recording may be (clicks on a loaded machine are slow)."""
CHROMIUM_ARGS = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
"""A fake microphone (a periodic beep) that needs no permission prompt."""
VIDEO_READY_JS = (
    "() => { const v = document.querySelector('#dance-video video'); "
    f"return v !== null && v.readyState >= {HAVE_CURRENT_DATA}; }}"
)

@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: run `bash scripts/setup.sh --dev` (Debian chromium)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport=VIEWPORT, permissions=["microphone"])
            page = context.new_page()
            page.set_default_timeout(GENERATE_TIMEOUT_MS)
            page.goto(server.url)
            yield page
        finally:
            browser.close()


def _is_local(url: str, server_url: str) -> bool:
    return url.startswith((server_url, "data:", "blob:"))


def upload(page, song: Path) -> None:
    """Put ``song`` into the Song input and wait until the server holds it."""
    page.locator("#song input[type=file]").set_input_files(str(song))
    page.wait_for_selector("#song a[data-testid=download-link]")  # the upload has finished


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
