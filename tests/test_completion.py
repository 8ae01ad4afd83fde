"""Tab completion of ``%session`` and ``%%chat`` in the real shell's completer."""

from __future__ import annotations

import pytest
from IPython.core.completer import provisionalcompleter

from jido_magics.interface.commands import command_table
from jido_magics.interface.completion import MATCHER_ID, SAVED_TARGETS, split_partial
from jido_magics.interface.parsing import split_words


def complete(shell, text: str) -> list[str]:
    """The line as it reads after accepting each completion the completer offers."""
    with provisionalcompleter():
        found = list(shell.Completer.completions(text, len(text)))
    return [text[: c.start] + c.text + text[c.end :] for c in found]


def ours(shell, text: str) -> list[str]:
    """Our completions that change the line (where nothing fits, ours is a no-op: the text)."""
    with provisionalcompleter():
        found = list(shell.Completer.completions(text, len(text)))
    lines = [text[: c.start] + c.text for c in found if c.type == "jido_magics"]
    return [line for line in lines if line != text]


@pytest.fixture
def three(registry):
    # No name starts with a hex digit, so no random id matches the prefixes used below.
    for name in ("plum", "my chat", "Pear"):
        registry.create(name)
    return registry


def test_subcommands_complete_in_manual_order(shell) -> None:
    assert complete(shell, "%session ") == [f"%session {name}" for name in command_table()]
    assert complete(shell, "%session sw") == ["%session switch"]
    assert complete(shell, "%session SH") == ["%session show"]


def test_session_names_complete_for_targets(shell, three) -> None:
    assert complete(shell, "%session switch ") == [
        "%session switch plum",
        '%session switch "my chat"',
        "%session switch Pear",
    ]
    assert complete(shell, "%session switch p") == [
        "%session switch plum",
        "%session switch Pear",
    ]
    targeted = [
        c.name
        for c in command_table().values()
        if "TARGET" in c.usage.split(" ")[0] and c.name not in {*SAVED_TARGETS, "undelete"}
    ]
    assert {"switch", "close", "show", "export", "save"} <= set(targeted)
    for command in targeted:
        assert complete(shell, f"%session {command} m") == [f'%session {command} "my chat"']


def test_completed_names_are_read_back_as_one_word(shell, three) -> None:
    three.create('say "hi" \\ now')
    (line,) = complete(shell, "%session switch sa")
    assert split_words(line) == ["%session", "switch", 'say "hi" \\ now']
    shell.run_line_magic("session", line.removeprefix("%session "))
    assert three.active.name == 'say "hi" \\ now'


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ('%session switch "my', '%session switch "my chat"'),
        ("%session switch 'my", "%session switch 'my chat'"),
        ("%session switch my", '%session switch "my chat"'),
        ("%session switch MY c", None),  # two words typed: nothing of ours
    ],
)
def test_open_quotes_are_completed_in_the_same_quote(shell, three, typed, expected) -> None:
    assert ours(shell, typed) == ([expected] if expected else [])


def test_ids_complete_when_no_name_matches(shell, three) -> None:
    alpha = three.get("Pear")
    prefix = alpha.id[:6]
    if any(s.name.casefold().startswith(prefix) for s in three.sessions):
        pytest.skip("an id prefix that is also a name prefix")
    assert complete(shell, f"%session show {prefix}") == [f"%session show {alpha.id}"]


def test_only_the_first_positional_is_a_target(shell, three) -> None:
    assert ours(shell, "%session switch plum ") == []
    assert ours(shell, "%session rename ") == []  # NEW_NAME is free text
    assert ours(shell, "%session rename new --session m") == [
        '%session rename new --session "my chat"'
    ]
    assert ours(shell, "%session show --page 2 p") == [
        "%session show --page 2 plum",
        "%session show --page 2 Pear",
    ]


