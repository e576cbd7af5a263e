"""End to end through gradio_client against a server the tests start (see conftest.py)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from app_testing import (
    SERVER_MAX_SECONDS,
    SONG_SECONDS,
    TOO_LONG_SECONDS,
    check_playable_mp4,
    server_answers,
)
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from motionbeat.core.motion import load_motion
from render.export import read_bvh

API = "/generate"
STATUS_POLL_S = 0.05
CONCURRENT_REQUESTS = 4
HTTP_PAYLOAD_TOO_LARGE = 413
STOP_TIMEOUT_S = 20.0
"""A stopped request's work ends within a frame or a denoising step; this leaves room for a busy machine."""
GENERATE_TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server.url, verbose=False)


def test_api_names_the_endpoint_with_the_ui_defaults(server, client):
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"][API]["parameters"]
    names = [p["parameter_name"] for p in params]
    assert names == ["song", "start", "duration", "seed", "guidance", "steps", "body", "foot_lock",
                     "beat_lock", "bpm", "style_scale", "beat_warp"]
    assert not params[0]["parameter_has_default"]
    assert all(p["parameter_has_default"] for p in params[1:])
    assert {p["parameter_name"]: p["parameter_default"] for p in params[1:]} == {
        "start": 0.0,
        "duration": 0.0,
        "seed": 0,
        "guidance": server.service.default("guidance"),  # the model's own defaults
        "steps": server.service.default("steps"),
        "body": "mannequin",
        "foot_lock": True,
        "beat_lock": server.service.default("beat_guidance"),
        "bpm": 0,  # found from the music
        "style_scale": 0.0,  # the tiny generator has no style input: the hidden slider's "not set"
        "beat_warp": server.service.default("beat_warp"),
    }


def test_one_good_request_returns_a_playable_video_and_the_files(client, songs):
    job = client.submit(handle_file(songs["good"]), api_name=API)
    descs = set()
    while not job.done():
        status = job.status()
        descs.update(p.desc for p in (status.progress_data or []) if p.desc)
        time.sleep(STATUS_POLL_S)
    video, files, scores, plot = job.result()

    assert Path(video).name == "dance_me_dance_seed0.mp4"
    check_playable_mp4(video, SONG_SECONDS)
    assert sorted(Path(f).suffix for f in files) == [".bvh", ".npz", ".pkl"]
    npz = next(f for f in files if f.endswith(".npz"))
    motion = load_motion(npz)
    assert motion.duration == pytest.approx(SONG_SECONDS) and motion.source_song == "dance me.wav"
    pkl = load_motion(next(f for f in files if f.endswith(".pkl")))
    assert pkl.duration == pytest.approx(SONG_SECONDS, abs=0.05)
    assert read_bvh(next(f for f in files if f.endswith(".bvh"))).values.shape[0] == motion.num_frames
    assert set(scores) >= {"BAS", "BAS_motion", "PFC", "music_beats", "motion_beats"}
    assert 0.0 <= scores["BAS"] <= 1.0 and scores["PFC"] >= 0.0 and scores["music_beats"] >= 4
    assert plot["type"] == "matplotlib" and plot["plot"].startswith("data:image/")
    assert any(d.startswith("rendering the video (frame") for d in descs), descs
    assert "notice" not in scores


def test_settings_pass_through_the_api(client, songs):
    video, files, scores, _ = client.predict(
        handle_file(songs["good_later"]), 1.0, 2.0, 7, 1.5, 3, "skeleton", api_name=API
    )
    check_playable_mp4(video, 2.0)
    motion = load_motion(next(f for f in files if f.endswith(".npz")))
    assert motion.start_offset == pytest.approx(1.0) and motion.duration == pytest.approx(2.0)
    assert motion.meta["generator"]["steps"] == 3 and motion.meta["generator"]["guidance"] == 1.5
    assert motion.meta["app"]["body"] == "skeleton"
    assert scores["seed"] == 7


