"""``%session new|list|switch|rename|close`` and load/unload, in a real InteractiveShell."""

from __future__ import annotations

import pytest
from magic_helpers import extension_loaded, one_line_usage_error, run

import jido_magics


def names(registry) -> list[str]:
    return [s.name for s in registry.sessions]


def test_load_ext_creates_no_session(shell, registry) -> None:
    assert registry.sessions == () and registry.active is None


def test_get_registry_is_the_shells(shell) -> None:
    registry = jido_magics.get_registry()
    run(shell, "new analysis")
    assert registry.active.name == "analysis"


def test_new_quoted_names_and_options(shell, registry, capsys) -> None:
    run(shell, "new analysis")
    run(shell, 'new "my chat" --model gpt-4o-mini --provider openai --system "Be terse."')
    s = registry.active
    assert (s.name, s.config.provider, s.config.model) == ("my chat", "openai", "gpt-4o-mini")
    assert s.config.system_prompt == "Be terse."
    assert "Created session 'my chat'" in capsys.readouterr().out
    run(shell, "new")
    assert names(registry) == ["analysis", "my chat", "session-1"]


def test_list_returns_a_table(shell, registry) -> None:
    run(shell, "new analysis")
    run(shell, "new draft --model m1")
    registry.get("analysis").add_message("user", "hi")
    listing = run(shell, "list")
    lines = str(listing).splitlines()
    assert lines[0].split() == [
        "#",
        "name",
        "id",
        "messages",
        "reasoning",
        "tools",
        "provider/model",
        "state",
        "cost",
    ]
    assert lines[1].split()[:4] == ["1", "analysis", registry.get("analysis").id, "1"]
    assert lines[2].split()[:3] == ["2", "*", "draft"] and "offline/m1" in lines[2]
    assert repr(listing) == str(listing)


def test_list_with_no_sessions(shell) -> None:
    assert "No session is open" in str(run(shell, "list"))


@pytest.mark.parametrize("target", ["1", "analysis", "ANALYSIS", "ana"])
def test_switch_by_index_name_prefix(shell, registry, target: str) -> None:
    run(shell, "new analysis")
    run(shell, "new draft")
    run(shell, f"switch {target}")
    assert registry.active.name == "analysis"


def test_switch_by_id(shell, registry) -> None:
    a = registry.create("analysis")
    registry.create("draft")
    run(shell, f"switch {a.id}")
    assert registry.active is a


def test_rename_active_and_named(shell, registry) -> None:
    run(shell, "new analysis")
    run(shell, "new draft")
    run(shell, 'rename "final draft"')
    run(shell, "rename main --session 1")
    assert names(registry) == ["main", "final draft"]


def test_close_active_and_named(shell, registry, capsys) -> None:
    for name in ("a1", "b2", "c3"):
        run(shell, f"new {name}")
    run(shell, "close --no-save")
    assert names(registry) == ["a1", "b2"] and registry.active.name == "b2"
    run(shell, "close a1 --no-save")
    assert names(registry) == ["b2"]
    assert "Closed session 'a1'" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("setup", "line", "expected"),
    [
        ([], "switch analysis", "No session is open"),
        (["new a"], "switch nothere", "No open session matches 'nothere'"),
        (["new alpha", "new alps"], "switch al", "Ambiguous session 'al': matches 'alpha', 'alps'"),
        ([], 'new ""', "cannot be empty"),
        ([], "new " + "x" * 51, "at most 50"),
        (["new Analysis"], "new analysis", "already open"),
        (["new a", "new b"], "rename A", "already open"),
        ([], "frobnicate", "Unknown subcommand 'frobnicate'"),
        ([], "", "needs a subcommand"),
        ([], "new a --colour red", "unrecognized arguments: --colour red"),
        ([], 'new "unclosed', "close the quote"),
        ([], "switch", "the following arguments are required: target"),
        ([], "rename x", "No session is open"),
        ([], "close", "No session is open"),
        ([], "new a --base-url ftp://x", "base_url"),
        ([], "new a b", "unrecognized arguments: b"),
        ([], "new a --provider nope", "Unknown provider 'nope': use one of offline, openai"),
    ],
)
def test_mistakes_are_one_line_and_change_nothing(shell, registry, setup, line, expected) -> None:
    for step in setup:
        run(shell, step)
    before = (registry.sessions, registry.active, [s.name for s in registry.sessions])
    message = one_line_usage_error(shell, line)
    assert expected in message
    assert (registry.sessions, registry.active, [s.name for s in registry.sessions]) == before


def test_index_out_of_range_is_one_line(shell, registry) -> None:
    from jido_magics.core import Session

    registry.add(Session("a", id="fixedid1"))  # a random id could start with "3" and match
    message = one_line_usage_error(shell, "switch 3")
    assert "There is no session number 3" in message and registry.active.name == "a"


def test_eleventh_session(shell, registry) -> None:
    for i in range(10):
        run(shell, f"new s{i}")
    message = one_line_usage_error(shell, "new s10")
    assert "10 sessions are open" in message and len(registry) == 10


def test_settings_are_traitlets(shell, registry) -> None:
    shell.run_line_magic("config", "SessionMagics.max_sessions = 2")
    shell.run_line_magic("config", "SessionMagics.max_messages = 3")
    try:
        run(shell, "new a")
        run(shell, "new b")
        assert "2 sessions are open" in one_line_usage_error(shell, "new c")
        for i in range(5):
            registry.active.add_message("user", str(i))
        assert [m.content for m in registry.active.messages] == ["2", "3", "4"]
    finally:
        shell.run_line_magic("config", "SessionMagics.max_sessions = 10")
        shell.run_line_magic("config", "SessionMagics.max_messages = 1000")


