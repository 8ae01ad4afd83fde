"""Issue 11, defect 3: digit-only names are refused, and ``delete`` is recoverable through the
folder's trash (``%session undelete``), in a real InteractiveShell on real files."""

from __future__ import annotations

import errno
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from magic_helpers import one_line_usage_error, run
from test_faults import failing

from jido_magics.core.clock import is_utc_timestamp
from jido_magics.core.session import Session
from jido_magics.persistence import SessionStore, StoreIOError
from jido_magics.persistence.trash import KEEP_DAYS, trashed


def live_files(workdir: Path) -> list[str]:
    folder = workdir / ".sessions"
    return sorted(n for n in os.listdir(folder) if not n.startswith("."))


def trash_files(workdir: Path) -> list[str]:
    trash = workdir / ".sessions" / ".trash"
    return sorted(os.listdir(trash)) if trash.exists() else []


@pytest.mark.parametrize("name", ["1", "01", "2", " 42 ", "٣"])
def test_digit_only_names_are_refused_for_new_and_rename(shell, registry, name) -> None:
    message = one_line_usage_error(shell, f'new "{name}"')
    assert "only of digits" in message and "index" in message and registry.sessions == ()
    assert f"e.g. 'run {name.strip()}'" in message  # the suggestion names the typed digits
    run(shell, "new notes")
    message = one_line_usage_error(shell, f'rename "{name}"')
    assert "only of digits" in message and registry.active.name == "notes"


def test_names_with_digits_and_letters_still_work(shell, registry) -> None:
    for name in ("2b", "run 1", "1.5", "v2"):
        run(shell, f'new "{name}"')
    assert [s.name for s in registry.sessions] == ["2b", "run 1", "1.5", "v2"]


def test_the_reported_sequence_closes_and_deletes_what_was_meant(shell, registry, workdir) -> None:
    # The report: new 2, new notes, new 1, then close --no-save 1 closed '2'.
    one_line_usage_error(shell, "new 2")
    run(shell, "new notes")
    one_line_usage_error(shell, "new 1")
    run(shell, "new other")
    run(shell, "close --no-save 1")
    assert [s.name for s in registry.sessions] == ["other"]


def test_a_loaded_file_with_a_digit_name_keeps_it(shell, registry, workdir, capsys) -> None:
    from jido_magics.core.session import Session

    store = SessionStore(workdir / ".sessions")
    old = Session("7")  # written by an older version, which allowed such names
    old.add_message("user", "kept")
    store.save(old)
    run(shell, f"resume {old.id}")
    assert registry.active.name == "7" and registry.active.id == old.id
    run(shell, "new seven-b")
    run(shell, f"switch {old.id[:5]}")  # reached by id prefix
    assert registry.active.id == old.id


def test_delete_moves_to_the_trash_and_undelete_restores(shell, registry, workdir, capsys) -> None:
    run(shell, "new keep")
    registry.active.add_message("user", "precious words")
    run(shell, "save")
    session_id = registry.active.id
    saved = (workdir / ".sessions" / f"{session_id}.json").read_bytes()
    run(shell, "close")
    capsys.readouterr()
    run(shell, "delete keep")
    out = capsys.readouterr().out
    assert "to the trash" in out and f"%session undelete {session_id}" in out
    assert out.count("\n") == 1
    assert live_files(workdir) == []
    (trashed_name,) = trash_files(workdir)
    assert trashed_name.startswith(f"{session_id}.") and trashed_name.endswith("Z.json")
    assert (workdir / ".sessions" / ".trash" / trashed_name).read_bytes() == saved
    listing = run(shell, "undelete")
    assert "keep" in str(listing) and session_id in str(listing) and " ok " in str(listing)
    run(shell, "undelete keep")
    assert "Restored 'keep'" in capsys.readouterr().out
    assert live_files(workdir) == [f"{session_id}.json"] and trash_files(workdir) == []
    assert (workdir / ".sessions" / f"{session_id}.json").read_bytes() == saved
    run(shell, "resume keep")
    assert registry.active.messages[-1].content == "precious words"


def test_undelete_never_overwrites_a_live_file(shell, registry, workdir, capsys) -> None:
    run(shell, "new twice")
    s = registry.active
    s.add_message("user", "first")
    run(shell, "save")
    run(shell, "delete twice")
    s.add_message("user", "second")
    run(shell, "save")  # a new file of the same id
    live = (workdir / ".sessions" / f"{s.id}.json").read_bytes()
    message = one_line_usage_error(shell, f"undelete {s.id}")
    assert "never overwrites" in message and "%session delete" in message
    assert (workdir / ".sessions" / f"{s.id}.json").read_bytes() == live
    assert len(trash_files(workdir)) == 1


