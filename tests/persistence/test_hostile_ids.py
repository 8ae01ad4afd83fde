"""Hostile session ids and names never reach the file system, and planted symlinks (the sessions
folder, a session file, a temp-file or backup name) never lead to a write outside the folder."""

from __future__ import annotations

import builtins
import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from reliability import KEY, one_line, small_session, snapshot

from jido_magics.core import InvalidSessionId, Session
from jido_magics.core.ids import is_valid_session_id
from jido_magics.persistence import KeyRing, SessionStore, StoreIOError
from jido_magics.persistence import atomic as atomic_module
from jido_magics.persistence.cache import cache_dir

HOSTILE_IDS = [
    "",
    " ",
    ".",
    "..",
    "../x",
    "../../etc/passwd",
    "a/b",
    "/etc/passwd",
    "a\\b",
    "..\\..\\x",
    "a\x00b",
    "\x00",
    ".hidden",
    "-a",
    "_a",
    "x" * 65,
    "a\n",
    "a\r",
    "a b",
    "a:b",
    "a*b",
    "a?",
    "~",
    "$HOME",
    "a.json",
    "ａｂｃ",  # fullwidth
    "аbc",  # Cyrillic a
    "abc\u200b",  # zero-width space
    "abc\u202e",  # right-to-left override
    "ab\u0338",  # combining overlay
    "\u0131d",  # dotless i
    "é",
    "ß",
    "٣",  # Arabic-Indic digit (str.isdigit, but not ASCII)
    "con",
    "CON",
    "Nul",
    "aux",
    "prn",
    "com1",
    "COM9",
    "lpt1",
    "conin$",
]
NOT_TEXT = [None, 1, b"abc", Path("abc"), ["abc"]]
FS_FUNCTIONS = [
    "open", "stat", "lstat", "scandir", "listdir", "mkdir", "makedirs", "unlink", "remove",
    "rename", "replace", "link", "symlink", "rmdir", "chmod", "truncate", "readlink", "access",
]  # fmt: skip


@contextlib.contextmanager
def no_file_system(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every file-system function records its call and fails the test."""
    calls: list[str] = []

    def refuse(name: str):
        def called(*args, **kwargs):
            calls.append(f"{name}{args!r}")
            raise AssertionError(f"file-system call {name}{args!r}")

        return called

    with monkeypatch.context() as patch:
        for name in FS_FUNCTIONS:
            if hasattr(os, name):
                patch.setattr(os, name, refuse(f"os.{name}"))
        patch.setattr(builtins, "open", refuse("open"))
        yield calls


@pytest.fixture
def store(store: SessionStore) -> SessionStore:
    """The store of the conftest, holding one good session."""
    store.save(small_session("good"))
    return store


@pytest.mark.parametrize("bad", HOSTILE_IDS + NOT_TEXT, ids=repr)
def test_hostile_ids_are_refused_before_any_file_system_call(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, bad
) -> None:
    assert not is_valid_session_id(bad)
    victim = Session("victim")
    with no_file_system(monkeypatch) as calls:
        actions = [lambda: store.path_for(bad), lambda: store.load(bad), lambda: store.delete(bad)]
        if bad is not None:  # None asks for a new id
            actions.append(lambda: Session("x", id=bad))
        for action in actions:
            with pytest.raises(InvalidSessionId) as info:
                action()
            one_line(info.value)
        victim.id = bad  # ids are checked again when saving
        with pytest.raises(InvalidSessionId):
            store.save(victim)
    assert calls == []


def test_look_alike_ids_are_ascii_only() -> None:
    for good in ("a", "A1", "0", "abc-DEF_123", "x" * 64, "console", "con1", "com", "lpt10"):
        assert is_valid_session_id(good), good


def _recorded_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every path (not file descriptor) given to the file-system functions."""
    paths: list[str] = []
    for name in FS_FUNCTIONS:
        real = getattr(os, name, None)
        if real is None:
            continue

        def recording(*args, _real=real, **kwargs):
            for arg in args[:2]:
                if isinstance(arg, (str, bytes, os.PathLike)):
                    paths.append(os.fsdecode(arg))
            return _real(*args, **kwargs)

        monkeypatch.setattr(os, name, recording)
    return paths


@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=repr)
def test_hostile_targets_in_the_magics_touch_only_session_files(
    shell, registry, workdir, monkeypatch, bad
) -> None:
    """``%session resume/delete TARGET`` may list the folder to match names, but no path made
    from the hostile text is ever used; the answer is one line and nothing changes."""
    # A fixed id: "a\n" stripped is "a", a prefix of one random id in 16.
    registry.add(Session("keep", id="keep0001"))
    registry.active.add_message("user", "x")
    shell.run_line_magic("session", "save")
    folder = workdir / ".sessions"
    cache = cache_dir()  # the cache's own folder: no path in it is made from what was typed
    before = {p.name: snapshot(p) for p in folder.iterdir()}
    quoted = bad.replace("\\", "\\\\").replace('"', '\\"')
    for command in ("resume", "delete", "trust"):
        paths = _recorded_paths(monkeypatch)
        with pytest.raises(UsageError) as info:
            shell.run_line_magic("session", f'{command} "{quoted}"')
        monkeypatch.undo()
        one_line(info.value)
        if command == "trust":  # FILE is a path the user gives: it is only read
            continue
        allowed = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.json")
        for path in paths:
            p = Path(path)
            if p.suffix == ".mo" or p == cache or cache in p.parents:  # translations; cache
                continue
            assert p == folder or (p.parent == folder and allowed.fullmatch(p.name)), path
    assert {p.name: snapshot(p) for p in folder.iterdir()} == before
    assert [s.name for s in registry.sessions] == ["keep"]


