"""The verified-metadata cache: listing costs one stat per unchanged file, and nothing in the
cache (stale, corrupt, hostile or missing) makes a changed file look ``ok`` or load."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from reliability import KEY, OTHER_KEY

from jido_magics.core import Session
from jido_magics.persistence import cache as cache_module
from jido_magics.persistence import catalog
from jido_magics.persistence.errors import MismatchedId, Tampered
from jido_magics.persistence.keys import KeyRing
from jido_magics.persistence.store import SessionStore


class Described:
    """Counts the full verifications the listing makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ids: list[str] = []
        original = SessionStore.examine  # describe's work, and the listing's

        def examine(store: SessionStore, session_id: str, path: Path, info=None):  # type: ignore[no-untyped-def]
            self.ids.append(session_id)
            return original(store, session_id, path, info)

        monkeypatch.setattr(SessionStore, "examine", examine)


def _saved(store: SessionStore, name: str, messages: int = 3) -> Session:
    session = Session(name)
    for i in range(messages):
        session.add_message("user", f"{name} question {i}")
    store.save(session)
    return session


def _changed(path: Path, data: bytes, *, keep_times: bool = True) -> None:
    """Write ``data`` over ``path`` in place (same inode), put its mtime back, and wait until
    its ctime differs from before (ctime is stamped with a coarse clock)."""
    before = os.stat(path)
    while True:
        with open(path, "r+b") as f:
            f.write(data)
            f.truncate()
        if keep_times:
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = os.stat(path)
        if after.st_ctime_ns != before.st_ctime_ns:
            return
        time.sleep(0.001)


def _flip_payload_byte(data: bytes) -> bytes:
    index = data.index(b"question") + 1
    return data[:index] + bytes([data[index] ^ 0x20]) + data[index + 1 :]


def test_a_kernel_lists_unchanged_files_from_memory(store, settled, monkeypatch) -> None:
    a = _saved(store, "alpha")
    store.saved()
    queries: list[str] = []
    cache = cache_module.shared_cache()
    real = cache.entries
    monkeypatch.setattr(cache, "entries", lambda *args: queries.append("q") or real(*args))
    assert [s.id for s in store.saved()] == [a.id] and queries == []
    b = _saved(store, "bravo")  # a new file: the database is read (and the file verified)
    assert {s.id for s in store.saved()} == {a.id, b.id} and queries == ["q"]


def test_unchanged_files_are_listed_from_the_cache(store, settled, monkeypatch) -> None:
    a = _saved(store, "alpha")
    b = _saved(store, "beta")
    described = Described(monkeypatch)
    first = store.saved()
    assert sorted(described.ids) == sorted([a.id, b.id])
    _next_kernel()
    opened: list[str] = []
    real_open = os.open
    monkeypatch.setattr(
        os, "open", lambda p, *a, **k: (opened.append(str(p)), real_open(p, *a, **k))[1]
    )
    second = store.saved()
    assert sorted(described.ids) == sorted([a.id, b.id])  # no new verification
    assert opened == []  # no file read: one stat per file
    assert [(s.id, s.status, s.name, s.generation, s.message_count) for s in second] == [
        (s.id, s.status, s.name, s.generation, s.message_count) for s in first
    ]
    assert [s.name for s in second] == ["beta", "alpha"] and all(s.ok for s in second)


def test_recently_changed_files_are_verified_every_time(store, monkeypatch) -> None:
    a = _saved(store, "alpha")
    described = Described(monkeypatch)
    store.saved()
    store.saved()
    assert described.ids == [a.id, a.id]  # written within SETTLE_NS: never from the cache


def test_in_place_edit_with_same_size_and_mtime_is_never_ok(store, settled) -> None:
    a = _saved(store, "alpha")
    path = store.path_for(a.id)
    assert [s.status for s in store.saved()] == ["ok"]
    data = path.read_bytes()
    _changed(path, _flip_payload_byte(data))
    assert path.stat().st_size == len(data)
    listing = store.saved()
    assert [s.status for s in listing] == ["tampered"]
    with pytest.raises(Tampered):
        store.load(a.id)


