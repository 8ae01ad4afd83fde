"""The signing key: 8 concurrent first starts (processes, even with umask 0) create exactly one
key, mode 0600; key bytes (raw or hex) never appear in session files, reprs, logs, printed
output or error messages; odd key files are refused without hanging or quoting them."""

from __future__ import annotations

import copy
import logging
import os
import pickle
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from reliability import assert_no_key

from jido_magics.core.errors import JidoError
from jido_magics.persistence import KeyFileError, KeyRing, SessionStore
from jido_magics.persistence.keys import kid_of, load_or_create_key

_FIRST_START = """
import os, sys
from pathlib import Path
os.umask(0)  # the key must be 0600 whatever the umask
os.environ["JIDO_MAGICS_KEY_FILE"] = sys.argv[1]
from jido_magics.core import Session
from jido_magics.persistence import SessionStore
print("ready", flush=True)
sys.stdin.readline()  # all eight go at once
store = SessionStore(Path(sys.argv[2]))  # the key is made on the first save
s = Session("first start")
s.add_message("user", "hello")
store.save(s)
print(store.keys.kid, s.id)
"""


@pytest.mark.parametrize("trial", range(3))
def test_eight_concurrent_first_starts_make_one_key(tmp_path: Path, trial: int) -> None:
    key_path = tmp_path / "data" / "jido_magics" / "session_key"
    folder = tmp_path / "nb.sessions"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _FIRST_START, str(key_path), str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    for p in procs:  # every process has imported and waits at the barrier
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in results]
    kids = {out.split()[0] for out, _ in results}
    assert len(kids) == 1
    assert os.listdir(key_path.parent) == ["session_key"]
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.parent.stat().st_mode) & 0o077 == 0
    keys = KeyRing.load(key_path)
    assert keys.kid == kids.pop()
    store = SessionStore(folder, keys=keys)
    assert len(store.saved()) == 8 and all(s.ok for s in store.saved())  # all one key
    for path in folder.iterdir():
        assert_no_key(path.read_bytes(), keys)


def test_key_bytes_appear_nowhere(
    shell, registry, workdir: Path, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    """Save, load, list, tamper, trust, fail and show: the key is in none of the output."""
    caplog.set_level(logging.DEBUG)
    from jido_magics.interface.extension import extension_for

    store = extension_for(shell).store
    keys = store.keys
    texts: list[str] = []
    shell.run_line_magic("session", "new secret-keeper")
    s = registry.active
    s.add_message("user", "hello")
    s.mark_exchange_complete()  # autosave
    shell.run_line_magic("session", "save")
    texts += [repr(store), str(vars(store)) if hasattr(store, "__dict__") else "", repr(keys)]
    texts += [str(keys), format(keys), repr(s), s._repr_markdown_(), repr(s.config)]
    texts += [repr(store.saved()), str(shell.run_line_magic("session", "resume"))]
    shell.run_line_magic("session", "where")
    # errors: tampered, foreign, stale-free damaged key files
    path = store.path_for(s.id)
    good = path.read_bytes()
    path.write_bytes(good.replace(b"hello", b"hellp"))
    for line in (f"resume {s.id}", "resume nothing-here", "save --bogus", "trust /nowhere"):
        try:
            shell.run_line_magic("session", line)
        except Exception as exc:
            texts += [str(exc), repr(exc)]
    shell.run_line_magic("session", "close")  # autosave sets the tampered file aside
    texts += [repr(store.saved())]
    for bad_mode in (0o644, 0o660):
        key_copy = workdir / "copied_key"
        key_copy.write_bytes(keys.signing_key.hex().encode() + b"\n")
        key_copy.chmod(bad_mode)
        with pytest.raises(KeyFileError) as info:
            load_or_create_key(key_copy)
        texts += [str(info.value), repr(info.value), repr(vars(info.value))]
        key_copy.unlink()
    for damaged in (keys.signing_key.hex()[:63] + "X\n", keys.signing_key.hex() + "00\n"):
        key_copy = workdir / "damaged_key"
        key_copy.write_text(damaged)
        key_copy.chmod(0o600)
        with pytest.raises(KeyFileError) as info:
            load_or_create_key(key_copy)
        texts += [str(info.value), repr(info.value)]
        key_copy.unlink()
    with pytest.raises(TypeError):
        pickle.dumps(keys)
    with pytest.raises(TypeError):
        copy.deepcopy(keys)
    out, err = capsys.readouterr()
    texts += [out, err, caplog.text]
    for text in texts:
        assert_no_key(text, keys)
    for file in (workdir / ".sessions").iterdir():
        assert_no_key(file.read_bytes(), keys)
        assert kid_of(keys.signing_key).encode() in file.read_bytes()  # the id, not the key


def test_a_fifo_as_key_file_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "session_key"
    os.mkfifo(fifo, 0o600)
    outcome: list[BaseException | bytes] = []

    def load() -> None:
        try:
            outcome.append(load_or_create_key(fifo))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(5)
    if worker.is_alive():  # unblock the open so the thread can end, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(5)
        pytest.fail("opening a FIFO as the key file blocked")
    assert len(outcome) == 1 and isinstance(outcome[0], KeyFileError), outcome
    assert "not a regular file" in str(outcome[0])


@pytest.mark.parametrize("kind", ["directory", "empty", "uppercase", "mode 0640", "mode 0606"])
def test_odd_key_files_are_refused_in_one_line(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "session_key"
    key = bytes(range(32))
    if kind == "directory":
        path.mkdir()
    else:
        text = {"empty": b"", "uppercase": key.hex().upper().encode() + b"\n"}.get(
            kind, key.hex().encode() + b"\n"
        )
        path.write_bytes(text)
        path.chmod(int(kind.split()[-1], 8) if kind.startswith("mode") else 0o600)
        old = time.time() - 3600  # not a key being written right now: refused at once
        os.utime(path, (old, old))
    started = time.monotonic()
    with pytest.raises(KeyFileError) as info:
        load_or_create_key(path)
    text = str(info.value)
    assert "\n" not in text and key.hex() not in text and key.hex().upper() not in text
    assert isinstance(info.value, JidoError) and time.monotonic() - started < 3


def test_a_start_racing_the_creators_write_gets_the_key(tmp_path: Path, monkeypatch) -> None:
    """A kernel that finds the key file created but still empty waits for the creator."""
    path = tmp_path / "session_key"
    key = bytes(range(32))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the creator, mid-way
    outcome: list = []
    reader = threading.Thread(target=lambda: outcome.append(_load_or_error(path)))
    read_empty = threading.Event()
    real_read = os.read

    def read(fd: int, size: int) -> bytes:
        data = real_read(fd, size)
        if threading.current_thread() is reader and not data:
            read_empty.set()
        return data

    monkeypatch.setattr(os, "read", read)
    reader.start()
    assert read_empty.wait(30), "the reader never found the empty key file"
    os.write(fd, key.hex().encode() + b"\n")
    os.close(fd)
    reader.join(30)
    assert outcome == [key]


def _load_or_error(path: Path) -> bytes | BaseException:
    try:
        return load_or_create_key(path)
    except BaseException as exc:
        return exc
