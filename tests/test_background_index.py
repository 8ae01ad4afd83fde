"""The search index kept current in the background: after saves, loads and ``%load_ext``,
a search finds the text indexed and indexes nothing itself; a search pauses the thread."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from jido_magics.core.search import parse_query
from jido_magics.interface.extension import extension_for
from jido_magics.persistence.background_index import BackgroundIndexer
from jido_magics.persistence.catalog import Listing
from jido_magics.persistence.saved_search import search_saved, to_index

WAIT = 60.0  # seconds: a generous bound for a busy machine; nothing here is timed


def _indexer(shell) -> BackgroundIndexer:
    indexer = extension_for(shell).indexer
    assert indexer is not None
    indexer.delay = 0.0
    return indexer


def _current(store, session_id: str) -> bool:
    """Whether the index holds ``session_id``'s text at the file's present fingerprint."""
    listing = Listing(store, for_search=True)
    assert session_id in listing.fingerprints
    return all(item.id != session_id for item, _ in to_index(listing))


def _search_indexes(store, word: str) -> tuple[int, list[int]]:
    """(hits, the progress calls) of a search of the saved files for ``word``."""
    calls: list[int] = []
    hits = search_saved(store, parse_query(word), 10, progress=lambda done, _: calls.append(done))
    return len(hits), calls


def test_a_save_is_indexed_in_the_background(shell, registry, settled) -> None:
    indexer = _indexer(shell)
    shell.run_line_magic("session", "new notes")
    shell.run_line_magic("chat", "the zebra crossing")
    shell.run_line_magic("session", "save")
    assert indexer.wait_idle(WAIT)
    store = extension_for(shell).store
    assert _current(store, registry.active.id)
    assert _search_indexes(store, "zebra") == (2, [])  # found, and nothing left to index


def test_a_resumed_session_and_a_folder_found_at_load_are_indexed(shell, registry, settled) -> None:
    ext = extension_for(shell)
    indexer = _indexer(shell)
    ext.magics.background_index = False  # saved without being indexed
    shell.run_line_magic("session", "new notes")
    shell.run_line_magic("chat", "a quiet lagoon")
    session_id = registry.active.id
    shell.run_line_magic("session", "close notes")
    ext.magics.background_index = True
    assert not _current(ext.store, session_id)
    shell.run_line_magic("session", "resume notes")
    assert indexer.wait_idle(WAIT)
    assert _current(ext.store, session_id)

    # %load_ext in a folder that holds saved sessions
    shell.run_line_magic("session", "close notes --no-save")
    _forget_text(ext.store)
    assert not _current(ext.store, session_id)
    shell.run_line_magic("unload_ext", "jido_magics")
    shell.run_line_magic("load_ext", "jido_magics")
    assert _indexer(shell).wait_idle(WAIT)  # requested at load, with the usual delay
    assert _current(extension_for(shell).store, session_id)


def _forget_text(store) -> None:
    from jido_magics.persistence.catalog import cache_for

    with cache_for(store).using() as db:
        db.execute("DELETE FROM text")
        db.execute("UPDATE files SET indexed=''")


def test_off_by_setting(shell, registry, settled) -> None:
    indexer = _indexer(shell)
    magics = extension_for(shell).magics
    magics.background_index = False  # this extension's magics only: nothing lingers
    shell.run_line_magic("session", "new notes")
    shell.run_line_magic("chat", "an otter")
    shell.run_line_magic("session", "save")
    assert indexer.wait_idle(0.0)  # nothing was requested
    assert not _current(extension_for(shell).store, registry.active.id)


# -- the thread itself, with a recording job -------------------------------------------------


class Job:
    """An ``index_folder`` that records each call and can be held between "files"."""

    def __init__(self, files: int = 1) -> None:
        self.files = files
        self.calls: list[object] = []
        self.inside = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.fail = False

    def __call__(self, store, stop) -> bool:
        self.calls.append(store)
        if self.fail:
            raise OSError("disk on fire")
        for _ in range(self.files):
            self.inside.set()
            assert self.release.wait(WAIT)
            if stop():
                return False
        return True


def test_requests_made_together_run_once() -> None:
    job = Job()
    indexer = BackgroundIndexer(job, delay=0.0)
    try:
        with indexer.paused():
            indexer.request("a")  # type: ignore[arg-type]
            indexer.request("a")  # type: ignore[arg-type]
            indexer.request("b")  # type: ignore[arg-type]
        assert indexer.wait_idle(WAIT)
        assert sorted(job.calls) == ["a", "b"]  # type: ignore[type-var]
    finally:
        indexer.stop()


def test_a_pause_stops_between_files_and_the_folder_is_done_afterwards() -> None:
    job = Job(files=2)
    job.release.clear()
    indexer = BackgroundIndexer(job, delay=0.0)
    try:
        indexer.request("a")  # type: ignore[arg-type]
        assert job.inside.wait(WAIT)  # the thread is indexing the first file
        with indexer.paused():
            job.release.set()  # it finishes that file, sees the pause, and stops
            assert not indexer.wait_idle(0.5)  # the folder waits for the pause to end
            assert job.calls == ["a"]
        assert indexer.wait_idle(WAIT)
        assert job.calls == ["a", "a"]  # taken up again after the pause
    finally:
        indexer.stop()


def test_a_failure_leaves_the_thread_working_and_stop_ends_it() -> None:
    job = Job()
    job.fail = True
    indexer = BackgroundIndexer(job, delay=0.0)
    indexer.request("a")  # type: ignore[arg-type]
    assert indexer.wait_idle(WAIT)
    job.fail = False
    indexer.request("b")  # type: ignore[arg-type]
    assert indexer.wait_idle(WAIT)
    assert job.calls == ["a", "b"]
    thread = indexer._thread
    indexer.stop()
    assert thread is not None and not thread.is_alive()
    indexer.request("c")  # type: ignore[arg-type]
    assert indexer.wait_idle(0.0) and job.calls == ["a", "b"]


def test_indexing_waits_for_the_delay() -> None:
    """A request is not run before its delay (a long one here: it never comes)."""
    job = Job()
    indexer = BackgroundIndexer(job, delay=3600.0)
    try:
        indexer.request("a")  # type: ignore[arg-type]
        assert not indexer.wait_idle(0.3)
        assert job.calls == []
    finally:
        indexer.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a priority per thread: Linux")
def test_the_thread_runs_nicer_than_the_kernel() -> None:
    seen: list[int] = []
    job = Job()
    indexer = BackgroundIndexer(
        lambda store, stop: (
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            or job(store, stop)
        ),
        delay=0.0,
    )
    try:
        indexer.request("a")  # type: ignore[arg-type]
        assert indexer.wait_idle(WAIT)
    finally:
        indexer.stop()
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen == [min(mine + 10, 19)] and job.calls == ["a"]
