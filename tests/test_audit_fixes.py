"""Defects found by the fresh-eyes audit of the contract (DESIGN.md §3–§7), each proved by a
test that failed before its fix."""

from __future__ import annotations

import json

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


def test_real_kernel_saves_beside_the_notebook_and_at_shutdown(tmp_path) -> None:
    """A kernel started as Jupyter starts one (``JPY_SESSION_NAME`` = the notebook's path,
    which ipykernel also sets as ``__session__``) saves into ``report.sessions/`` beside the
    notebook, not into its working folder; a restart (a clean shutdown) saves the changes made
    since the last exchange, and the new kernel resumes them."""
    import json
    import os

    from jupyter_client.manager import KernelManager

    notebook_dir = tmp_path / "project"
    notebook_dir.mkdir()
    notebook = notebook_dir / "report.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = dict(os.environ, JPY_SESSION_NAME=str(notebook))
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(elsewhere))
    client = manager.client()
    client.start_channels()

    def execute(code: str) -> str:
        msg_id = client.execute(code)
        out = []
        while True:
            msg = client.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append(f"ERROR {msg['content']['ename']}: {msg['content']['evalue']}")
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)

    try:
        client.wait_for_ready(timeout=60)
        execute("%load_ext jido_magics")
        assert str(notebook_dir / "report.sessions") in execute("%session where")
        execute("%session new first")
        execute("%chat hello")  # autosaved after the exchange
        execute("%session rename renamed")
        execute(
            "import jido_magics\n"
            "jido_magics.get_registry().active.add_message('user', 'after the exchange')"
        )
        manager.restart_kernel(now=False, env=env)  # a clean shutdown, then a new kernel
        client.wait_for_ready(timeout=60)
        execute("%load_ext jido_magics")
        assert "Resumed 'renamed'" in execute("%session resume renamed")
        state = execute(
            "import json, jido_magics\n"
            "s = jido_magics.get_registry().active\n"
            "print(json.dumps([s.name, s.dirty, [m.content for m in s.messages]]))"
        )
        name, dirty, contents = json.loads(state)
        assert (name, dirty) == ("renamed", False)
        assert contents[0] == "hello" and contents[-1] == "after the exchange"
        assert len(contents) == 3
        assert os.listdir(elsewhere) == []
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_chat_lines_inside_string_literals_are_left_alone(shell) -> None:
    """The ``%chat`` input transform rewrote every line starting with ``%chat``, also inside a
    triple-quoted string, silently changing the user's data; real ``%chat`` lines around such
    strings (apostrophes included) still run."""
    import jido_magics

    source = (
        'doc = """Usage:\n'
        "%chat hello\n"
        '"""\n'
        "other = '''\n"
        "  %chat indented, it's text\n"
        "'''\n"
        "def f():\n"
        '    """Docstring with\n'
        "    %chat inside\n"
        '    """\n'
        "%chat it's a real one\n"
        "text = \"a '''quote''' in a string\"  # and ''' in a comment\n"
        "%chat second real one\n"
    )
    result = shell.run_cell(source, store_history=True)
    assert result.success, result.error_in_exec or result.error_before_exec
    assert shell.user_ns["doc"] == "Usage:\n%chat hello\n"
    assert shell.user_ns["other"] == "\n  %chat indented, it's text\n"
    assert "%chat inside" in shell.user_ns["f"].__doc__
    sent = [m.content for m in jido_magics.get_registry().active.messages if m.role == "user"]
    assert sent == ["it's a real one", "second real one"]


def test_tool_results_never_carry_the_api_key(chat_server, tmp_path, monkeypatch) -> None:
    """A key typed in a cell (``%session config api_key=...``) or held in a variable reached
    the model through ``read_recent_cells`` / ``describe_variable``, and the tool results were
    kept in the session, its saved file and its exports. Tool results hide it."""
    import sse_server as sse

    from jido_magics import Registry
    from jido_magics.agents.exchange import send_message
    from jido_magics.export import render
    from jido_magics.persistence import KeyRing, SessionStore

    other = "sk-env-ZyXwVuTsRqPoNm9876"
    monkeypatch.setenv("OPENAI_API_KEY", other)
    session = Registry().create(
        "r", provider="openai", model="m", base_url=chat_server.url, api_key=SECRET
    )
    namespace = {
        "In": ["", f"%session config api_key={SECRET}", f"os.environ['X'] = '{other}'"],
        "key": SECRET,
    }
    chat_server.push(
        sse.Stream(
            [
                sse.tool_call(0, "call_a", "read_recent_cells", '{"count": 5}'),
                sse.tool_call(1, "call_b", "describe_variable", '{"name": "key"}'),
                sse.finish("tool_calls"),
            ]
        ),
        sse.reply("Done."),
    )
    assert send_message(session, "What did I run?", namespace=namespace).content == "Done."
    results = [call.result or "" for call in session.tool_calls]
    assert len(results) == 2 and all("[key hidden]" in r for r in results), results
    path = SessionStore(tmp_path, keys=KeyRing([b"k" * 32])).save(session).path
    for text in (
        json.dumps(chat_server.requests[-1]),
        "".join(m.content for m in session.messages),
        "".join(results),
        path.read_text(),
        render(session, "md").decode(),
    ):
        assert SECRET not in text and other not in text


def test_resume_as_the_eleventh_session_is_one_line_and_loses_nothing(
    shell, registry, workdir
) -> None:
    from magic_helpers import one_line_usage_error

    run(shell, "new kept")
    registry.active.add_message("user", "saved text")
    run(shell, "close kept")  # autosaved first
    for i in range(10):
        run(shell, f"new open{i}")
    path = next((workdir / ".sessions").iterdir())
    before = (path.read_bytes(), [s.name for s in registry.sessions], registry.active)
    message = one_line_usage_error(shell, "resume kept")
    assert "10 sessions are open" in message and "close one first" in message
    assert (path.read_bytes(), [s.name for s in registry.sessions], registry.active) == before
    run(shell, "close open9")
    run(shell, "resume kept")
    assert [m.content for m in registry.active.messages] == ["saved text"]


def test_close_with_autosave_off_says_the_changes_were_not_saved(
    shell, registry, workdir, capsys
) -> None:
    """The manual says close saves unless --no-save; with autosave off it does not, and it
    said nothing about the changes it dropped."""
    shell.run_line_magic("config", "SessionMagics.autosave = False")
    try:
        run(shell, "new manual")
        registry.active.add_message("user", "typed")
        run(shell, "new clean")
        capsys.readouterr()
        run(shell, "close manual")
        out = capsys.readouterr().out
        assert "Closed session 'manual'" in out and "not saved" in out and "autosave" in out
        run(shell, "close clean")  # nothing to lose: no note
        assert "not saved" not in capsys.readouterr().out
        assert not (workdir / ".sessions").exists()
    finally:
        shell.run_line_magic("config", "SessionMagics.autosave = True")


def test_resume_by_name_of_an_unverified_file_points_at_its_status(shell, workdir) -> None:
    """A colleague's file (another key) cannot show its name before it is verified, so
    ``%session resume NAME`` said there was no such session at all; it now says some files
    could not be verified and how to see why."""
    from magic_helpers import one_line_usage_error

    from jido_magics import Session
    from jido_magics.persistence import KeyRing, SessionStore

    theirs = Session("shared")
    theirs.add_message("user", "from a colleague")
    SessionStore(workdir / ".sessions", keys=KeyRing([b"c" * 32])).save(theirs)
    message = one_line_usage_error(shell, "resume shared")
    assert "1 saved file could not be verified" in message and "%session resume" in message
    assert "%session trust" in message