@pytest.mark.parametrize(
    ("song", "kwargs", "message"),
    [
        (None, {}, "No song given"),
        ("empty", {}, "empty.wav: the file is empty"),
        ("silent", {}, "silence.wav: the song is silent"),
        ("corrupt", {}, "corrupt.mp3: not a readable mp3 audio file"),
        ("unsupported", {}, "notes.txt: .txt files are not supported"),
        ("good", {"start": 30.0}, "the start (30 s) is beyond the end of the song"),
        ("good", {"duration": 9.0}, "the song ends at 4.0 s"),
        ("good", {"steps": 100_000}, "greater than maximum value 200"),
    ],
)
def test_bad_inputs_get_a_readable_error_and_the_server_keeps_serving(
    server, client, songs, song, kwargs, message
):
    file = None if song is None else handle_file(songs[song])
    with pytest.raises(AppError) as info:
        client.predict(file, api_name=API, **kwargs)
    assert message in str(info.value)
    assert server_answers(server.url)


def test_a_song_over_the_limit_is_danced_up_to_it_with_a_notice(client, songs):
    video, files, scores, _ = client.predict(handle_file(songs["too_long"]), api_name=API)
    check_playable_mp4(video, SERVER_MAX_SECONDS)
    assert scores["duration_s"] == pytest.approx(SERVER_MAX_SECONDS)
    assert scores["notice"] == (
        f"long_song.wav: the song lasts {TOO_LONG_SECONDS:g} s, and this server makes dances of up to "
        f"{SERVER_MAX_SECONDS:g} s, so this dance covers 0 s to {SERVER_MAX_SECONDS:g} s of the song; set a "
        "start to dance another part."
    )
    song = handle_file(songs["too_long"])
    _, _, scores, _ = client.predict(song, start=1.0, duration=9.0, steps=1, api_name=API)
    assert scores["start_s"] == pytest.approx(1.0)
    assert scores["duration_s"] == pytest.approx(SERVER_MAX_SECONDS)
    assert "a dance of 9 s was asked for" in scores["notice"]


def wait_until(condition, timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """Poll ``condition()`` until it is true or ``timeout_s`` passes; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(STATUS_POLL_S)
    return condition()


def test_a_cancelled_request_stops_its_work_and_removes_its_files(server, client, songs):
    work = server.service.work_dir
    before = set(work.glob("req-*"))
    job = client.submit(handle_file(songs["too_long"]), api_name=API)
    assert wait_until(lambda: any(
        (p.desc or "").startswith("rendering the video (frame") for p in (job.status().progress_data or [])
    ), GENERATE_TIMEOUT_S)
    assert len(set(work.glob("req-*")) - before) == 1  # the request's folder, being written
    job.cancel()  # gradio_client posts /cancel: gradio cancels the handler's coroutine
    assert wait_until(lambda: server.service.active_requests() == 0)
    assert set(work.glob("req-*")) == before  # its folder went with it, half-made video included
    assert server_answers(server.url)


def test_upload_over_the_size_limit_is_refused(server, client, songs):
    with pytest.raises(ValueError, match="exceeds the maximum file size of 1048576 bytes"):
        client.predict(handle_file(songs["big"]), api_name=API)  # gradio_client checks first
    with open(songs["big"], "rb") as fh:  # a client that does not check meets the server's limit
        response = httpx.post(f"{server.url}gradio_api/upload", files={"files": ("big.wav", fh)}, timeout=30)
    assert response.status_code == HTTP_PAYLOAD_TOO_LARGE
    assert "maximum" in response.text.lower() or "size" in response.text.lower(), response.text
    assert server_answers(server.url)


def test_after_bad_inputs_a_good_request_still_works(client, songs):
    video, *_ = client.predict(handle_file(songs["good"]), 0.0, 1.5, 11, api_name=API)
    check_playable_mp4(video, 1.5)


def test_four_concurrent_requests_all_finish(server, songs):
    def one(seed: int):
        song = handle_file(songs["good"])
        return Client(server.url, verbose=False).predict(song, 0.0, 2.0, seed, api_name=API)

    clock = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
        results = list(pool.map(one, range(100, 100 + CONCURRENT_REQUESTS)))
    elapsed = time.perf_counter() - clock
    videos = [Path(video) for video, *_ in results]
    assert [v.name for v in videos] == [f"dance_me_dance_seed{s}.mp4" for s in range(100, 104)]
    for video in videos:
        check_playable_mp4(video, 2.0)
    npz = [load_motion(next(f for f in files if f.endswith(".npz"))) for _, files, *_ in results]
    assert len({m.poses.tobytes() for m in npz}) == CONCURRENT_REQUESTS  # four seeds, four dances
    print(f"{CONCURRENT_REQUESTS} concurrent 2 s requests: {elapsed:.1f} s")
