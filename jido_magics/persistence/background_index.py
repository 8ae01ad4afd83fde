"""The search index kept current off the user's path: after a save or a load, one thread
indexes the folder's new text, so a later search finds it ready (DESIGN §11).

Indexing a 1000-message file costs 20-50 ms of CPU (SQLite FTS5's tokenizer alone is about 10 ms
per MB, and writing the index as much again), five to ten times its load: too much to add to a
save or a load the user waits for. A
request only notes the folder. The thread indexes it once the files written just before have
settled (``catalog.SETTLE_NS``: text indexed sooner would have to be indexed again), one file
at a time, at a lower CPU priority. A search pauses it and indexes what is left itself, with
its progress line; the thread picks the folder up again afterwards. Failures are left to the
search, which reports them: nothing here prints or raises.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .catalog import SETTLE_NS

if TYPE_CHECKING:
    from .store import SessionStore

#: Seconds from a folder's last request to its indexing: its newest file has settled by then.
DELAY = SETTLE_NS / 1e9 + 0.25
#: How much nicer than the kernel the thread runs (Linux only).
_NICENESS = 10

IndexFolder = Callable[["SessionStore", Callable[[], bool]], bool]


class BackgroundIndexer:
    """One daemon thread that runs ``index_folder(store, stop)`` for each requested store,
    ``delay`` seconds after its last request."""

    def __init__(self, index_folder: IndexFolder | None = None, *, delay: float = DELAY) -> None:
        #: None: :func:`saved_search.index_folder`, imported by the thread (not on the path of
        #: ``%load_ext``, which makes this object).
        self._index_folder = index_folder
        self.delay = delay
        self._changed = threading.Condition()
        #: Requested stores and when each is due (``time.monotonic``).
        self._due: dict[SessionStore, float] = {}
        self._pauses = 0
        self._working = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def request(self, store: SessionStore) -> None:
        """Index ``store``'s folder once it has been quiet for :attr:`delay` seconds."""
        with self._changed:
            if self._stopping:
                return
            waiting = store in self._due
            self._due[store] = time.monotonic() + self.delay
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="jido_magics index", daemon=True
                )
                self._thread.start()
            elif not waiting:  # a later time for a waiting store: the thread finds it then
                self._changed.notify_all()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No indexing here for the body of the ``with`` (the file being indexed is finished
        first): a search indexes what it needs itself."""
        with self._changed:
            self._pauses += 1
        try:
            yield
        finally:
            with self._changed:
                self._pauses -= 1
                self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is requested or being indexed (False: ``timeout`` seconds
        passed first)."""
        end = time.monotonic() + timeout
        with self._changed:
            while self._due or self._working:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Drop what is requested and end the thread (after the file being indexed)."""
        with self._changed:
            self._stopping = True
            self._due.clear()
            self._changed.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        # Background work must not slow the kernel's own. Only Linux sets a priority per
        # thread; elsewhere the same call would take the thread id for a process id.
        if sys.platform.startswith("linux"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICENESS)
            except OSError:
                pass
        index = self._index_folder
        if index is None:
            from .saved_search import index_folder as index
        while True:
            store = self._next()
            if store is None:
                return
            try:
                finished = index(store, self._should_stop)
            except Exception:  # a search meets the same failure and reports it
                finished = True
            with self._changed:
                self._working = False
                if not finished and not self._stopping:
                    self._due.setdefault(store, time.monotonic())  # go on after the pause
                self._changed.notify_all()

    def _next(self) -> SessionStore | None:
        """The next due store, once no search pauses the thread (None: stopping)."""
        with self._changed:
            while True:
                if self._stopping:
                    return None
                now = time.monotonic()
                if self._due and not self._pauses:
                    store, due = min(self._due.items(), key=lambda pair: pair[1])
                    if due <= now:
                        del self._due[store]
                        self._working = True
                        return store
                    self._changed.wait(due - now)
                else:
                    self._changed.wait()

    def _should_stop(self) -> bool:
        return self._stopping or self._pauses > 0
