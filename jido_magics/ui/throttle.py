"""Collapse bursts of calls into at most one run per interval, always ending with a run.

Streaming emits an event per text delta; re-rendering the page for each would flood the
browser. :class:`Throttle` runs the action at once when it has not run for ``interval``
seconds, otherwise schedules one trailing run at the end of the interval, so the last state
always shows. The clock and the scheduler are injected so tests drive it without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Cancellable(Protocol):
    def cancel(self) -> None: ...


#: ``schedule(delay, callback)`` runs ``callback`` after ``delay`` seconds; returns a handle.
Scheduler = Callable[[float, Callable[[], None]], Cancellable]


def thread_timer(delay: float, callback: Callable[[], None]) -> Cancellable:
    """The default scheduler: a daemon timer thread (works while the kernel's main thread is
    busy running the cell that streams)."""
    timer = threading.Timer(delay, callback)
    timer.daemon = True
    timer.start()
    return timer


class Throttle:
    """Call ``throttle()`` as often as you like: ``action`` runs at most once per ``interval``.

    A call within the interval of the last run schedules one trailing run (further calls join
    it). :meth:`flush` runs a pending trailing run now; :meth:`cancel` drops it.
    """

    def __init__(
        self,
        action: Callable[[], None],
        interval: float = 0.05,
        *,
        clock: Callable[[], float] = time.monotonic,
        schedule: Scheduler = thread_timer,
    ) -> None:
        self._action, self._interval = action, interval
        self._clock, self._schedule = clock, schedule  # tests pass a fake clock and timer
        self._lock = threading.Lock()
        self._last_run: float | None = None
        self._pending: Cancellable | None = None
        self._pending_token: object | None = None

    @property
    def pending(self) -> bool:
        return self._pending_token is not None

    def __call__(self) -> None:
        with self._lock:
            if self._pending_token is not None:
                return  # the scheduled trailing run will show this change too
            now = self._clock()
            if self._last_run is not None and now - self._last_run < self._interval:
                token = object()
                self._pending_token = token
                delay = self._last_run + self._interval - now
                self._pending = self._schedule(delay, lambda: self._run_trailing(token))
                return
            self._last_run = now
        self._action()

    def ran(self) -> None:
        """Record that the action ran by other means (e.g. an immediate render): a pending
        trailing run is dropped and the interval restarts."""
        with self._lock:
            self._drop_pending()
            self._last_run = self._clock()

    def flush(self) -> bool:
        """Run a pending trailing call now; True when there was one."""
        with self._lock:
            if self._pending_token is None:
                return False
            self._drop_pending()
            self._last_run = self._clock()
        self._action()
        return True

    def cancel(self) -> None:
        with self._lock:
            self._drop_pending()

    def _drop_pending(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        self._pending = None
        self._pending_token = None

    def _run_trailing(self, token: object) -> None:
        with self._lock:
            if self._pending_token is not token:
                return  # flushed or cancelled meanwhile
            self._pending = None
            self._pending_token = None
            self._last_run = self._clock()
        self._action()
