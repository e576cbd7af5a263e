"""The app's ``/generate`` on the bad-input corpus (``tests/bad_inputs.py``), against a real server.

Every file gives a dance (the shortest one, one sampling step: the point is the handling of the
input) or one line naming the problem, never the catch-all "Something went wrong" nor a
traceback; a refused request leaves no request folder behind, and the server keeps serving. The
20-minute song (slow) is cut to the test server's limit with a notice, as any song longer than a
server's ``--max-duration`` is.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from app_testing import SERVER_MAX_SECONDS, server_answers
from gradio_client import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the corpus maker
from bad_inputs import BadInput, make_corpus, run_app  # noqa: E402

GENERIC_ERROR = "Something went wrong"
SHORT_DANCE_S = 1.0


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server.url, verbose=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, BadInput]:
    return {item.label: item for item in make_corpus(tmp_path_factory.mktemp("corpus"))}


LABELS = ("empty file", "1 ms of audio", "10 s of silence", "white noise", "truncated header",
          "corrupt header", "mp3 cut in the middle", "8 kHz mono", "96 kHz 6-channel", "mp3", "ogg",
          "flac", "m4a", "opus", "wav", "spaces and non-ASCII name", "text file named .mp3")


def test_the_corpus_is_what_the_tests_send(corpus):
    assert set(corpus) == set(LABELS)


@pytest.mark.parametrize("label", LABELS)
def test_each_input_gives_a_dance_or_one_line_naming_the_problem(server, client, corpus, label):
    item = corpus[label]
    work = server.service.work_dir
    before = set(work.glob("req-*"))
    outcome = run_app(client, item.path, duration=0.0 if item.error else SHORT_DANCE_S, steps=1)
    if item.error is None:
        assert outcome.ok, outcome.message
        assert sorted(Path(f).suffix for f in outcome.files) == [".bvh", ".mp4", ".npz", ".pkl"]
        assert len(set(work.glob("req-*")) - before) == 1
    else:
        assert not outcome.ok
        assert item.error in outcome.message and item.path.name in outcome.message, outcome.message
        assert "\n" not in outcome.message.strip() and "Traceback" not in outcome.message
        assert GENERIC_ERROR not in outcome.message
        assert set(work.glob("req-*")) == before  # nothing of a refused request stays
    assert server_answers(server.url)


def test_the_server_still_dances_after_the_corpus(server, client, corpus):
    outcome = run_app(client, corpus["wav"].path, duration=SHORT_DANCE_S, steps=1)
    assert outcome.ok and server_answers(server.url)


@pytest.mark.slow
def test_a_20_minute_song_is_cut_to_the_limit_with_a_notice(server, client, tmp_path_factory):
    long = next(item for item in make_corpus(tmp_path_factory.mktemp("long"), slow=True)
                if item.label == "20-minute song")
    outcome = run_app(client, long.path, steps=1)
    assert outcome.ok, outcome.message
    assert outcome.message.startswith(f"{long.path.name}: the song lasts 20 min, and this server makes "
                                      f"dances of up to {SERVER_MAX_SECONDS:g} s"), outcome.message
    assert server_answers(server.url)
