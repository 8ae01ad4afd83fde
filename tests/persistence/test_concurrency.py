"""Concurrent saves: 8 threads x 50 saves of one session write strictly increasing generations
(readers never see a partial file), and two processes saving one session never overwrite a
newer generation without --force (Conflict)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import orjson
import pytest

from jido_magics.core import Caps, Session
from jido_magics.persistence import Conflict, SessionStore
from jido_magics.persistence import session_files as files_module

THREADS, SAVES = 8, 50


def _record_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(session id, generation) of every file the store writes, in the order written."""
    written: list[tuple[str, int]] = []
    real = files_module.write_atomic

    def recording(folder, name, parts, **kwargs):
        plain = orjson.loads(parts[1])
        real(folder, name, parts, **kwargs)
        written.append((plain["session_id"], plain["generation"]))

    monkeypatch.setattr(files_module, "write_atomic", recording)
    return written


def _run_threads(target, count: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            barrier.wait()
            target(n)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def test_eight_threads_fifty_saves_each(store: SessionStore, monkeypatch) -> None:
    s = Session("busy", caps=Caps(1000, 100, 500))
    written = _record_writes(monkeypatch)
    reads: list[int] = []
    reader_errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:  # another kernel reading all along: always a whole file
        last = 0
        try:
            while not stop.is_set():
                try:
                    loaded = SessionStore(store.folder, keys=store.keys).load(s.id)
                except files_module.NoSavedSession:
                    continue
                assert loaded.generation >= last
                assert len(loaded.messages) >= loaded.generation  # a message before each save
                last = loaded.generation
                reads.append(last)
        except BaseException as exc:  # reported below
            reader_errors.append(exc)

    reading = threading.Thread(target=reader)
    reading.start()

    def work(n: int) -> None:
        for i in range(SAVES):
            s.add_message("user", f"{n}-{i}")
            store.save(s)

    errors = _run_threads(work, THREADS)
    stop.set()
    reading.join(60)
    assert errors == [] and reader_errors == []
    total = THREADS * SAVES
    assert [g for _, g in written] == list(range(1, total + 1))  # strictly increasing, no gap
    assert s.generation == total and not s.dirty
    loaded = SessionStore(store.folder, keys=store.keys).load(s.id)
    assert loaded.generation == total and len(loaded.messages) == total
    assert sorted(m.content for m in loaded.messages) == sorted(
        f"{n}-{i}" for n in range(THREADS) for i in range(SAVES)
    )
    assert reads and os.listdir(store.folder) == [f"{s.id}.json"]


def test_threads_saving_different_sessions(store: SessionStore, monkeypatch) -> None:
    sessions = [Session(f"s{n}") for n in range(4)]
    written = _record_writes(monkeypatch)

    def work(n: int) -> None:
        s = sessions[n % 4]
        for i in range(25):
            s.add_message("user", f"{n}-{i}")
            store.save(s)

    assert _run_threads(work, THREADS) == []
    for s in sessions:
        mine = [g for sid, g in written if sid == s.id]
        assert mine == list(range(1, 51))
        assert store.load(s.id).generation == 50
    assert sorted(os.listdir(store.folder)) == sorted(f"{s.id}.json" for s in sessions)


_RACER = """
import json, sys
from pathlib import Path
from jido_magics.persistence import Conflict, KeyRing, SessionStore
folder, session_id, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
store = SessionStore(folder, keys=KeyRing([bytes(range(32))]))
s = store.load(session_id)
print("ready", flush=True)
sys.stdin.readline()  # both go at once
log = []
while len([e for e in log if e[0] == "saved"]) < count:
    s.add_message("user", f"{sys.argv[4]} {len(log)}")
    base = s.generation
    try:
        store.save(s)
    except Conflict:
        log.append(("conflict", base, None))
        s = store.load(session_id)  # take the newer copy, as the message says
        continue
    log.append(("saved", base, s.generation))
print(json.dumps(log))
"""


def test_two_processes_never_overwrite_a_newer_generation(store: SessionStore) -> None:
    s = Session("shared")
    s.add_message("user", "start")
    store.save(s)
    saves = 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(store.folder), s.id, str(saves), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("A", "B")
    ]
    for proc in procs:  # both have loaded generation 1 before either saves
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    logs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        logs.append(json.loads(out))
    written = sorted(g for log in logs for kind, _, g in log if kind == "saved")
    # Every save wrote the generation after the one it was based on, and no generation was
    # written twice: no save replaced a newer file (nor one of the same generation).
    assert all(g == base + 1 for log in logs for kind, base, g in log if kind == "saved")
    assert written == list(range(2, 2 + 2 * saves))
    final = SessionStore(store.folder, keys=store.keys).load(s.id)
    assert final.generation == 1 + 2 * saves
    # Each save added one message to the newest copy: nothing saved was lost.
    assert len(final.messages) == 1 + 2 * saves
    conflicts = sum(kind == "conflict" for log in logs for kind, _, _ in log)
    print(f"conflicts refused: {conflicts}")


_HOLDER = """
import sys
from pathlib import Path
from jido_magics.persistence import Conflict, KeyRing, SessionStore
store = SessionStore(Path(sys.argv[1]), keys=KeyRing([bytes(range(32))]))
s = store.load(sys.argv[2])
print("loaded", s.generation, flush=True)
sys.stdin.readline()
s.add_message("user", "from the slow kernel")
try:
    store.save(s)
    print("saved", s.generation, flush=True)
except Conflict as exc:
    print("conflict", str(exc), flush=True)
sys.stdin.readline()
store.save(s, force=True)
print("forced", s.generation, flush=True)
"""


def test_a_slow_kernel_gets_a_conflict_and_may_force(store: SessionStore) -> None:
    s = Session("shared")
    s.add_message("user", "start")
    path = store.save(s).path
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(store.folder), s.id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().split() == ["loaded", "1"]
        s.add_message("user", "from the fast kernel")
        store.save(s)  # generation 2, newer than the other kernel's copy
        newer = path.read_bytes()
        proc.stdin.write("\n")
        proc.stdin.flush()
        kind, _, message = proc.stdout.readline().partition(" ")
        assert kind == "conflict" and "--force" in message and "generation 2" in message
        assert path.read_bytes() == newer
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().split() == ["forced", "3"]
    finally:
        proc.stdin.close()
        proc.wait(60)
    with pytest.raises(Conflict):  # now this kernel holds the older copy
        s.add_message("user", "again")
        store.save(s)
    assert store.load(s.id).messages[-1].content == "from the slow kernel"
