"""Issue 11, defect 2: two kernels, one session. A conflicting autosave, close or exit-save keeps
the kernel's copy as a conflict copy (new id, ``<name> (conflict <time>)``, ``parent`` = the
original) and says where; an explicit save refuses with advice that works in that kernel."""

from __future__ import annotations

import os
from pathlib import Path

from kernels import Kernel
from magic_helpers import one_line_usage_error, run

from jido_magics.persistence import SessionStore


def all_verified_contents(folder: Path) -> dict[str, list[str]]:
    """Every verified session file of the folder: id → message contents."""
    store = SessionStore(folder)
    found = {}
    for item in store.saved():
        assert item.ok, (item.id, item.status, item.problem)
        found[item.id] = [m.content for m in store.load(item.id).messages]
    return found


def test_two_kernels_one_session_lose_nothing(workdir) -> None:
    a, b = Kernel(workdir), Kernel(workdir)
    try:
        for kernel in (a, b):
            kernel.run("%load_ext jido_magics")
        a.run("%session new shared")
        a.run("%chat from A one")  # autosaved: generation 1
        original = a.value("jido_magics.get_registry().active.id")
        resumed = b.run("%session resume shared")
        assert "Resumed 'shared'" in resumed.out, resumed.text
        a.run("%chat from A two")  # generation 2, saved by A
        said = b.run("%chat from B one")  # B's autosave meets generation 2
        assert said.status == "ok", said.text
        lines = [line for line in said.err.splitlines() if "conflict" in line]
        assert len(lines) == 1, said.text
        assert "was saved by another kernel meanwhile" in lines[0]
        assert f"%session resume {original} opens the other copy" in lines[0]
        copy_id = b.value("jido_magics.get_registry().active.id")
        copy_name = b.value("jido_magics.get_registry().active.name")
        assert copy_id != original and copy_name.startswith("shared (conflict ")
        assert f"({copy_id}, .sessions/{copy_id}.json)" in lines[0]
        parent = b.value(
            "(lambda p: (p.session_id, p.message, p.name))"
            "(jido_magics.get_registry().active.parent)"
        )
        assert parent == f"('{original}', 2, 'shared')"  # forked after A's first exchange
        b.run("%chat from B two")  # the copy saves as itself from now on: no new copy
        assert b.run("%session list").out.count("conflict") == 1

        # An explicit save refuses, and its advice works in that kernel.
        b.run("%session resume shared")  # A's copy, alongside B's conflict copy
        a.run("%chat from A three")
        b.run("jido_magics.get_registry().active.add_message('user', 'typed in B')")
        refused = b.run("%session save shared")
        assert "UsageError" in refused.err and f"%session close {original} --no-save" in refused.err
        assert f"%session save {original} --force" in refused.err
        # B exits normally: its exit-save keeps 'typed in B' as another conflict copy.
        b.shutdown()
        a.run("%chat from A four")
    finally:
        a.stop()
        b.stop()
    files = all_verified_contents(workdir / ".sessions")
    assert len(files) == 3  # the original and two conflict copies
    everything = [text for contents in files.values() for text in contents]
    for said_text in (
        "from A one",
        "from A two",
        "from A three",
        "from A four",
        "from B one",
        "from B two",
        "typed in B",
    ):
        assert said_text in everything, (said_text, files)
    assert files[original][::2] == ["from A one", "from A two", "from A three", "from A four"]


def other_kernel_saves(workdir: Path, session_id: str, text: str) -> None:
    store = SessionStore(workdir / ".sessions")
    theirs = store.load(session_id)
    theirs.add_message("user", text)
    store.save(theirs)


def test_close_after_a_conflict_keeps_a_copy_and_closes(shell, registry, workdir, capsys) -> None:
    run(shell, "new notes")
    s = registry.active
    s.add_message("user", "mine")
    run(shell, "save")
    original = s.id
    other_kernel_saves(workdir, original, "theirs")
    s.add_message("user", "mine, unsaved")
    capsys.readouterr()
    run(shell, "close")
    said = capsys.readouterr()
    assert "kept as 'notes (conflict " in said.err and registry.sessions == ()
    files = all_verified_contents(workdir / ".sessions")
    assert files[original] == ["mine", "theirs"]
    (copy_id,) = set(files) - {original}
    assert files[copy_id] == ["mine", "mine, unsaved"]
    copy = SessionStore(workdir / ".sessions").load(copy_id)
    assert copy.parent is not None and copy.parent.session_id == original
    assert copy.parent.message == 1


def test_conflict_copy_names_stay_unique_and_short(shell, registry, workdir) -> None:
    from jido_magics.interface.saving import conflict_name

    long = "x" * 50
    run(shell, f"new {long}")
    first = conflict_name(registry, long)
    assert len(first) <= 50 and first.endswith("Z)") and "(conflict " in first
    registry.create(first)
    second = conflict_name(registry, long)
    assert second != first and len(second) <= 50 and second.endswith("Z) 2")


def test_an_explicit_save_still_refuses_and_changes_nothing(shell, registry, workdir) -> None:
    run(shell, "new notes")
    s = registry.active
    run(shell, "save")
    other_kernel_saves(workdir, s.id, "theirs")
    newer = (workdir / ".sessions" / f"{s.id}.json").read_bytes()
    s.add_message("user", "mine")
    message = one_line_usage_error(shell, "save")
    assert f"%session close {s.id} --no-save then %session resume {s.id}" in message
    assert (workdir / ".sessions" / f"{s.id}.json").read_bytes() == newer
    assert registry.active is s and s.name == "notes" and s.dirty
    assert sorted(os.listdir(workdir / ".sessions")) == [f"{s.id}.json"]
    run(shell, f"fork {s.id}")  # the advice to keep both works in this kernel
    fork = registry.active
    run(shell, "save")
    kept = all_verified_contents(workdir / ".sessions")
    assert kept[fork.id] == ["mine"] and kept[s.id] == ["theirs"]
