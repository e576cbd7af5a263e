"""Progress, time left, taking turns and stopping, without a server (app.progress, app.turns)."""

from __future__ import annotations

import threading
import time

import pytest

from app.progress import SPANS, RequestProgress, StageCosts
from app.request import DanceSettings, Limits, format_seconds
from app.service import DanceService
from app.turns import CancelFlag, Cancelled, TurnLock

THREAD_TIMEOUT_S = 30.0


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 8.5, 44.62, 60, 185, 600, 700.2)] == [
        "0 s", "8.5 s", "44.6 s", "1 min", "3 min 5 s", "10 min", "11 min 40 s",
    ]


def test_time_left_comes_from_the_stage_pace_and_the_earlier_requests():
    clock, costs, seen = FakeClock(), StageCosts(), []
    track = RequestProgress(lambda f, text: seen.append((f, text)), costs, clock=clock)
    track.dance_seconds = 100.0
    track.stage("sampling")
    assert seen[-1] == (SPANS["sampling"][0], "dancing (diffusion sampling)")  # nothing measured yet
    clock.now += 10.0
    track.report(0.25, "step 5 of 20")  # 10 s for a quarter: 30 s to go; rendering never measured
    assert seen[-1][1] == "dancing (diffusion sampling) (step 5 of 20), about 30 s left in this stage"
    lo, hi = SPANS["sampling"]
    assert seen[-1][0] == pytest.approx(lo + 0.25 * (hi - lo))

    costs.record("render", 200.0, 100.0)  # earlier requests: 2 s of rendering per second of dance
    costs.record("finish", 10.0, 100.0)
    clock.now += 10.0
    track.report(0.5)
    assert seen[-1][1] == "dancing (diffusion sampling), about 3 min 50 s left"  # 20 + 200 + 10 s
    track.stage("render")
    assert seen[-1][1] == "rendering the video, about 3 min 30 s left"  # the earlier requests' 200 + 10 s
    assert track.seconds == {"sampling": 20.0}
    assert costs.estimate("sampling", 50.0) == pytest.approx(10.0)  # 20 s for 100 s, recorded
    clock.now += 0.1
    track.report(0.001)  # within REPORT_INTERVAL_S of the last report: dropped
    assert len(seen) == 4
    clock.now += 150.0
    track.report(1.0)
    assert seen[-1][1] == "rendering the video, about 10 s left"  # finish, from the earlier requests


def test_a_stopped_request_raises_at_its_next_report():
    flag = CancelFlag()
    track = RequestProgress(None, StageCosts(), flag)
    track.stage("render")
    track.report(0.5)
    flag.set()
    with pytest.raises(Cancelled):
        track.report(0.6)


def test_turns_go_first_come_first_served_and_a_long_holder_passes():
    lock, order = TurnLock(), []
    holding = threading.Event()

    def long_request():
        with lock.turn() as turn:
            holding.set()
            for chunk in range(6):
                order.append(f"long {chunk}")
                time.sleep(0.05)
                turn.pass_turn()

    def short_request(name: str):
        with lock.turn():
            order.append(name)

    first = threading.Thread(target=long_request)
    first.start()
    assert holding.wait(THREAD_TIMEOUT_S)
    shorts = [threading.Thread(target=short_request, args=(f"short {i}",)) for i in range(2)]
    for thread in shorts:
        thread.start()
        while lock.waiting() < shorts.index(thread) + 1:  # start waiting in this order
            time.sleep(0.001)
    for thread in (first, *shorts):
        thread.join(THREAD_TIMEOUT_S)
    assert order.index("short 0") < order.index("short 1") < order.index("long 5")  # did not wait for all
    assert not lock.busy() and lock.waiting() == 0


def test_a_request_stopped_while_waiting_for_its_turn_leaves_the_line():
    lock, flag = TurnLock(), CancelFlag()
    errors = []
    ticket = lock.acquire()

    def wait():
        try:
            with lock.turn(flag):
                pass
        except Cancelled as err:
            errors.append(err)

    thread = threading.Thread(target=wait)
    thread.start()
    while not lock.waiting():
        time.sleep(0.001)
    flag.set()
    thread.join(THREAD_TIMEOUT_S)
    assert len(errors) == 1 and lock.waiting() == 0
    lock.release(ticket)
    with lock.turn():  # the lock still works
        assert lock.busy()


@pytest.mark.parametrize("stage", ["dancing (diffusion sampling)", "rendering the video"])
def test_stopping_a_request_stops_its_work_and_removes_its_files(checkpoint, songs, tmp_path, stage):
    work = tmp_path / "work"
    service = DanceService.from_checkpoint(
        checkpoint, device="cpu", work_dir=work, limits=Limits(max_duration=8.0), video_size=64
    )
    flag, seen = CancelFlag(), []

    def progress(fraction: float, text: str) -> None:
        seen.append(text)
        if text.startswith(stage):
            flag.set()  # as the page's Stop button or unload would, from another thread

    with pytest.raises(Cancelled):
        service.generate(songs["good"], DanceSettings(steps=4), progress=progress, cancel=flag)
    assert seen[-1].startswith(stage)  # nothing reported after the stop
    assert list(work.iterdir()) == []  # the request's folder (and any half-made video) is gone
    assert service.active_requests() == 0
    result = service.generate(songs["good"], DanceSettings(duration=1.0, steps=1))  # still serving
    assert result.video.is_file()
