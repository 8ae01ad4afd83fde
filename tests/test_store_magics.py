"""``%session save|resume|delete|trust|where`` and autosave in a real InteractiveShell, and
resume in a second kernel (a fresh IPython process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from magic_helpers import one_line_usage_error, run

from jido_magics.persistence import KeyRing, SessionStore


def snapshot(registry) -> tuple:
    return (
        registry.sessions,
        registry.active,
        [(s.name, len(s.messages), s.generation, s.dirty) for s in registry.sessions],
    )


def folder_files(workdir: Path) -> list[str]:
    folder = workdir / ".sessions"
    return sorted(os.listdir(folder)) if folder.exists() else []


def exchange(session, prompt: str, reply: str) -> None:
    session.add_message("user", prompt)
    session.add_message("assistant", reply)
    session.mark_exchange_complete()


def test_where_plain_ipython_and_beside_a_notebook(shell, workdir, capsys) -> None:
    run(shell, "where")
    out = capsys.readouterr().out
    assert f"{workdir / '.sessions'} (created on the first save)" in out
    assert f"Signing key: {os.environ['JIDO_MAGICS_KEY_FILE']}" in out
    notebook = workdir / "report.ipynb"
    notebook.write_text("{}")
    shell.user_ns["__session__"] = str(notebook)
    try:
        run(shell, "where")
        assert str(workdir / "report.sessions") in capsys.readouterr().out
        run(shell, "new a")
        run(shell, "save")
        assert (workdir / "report.sessions").is_dir()
        assert not (workdir / ".sessions").exists()
    finally:
        shell.user_ns.pop("__session__", None)


def test_changing_folder_does_not_move_the_sessions(shell, workdir, monkeypatch, capsys) -> None:
    run(shell, "where")
    (workdir / "sub").mkdir()
    monkeypatch.chdir(workdir / "sub")
    run(shell, "new a")
    run(shell, "save")
    run(shell, "where")
    assert capsys.readouterr().out.count(str(workdir / ".sessions")) == 2
    assert len(folder_files(workdir)) == 1


def test_sessions_dir_setting(shell, workdir, capsys) -> None:
    shell.run_line_magic("config", "SessionMagics.sessions_dir = 'kept'")
    try:
        run(shell, "new a")
        run(shell, "save")
        assert len(os.listdir(workdir / "kept")) == 1
    finally:
        shell.run_line_magic("config", "SessionMagics.sessions_dir = ''")


def test_save_close_resume_gives_back_the_same_session(shell, registry, workdir, capsys) -> None:
    run(shell, 'new "my analysis" --model m1 --system "Be terse."')
    s = registry.active
    exchange(s, "first prompt", "first reply")
    s.add_reasoning_step("thinking", s.messages[-1].id)
    call = s.add_tool_call("list_variables", {"filter": "df"}, s.messages[-1].id)
    s.update_tool_call(call, "completed", result="df")
    run(shell, "rename renamed")
    before = [m.to_dict() for m in s.messages], s.tool_calls[0].to_dict(), s.config
    run(shell, "save")
    out = capsys.readouterr().out
    assert f"Saved 'renamed' to .sessions/{s.id}.json (generation 2)." in out
    run(shell, "close")
    assert registry.sessions == ()
    run(shell, "resume renamed")
    assert "Resumed 'renamed'" in capsys.readouterr().out
    back = registry.active
    assert back is not s and back.name == "renamed" and not back.dirty
    assert ([m.to_dict() for m in back.messages], back.tool_calls[0].to_dict(), back.config) == (
        before
    )
    assert back.reasoning_steps[0].content == "thinking"


def test_resume_listing_newest_first_with_status(shell, registry, workdir) -> None:
    for name in ("older", "newer"):
        run(shell, f"new {name}")
        registry.active.add_message("user", name)
        run(shell, "save")
    other = SessionStore(workdir / ".sessions", keys=KeyRing([os.urandom(32)]))
    from jido_magics.core import Session

    foreign = Session("foreign")
    foreign.add_message("user", "from a colleague")
    other.save(foreign)
    listing = run(shell, "resume")
    lines = str(listing).splitlines()
    assert lines[0].split()[:4] == ["#", "name", "id", "status"]
    statuses = {line.split()[2]: line for line in lines[1:]}
    assert "other key" in statuses[foreign.id]
    ok = [line.split()[1] for line in lines[1:] if " ok " in line]
    assert ok == ["newer", "older"]
    assert lines[1].split()[2] == foreign.id  # saved last: listed first
    assert repr(listing) == str(listing) and len(listing) == 3


def test_resume_by_prefix_index_and_already_open(shell, registry, capsys) -> None:
    run(shell, "new alpha")
    registry.active.add_message("user", "a")
    run(shell, "save")
    run(shell, "new beta")
    run(shell, "resume alp")
    assert "already open; it is now active" in capsys.readouterr().out
    assert registry.active.name == "alpha" and len(registry) == 2
    run(shell, "close alpha")
    run(shell, "resume 1")
    assert registry.active.name == "alpha"


def test_mistakes_are_one_line_and_change_nothing(shell, registry, workdir) -> None:
    assert "No session is open" in one_line_usage_error(shell, "save")
    assert "nothing to save" not in one_line_usage_error(shell, "save x --all")
    assert "no saved sessions" in one_line_usage_error(shell, "resume ghost").lower()
    run(shell, "new alpha")
    registry.active.add_message("user", "a")
    run(shell, "save")
    run(shell, "close")
    run(shell, "new alpha2")
    registry.active.add_message("user", "b")
    run(shell, "save")
    run(shell, "close")
    before = snapshot(registry)
    files = {p: p.read_bytes() for p in (workdir / ".sessions").iterdir()}
    cases = {
        "resume ghost": "No saved session matches 'ghost'",
        "resume al": "Ambiguous session 'al'",
        "delete ghost": "No saved session matches",
        "trust nowhere.json": "There is no file .sessions/nowhere.json to trust",
        "resume a b": "unrecognized arguments",
        "save --bogus": "unrecognized arguments",
        "resume ../x": "No saved session matches",
    }
    for line, expected in cases.items():
        assert expected in one_line_usage_error(shell, line), line
    assert snapshot(registry) == before
    assert {p: p.read_bytes() for p in (workdir / ".sessions").iterdir()} == files


def test_saved_sessions_with_one_name(shell, registry, capsys) -> None:
    ids = []
    for _ in range(2):
        run(shell, "new twin")
        registry.active.add_message("user", "x")
        ids.append(registry.active.id)
        run(shell, "save")
        run(shell, "close")
    message = one_line_usage_error(shell, "resume twin")
    assert all(f"twin ({i})" in message for i in ids)
    assert "several have that name: use its id" in message  # not "type more"
    assert "use its id" in one_line_usage_error(shell, "delete TWIN")
    assert "type more of the name" in one_line_usage_error(shell, "resume tw")
    run(shell, f"resume {ids[0]}")
    message = one_line_usage_error(shell, f"resume {ids[1]}")
    assert "Another open session is named 'twin'" in message and "%session rename" in message
    assert len(registry) == 1


def _saved_path(workdir: Path, session) -> Path:
    return workdir / ".sessions" / f"{session.id}.json"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.replace(b"hello", b"hellp"), "was changed after it was saved"),
        (lambda d: d[:100], "is not a jido_magics session file"),
        (lambda d: d.replace(b'"jido_session":1', b'"jido_session":9'), "format 9"),
        (
            lambda d: d.replace(d[25:41], b"0123456789abcdef"),
            "signed with a different key (kid 0123456789abcdef)",
        ),
    ],
)
def test_bad_file_on_resume(shell, registry, workdir, edit, expected) -> None:
    run(shell, "new victim")
    s = registry.active
    s.add_message("user", "hello")
    run(shell, "save")
    run(shell, "close")
    path = _saved_path(workdir, s)
    bad = edit(path.read_bytes())
    path.write_bytes(bad)
    message = one_line_usage_error(shell, f"resume {s.id}")
    assert expected in message and f".sessions/{s.id}.json" in message
    assert registry.sessions == () and path.read_bytes() == bad
    assert s.id in str(run(shell, "resume"))


def test_stale_generation_on_resume(shell, registry, workdir) -> None:
    run(shell, "new s")
    s = registry.active
    s.add_message("user", "one")
    run(shell, "save")
    first = _saved_path(workdir, s).read_bytes()
    s.add_message("user", "two")
    run(shell, "save")
    run(shell, "close")
    _saved_path(workdir, s).write_bytes(first)
    message = one_line_usage_error(shell, f"resume {s.id}")
    assert "older than generation 2" in message and registry.sessions == ()


def test_conflict_and_force(shell, registry, workdir, capsys) -> None:
    run(shell, "new shared")
    s = registry.active
    s.add_message("user", "mine")
    run(shell, "save")
    other_kernel = SessionStore(workdir / ".sessions")
    theirs = other_kernel.load(s.id)
    theirs.add_message("user", "theirs")
    other_kernel.save(theirs)
    newer = _saved_path(workdir, s).read_bytes()
    s.add_message("user", "mine again")
    assert "--force" in one_line_usage_error(shell, "save")
    assert _saved_path(workdir, s).read_bytes() == newer and s.dirty
    run(shell, "save --force")
    assert "(generation 3)" in capsys.readouterr().out


def test_save_all(shell, registry, workdir, capsys) -> None:
    for name in ("a", "b", "c"):
        run(shell, f"new {name}")
    run(shell, "save --all")
    assert capsys.readouterr().out.count("Saved '") == 3
    assert len(folder_files(workdir)) == 3


def test_delete(shell, registry, workdir, capsys) -> None:
    run(shell, "new gone")
    registry.active.add_message("user", "x")
    run(shell, "save")
    run(shell, "delete gone")
    assert "still open" in capsys.readouterr().out
    assert folder_files(workdir) == [".trash"]


def test_trust_a_colleagues_file(shell, registry, workdir, capsys) -> None:
    from jido_magics.core import Session

    colleague = SessionStore(workdir / ".sessions", keys=KeyRing([os.urandom(32)]))
    shared = Session("shared work")
    shared.add_message("user", "look at this")
    path = colleague.save(shared).path
    assert "signed with a different key" in one_line_usage_error(shell, f"resume {shared.id}")
    run(shell, f"trust {path.name}")
    assert "now signed with this kernel's key" in capsys.readouterr().out
    run(shell, "resume shared")
    assert registry.active.messages[0].content == "look at this"


# -- autosave ------------------------------------------------------------------------------------


def test_autosave_after_each_exchange_only_when_changed(shell, registry, workdir) -> None:
    run(shell, "new auto")
    s = registry.active
    exchange(s, "q1", "a1")
    path = _saved_path(workdir, s)
    assert s.generation == 1 and not s.dirty and path.exists()
    first = path.read_bytes()
    s.mark_exchange_complete()  # nothing changed: nothing written
    assert path.read_bytes() == first and s.generation == 1
    exchange(s, "q2", "a2")
    assert s.generation == 2
    assert [m.content for m in SessionStore(path.parent).load(s.id).messages] == [
        "q1",
        "a1",
        "q2",
        "a2",
    ]


def test_saving_over_an_unverifiable_file_says_where_it_was_kept(
    shell, registry, workdir, capsys
) -> None:
    run(shell, "new kept")
    s = registry.active
    exchange(s, "q1", "a1")  # autosaved
    path = _saved_path(workdir, s)
    path.write_bytes(b"not a session file\n")
    run(shell, "rename renamed")
    capsys.readouterr()
    run(shell, "save")
    out = capsys.readouterr().out
    aside = [p for p in folder_files(workdir) if ".rejected-" in p]
    assert (
        len(aside) == 1
        and (workdir / ".sessions" / aside[0]).read_bytes() == b"not a session file\n"
    )
    assert f"could not be verified; it was kept as .sessions/{aside[0]}" in out
    path.write_bytes(b"garbage again\n")
    exchange(s, "q2", "a2")  # the autosave says so too
    assert "found a file it could not verify and kept it as .sessions/" in capsys.readouterr().err


def test_autosave_can_be_switched_off(shell, registry, workdir) -> None:
    shell.run_line_magic("config", "SessionMagics.autosave = False")
    try:
        run(shell, "new manual")
        exchange(registry.active, "q", "a")
        assert folder_files(workdir) == []  # no save after the exchange
        run(shell, "close --no-save")
        assert folder_files(workdir) == []
    finally:
        shell.run_line_magic("config", "SessionMagics.autosave = True")


def test_close_saves_and_a_failed_save_vetoes_the_close(shell, registry, workdir) -> None:
    run(shell, "new kept")
    registry.active.add_message("user", "unsaved")
    run(shell, "new untouched")
    run(shell, "close untouched")  # never changed: nothing written
    run(shell, "close kept")
    assert len(folder_files(workdir)) == 1
    run(shell, "resume kept")
    registry.active.add_message("user", "more")
    folder = workdir / ".sessions"
    for name in os.listdir(folder):
        os.unlink(folder / name)
    folder.rmdir()
    folder.write_text("a file where the folder should be")  # every save now fails
    message = one_line_usage_error(shell, "close")
    assert "stays open" in message and "--no-save" in message
    assert [s.name for s in registry.sessions] == ["kept"] and registry.active.dirty
    run(shell, "close --no-save")
    assert registry.sessions == ()


def test_unload_removes_autosave(ipython_shell, workdir, monkeypatch) -> None:
    import atexit

    registered: list = []
    monkeypatch.setattr(atexit, "register", lambda f: registered.append(f) or f)
    monkeypatch.setattr(atexit, "unregister", lambda f: registered.remove(f))
    ipython_shell.run_line_magic("load_ext", "jido_magics")
    from jido_magics.interface.extension import extension_for

    registry = extension_for(ipython_shell).registry
    assert len(registered) == 1 and registry._observers and registry._close_hooks
    ipython_shell.run_line_magic("unload_ext", "jido_magics")
    assert registered == [] and registry._close_hooks == []
    owners = {type(getattr(o, "__self__", None)).__name__ for o in registry._observers}
    assert "Autosave" not in owners


# -- a second kernel -------------------------------------------------------------------------


FIRST_KERNEL = """
%load_ext jido_magics
%session new analysis --system "Be terse."
import jido_magics
s = jido_magics.get_registry().active
s.add_message("user", "first prompt")
s.add_message("assistant", "first reply")
s.mark_exchange_complete()
%session rename renamed
s.add_message("user", "saved at exit")
print("ID", s.id, s.generation, s.dirty)
"""

SECOND_KERNEL = """
%load_ext jido_magics
import json, jido_magics
listing = %session resume
print(listing)
%session resume renamed
s = jido_magics.get_registry().active
print("STATE", json.dumps({"name": s.name, "generation": s.generation, "dirty": s.dirty,
    "system": s.config.system_prompt, "messages": [[m.role, m.content] for m in s.messages]}))
