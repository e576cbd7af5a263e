"""Taking turns on a shared stage (sampling, rendering), and stopping a request that is no longer wanted.

One request at a time samples and one at a time renders (two requests on the same cores only
slow each other down), but a long request must not make a short one wait for all of it: it
*passes its turn* between chunks of work (a denoising step, a second of video) whenever another
request is waiting, and waits in line for its next turn. Turns go first come, first served, so a
3-minute song waiting behind a 10-minute one renders a second of video for every second the long
one renders.

The same chunk boundaries are where a request learns it was cancelled (the person pressed Stop
or left the page): :class:`CancelFlag` raises :class:`Cancelled` there, and the request's work
stops within a chunk.
"""

from __future__ import annotations

import threading
from collections import deque

WAIT_POLL_S: float = 0.2
"""How often a request waiting for its turn checks whether it was cancelled, seconds."""


class Cancelled(Exception):
    """The request was stopped (Stop pressed, page left or client gone); its work stops here."""


class CancelFlag:
    """Set by whoever stops a request (any thread); :meth:`check` raises :class:`Cancelled` once set."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the request was stopped."""
        if self._event.is_set():
            raise Cancelled("the request was stopped")


class TurnLock:
    """A lock held by one request at a time, handed over first come, first served.

    ``with lock.turn(flag):`` waits for the lock (raising :class:`Cancelled` if ``flag`` is set
    while waiting); inside, :meth:`pass_turn` lets every request that started waiting earlier
    have a turn first.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._line: deque[object] = deque()
        self._holder: object | None = None

    def acquire(self, flag: CancelFlag | None = None) -> object:
        """Wait for the turn; returns the ticket that :meth:`release` takes."""
        ticket = object()
        with self._cond:
            self._line.append(ticket)
            try:
                while self._holder is not None or self._line[0] is not ticket:
                    self._cond.wait(WAIT_POLL_S)
                    if flag is not None:
                        flag.check()
            except BaseException:
                self._line.remove(ticket)
                self._cond.notify_all()
                raise
            self._line.popleft()
            self._holder = ticket
        return ticket

    def release(self, ticket: object) -> None:
        with self._cond:
            if self._holder is not ticket:
                raise RuntimeError("release of a turn that is not held")
            self._holder = None
            self._cond.notify_all()

    def busy(self) -> bool:
        """True while a request holds the turn."""
        with self._cond:
            return self._holder is not None

    def waiting(self) -> int:
        """How many requests wait for a turn."""
        with self._cond:
            return len(self._line)

    def turn(self, flag: CancelFlag | None = None) -> Turn:
        """``with lock.turn(flag) as turn:`` ... ``turn.pass_turn()`` between chunks of work."""
        return Turn(self, flag)


class Turn:
    """One request's hold on a :class:`TurnLock` (a context manager)."""

    def __init__(self, lock: TurnLock, flag: CancelFlag | None) -> None:
        self._lock = lock
        self._flag = flag
        self._ticket: object | None = None
        self.passes = 0
        """How many times this request let another go first."""

    def __enter__(self) -> Turn:
        self._ticket = self._lock.acquire(self._flag)
        return self

    def pass_turn(self) -> None:
        """Check for cancellation, then let waiting requests have a turn (no-op when none waits)."""
        if self._flag is not None:
            self._flag.check()
        if not self._lock.waiting():
            return
        ticket, self._ticket = self._ticket, None  # not held while waiting: __exit__ must not release
        self._lock.release(ticket)
        self._ticket = self._lock.acquire(self._flag)
        self.passes += 1

    def __exit__(self, *exc) -> None:
        if self._ticket is not None:
            self._lock.release(self._ticket)
            self._ticket = None

