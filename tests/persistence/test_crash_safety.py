"""SIGKILL during saves of a 1000-message session, in forked child processes: at random moments
and at every step of the atomic write. The file always verifies as the old or a new generation
with the content of that generation; what a killed save leaves (at most one temp file and one
backup link) is removed by the next save."""

from __future__ import annotations

import os
import random
import signal
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jido_magics.core import Caps, Session
from jido_magics.persistence import KeyRing, SessionStore

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

RANDOM_TRIALS = 400


def _is_dir(fd: int) -> bool:
    return stat.S_ISDIR(os.fstat(fd).st_mode)


#: Where a save dies: (os function, which of its calls, what the file holds afterwards).
#: The kill comes before the call runs.
STEPS: dict[str, tuple[str, Callable[..., bool], str]] = {
    "create temp": ("open", lambda path, *a, **k: str(path).endswith(".tmp"), "old"),
    "half written": ("writev", lambda *a: True, "old"),
    "temp fsync": ("fsync", lambda fd: not _is_dir(fd), "old"),
    "backup link": ("link", lambda *a, **k: True, "old"),
    "replace": ("replace", lambda *a, **k: True, "old"),
    "folder fsync": ("fsync", _is_dir, "new"),
    "backup removal": ("unlink", lambda name, *a, **k: str(name).endswith(".old"), "new"),
}


def _big_session(session_id: str) -> Session:
    s = Session("big", id=session_id, caps=Caps(1000, 100, 500))
    for i in range(1000):
        s.add_message("user" if i % 2 == 0 else "assistant", f"message {i} " + "x" * 200)
    return s


def _expected_last(generation: int) -> str:
    return f"written as generation {generation}"


def _save_forever(store: SessionStore, session_id: str, ready: int) -> None:
    """The child: load, then save new generations until killed."""
    s = store.load(session_id)
    os.write(ready, b"r")
    while True:
        s.add_message("user", _expected_last(s.generation + 1))
        store.save(s)


def _kill_at(function: str, when: Callable[..., bool]) -> None:
    """Make the child SIGKILL itself at the first call of ``os.<function>`` that ``when``
    selects (a write gets half of its data out first)."""
    real = getattr(os, function)

    def dying(*args, **kwargs):
        if when(*args, **kwargs):
            if function == "writev":
                data = b"".join(args[1])
                os.write(args[0], data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(os, function, dying)


def _run_child(body: Callable[[], None]) -> int:
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            body()
            code = 0
        except BaseException as exc:
            sys.stderr.write(f"child failed: {exc!r}\n")
        finally:
            os._exit(code)
    return pid


def _check(folder: Path, session_id: str, keys: KeyRing, old_generation: int) -> int:
    """The file verifies as the old or a newer complete generation; returns that generation."""
    names = os.listdir(folder)
    leftovers = [n for n in names if n != f"{session_id}.json"]
    temps = [n for n in leftovers if n.endswith(".tmp")]
    backups = [n for n in leftovers if n.endswith(".old")]
    assert len(temps) <= 1 and len(backups) <= 1 and len(leftovers) == len(temps) + len(backups)
    assert all(n.startswith(f".{session_id}.json.") for n in leftovers), leftovers
    fresh = SessionStore(folder, keys=keys)  # the next kernel
    loaded = fresh.load(session_id)
    on_disk = loaded.generation
    assert on_disk >= old_generation
    assert len(loaded.messages) == 1000 and not loaded.dirty
    if loaded.generation > old_generation:
        assert loaded.messages[-1].content == _expected_last(loaded.generation)
    # The next save removes what the killed one left, and writes a good file.
    loaded.add_message("user", _expected_last(loaded.generation + 1))
    fresh.save(loaded)
    assert os.listdir(folder) == [f"{session_id}.json"]
    return on_disk


@pytest.fixture
def big(store: SessionStore) -> tuple[SessionStore, str]:
    session = _big_session("bigone")
    session.add_message("user", _expected_last(1))
    store.save(session)
    return store, session.id


@pytest.mark.slow  # 400 forked kills: the longest persistence test
def test_sigkill_at_random_moments(big: tuple[SessionStore, str]) -> None:
    store, session_id = big
    keys = store.keys
    # Calibrate the kill window to a few saves on this machine (not an assertion on speed).
    s = store.load(session_id)
    started = time.perf_counter()
    for _ in range(3):
        s.add_message("user", _expected_last(s.generation + 1))
        store.save(s)
    per_save = (time.perf_counter() - started) / 3
    generation = s.generation
    rng = random.Random(61)
    outcomes = {"old": 0, "new": 0, "mid-write": 0}
    for _ in range(RANDOM_TRIALS):
        read_end, write_end = os.pipe()
        pid = _run_child(
            lambda w=write_end: _save_forever(SessionStore(store.folder, keys=keys), session_id, w)
        )
        os.close(write_end)
        assert os.read(read_end, 1) == b"r"
        os.close(read_end)
        time.sleep(rng.uniform(0, 3 * per_save))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), "the child stopped by itself"
        if len(os.listdir(store.folder)) > 1:
            outcomes["mid-write"] += 1  # a temp file or backup link left: killed inside a write
        on_disk = _check(store.folder, session_id, keys, generation)
        outcomes["new" if on_disk > generation else "old"] += 1
        generation = on_disk + 1  # _check saved once more
    print(f"kill trials intact: {RANDOM_TRIALS} {outcomes}")
    # Kills landed before the child's first save finished, after one, and inside a write.
    assert all(outcomes.values()), outcomes


@pytest.mark.parametrize(
    ("step", "first_save"),
    [(step, False) for step in STEPS]
    + [(step, True) for step in STEPS if STEPS[step][0] not in ("link", "unlink")],
    ids=[f"replacing-{step}" for step in STEPS]
    + [f"first-{step}" for step in STEPS if STEPS[step][0] not in ("link", "unlink")],
)
def test_sigkill_at_each_step_of_a_save(
    big: tuple[SessionStore, str], step: str, first_save: bool
) -> None:
    store, session_id = big
    keys = store.keys
    function, when, expect = STEPS[step]
    path = store.path_for(session_id)
    if first_save:  # no old file: no backup link either
        os.unlink(path)

    def child() -> None:
        fresh = SessionStore(store.folder, keys=keys)
        if first_save:
            s = _big_session(session_id)
            s.add_message("user", _expected_last(1))
        else:
            s = fresh.load(session_id)
            s.add_message("user", _expected_last(s.generation + 1))
        _kill_at(function, when)
        fresh.save(s)

    for _ in range(4):
        old = 0 if first_save else SessionStore(store.folder, keys=keys).load(session_id).generation
        _, status = os.waitpid(_run_child(child), 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        if first_save and expect == "old":
            names = os.listdir(store.folder)
            assert len(names) <= 1 and all(n.endswith(".tmp") for n in names), names
            SessionStore(store.folder, keys=keys).save(_big_session(session_id))
            assert os.listdir(store.folder) == [path.name]
        else:
            on_disk = _check(store.folder, session_id, keys, old)
            assert on_disk == (old if expect == "old" else old + 1)
        if first_save:
            os.unlink(path)