def test_replaced_by_another_sessions_file_is_never_ok(store, settled) -> None:
    a = _saved(store, "alpha")
    b = _saved(store, "bravo")  # same length of name and messages: same file size
    path_a, path_b = store.path_for(a.id), store.path_for(b.id)
    assert all(s.ok for s in store.saved())
    stamp = os.stat(path_a)
    os.replace(path_b, path_a)  # b's valid file now sits under a's name
    os.utime(path_a, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    listing = store.saved()
    assert [(s.id, s.status) for s in listing] == [(a.id, "wrong id")]
    with pytest.raises(MismatchedId):
        store.load(a.id)


def test_edit_before_a_settled_listing_is_seen(store, monkeypatch) -> None:
    """A file changed in the same clock tick as the verification that cached it: without the
    settle rule the cache would hold the old result under the new fingerprint's twin."""
    a = _saved(store, "alpha")
    path = store.path_for(a.id)
    store.saved()  # real clock: recent file, cached as not settled
    data = path.read_bytes()
    before = os.stat(path)
    with open(path, "r+b") as f:  # no wait for the clock: ctime may well be unchanged
        f.write(_flip_payload_byte(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert [s.status for s in store.saved()] == ["tampered"]


def test_a_new_key_ring_verifies_again(tmp_path, settled, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "nb.sessions"
    theirs = SessionStore(folder, keys=KeyRing([OTHER_KEY]))
    s = _saved(theirs, "theirs")
    mine = SessionStore(folder, keys=KeyRing([KEY]))
    assert [x.status for x in mine.saved()] == ["other key"]
    both = SessionStore(folder, keys=KeyRing([KEY, OTHER_KEY]))
    assert [(x.id, x.status) for x in both.saved()] == [(s.id, "ok")]
    assert [x.status for x in mine.saved()] == ["other key"]


def _db(cache_folder: Path) -> sqlite3.Connection:
    """The cache database, to change behind the product's back. A kernel keeps its own last
    listing in memory, so such changes show in the next kernel: see _next_kernel."""
    return sqlite3.connect(cache_folder / cache_module.DATABASE, isolation_level=None)


def _next_kernel() -> None:
    """Forget what this process listed, as a new kernel starts without it."""
    catalog._memos.clear()


def test_hostile_cache_never_loads_the_wrong_session(
    shell, registry, workdir, cache_folder, settled
) -> None:
    shell.run_line_magic("session", "new alpha")
    shell.run_line_magic("session", "new bravo")
    shell.run_line_magic("session", "save --all")
    alpha = registry.get("alpha")
    shell.run_line_magic("session", "close alpha --no-save")
    shell.run_line_magic("session", "close bravo --no-save")
    str(shell.run_line_magic("session", "resume"))  # verified and cached
    with _db(cache_folder) as db:  # someone swaps the names in the cache
        db.execute("UPDATE files SET name='zulu' WHERE file_id=?", (alpha.id,))
    _next_kernel()
    listing = str(shell.run_line_magic("session", "resume"))
    assert "zulu" in listing  # a listing may show what the cache says...
    with pytest.raises(UsageError, match="no longer holds the session 'zulu'"):
        shell.run_line_magic("session", "resume zulu")  # ...but a load checks the file
    assert registry.sessions == ()
    with pytest.raises(UsageError, match="No saved session matches 'zulu'"):
        shell.run_line_magic("session", "resume zulu")  # the cache was forgotten
    shell.run_line_magic("session", "resume alpha")
    assert registry.active.id == alpha.id


def test_hostile_cache_never_deletes_the_wrong_file(
    shell, registry, workdir, cache_folder, settled
) -> None:
    shell.run_line_magic("session", "new alpha")
    shell.run_line_magic("session", "save")
    alpha = registry.get("alpha")
    shell.run_line_magic("session", "close alpha --no-save")
    str(shell.run_line_magic("session", "resume"))
    with _db(cache_folder) as db:
        db.execute("UPDATE files SET name='zulu' WHERE file_id=?", (alpha.id,))
    _next_kernel()
    with pytest.raises(UsageError, match="no longer holds"):
        shell.run_line_magic("session", "delete zulu")
    assert (workdir / ".sessions" / f"{alpha.id}.json").exists()


def test_cached_ok_for_a_tampered_file_still_refuses_to_load(store, cache_folder, settled) -> None:
    a = _saved(store, "alpha")
    path = store.path_for(a.id)
    store.saved()
    _changed(path, _flip_payload_byte(path.read_bytes()))
    info = os.stat(path)
    with _db(cache_folder) as db:  # a cache forged to match the tampered file's stat
        db.execute(
            "UPDATE files SET size=?, mtime_ns=?, ctime_ns=?, ino=? WHERE file_id=?",
            (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, a.id),
        )
    _next_kernel()
    assert [s.status for s in store.saved()] == ["ok"]  # what the forged cache says
    with pytest.raises(Tampered):
        store.load(a.id)


def test_a_corrupt_database_is_rebuilt(store, cache_folder, capsys) -> None:
    _saved(store, "alpha")
    store.saved()
    cache_module.close_all()
    (cache_folder / cache_module.DATABASE).write_bytes(b"not a database at all" * 100)
    for suffix in ("-wal", "-shm"):
        (cache_folder / (cache_module.DATABASE + suffix)).unlink(missing_ok=True)
    assert [s.name for s in store.saved()] == ["alpha"]
    assert cache_module.shared_cache().on
    assert capsys.readouterr().err == ""


def test_a_file_where_the_cache_folder_should_be(store, tmp_path, monkeypatch, capsys) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv(cache_module.CACHE_ENV, str(blocker))
    _saved(store, "alpha")
    assert [s.status for s in store.saved()] == ["ok"]
    assert [s.status for s in store.saved()] == ["ok"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cache" in err and "off for this kernel" in err


@pytest.mark.parametrize(
    "message",
    ["database or disk is full", "attempt to write a readonly database", "disk I/O error"],
)
def test_a_failing_database_turns_the_cache_off(store, monkeypatch, capsys, message) -> None:
    _saved(store, "alpha")
    store.saved()
    cache = cache_module.shared_cache()
    assert cache.on

    class Failing:
        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            raise sqlite3.OperationalError(message)

    monkeypatch.setattr(cache, "_db", Failing())
    _saved(store, "bravo")
    assert sorted(s.name for s in store.saved()) == ["alpha", "bravo"]
    assert sorted(s.name for s in store.saved()) == ["alpha", "bravo"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not cache.on


def test_a_read_only_cache_folder(store, cache_folder, monkeypatch, capsys) -> None:
    real_connect = sqlite3.connect

    def read_only(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        return real_connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(cache_module.sqlite3, "connect", read_only)
    _saved(store, "alpha")
    assert [s.status for s in store.saved()] == ["ok"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "off for this kernel" in err


def test_files_removed_from_the_folder_leave_the_cache(store, settled) -> None:
    a = _saved(store, "alpha")
    b = _saved(store, "bravo")
    store.saved()
    store.delete(a.id)
    assert [s.id for s in store.saved()] == [b.id]
    entries = cache_module.shared_cache().entries(store.folder, catalog.key_ring_label(store))
    assert set(entries) == {b.id}


class OtherKernel:
    """A second connection to the same database (as another kernel has), which runs ``act``
    the first time this kernel's connection starts a write transaction: exactly between a
    read and the write that depends on it, where two kernels can interleave."""

    def __init__(self, mine: cache_module.Cache, act) -> None:  # type: ignore[no-untyped-def]
        assert mine.path is not None
        self.other = cache_module.Cache(mine.path)
        self.ran = False

        def trace(statement: str) -> None:
            if statement.startswith("BEGIN IMMEDIATE") and not self.ran:
                self.ran = True
                act(self.other)

        with mine.using() as db:
            self.db = db
            db.set_trace_callback(trace)

    def close(self) -> None:
        self.db.set_trace_callback(None)
        self.other.close()


def test_two_kernels_recording_a_new_folder_at_once(store, capsys) -> None:
    """Both find no row for the folder, and both add it: the cache stays on in both."""
    _saved(store, "alpha")
    ring = catalog.key_ring_label(store)
    mine = cache_module.shared_cache()
    other = OtherKernel(mine, lambda cache: cache.entries(store.folder, ring))
    try:
        assert [s.status for s in store.saved()] == ["ok"]
    finally:
        other.close()
    assert other.ran and mine.on and other.other.on
    assert "off for this kernel" not in capsys.readouterr().err
    assert set(mine.entries(store.folder, ring)) == {s.id for s in store.saved()}


def test_two_kernels_indexing_the_same_file_at_once(store, settled, capsys) -> None:
    """The other kernel indexes the file while this one is about to: one set of rows, the
    cache on in both, and a search finds each message once."""
    from jido_magics.core.search import parse_query
    from jido_magics.persistence import saved_search

    session = _saved(store, "alpha")
    listing = catalog.Listing(store, for_search=True)
    item = listing.saved[0]
    stamp = cache_module.stamp_of(listing.fingerprints[session.id])
    mine = cache_module.shared_cache()

    def index_there(cache: cache_module.Cache) -> None:
        store.cache = cache  # type: ignore[attr-defined]
        try:
            assert saved_search.index_file(store, item, stamp)
        finally:
            del store.cache  # type: ignore[attr-defined]

    other = OtherKernel(mine, index_there)
    try:
        assert saved_search.index_file(store, item, stamp)
    finally:
        other.close()
    assert other.ran and mine.on and other.other.on
    assert "off for this kernel" not in capsys.readouterr().err
    hits = saved_search.search_saved(store, parse_query("question"), 10)
    assert sorted(h.number for h in hits) == [1, 2, 3]


def _count(sql: str) -> int:
    with cache_module.shared_cache().using() as db:
        return int(db.execute(sql).fetchone()[0])


def test_a_moved_folder_leaves_the_cache(store, tmp_path, settled) -> None:
    """The folder a notebook's sessions moved away from is forgotten, its text deleted, by
    the indexing that runs in the background (the cache would otherwise only grow)."""
    from jido_magics.core.search import parse_query
    from jido_magics.persistence.saved_search import index_folder, search_saved

    for name in ("alpha", "bravo"):
        _saved(store, name)
    assert len(search_saved(store, parse_query("question"), 20)) == 6
    moved = SessionStore(tmp_path / "moved.sessions", keys=store.keys)
    store.folder.rename(moved.folder)
    assert index_folder(moved)
    assert _count("SELECT count(*) FROM folders") == 1
    assert _count("SELECT count(*) FROM files") == 2
    assert _count("SELECT count(*) FROM orphans") == 0
    assert _count("SELECT count(*) FROM text") == 6  # the moved files' text, once
    assert len(search_saved(moved, parse_query("question"), 20)) == 6


def test_a_search_deletes_few_removed_files_text_and_the_indexer_the_rest(store, settled) -> None:
    from jido_magics.core.search import parse_query
    from jido_magics.persistence.saved_search import index_folder, search_saved

    sessions = [_saved(store, f"s{i}") for i in range(7)]
    assert len(search_saved(store, parse_query("question"), 50)) == 21
    for session in sessions[:6]:
        store.delete(session.id)
    assert len(search_saved(store, parse_query("question"), 50)) == 3
    assert _count("SELECT count(*) FROM orphans") == 2  # four deleted by the search
    assert index_folder(store)
    assert _count("SELECT count(*) FROM orphans") == 0
    assert _count("SELECT count(*) FROM text") == 3
