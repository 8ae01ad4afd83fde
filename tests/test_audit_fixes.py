"""Defects found by the fresh-eyes audit of the contract (DESIGN.md §3–§7), each proved by a
test that failed before its fix."""

from __future__ import annotations

from magic_helpers import run


def test_unload_saves_unsaved_changes_when_autosave_is_on(ipython_shell, workdir) -> None:
    """``%unload_ext`` drops every open session: with autosave on, their unsaved changes are
    written first (as at a close or at exit), so a reload and resume loses nothing."""
    shell = ipython_shell
    shell.run_line_magic("load_ext", "jido_magics")
    try:
        run(shell, "new first")
        import jido_magics

        session = jido_magics.get_registry().active
        session.add_message("user", "kept across the reload")
        run(shell, "rename renamed")
        run(shell, "new untouched")  # never changed: nothing to write
    finally:
        shell.run_line_magic("unload_ext", "jido_magics")
    shell.run_line_magic("load_ext", "jido_magics")
    try:
        run(shell, f"resume {session.id}")
        resumed = jido_magics.get_registry().active
        assert resumed.name == "renamed" and not resumed.dirty
        assert [m.content for m in resumed.messages] == ["kept across the reload"]
        assert sorted(p.stem for p in (workdir / ".sessions").iterdir()) == [session.id]
    finally:
        shell.run_line_magic("unload_ext", "jido_magics")


SECRET = "sk-proj-AbCdEfGhIjKlMnOpQrSt0123"


def test_config_errors_never_echo_an_api_key(shell, capsys) -> None:
    """A space after ``api_key=`` (or a forgotten ``api_key=``) left the key as a bare word,
    which the error quoted into the cell output."""
    from magic_helpers import one_line_usage_error

    run(shell, "new s")
    for line in (
        f"config api_key= {SECRET}",
        f"config {SECRET}",
        f"config model=x {SECRET}",
        f"config api_key {SECRET}",
    ):
        message = one_line_usage_error(shell, line)
        assert "KEY=VALUE" in message and SECRET[:12] not in message, message
    # a bare setting name is still quoted, since it helps and cannot be a secret
    assert "'model'" in one_line_usage_error(shell, "config model")
    assert SECRET[:12] not in capsys.readouterr().out


def test_reloading_the_extension_does_not_forget_generations(ipython_shell, workdir) -> None:
    """The kernel, not one load of the extension, remembers the generations it saw: after
    ``%unload_ext`` + ``%load_ext`` an older copy put back is still refused as stale."""
    from magic_helpers import one_line_usage_error

    import jido_magics

    shell = ipython_shell
    shell.run_line_magic("load_ext", "jido_magics")
    try:
        run(shell, "new s")
        session = jido_magics.get_registry().active
        session.add_message("user", "one")
        path = run(shell, "save") or workdir / ".sessions" / f"{session.id}.json"
        first = path.read_bytes()
        session.add_message("user", "two")
        run(shell, "save")
    finally:
        shell.run_line_magic("unload_ext", "jido_magics")
    path.write_bytes(first)  # a rollback to generation 1
    shell.run_line_magic("load_ext", "jido_magics")
    try:
        message = one_line_usage_error(shell, f"resume {session.id}")
        assert "older than generation 2" in message
        assert jido_magics.get_registry().sessions == () and path.read_bytes() == first
    finally:
        shell.run_line_magic("unload_ext", "jido_magics")