def test_undelete_lists_newest_first_and_takes_an_index(shell, registry, workdir, capsys) -> None:
    ids = []
    for name in ("alpha", "beta"):
        run(shell, f"new {name}")
        registry.active.add_message("user", name)
        run(shell, "save")
        ids.append(registry.active.id)
    run(shell, "close --no-save alpha")
    run(shell, "close --no-save beta")
    run(shell, "delete alpha")
    run(shell, "delete beta")  # same second as alpha: the order is the deletion order
    listing = run(shell, "undelete")
    rows = str(listing).splitlines()[1:]
    assert [row.split()[1] for row in rows] == ["beta", "alpha"]
    run(shell, "undelete 2")
    assert live_files(workdir) == [f"{ids[0]}.json"]
    assert "Nothing in the trash matches" in one_line_usage_error(shell, "undelete zzz")


def test_the_same_id_deleted_twice_restores_the_newest(shell, registry, workdir) -> None:
    run(shell, "new again")
    s = registry.active
    for text in ("one", "two"):
        s.add_message("user", text)
        run(shell, "save")
        run(shell, "delete again")
    assert len(trash_files(workdir)) == 2
    run(shell, f"undelete {s.id}")
    store = SessionStore(workdir / ".sessions")
    assert store.load(s.id).messages[-1].content == "two"
    assert len(trash_files(workdir)) == 1


def test_old_trash_is_purged_at_the_next_delete(shell, registry, workdir) -> None:
    trash = workdir / ".sessions" / ".trash"
    trash.mkdir(parents=True)
    old_stamp = (datetime.now(timezone.utc) - timedelta(days=KEEP_DAYS + 1)).strftime(
        "%Y%m%dT%H%M%SZ"
    )
    young_stamp = (datetime.now(timezone.utc) - timedelta(days=KEEP_DAYS - 1)).strftime(
        "%Y%m%dT%H%M%SZ"
    )
    (trash / f"oldone.{old_stamp}.json").write_text("old")
    (trash / f"young.{young_stamp}.json").write_text("young")
    (trash / "notes.txt").write_text("not ours")
    run(shell, "new fresh")
    run(shell, "save")
    run(shell, "delete fresh")
    names = trash_files(workdir)
    assert f"oldone.{old_stamp}.json" not in names
    assert f"young.{young_stamp}.json" in names and "notes.txt" in names and len(names) == 3


def test_delete_removes_that_ids_leftovers_only(shell, registry, workdir) -> None:
    run(shell, "new leftover")
    run(shell, "save")
    s = registry.active
    folder = workdir / ".sessions"
    mine = [folder / f".{s.id}.json.0badc0de.tmp", folder / f".{s.id}.json.0badc0de.old"]
    other = folder / ".someone.json.0badc0de.tmp"
    for path in (*mine, other):
        path.write_text("partial")
    run(shell, "delete leftover")
    assert not any(p.exists() for p in mine) and other.exists()


def test_trash_entries_of_other_keys_are_listed_with_their_status(tmp_path: Path) -> None:
    from jido_magics.persistence import KeyRing

    theirs = SessionStore(tmp_path, keys=KeyRing([bytes(range(32))]))
    s = Session("foreign")
    theirs.save(s)
    theirs.delete(s.id)
    mine = SessionStore(tmp_path, keys=KeyRing([bytes(range(1, 33))]))
    (entry,) = trashed(mine)
    assert entry.saved.status == "other key" and entry.name is None
    assert time.strftime("%Y") in entry.deleted_at and is_utc_timestamp(entry.deleted_at)


@pytest.mark.parametrize(
    ("function", "action"),
    [("mkdir", "create the trash folder"), ("rename", "move to the trash")],
)
def test_a_failing_move_to_the_trash_is_one_line_and_keeps_the_file(
    store: SessionStore, function: str, action: str
) -> None:
    s = Session("kept")
    path = store.save(s).path
    saved = path.read_bytes()
    with failing(function, errno.EIO) as hits, pytest.raises(StoreIOError) as info:
        store.delete(s.id)
    message = str(info.value)
    assert hits and f"Cannot {action} " in message and "\n" not in message
    assert path.read_bytes() == saved
    store.delete(s.id)  # a retry works, the trash folder made or not
    assert not path.exists() and len(trashed(store)) == 1
