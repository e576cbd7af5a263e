"""End to end through gradio_client against a server the tests start (see conftest.py)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from app_testing import SERVER_MAX_SECONDS, SONG_SECONDS, check_playable_mp4, server_answers
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from motionbeat.core.motion import load_motion
from render.export import read_bvh

API = "/generate"
STATUS_POLL_S = 0.05
CONCURRENT_REQUESTS = 4
HTTP_PAYLOAD_TOO_LARGE = 413


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server.url, verbose=False)


def test_api_names_the_endpoint_with_the_ui_defaults(server, client):
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"][API]["parameters"]
    names = [p["parameter_name"] for p in params]
    assert names == ["song", "start", "duration", "seed", "guidance", "steps", "body", "foot_lock"]
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
    assert "rendering the video" in descs or "dancing (diffusion sampling)" in descs, descs


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
        ("too_long", {}, f"this server makes dances of up to {SERVER_MAX_SECONDS:g} s"),
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