HOSTILE_NAMES = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".hidden",
    "a\\b",
    "con",
    "x" * 50,
    "ａｂｃ",
    "\u202eevil",
    "a\x00b",
    "x" * 51,
    "",
    "<script>",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
def test_hostile_names_never_become_paths(shell, registry, workdir, name) -> None:
    """A name is either refused (one line) or kept as text: the file is always ``<id>.json``."""
    outside = sorted(os.listdir(workdir))
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    try:
        shell.run_line_magic("session", f'new "{quoted}"')
    except UsageError as exc:
        one_line(exc)
        assert registry.sessions == ()
        assert sorted(os.listdir(workdir)) == outside
        return
    s = registry.active
    assert s.name == name.strip()
    shell.run_line_magic("session", "save")
    assert os.listdir(workdir / ".sessions") == [f"{s.id}.json"]
    assert sorted(os.listdir(workdir)) == sorted({*outside, ".sessions"})
    shell.run_line_magic("session", "close")
    shell.run_line_magic("session", f"resume {s.id}")
    assert registry.active.name == s.name


# -- planted symlinks ----------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious.txt").write_bytes(b"precious")
    return folder


def _tree(folder: Path) -> dict[str, tuple]:
    return {p.name: snapshot(p) for p in folder.iterdir()}


def test_a_symlinked_sessions_folder_is_never_written_through(tmp_path, outside, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keys = KeyRing([KEY])
    real = SessionStore(outside, keys=keys)
    victim = small_session("victim")
    real.save(victim)
    before = _tree(outside)
    link = tmp_path / "nb.sessions"
    link.symlink_to(outside, target_is_directory=True)
    store = SessionStore(link, keys=keys)
    s = small_session("victim")
    s.add_message("user", "through the link")
    with pytest.raises(StoreIOError) as info:
        store.save(s)
    assert "symbolic link" in one_line(info.value)
    with pytest.raises(StoreIOError):
        store.save(small_session("fresh"))
    with pytest.raises(StoreIOError):
        store.delete("victim")
    with pytest.raises(StoreIOError):
        store.trust(outside / "victim.json")
    assert _tree(outside) == before and link.is_symlink()


def test_a_symlinked_session_file_is_set_aside_not_followed(store: SessionStore, outside) -> None:
    before = _tree(outside)
    target = store.path_for("planted")
    target.symlink_to(outside / "precious.txt")
    s = small_session("planted")
    store.save(s)
    assert not target.is_symlink() and store.load("planted").name == s.name
    aside = [p for p in store.folder.iterdir() if p.name.startswith("planted.rejected-")]
    assert len(aside) == 1 and aside[0].is_symlink()
    store.delete("planted")
    assert _tree(outside) == before
    # delete removes a symlink itself, never what it points to
    target.symlink_to(outside / "precious.txt")
    store.delete("planted")
    assert _tree(outside) == before and not os.path.lexists(target)


@pytest.mark.parametrize("suffix", [".tmp", ".old"])
@pytest.mark.parametrize("swept", [False, True], ids=["new-kernel", "same-kernel"])
def test_planted_temp_or_backup_names_are_never_followed(
    store: SessionStore, outside: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, swept: bool
) -> None:
    s = small_session("good")
    s.generation = store.load("good").generation
    writer = store if swept else SessionStore(store.folder, keys=store.keys)
    if swept:
        writer.save(s)  # this store has swept leftovers of "good" already
    old = store.path_for("good").read_bytes()
    before = _tree(outside)
    monkeypatch.setattr(atomic_module.secrets, "token_hex", lambda n: "deadbeef")
    planted = store.folder / f".good.json.deadbeef{suffix}"
    planted.symlink_to(outside / "precious.txt")
    s.add_message("user", "new")
    try:
        writer.save(s)
    except StoreIOError as exc:  # the name is taken: refused, nothing followed
        one_line(exc)
        assert store.path_for("good").read_bytes() == old
    else:
        assert store.load("good").messages[-1].content == "new"
    assert _tree(outside) == before
    monkeypatch.undo()
    if s.dirty:
        writer.save(s)
    assert _tree(outside) == before
    assert sorted(os.listdir(store.folder)) == ["good.json"]
