"""Render pages ahead of time in a background thread, so a switch finds them in the cache.

Parsing Markdown costs about a millisecond per kilobyte of text (markdown-it-py), so the first
render of a page of 50 long messages takes tens of milliseconds. The view asks the warmer to
render the newest page of every session it is not showing (when it is shown, when a session is
opened, when another session's exchange completes); a later switch then only joins cached
fragments. Work is keyed by session id, so a burst of requests renders each page once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.session import Session


class Prewarmer:
    """Runs ``warm(session)`` for requested sessions on one daemon thread, started on demand."""

    def __init__(self, warm: Callable[[Session], None]) -> None:
        self._warm = warm
        self._pending: dict[str, Session] = {}
        self._running = False
        self._stopped = False
        self._idle = threading.Condition()

    def request(self, sessions: Iterable[Session]) -> None:
        with self._idle:
            if self._stopped:
                return
            for session in sessions:
                self._pending[session.id] = session
            if self._pending and not self._running:
                self._running = True
                threading.Thread(target=self._run, name="jido-prewarm", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._running, timeout)

    def stop(self) -> None:
        with self._idle:
            self._stopped = True
            self._pending.clear()

    def _run(self) -> None:
        while True:
            with self._idle:
                if not self._pending or self._stopped:
                    self._running = False
                    self._idle.notify_all()
                    return
                _, session = self._pending.popitem()
            try:
                self._warm(session)
            except Exception:  # warming is an optimisation: a failure only costs speed
                pass
