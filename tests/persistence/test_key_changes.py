"""Issue 11, defect 8: the key file changed under a running kernel. Before each save the key
file is checked; missing → written again from memory; another valid key → used from then on;
damaged → the key in memory keeps signing. One line says each; a fresh kernel with the current
key file resumes the latest content without ``trust``; the resume listing says why a file is
``unreadable``."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import pytest
from kernels import Kernel
from magic_helpers import run

from jido_magics.persistence import KeyRing, SessionStore
from jido_magics.persistence.keys import kid_of


@pytest.fixture
def key_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keys" / "session_key"
    monkeypatch.setenv("JIDO_MAGICS_KEY_FILE", str(path))
    return path


def write_key(path: Path, key: bytes) -> None:
    path.unlink(missing_ok=True)
    path.write_text(key.hex() + "\n")
    path.chmod(0o600)


def said(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_a_deleted_key_file_is_written_again_from_memory(
    shell, registry, workdir, key_path, capsys
) -> None:
    run(shell, "new keyed")
    s = registry.active
    s.add_message("user", "one")
    run(shell, "save")
    original = key_path.read_bytes()
    key_path.unlink()
    s.add_message("user", "two")
    capsys.readouterr()
    run(shell, "save")
    out = said(capsys)
    assert "was missing; it was written again" in out and out.count("\n") == 1
    assert key_path.read_bytes() == original
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    s.add_message("user", "three")
    run(shell, "save")
    assert "key file" not in said(capsys)  # said once
    fresh = SessionStore(workdir / ".sessions", keys=KeyRing.load(key_path))
    assert [m.content for m in fresh.load(s.id).messages] == ["one", "two", "three"]


def test_a_replaced_key_is_followed_and_a_fresh_kernel_resumes_without_trust(
    shell, registry, workdir, key_path, capsys
) -> None:
    run(shell, "new keyed")
    s = registry.active
    s.add_message("user", "before")
    run(shell, "save")
    new_key = secrets.token_bytes(32)
    write_key(key_path, new_key)  # e.g. restored from a team's shared key
    s.add_message("user", "after")
    capsys.readouterr()
    s.mark_exchange_complete()  # autosave, as after a %%chat
    out = said(capsys)
    assert f"now holds another key ({kid_of(new_key)})" in out and out.count("\n") == 1
    kernel = Kernel(workdir, JIDO_MAGICS_KEY_FILE=str(key_path))
    try:
        kernel.run("%load_ext jido_magics")
        listing = kernel.run("%session resume")
        assert " ok " in listing.out, listing.text
        resumed = kernel.run(f"%session resume {s.id}")
        assert resumed.status == "ok" and "Resumed 'keyed'" in resumed.out, resumed.text
        contents = kernel.value("[m.content for m in jido_magics.get_registry().active.messages]")
        assert contents == "['before', 'after']"
    finally:
        kernel.stop()


def test_a_damaged_key_file_keeps_the_key_in_memory(
    shell, registry, workdir, key_path, capsys
) -> None:
    run(shell, "new keyed")
    s = registry.active
    run(shell, "save")
    key = key_path.read_bytes()
    key_path.write_text("not a key\n")
    s.add_message("user", "kept")
    capsys.readouterr()
    run(shell, "save")
    out = said(capsys)
    assert "does not hold 64 lowercase hex digits" in out and "keeps signing" in out
    assert out.count("\n") == 1 and "(generation 2)" in out
    write_key(key_path, bytes.fromhex(key.decode().strip()))  # the user restores it
    fresh = SessionStore(workdir / ".sessions", keys=KeyRing.load(key_path))
    assert fresh.load(s.id).messages[-1].content == "kept"


def test_the_resume_listing_says_why_a_file_is_unreadable(
    shell, registry, workdir, key_path, capsys
) -> None:
    run(shell, "new readable")
    run(shell, "save")
    key_path.write_text("garbage\n")  # a fresh kernel cannot read its key
    kernel = Kernel(workdir, JIDO_MAGICS_KEY_FILE=str(key_path))
    try:
        kernel.run("%load_ext jido_magics")
        listing = kernel.run("%session resume")
        assert "  unreadable\n" in listing.out, listing.text
        assert "#1 unreadable: Session key file" in listing.out, listing.text
        assert "64 lowercase hex digits" in listing.out
    finally:
        kernel.stop()


def test_unreadable_files_get_their_reason_in_the_listing(shell, registry, workdir) -> None:
    run(shell, "new gone")
    run(shell, "save")
    path = workdir / ".sessions" / f"{registry.active.id}.json"
    real_open = os.open

    def refusing(name, *args, **kwargs):  # EACCES on that file (root ignores chmod 000)
        if os.fspath(name).endswith(path.name) and not os.fspath(name).startswith("."):
            raise PermissionError(13, "Permission denied")
        return real_open(name, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", refusing)
        listing = str(run(shell, "resume"))
    assert "unreadable" in listing.splitlines()[1].split()
    assert "#1 unreadable: Cannot read" in listing and "Permission denied" in listing
