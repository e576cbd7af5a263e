"""What the progress bar says during one request: the stage, how far it is, and the time left.

A request goes through five stages (:data:`STAGES`); each fills its share of the bar
(:data:`SPANS`). The time left is the current stage's rest, projected from its own pace once a
little of it is done (:data:`MIN_FRACTION_FOR_PACE`), plus the later stages, projected from
what they cost on the requests this server made before (:class:`StageCosts`: seconds of work per
second of dance, smoothed). Before a stage of this request shows its pace, and for stages never
measured yet, the earlier requests' costs are all there is; with none, no time is promised.

Every report also checks the request's :class:`~app.turns.CancelFlag`, so the progress calls
that the generator makes after each denoising step and the renderer after each frame are where a
stopped request stops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from app.request import format_seconds
from app.turns import CancelFlag

Progress = Callable[[float, str], None]
"""progress(fraction of the whole request in [0, 1], what is happening)."""

STAGES: tuple[str, ...] = ("check", "features", "sampling", "render", "finish")
SPANS: dict[str, tuple[float, float]] = {
    "check": (0.0, 0.05),
    "features": (0.05, 0.20),
    "sampling": (0.20, 0.60),
    "render": (0.60, 0.95),
    "finish": (0.95, 1.0),
}
"""Share of the bar each stage fills."""
STAGE_TEXT: dict[str, str] = {
    "check": "reading the song",
    "features": "listening to the music",
    "sampling": "dancing (diffusion sampling)",
    "render": "rendering the video",
    "finish": "scoring and writing the motion files",
}
MIN_SECONDS_SHOWN: float = 1.0
"""Less time left than this is not shown (the request is about to finish)."""
MIN_FRACTION_FOR_PACE: float = 0.02
"""A stage's own pace predicts its rest once this share of it is done (before: earlier requests)."""
COST_SMOOTHING: float = 0.5
"""Weight of the newest request in :class:`StageCosts` (exponential smoothing)."""
REPORT_INTERVAL_S: float = 0.25
"""Reports within a stage closer together than this are dropped (the renderer reports every frame),
except a stage's first and last."""


class StageCosts:
    """Seconds of work per second of dance, per stage, measured on the requests made (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per_second: dict[str, float] = {}

    def record(self, stage: str, seconds: float, dance_seconds: float) -> None:
        if dance_seconds <= 0 or seconds < 0:
            return
        rate = seconds / dance_seconds
        with self._lock:
            old = self._per_second.get(stage)
            if old is not None:
                rate = (1 - COST_SMOOTHING) * old + COST_SMOOTHING * rate
            self._per_second[stage] = rate

    def estimate(self, stage: str, dance_seconds: float) -> float | None:
        """Seconds the stage will take for ``dance_seconds`` of dance, or None if never measured."""
        with self._lock:
            rate = self._per_second.get(stage)
        return None if rate is None else rate * dance_seconds


class RequestProgress:
    """The progress of one request: call :meth:`stage` as each stage starts, then ``report(fraction)``.

    Args:
        progress: where the bar's fraction and text go (None: nowhere; the cancel check still runs).
        costs: the server's :class:`StageCosts`; each finished stage of this request is added.
        flag: the request's cancel flag, checked on every report.
        clock: seconds, monotonic (a parameter for tests).
    """

    def __init__(
        self,
        progress: Progress | None,
        costs: StageCosts,
        flag: CancelFlag | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._progress = progress
        self._costs = costs
        self._flag = flag or CancelFlag()
        self._clock = clock
        self.dance_seconds = 0.0
        """Seconds of dance this request makes (0 until the song is checked: no estimate)."""
        self._stage: str | None = None
        self._stage_start = 0.0
        self._last_report = -float("inf")
        self.seconds: dict[str, float] = {}
        """Seconds each finished stage took."""

    @property
    def current(self) -> str | None:
        """The stage under way (None before the first and after the last)."""
        return self._stage

    def check(self) -> None:
        """Raise :class:`~app.turns.Cancelled` if the request was stopped."""
        self._flag.check()

    def note(self, bar: float, text: str) -> None:
        """Show ``text`` at ``bar`` (a fraction of the whole bar) outside any stage, e.g. while waiting."""
        self.check()
        if self._progress is not None:
            self._progress(bar, text)

    def stage(self, name: str, detail: str = "") -> None:
        """The previous stage is done (its time is recorded); ``name`` starts now."""
        self._end_stage()
        self._stage, self._stage_start = name, self._clock()
        self.report(0.0, detail, force=True)

    def done(self) -> None:
        """The last stage is done: record it and fill the bar."""
        self._end_stage()
        if self._progress is not None:
            self._progress(1.0, "done")

    def _end_stage(self) -> None:
        if self._stage is not None:
            seconds = self._clock() - self._stage_start
            self.seconds[self._stage] = seconds
            self._costs.record(self._stage, seconds, self.dance_seconds)
            self._stage = None

    def seconds_left(self, fraction: float) -> tuple[float, bool] | None:
        """(seconds, whole) left with the current stage ``fraction`` done, or None (nothing to go on).

        ``whole`` is True when the estimate covers the whole request, False when it covers only
        the current stage (a later stage was never measured on this server).
        """
        if self._stage is None or self.dance_seconds <= 0:
            return None
        elapsed = self._clock() - self._stage_start
        if fraction >= MIN_FRACTION_FOR_PACE:
            left = elapsed * (1.0 - fraction) / fraction
        else:
            whole = self._costs.estimate(self._stage, self.dance_seconds)
            if whole is None:
                return None
            left = max(whole - elapsed, 0.0)
        later = [self._costs.estimate(s, self.dance_seconds) for s in STAGES[STAGES.index(self._stage) + 1:]]
        if any(seconds is None for seconds in later):
            return left, False
        return left + sum(later), True

    def report(self, fraction: float, detail: str = "", force: bool = False) -> None:
        """The current stage is ``fraction`` done (0..1); ``detail`` e.g. 'frame 10 of 300'."""
        self.check()
        if self._progress is None or self._stage is None:
            return
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = self._clock()
        if not force and fraction < 1.0 and now - self._last_report < REPORT_INTERVAL_S:
            return
        self._last_report = now
        lo, hi = SPANS[self._stage]
        text = STAGE_TEXT[self._stage] + (f" ({detail})" if detail else "")
        left = self.seconds_left(fraction)
        if left is not None and left[0] >= MIN_SECONDS_SHOWN:
            seconds, whole = left
            text += f", about {format_seconds(round(seconds))} left" + ("" if whole else " in this stage")
        self._progress(lo + (hi - lo) * fraction, text)