def test_options_and_their_values(shell, three) -> None:
    assert complete(shell, "%session export --f") == [
        "%session export --format",
        "%session export --force",
    ]
    assert complete(shell, "%session export --format ") == [
        f"%session export --format {f}" for f in ("md", "ipynb", "json")
    ]
    assert complete(shell, "%session new x --provider o") == [
        "%session new x --provider offline",
        "%session new x --provider openai",
    ]
    assert complete(shell, "%session close --n") == ["%session close --no-save"]
    assert ours(shell, "%session show --page ") == []


def test_config_keys(shell, three) -> None:
    assert complete(shell, "%session config te") == ["%session config temperature="]
    assert complete(shell, "%session config sy") == ["%session config system="]
    assert complete(shell, "%session config model=x provider=o") == [
        "%session config model=x provider=offline",
        "%session config model=x provider=openai",
    ]
    assert ours(shell, "%session config temperature=") == []
    assert complete(shell, "%session config --session m") == ['%session config --session "my chat"']


def test_chat_session_option(shell, three) -> None:
    assert complete(shell, "%%chat --session ") == [
        "%%chat --session plum",
        '%%chat --session "my chat"',
        "%%chat --session Pear",
    ]
    assert complete(shell, "%chat --") == [
        "%chat --session",
        "%chat --interpolate",
        "%chat --code",
        "%chat --error",
    ]
    assert complete(shell, "%%chat --interpolate --session P") == [
        "%%chat --interpolate --session plum",
        "%%chat --interpolate --session Pear",
    ]
    assert ours(shell, "%chat tell me about --s") == []  # message text, not options


def test_assignment_form_and_other_lines(shell, three) -> None:
    assert complete(shell, "listing = %session li") == ["listing = %session list"]
    assert ours(shell, "print('%session sw") == []
    assert ours(shell, "%sessionx sw") == []
    assert ours(shell, "%%session sw") == []


def test_other_completions_still_work(shell, three) -> None:
    shell.user_ns["jido_value_for_completion"] = 1
    assert "jido_value_for_completion" in complete(shell, "jido_value_for_comp")
    assert "%session" in complete(shell, "%sess")


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_legacy_complete_api(shell, three) -> None:
    assert shell.complete("", "%session switch m", 17) == ("m", ['"my chat"'])
    assert shell.complete("", '%session switch "m', 18) == ('"m', ['"my chat"'])


def test_unload_removes_the_matcher(ipython_shell, workdir) -> None:
    def ids() -> list[str]:
        return [getattr(m, "matcher_identifier", None) for m in ipython_shell.Completer.matchers]

    before = list(ipython_shell.Completer.custom_matchers)
    ipython_shell.run_line_magic("load_ext", "jido_magics")
    assert ids().count(MATCHER_ID) == 1
    ipython_shell.run_line_magic("load_ext", "jido_magics")  # loading twice adds nothing
    assert ids().count(MATCHER_ID) == 1
    ipython_shell.run_line_magic("unload_ext", "jido_magics")
    assert MATCHER_ID not in ids() and ipython_shell.Completer.custom_matchers == before
    assert ours(ipython_shell, "%session sw") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ([], "", "")),
        ("switch ", (["switch"], "", "")),
        ('switch "my c', (["switch"], '"my c', "my c")),
        ("a 'b c' d", (["a", "b c"], "d", "d")),
        ('x "a\\"b', (["x"], '"a\\"b', 'a"b')),
        ("x a\\ b", (["x"], "a\\ b", "a b")),
    ],
)
def test_split_partial(text, expected) -> None:
    assert split_partial(text) == expected


def test_option_values_after_equals_and_after_flags(shell, three) -> None:
    assert complete(shell, "%session export --format=i") == ["%session export --format=ipynb"]
    assert complete(shell, "%session rename x --session=m") == [
        '%session rename x --session="my chat"'
    ]
    assert complete(shell, '%%chat --session="my') == ['%%chat --session="my chat"']
    assert ours(shell, "%session export --force m") == ['%session export --force "my chat"']
    assert ours(shell, "%session export --output out.md m") == [
        '%session export --output out.md "my chat"'
    ]
    assert ours(shell, "%session export --output ") == []  # paths: IPython's file matcher


