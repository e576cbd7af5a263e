"""The 3D view in a real browser: after Generate, headless Chromium shows the animated dancer.

The page loads the dance's GLB into ``<motionbeat-viewer>`` (three.js, vendored; app/viewer.py);
the test checks that the skinned dancer is drawn (wood-coloured pixels on the canvas, which
change as it dances), that the animation time advances, that the slider scrubs, that a drag
orbits the camera, and that the GLB is offered for download.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from app_testing import SONG_SECONDS, VIDEO_READY_JS, browser_page, upload
from PIL import Image

from app.viewer import GLB_ELEMENT_ID, VIEWER_ELEMENT_ID, viewer_installed
from motionbeat.core import contract

GENERATE_TIMEOUT_MS = 180_000
PLAY_WAIT_MS = 800
MIN_ADVANCE_S = 0.2
"""Animation seconds that must pass in PLAY_WAIT_MS of wall time (real time is 0.8 s)."""
WOOD_RED_MINUS_BLUE = 30
"""The mannequin's wood has red well above blue; the background (7) and the grid (19, 22) do not."""
MIN_DANCER_FRACTION = 0.003
"""Share of the canvas's pixels that must be the dancer's (a T-pose at the default camera: about 1 %)."""
MIN_CHANGED_FRACTION = 0.002
SCRUB_FRACTION = 0.25
VIEWER = f"#{VIEWER_ELEMENT_ID} motionbeat-viewer"
STATE_JS = "v => ({...v.state})"
READY_JS = (
    f"() => {{ const v = document.querySelector('{VIEWER}'); "
    "return v !== null && v.state !== undefined && (v.state.loaded || v.state.error !== null); }"
)


@pytest.fixture
def page(server):
    with browser_page(server.url, GENERATE_TIMEOUT_MS) as page:
        yield page


def _dancer_pixels(png: bytes) -> np.ndarray:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int32)  # (H, W, 3)
    return (rgb[..., 0] - rgb[..., 2]) > WOOD_RED_MINUS_BLUE  # (H, W) bool


def test_the_3d_view_shows_the_dancer_dancing(page, songs):
    assert viewer_installed(), "three.js is not vendored: run `python -m app.viewer --vendor`"
    upload(page, songs["good"])
    page.click("#generate")
    page.wait_for_function(VIDEO_READY_JS)
    page.wait_for_function(READY_JS)
    viewer = page.locator(VIEWER)
    state = viewer.evaluate(STATE_JS)
    assert state["error"] is None and state["loaded"], state
    assert state["joints"] == contract.NUM_JOINTS and state["vertices"] > 1000
    frames = round(SONG_SECONDS * contract.FPS)
    assert state["frames"] == frames
    assert state["duration"] == pytest.approx((frames - 1) / contract.FPS, abs=1e-3)

    # The animation plays: its time advances and the drawn dancer moves.
    canvas = viewer.locator("canvas")
    before_time, before_png = viewer.evaluate(STATE_JS)["time"], canvas.screenshot()
    page.wait_for_timeout(PLAY_WAIT_MS)
    after = viewer.evaluate(STATE_JS)
    after_png = canvas.screenshot()
    assert after["playing"] and after["renders"] > state["renders"]
    advanced = (after["time"] - before_time) % after["duration"]
    assert advanced > MIN_ADVANCE_S, (before_time, after["time"])
    dancer_before, dancer_after = _dancer_pixels(before_png), _dancer_pixels(after_png)
    assert dancer_before.mean() > MIN_DANCER_FRACTION and dancer_after.mean() > MIN_DANCER_FRACTION
    assert (dancer_before != dancer_after).mean() > MIN_CHANGED_FRACTION

    # Scrub: the slider pauses the dance and sets its time.
    viewer.locator("input[type=range]").evaluate(
        f"s => {{ s.value = s.max * {SCRUB_FRACTION}; s.dispatchEvent(new Event('input')); }}"
    )
    scrubbed = viewer.evaluate(STATE_JS)
    assert not scrubbed["playing"]
    assert scrubbed["time"] == pytest.approx(SCRUB_FRACTION * scrubbed["duration"], abs=0.01)
    page.wait_for_timeout(PLAY_WAIT_MS // 2)
    assert viewer.evaluate(STATE_JS)["time"] == scrubbed["time"]  # paused stays put

    # Orbit: a drag on the canvas turns the camera.
    camera = "v => v.camera.position.toArray()"
    start = viewer.evaluate(camera)
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    page.wait_for_timeout(PLAY_WAIT_MS // 4)
    assert np.linalg.norm(np.subtract(viewer.evaluate(camera), start)) > 0.1

    assert ".glb" in "".join(page.locator(f"#{GLB_ELEMENT_ID}").inner_text().split())
