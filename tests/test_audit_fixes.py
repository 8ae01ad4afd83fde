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


def test_openai_provider_needs_no_httpx_of_its_own(chat_server, monkeypatch) -> None:
    """``httpx`` is no dependency of jido_magics (recent ``openai`` SDKs use ``httpx2``): on a
    machine without it every openai exchange failed with "No module named 'httpx'". The
    provider uses what the SDK exports, and still names timeouts and broken connections."""
    import importlib.util
    import sys

    import pytest
    import sse_server as sse

    from jido_magics import Registry
    from jido_magics.agents import ChatFailed
    from jido_magics.agents.exchange import send_message

    if importlib.util.find_spec("httpx2") is None:
        pytest.skip("this openai SDK is built on httpx itself")
    monkeypatch.setitem(sys.modules, "httpx", None)  # as if it were not installed
    monkeypatch.setenv("JIDO_MAGICS_TIMEOUT", "0.5")
    session = Registry().create("r", provider="openai", model="m", base_url=chat_server.url)
    chat_server.push(sse.reply("Fine ", "here."))
    assert send_message(session, "hi").content == "Fine here."
    for response, reason in (
        (sse.Stream([sse.content("Half "), sse.content("way")], stall_after=1), "timeout"),
        (sse.Stream([sse.content("Pa"), sse.content("rt")], drop_after=1), "broke during"),
    ):
        chat_server.push(response)
        with pytest.raises(ChatFailed) as caught:
            send_message(session, "again")
        assert reason in str(caught.value), str(caught.value)
        assert session.messages[-1].status == "error"