def test_resume_and_delete_complete_saved_sessions(shell, registry) -> None:
    for name in ("plum", "my chat", "pear"):
        registry.create(name)
    shell.run_line_magic("session", "save --all")
    shell.run_line_magic("session", "close plum --no-save")
    shell.run_line_magic("session", "close pear --no-save")
    assert sorted(complete(shell, "%session resume p")) == [
        "%session resume pear",
        "%session resume plum",
    ]
    assert complete(shell, "%session delete m") == ['%session delete "my chat"']
    assert ours(shell, "%session resume plum ") == []


def test_undelete_completes_ids_in_the_trash(shell, registry) -> None:
    kept = registry.create("kept")
    gone = registry.create("gone")
    shell.run_line_magic("session", "save --all")
    shell.run_line_magic("session", f"delete {gone.id}")
    assert ours(shell, "%session undelete ") == [f"%session undelete {gone.id}"]
    assert ours(shell, f"%session undelete {kept.id[:3]}") == (
        [f"%session undelete {gone.id}"] if gone.id.startswith(kept.id[:3]) else []
    )


def test_a_name_saved_twice_completes_as_ids(shell, registry) -> None:
    first = registry.create("twin")
    shell.run_line_magic("session", "save")
    shell.run_line_magic("session", "close --no-save")
    second = registry.create("twin")
    shell.run_line_magic("session", "save")
    assert sorted(complete(shell, "%session resume tw")) == sorted(
        f"%session resume {s.id}" for s in (first, second)
    )


def test_an_unreadable_sessions_folder_completes_nothing(shell, registry, workdir) -> None:
    (workdir / ".sessions").write_text("not a folder")
    assert ours(shell, "%session resume ") == []


@pytest.mark.parametrize(
    "line",
    [
        "%chat --session ",  # no session open: nothing to offer
        "%chat --session i",
        "%session delete s",  # nothing saved
        "%session switch zz",
        "%session frobnicate ",
        "%session save --all ",
        "%%chat --session plumx",
        "%chat tell me about i",  # the message text
    ],
)
def test_after_our_magics_nothing_of_ipython_leaks_in(shell, line: str) -> None:
    """Where nothing of ours fits, completing changes nothing: no Python names (and, if, in),
    no other magics (%save, %sc)."""
    assert complete(shell, line) in ([line], [])


def test_file_paths_are_left_to_ipython(shell, workdir) -> None:
    (workdir / "notes-for-export.md").write_text("x")
    (workdir / "other.sessions").mkdir()
    assert "%session export --output notes-for-export.md" in complete(
        shell, "%session export --output notes-for"
    )
    assert "%session trust other.sessions" in " ".join(complete(shell, "%session trust other"))


def test_options_complete_as_each_parser_takes_them(shell) -> None:
    """Completion and the parser read the same declaration: every option the parser of a
    subcommand accepts is offered, in order, and nothing else."""
    for name, command in command_table().items():
        parser = command.parser()
        accepted = [o for action in parser._actions for o in action.option_strings]
        offered = [line.split()[-1] for line in ours(shell, f"%session {name} --")]
        assert offered == accepted, name
        for option in accepted:
            assert option in command.usage, (name, option)  # and the usage shows each


def test_chat_options_complete_as_parse_chat_takes_them(shell) -> None:
    from jido_magics.interface.chat import parse_chat

    offered = [line.split()[-1] for line in ours(shell, "%chat --")]
    assert offered == ["--session", "--interpolate", "--code", "--error"]
    for option in offered:
        value = " x" if option == "--session" else ""
        parse_chat(f"{option}{value} hello", None)  # each is an option %chat accepts