def test_default_provider_from_environment(shell, registry, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    run(shell, "new plain")
    assert registry.active.config.provider == "offline"
    monkeypatch.setenv("JIDO_MAGICS_PROVIDER", "openai")
    monkeypatch.setenv("JIDO_MAGICS_MODEL", "llama3.2")
    run(shell, "new env")
    assert (registry.active.config.provider, registry.active.config.model) == ("openai", "llama3.2")


def test_python_api_sessions_follow_the_default_provider(shell, registry, monkeypatch) -> None:
    shell.run_line_magic("config", "SessionMagics.default_provider = 'openai'")
    try:
        monkeypatch.setenv("JIDO_MAGICS_MODEL", "llama3.2")
        s = jido_magics.get_registry().create("from python")
        assert (s.config.provider, s.config.model) == ("openai", "llama3.2")
        assert registry.create("explicit", provider="offline").config.provider == "offline"
    finally:
        shell.run_line_magic("config", "SessionMagics.default_provider = ''")


def test_manual_is_the_docstring(shell) -> None:
    doc = shell.find_line_magic("session").__doc__
    for sub in ("new [NAME]", "list", "switch TARGET", "rename NEW_NAME", "close [TARGET]"):
        assert f"%session {sub}" in doc


def test_unload_leaves_nothing_behind(ipython_shell, workdir) -> None:
    shell = ipython_shell
    before_line = set(shell.magics_manager.magics["line"])
    before_cell = set(shell.magics_manager.magics["cell"])
    before_registry = set(shell.magics_manager.registry)
    before_configurables = len(shell.configurables)
    before_matchers = list(shell.Completer.custom_matchers)
    shell.run_line_magic("load_ext", "jido_magics")
    assert "session" in shell.magics_manager.magics["line"]
    shell.run_line_magic("session", "new temp")
    shell.run_line_magic("unload_ext", "jido_magics")
    assert set(shell.magics_manager.magics["line"]) == before_line
    assert set(shell.magics_manager.magics["cell"]) == before_cell
    assert set(shell.magics_manager.registry) == before_registry
    assert len(shell.configurables) == before_configurables
    assert shell.Completer.custom_matchers == before_matchers
    from jido_magics.interface.extension import extension_for

    assert extension_for(shell) is None
    with extension_loaded(shell):
        assert jido_magics.get_registry().sessions == ()


def test_unload_saves_unsaved_changes_when_autosave_is_on(ipython_shell, workdir) -> None:
    """``%unload_ext`` drops every open session: with autosave on, their unsaved changes are
    written first (as at a close or at exit), so a reload and resume loses nothing."""
    shell = ipython_shell
    with extension_loaded(shell):
        run(shell, "new first")
        session = jido_magics.get_registry().active
        session.add_message("user", "kept across the reload")
        run(shell, "rename renamed")
        run(shell, "new untouched")  # never changed: nothing to write
    with extension_loaded(shell):
        run(shell, f"resume {session.id}")
        resumed = jido_magics.get_registry().active
        assert resumed.name == "renamed" and not resumed.dirty
        assert [m.content for m in resumed.messages] == ["kept across the reload"]
        assert sorted(p.stem for p in (workdir / ".sessions").iterdir()) == [session.id]


def test_reloading_the_extension_does_not_forget_generations(ipython_shell, workdir) -> None:
    """The kernel, not one load of the extension, remembers the generations it saw: after
    ``%unload_ext`` + ``%load_ext`` an older copy put back is still refused as stale."""
    shell = ipython_shell
    with extension_loaded(shell):
        run(shell, "new s")
        session = jido_magics.get_registry().active
        session.add_message("user", "one")
        path = run(shell, "save") or workdir / ".sessions" / f"{session.id}.json"
        first = path.read_bytes()
        session.add_message("user", "two")
        run(shell, "save")
    path.write_bytes(first)  # a rollback to generation 1
    with extension_loaded(shell):
        message = one_line_usage_error(shell, f"resume {session.id}")
        assert "older than generation 2" in message
        assert jido_magics.get_registry().sessions == () and path.read_bytes() == first


def test_resume_as_the_eleventh_session_is_one_line_and_loses_nothing(
    shell, registry, workdir
) -> None:
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


def test_close_with_autosave_off_still_saves_first(shell, registry, workdir, capsys) -> None:
    """The manual says close saves unless --no-save: with autosave off too (it used to drop
    the changes with a note), so a closed conversation can always be resumed."""
    shell.run_line_magic("config", "SessionMagics.autosave = False")
    try:
        run(shell, "new manual")
        registry.active.add_message("user", "typed")
        run(shell, "new clean")
        run(shell, "new dropped")
        registry.active.add_message("user", "thrown away")
        capsys.readouterr()
        run(shell, "close manual")
        assert capsys.readouterr().out.startswith("Closed session 'manual'.")
        assert len(list((workdir / ".sessions").glob("*.json"))) == 1
        run(shell, "close clean")  # nothing changed: nothing to write
        run(shell, "close dropped --no-save")
        assert len(list((workdir / ".sessions").glob("*.json"))) == 1
        run(shell, "resume manual")
        assert [m.content for m in registry.active.messages] == ["typed"]
    finally:
        shell.run_line_magic("config", "SessionMagics.autosave = True")
