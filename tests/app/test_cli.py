"""``python -m app``: its options, its refusals, and a real server process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from app_testing import REPO, free_port, server_answers
from gradio_client import Client

from app.__main__ import main, parse_args
from app.request import Limits

SERVER_PROCESS_TIMEOUT_S = 90.0
POLL_S = 0.5


def test_defaults():
    args = parse_args([])
    assert (args.host, args.port, args.concurrency) == ("127.0.0.1", 7860, 4)
    assert args.checkpoint == Path("checkpoints") / "generator"
    assert args.limits == Limits() and args.limits.max_duration == 600.0


def test_max_seconds_is_the_old_name_of_max_duration():
    assert parse_args(["--max-duration", "90"]).limits.max_duration == 90.0
    assert parse_args(["--max-seconds", "45"]).limits.max_duration == 45.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--concurrency", "0"], "--concurrency must be at least 1"),
        (["--max-duration", "0"], "--max-duration must be positive"),
        (["--max-seconds", "0.5"], "--max-duration must be at least 1"),
        (["--max-upload-mb", "-1"], "--max-upload-mb must be positive"),
        (["--video-size", "255"], "--video-size must be even"),
    ],
)
def test_bad_options_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_missing_checkpoint_says_how_to_make_one(tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["--checkpoint", str(tmp_path / "nothing"), "--work-dir", str(tmp_path / "work")])
    message = str(info.value.code)
    assert "cannot load the generator" in message and "nothing.safetensors" in message
    assert "python -m generator.train" in message


def test_python_m_app_serves_the_generate_endpoint(checkpoint, tmp_path):
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GRADIO_TEMP_DIR": str(tmp_path / "gradio")}
    command = [
        sys.executable, "-m", "app", "--checkpoint", str(checkpoint), "--port", str(port),
        "--video-size", "128", "--max-duration", "5",
    ]
    url = f"http://127.0.0.1:{port}/"
    with open(tmp_path / "server.log", "wb") as log:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + SERVER_PROCESS_TIMEOUT_S
            while True:
                assert proc.poll() is None, (tmp_path / "server.log").read_text()
                try:
                    if server_answers(url):
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(POLL_S)
            api = Client(url, verbose=False).view_api(print_info=False, return_format="dict")
            assert "/generate" in api["named_endpoints"]
            assert "The dance lasts the whole song, up to 5 s" in httpx.get(f"{url}config", timeout=10).text
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    log = (tmp_path / "server.log").read_text()
    assert proc.returncode == 0, log
    work = re.search(r"request folders go to (\S+)", log)
    assert work is not None, log
    assert not Path(work[1]).exists()  # SIGTERM closes the server and removes its temporary folder
