"""Issue 11, defect 5: what a kernel killed mid-save leaves (``.<id>.json.<hex>.tmp``, a full
signed copy, and ``.old``) is removed at the next save in that folder once older than ten
minutes and not locked, and by ``delete`` of that id; a real kernel is killed with SIGKILL."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest
from kernels import Kernel

from jido_magics.core.session import Session
from jido_magics.persistence import SessionStore
from jido_magics.persistence.leftovers import MAX_AGE_SECONDS

STALL_REPLACE = """
import os, time
def _stalled(*args, **kwargs):  # the save is killed between writing its temp file and replacing
    open({stalled!r}, "a").close()  # tell the test: temp file written and synced, backup linked
    time.sleep(3600)
os.replace = _stalled
"""


def leftovers(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith((".tmp", ".old")))


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def killed_mid_save(workdir: Path) -> tuple[str, Path]:
    """A real kernel saves a session once, then is SIGKILLed inside its second save."""
    kernel = Kernel(workdir)
    try:
        kernel.run("%load_ext jido_magics")
        kernel.run("%session new crashy")
        kernel.run("%chat first words")  # autosaved: generation 1
        session_id = kernel.value("jido_magics.get_registry().active.id")
        kernel.run("jido_magics.get_registry().active.add_message('user', 'second words')")
        stalled = workdir / "stalled"  # beside the sessions folder
        kernel.run(STALL_REPLACE.format(stalled=str(stalled)))
        kernel.client.execute("%session save")  # never returns: os.replace stalls
        folder = workdir / ".sessions"
        deadline = time.monotonic() + 60
        while not stalled.exists():
            assert time.monotonic() < deadline, os.listdir(folder)
            time.sleep(0.02)
    finally:
        kernel.kill()
    return session_id, folder


def test_a_killed_save_leaves_a_signed_temp_file_that_the_next_save_removes(workdir) -> None:
    session_id, folder = killed_mid_save(workdir)
    names = leftovers(folder)
    temp = folder / next(n for n in names if n.endswith(".tmp"))
    assert temp.name.startswith(f".{session_id}.json.")
    assert b"second words" in temp.read_bytes()  # the full signed copy the issue describes
    store = SessionStore(folder)  # the next kernel
    assert [m.content for m in store.load(session_id).messages][-2:] != ["second words"]
    other = Session("other")
    store.save(other)
    assert leftovers(folder) == names  # young: a save elsewhere may still be writing it
    for name in names:
        age(folder / name, MAX_AGE_SECONDS + 60)
    other.add_message("user", "x")
    store.save(other)  # the next save in that folder
    assert leftovers(folder) == []
    assert sorted(os.listdir(folder)) == sorted([f"{session_id}.json", f"{other.id}.json"])


def test_delete_removes_the_leftovers_of_a_killed_save_of_that_id(workdir) -> None:
    session_id, folder = killed_mid_save(workdir)
    assert leftovers(folder)
    SessionStore(folder).delete(session_id)
    assert leftovers(folder) == [] and os.listdir(folder) == [".trash"]


def test_a_locked_temp_file_is_never_removed(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    s = Session("writer")
    store.save(s)
    busy = tmp_path / ".someone.json.0badc0de.tmp"
    busy.write_text("being written")
    age(busy, MAX_AGE_SECONDS + 60)
    fd = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a save in another process holds it
        s.add_message("user", "x")
        store.save(s)
        assert busy.exists()
    finally:
        os.close(fd)
    s.add_message("user", "y")
    store.save(s)
    assert not busy.exists()


@pytest.mark.parametrize("name", [".notes.json.tmp", ".x.json.0badc0de.tmp.keep", "x.json.tmp"])
def test_files_that_are_not_leftovers_stay(tmp_path: Path, name: str) -> None:
    store = SessionStore(tmp_path)
    (tmp_path / name).write_text("someone's")
    age(tmp_path / name, MAX_AGE_SECONDS + 60)
    store.save(Session("s"))
    assert (tmp_path / name).exists()