"""


def _ipython(workdir: Path, name: str, code: str) -> str:
    script = workdir / name
    script.write_text(code)
    env = dict(os.environ)
    env.pop("JPY_SESSION_NAME", None)
    done = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "--quick", str(script)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.stdout


def test_resume_in_a_second_kernel(workdir) -> None:
    out = _ipython(workdir, "first.ipy", FIRST_KERNEL)
    session_id, generation, dirty = out.split("ID ", 1)[1].split()[:3]
    assert (generation, dirty) == ("1", "True")  # the rename and last message: saved at exit
    out = _ipython(workdir, "second.ipy", SECOND_KERNEL)
    assert session_id in out and " ok " in out
    state = json.loads(out.split("STATE ", 1)[1].splitlines()[0])
    assert state == {
        "name": "renamed",
        "generation": 2,
        "dirty": False,
        "system": "Be terse.",
        "messages": [
            ["user", "first prompt"],
            ["assistant", "first reply"],
            ["user", "saved at exit"],
        ],
    }


def test_save_all_writes_only_changed_sessions_unless_forced(
    shell, registry, workdir, capsys
) -> None:
    for name in ("a", "b", "c"):
        run(shell, f"new {name}")
    run(shell, "save --all")
    capsys.readouterr()
    registry.get("b").add_message("user", "only b changed")
    before = {p: p.read_bytes() for p in (workdir / ".sessions").glob("*.json")}
    run(shell, "save --all")
    out = capsys.readouterr().out
    assert out.count("Saved '") == 1 and "Saved 'b'" in out and "(generation 2)" in out
    assert "Unchanged since saved, not written again: 'a', 'c' (--force saves them too)." in out
    after = {p: p.read_bytes() for p in (workdir / ".sessions").glob("*.json")}
    changed = [p for p in before if before[p] != after[p]]
    assert changed == [_saved_path(workdir, registry.get("b"))]
    assert [s.generation for s in registry.sessions] == [1, 2, 1]
    run(shell, "save --all --force")
    assert capsys.readouterr().out.count("Saved '") == 3
    assert [s.generation for s in registry.sessions] == [2, 3, 2]


def test_save_all_writes_an_unchanged_session_whose_file_is_gone(
    shell, registry, workdir, capsys
) -> None:
    run(shell, "new kept")
    run(shell, "save --all")
    _saved_path(workdir, registry.active).unlink()
    run(shell, "save --all")
    assert "Saved 'kept'" in capsys.readouterr().out
    assert _saved_path(workdir, registry.active).exists()


def test_resume_by_name_of_an_unverified_file_points_at_its_status(shell, workdir) -> None:
    """A colleague's file (another key) cannot show its name before it is verified, so
    ``%session resume NAME`` said there was no such session at all; it now says some files
    could not be verified and how to see why."""
    from jido_magics import Session

    theirs = Session("shared")
    theirs.add_message("user", "from a colleague")
    SessionStore(workdir / ".sessions", keys=KeyRing([b"c" * 32])).save(theirs)
    message = one_line_usage_error(shell, "resume shared")
    assert "1 saved file could not be verified" in message and "%session resume" in message
    assert "%session trust" in message
