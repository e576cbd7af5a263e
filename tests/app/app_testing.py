"""Constants and helpers shared by the web app tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import imageio_ffmpeg

if TYPE_CHECKING:
    from app.service import DanceService

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_SONG = REPO / "examples" / "song.ogg"
SONG_SECONDS = 4.0
"""Length of the test songs that are meant to work."""
TOO_LONG_SECONDS = 10.0
SERVER_MAX_SECONDS = 8.0
SERVER_MAX_UPLOAD_MB = 1.0
BIG_UPLOAD_SECONDS = 40.0
"""A 22.05 kHz 16-bit mono wav of this length is 1.7 MB: over the test server's upload limit."""
VIDEO_SIZE = 256
CONCURRENCY = 2
DURATION_TOLERANCE_S = 0.15
"""How far an mp4's container duration may differ from the dance (AAC frame padding)."""
POLL_S = 0.05
STOP_TIMEOUT_S = 20.0
"""A stopped request's work ends within a frame or a denoising step; this leaves room for a busy machine."""

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (scripts/setup.sh --dev); playwright's own browser download is not used."""
CHROMIUM_ARGS = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
"""A fake microphone (a periodic beep) that needs no permission prompt."""
VIEWPORT = {"width": 1280, "height": 1000}
HAVE_CURRENT_DATA = 2
"""HTMLMediaElement.readyState at which the current frame can be shown."""
VIDEO_READY_JS = (
    "() => { const v = document.querySelector('#dance-video video'); "
    f"return v !== null && v.readyState >= {HAVE_CURRENT_DATA}; }}"
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_answers(url: str) -> bool:
    """True when the page loads (HTTP 200)."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local test server
        return response.status == 200


def check_playable_mp4(path: str | Path, seconds: float, size: int = VIDEO_SIZE) -> None:
    """ffmpeg (imageio_ffmpeg's) finds an H.264 video and an AAC audio stream and decodes all of it."""
    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        errors="replace",
    )
    log = proc.stderr
    assert proc.returncode == 0, log[-2000:]
    assert re.search(rf"Stream #0:\d.*Video: h264.*\b{size}x{size}\b", log), log
    assert re.search(r"Stream #0:\d.*Audio: aac", log), log
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", log)
    assert duration is not None, log
    got = int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3])
    assert abs(got - seconds) <= DURATION_TOLERANCE_S, (got, seconds)
    assert "error" not in log.split("Output #0")[-1].lower(), log  # decoded without errors


def wait_until(condition: Callable[[], bool], timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """Poll ``condition()`` until it is true or ``timeout_s`` passes; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(POLL_S)
    return condition()


@dataclass(frozen=True)
class Server:
    """A running test server."""

    url: str
    service: DanceService


@contextlib.contextmanager
def serving(service: DanceService, **launch_options) -> Iterator[Server]:
    """``app.ui.launch(service, ...)`` on a free local port; closes the app and the service after."""
    from app.ui import launch

    port = free_port()
    demo = launch(service, host="127.0.0.1", port=port, block=False, **launch_options)
    url = f"http://127.0.0.1:{port}/"
    assert server_answers(url)
    try:
        yield Server(url, service)
    finally:
        demo.close()
        service.close()


@contextlib.contextmanager
def browser_page(url: str, timeout_ms: float) -> Iterator:
    """A page of headless Debian Chromium (through playwright) showing ``url``; closed afterwards."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: run `bash scripts/setup.sh --dev` (Debian chromium)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport=VIEWPORT, permissions=["microphone"])
            page = context.new_page()
            page.set_default_timeout(timeout_ms)
            page.goto(url)
            yield page
        finally:
            browser.close()


def upload(page, song: Path) -> None:
    """Put ``song`` into the Song input and wait until the server holds it."""
    page.locator("#song input[type=file]").set_input_files(str(song))
    page.wait_for_selector("#song a[data-testid=download-link]")  # the upload has finished
