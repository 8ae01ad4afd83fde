"""Faults injected into saves beyond the single failing step of test_persistence.py:
double faults (the clean-up fails too), short writes, the backup link, setting a rejected file
aside, creating the folder, and the same faults through %session save and autosave in a real
shell. Each time: old file byte-identical, no temp file left once a save succeeds, session in
memory unchanged (dirty, same generation), and a retry succeeds."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from reliability import KEY, one_line, small_session, snapshot
from test_persistence import state_of

from jido_magics.core import Session
from jido_magics.persistence import KeyRing, PersistenceError, SessionStore, StoreIOError

CODES = [errno.ENOSPC, errno.EIO, errno.EACCES]


@contextlib.contextmanager
def failing(
    function: str, code: int, when: Callable[..., bool] = lambda *a, **k: True, times: int = 1
) -> Iterator[list]:
    """``os.<function>`` raises ``code`` for the first ``times`` calls ``when`` selects."""
    real = getattr(os, function)
    hits: list = []

    def faulty(*args, **kwargs):
        if len(hits) < times and when(*args, **kwargs):
            hits.append(args)
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    setattr(os, function, faulty)
    try:
        yield hits
    finally:
        setattr(os, function, real)


def _memory(s: Session) -> tuple:
    return (s.generation, s.revision, s.saved_revision, s.dirty, state_of(s))


def _saved_and_changed(store: SessionStore) -> tuple[Session, Path, tuple]:
    s = small_session()
    path = store.save(s).path
    s.add_message("user", "unsaved change")
    return s, path, snapshot(path)


def _assert_unchanged(store: SessionStore, s: Session, path: Path, before: tuple, memory) -> None:
    assert snapshot(path) == before
    assert _memory(s) == memory and s.dirty


def _retry(store: SessionStore, s: Session, path: Path) -> None:
    generation = s.generation
    store.save(s)
    assert s.generation == generation + 1 and not s.dirty
    assert os.listdir(store.folder) == [path.name]
    assert store.load(s.id).messages[-1].content == s.messages[-1].content


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize(
    "step",
    ["write", "file fsync", "replace", "folder fsync"],
)
def test_double_fault_the_clean_up_fails_too(store: SessionStore, step: str, code: int) -> None:
    """The step fails and removing the temp file fails as well: the next save (same kernel)
    still removes it."""
    s, path, before = _saved_and_changed(store)
    memory = _memory(s)
    is_dir = lambda fd: os.path.isdir(f"/proc/self/fd/{fd}")  # noqa: E731
    function, when = {
        "write": ("writev", lambda *a: True),
        "file fsync": ("fsync", lambda fd: not is_dir(fd)),
        "replace": ("replace", lambda *a, **k: True),
        "folder fsync": ("fsync", is_dir),
    }[step]
    with (
        failing(function, code, when) as hits,
        failing(
            "unlink", errno.EIO, lambda name, *a, **k: str(name).endswith(".tmp")
        ) as unlink_hits,
    ):
        with pytest.raises(StoreIOError) as info:
            store.save(s)
    assert hits and one_line(info.value)
    _assert_unchanged(store, s, path, before, memory)
    assert unlink_hits  # the clean-up was attempted and failed
    # At most the temp file is left (after a failed folder fsync it was already renamed).
    extra = [n for n in os.listdir(store.folder) if n != path.name]
    assert len(extra) <= 1 and all(n.endswith(".tmp") for n in extra), extra
    _retry(store, s, path)


@pytest.mark.parametrize("code", CODES)
def test_short_write_then_no_space(store: SessionStore, monkeypatch, code: int) -> None:
    s, path, before = _saved_and_changed(store)
    memory = _memory(s)
    real_writev = os.writev
    monkeypatch.setattr(os, "writev", lambda fd, chunks: real_writev(fd, [chunks[0][:10]]))
    with failing("write", code) as hits, pytest.raises(StoreIOError) as info:
        store.save(s)
    assert hits and str(path.name) in one_line(info.value)
    _assert_unchanged(store, s, path, before, memory)
    assert os.listdir(store.folder) == [path.name]
    monkeypatch.undo()
    _retry(store, s, path)


def test_short_writes_that_finish_are_fine(store: SessionStore, monkeypatch) -> None:
    s, _, _ = _saved_and_changed(store)
    real_writev, real_write = os.writev, os.write
    monkeypatch.setattr(os, "writev", lambda fd, chunks: real_writev(fd, [chunks[0][:1]]))
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    store.save(s)
    monkeypatch.undo()
    assert store.load(s.id).messages[-1].content == "unsaved change"


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC, errno.EACCES])
def test_backup_link_fails(store: SessionStore, code: int) -> None:
    s, path, before = _saved_and_changed(store)
    memory = _memory(s)
    with failing("link", code) as hits, pytest.raises(StoreIOError):
        store.save(s)
    assert hits
    _assert_unchanged(store, s, path, before, memory)
    assert os.listdir(store.folder) == [path.name]
    _retry(store, s, path)


@pytest.mark.parametrize("code", CODES)
def test_setting_a_rejected_file_aside_fails(store: SessionStore, code: int) -> None:
    s, path, _ = _saved_and_changed(store)
    tampered = path.read_bytes().replace(b"answer 2", b"answer 3")
    path.write_bytes(tampered)
    before = snapshot(path)
    memory = _memory(s)
    with failing("rename", code) as hits, pytest.raises(StoreIOError) as info:
        store.save(s)
    assert hits and "set aside" in one_line(info.value)
    _assert_unchanged(store, s, path, before, memory)
    assert os.listdir(store.folder) == [path.name]
    store.save(s)
    aside = [p for p in store.folder.iterdir() if ".rejected-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == tampered


@pytest.mark.parametrize("code", CODES)
def test_creating_the_folder_fails(store: SessionStore, code: int) -> None:
    s = small_session()
    memory = _memory(s)
    with failing("mkdir", code) as hits, pytest.raises(StoreIOError):
        store.save(s)
    assert hits and not store.folder.exists() and _memory(s) == memory
    store.save(s)
    assert s.generation == 1 and os.listdir(store.folder) == [f"{s.id}.json"]


def test_a_failing_leftover_sweep_does_not_stop_a_save(store: SessionStore) -> None:
    s, path, _ = _saved_and_changed(store)
    fresh = SessionStore(store.folder, keys=store.keys)
    with failing("scandir", errno.EIO):
        fresh.save(fresh.load(s.id))
    assert os.listdir(store.folder) == [path.name]


# -- through the magics in a real shell ----------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_save_magic_fault_is_one_line_and_retry_works(shell, registry, workdir, code) -> None:
    shell.run_line_magic("session", "new faulty")
    s = registry.active
    s.add_message("user", "first")
    shell.run_line_magic("session", "save")
    path = workdir / ".sessions" / f"{s.id}.json"
    before = snapshot(path)
    s.add_message("user", "second")
    memory = _memory(s)
    with failing("fsync", code) as hits, pytest.raises(UsageError) as info:
        shell.run_line_magic("session", "save")
    assert hits and "Cannot save .sessions/" in one_line(info.value)
    assert type(info.value) is UsageError
    _assert_unchanged(None, s, path, before, memory)
    assert os.listdir(path.parent) == [path.name]
    shell.run_line_magic("session", "save")
    assert s.generation == 2 and not s.dirty


def test_autosave_fault_warns_and_keeps_the_session_dirty(shell, registry, workdir, capsys):
    shell.run_line_magic("session", "new auto")
    s = registry.active
    s.add_message("user", "q1")
    s.add_message("assistant", "a1")
    s.mark_exchange_complete()
    path = workdir / ".sessions" / f"{s.id}.json"
    before = snapshot(path)
    s.add_message("user", "q2")
    s.add_message("assistant", "a2")
    with failing("writev", errno.ENOSPC, times=10) as hits:
        s.mark_exchange_complete()  # the exchange succeeded: autosave only warns
    assert hits and snapshot(path) == before and s.dirty and s.generation == 1
    err = capsys.readouterr().err
    assert "Autosave of session 'auto' failed" in err and "No space left" in err
    assert os.listdir(path.parent) == [path.name]
    with failing("writev", errno.ENOSPC, times=10), pytest.raises(UsageError) as info:
        shell.run_line_magic("session", "close")  # a failed save vetoes the close
    assert "stays open" in one_line(info.value) and registry.active is s
    shell.run_line_magic("session", "close")  # saves, then closes
    assert registry.sessions == ()
    assert [m.content for m in SessionStore(path.parent).load(s.id).messages][-1] == "a2"


def test_a_save_never_writes_a_file_over_the_size_cap(tmp_path: Path, monkeypatch) -> None:
    """What save writes, load reads: a session grown past the cap is refused in one line and
    the old file stays (it used to be written, then refused by every load)."""
    monkeypatch.chdir(tmp_path)
    store = SessionStore(tmp_path / "cap.sessions", keys=KeyRing([KEY]), max_bytes=4000)
    s = small_session()
    path = store.save(s).path
    before = snapshot(path)
    s.add_message("assistant", "x" * 5000)
    memory = _memory(s)
    with pytest.raises(PersistenceError) as info:
        store.save(s)
    text = one_line(info.value)
    assert "4000-byte limit" in text and "cannot be saved" in text
    _assert_unchanged(store, s, path, before, memory)
    assert os.listdir(store.folder) == [path.name]
    assert store.load(s.id).generation == 1


def test_a_refused_save_does_not_set_a_rejected_file_aside(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = SessionStore(tmp_path / "cap.sessions", keys=KeyRing([KEY]), max_bytes=4000)
    s = small_session()
    path = store.save(s).path
    path.write_bytes(path.read_bytes().replace(b"answer 2", b"answer 3"))  # tampered
    before = snapshot(path)
    s.add_message("assistant", "x" * 5000)
    with pytest.raises(PersistenceError):
        store.save(s)
    assert snapshot(path) == before and os.listdir(store.folder) == [path.name]
    s.add_tool_call("t", {"n": 2**64})  # cannot be encoded either
    with pytest.raises(PersistenceError):
        SessionStore(store.folder, keys=store.keys).save(s)
    assert snapshot(path) == before and os.listdir(store.folder) == [path.name]


@pytest.mark.parametrize("code", CODES)
def test_an_unreadable_folder_is_one_line_in_every_magic(shell, registry, workdir, code) -> None:
    shell.run_line_magic("session", "new listed")
    registry.active.add_message("user", "x")
    shell.run_line_magic("session", "save")
    session_id = registry.active.id
    shell.run_line_magic("session", "close")
    before = {p.name: snapshot(p) for p in (workdir / ".sessions").iterdir()}
    for line in ("resume", "resume listed", f"resume {session_id}", "delete listed"):
        with (
            failing("scandir", code, times=100),
            failing("stat", code, lambda p, *a, **k: ".sessions" in str(p), times=100),
            failing("lstat", code, lambda p, *a, **k: ".sessions" in str(p), times=100),
            failing("open", code, lambda p, *a, **k: ".sessions" in str(p), times=100),
            pytest.raises(UsageError) as info,
        ):
            shell.run_line_magic("session", line)
        assert type(info.value) is UsageError and one_line(info.value), line
    assert registry.sessions == ()
    assert {p.name: snapshot(p) for p in (workdir / ".sessions").iterdir()} == before
    shell.run_line_magic("session", "resume listed")
    assert registry.active.id == session_id
