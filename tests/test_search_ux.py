"""``%session search`` as a new user meets it: an interrupted first search, the sentences
when nothing matches, reaching a saved hit, and queries that start with ``-``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest
from IPython.core.error import UsageError
from magic_helpers import extension_loaded
from test_search import _saved_session, _three_left_to_the_search

import jido_magics
from jido_magics.persistence import saved_search, text_index


@pytest.mark.usefixtures("settled")
def test_an_interrupted_first_search_is_one_line_and_keeps_its_work(
    shell, registry, capsys, monkeypatch
) -> None:
    _three_left_to_the_search(shell, registry, monkeypatch)
    real_put = text_index.put
    calls = []

    def put(*args, **kwargs) -> int:
        """The real put; Ctrl-C arrives while SQLite reads the second file's messages."""
        calls.append(args[3])
        if len(calls) == 2:
            *head, messages = args

            def interrupted(rows: Iterable[tuple[str, str, str]]) -> Iterator:
                for row in rows:
                    yield row
                    raise KeyboardInterrupt

            args = (*head, interrupted(messages))
        return real_put(*args, **kwargs)

    monkeypatch.setattr(saved_search.text_index, "put", put)
    capsys.readouterr()
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("session", "search otters")
    assert str(caught.value) == (
        "Search interrupted after indexing 1 of 3 saved files; "
        "the rest is indexed by the next search."
    )
    err = capsys.readouterr().err
    # The progress line was blanked out, not left cut off for the error line to follow.
    line = "Indexing saved sessions for search: 1 of 3 files…"
    assert err == f"\r{line}\r{' ' * len(line)}\r"
    # The first file stays indexed; the next search indexes the other two, then finds all.
    found = shell.run_line_magic("session", "search otters")
    assert len(found.hits) == 6
    assert len(calls) == 4 and calls[0] not in calls[2:] and calls[1] in calls[2:]
    assert "1 of 2 files" in capsys.readouterr().err


def test_what_was_searched_names_no_empty_part(shell, registry) -> None:
    nothing = shell.run_line_magic("session", "search walrus")
    assert str(nothing) == "No message matches 'walrus' in this notebook's saved sessions."
    shell.run_line_magic("session", "new alpha")
    shell.run_line_magic("chat", "otters")
    assert str(shell.run_line_magic("session", "search walrus")) == (
        "No message matches 'walrus' in 1 open session and this notebook's saved sessions."
    )


def test_showing_a_saved_hit_says_how_to_open_it(shell, registry) -> None:
    path = _saved_session(shell, registry, "topic", "a walrus on the ice")
    saved_id = path.stem
    hit = shell.run_line_magic("session", "search walrus").hits[0]
    assert (hit.session_id, hit.open) == (saved_id, False)
    for target in (saved_id, "topic", "TOP"):
        with pytest.raises(UsageError) as caught:
            shell.run_line_magic("session", f"show {target} --at {hit.number}")
        assert str(caught.value) == (
            f"'topic' is saved, not open: %session resume {saved_id} opens it "
            f"(then %session show --at {hit.number})."
        )
    shell.run_line_magic("session", f"resume {saved_id}")  # the advice works
    page = shell.run_line_magic("session", f"show --at {hit.number}")
    assert "walrus" in str(page)
    with pytest.raises(UsageError, match=r"^No open session matches 'nothing'"):
        shell.run_line_magic("session", "show nothing")


def test_hits_in_sessions_of_one_name_show_their_ids(shell, registry) -> None:
    first = _saved_session(shell, registry, "keeper", "the walrus sleeps").stem
    second = _saved_session(shell, registry, "keeper", "the walrus swims").stem
    _saved_session(shell, registry, "other", "one walrus")
    found = shell.run_line_magic("session", "search walrus")
    places = {row[0] for row in found.rows}
    assert places == {f"keeper (saved, {first})", f"keeper (saved, {second})", "other (saved)"}
    assert f"keeper (saved, {first})" in str(found)


def test_a_search_that_finds_nothing_names_a_renamed_notebooks_folder(
    ipython_shell, workdir
) -> None:
    shell = ipython_shell
    report = workdir / "report.ipynb"
    report.write_text("{}")
    shell.user_ns["__session__"] = str(report)
    try:
        with extension_loaded(shell):
            _saved_session(shell, jido_magics.get_registry(), "analysis", "the walrus")
            assert len(shell.run_line_magic("session", "search walrus").hits) == 2
        report.rename(workdir / "final.ipynb")
        shell.user_ns["__session__"] = str(workdir / "final.ipynb")
        with extension_loaded(shell):  # the restarted kernel
            listing = str(shell.run_line_magic("session", "resume")).splitlines()[-1]
            nothing = str(shell.run_line_magic("session", "search walrus"))
            assert nothing.splitlines() == [
                "No message matches 'walrus' in this notebook's saved sessions.",
                listing,
            ]
            assert listing.startswith("Other sessions folders beside it: report.sessions (1 ")
            # Only the saved sessions were searched for the note to apply.
            assert str(shell.run_line_magic("session", "search walrus --open")) == (
                "No message matches 'walrus' in 0 open sessions."
            )
    finally:
        shell.user_ns.pop("__session__", None)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("search -kelp", ["-kelp"]),
        ("search walrus -kelp", ["walrus", "-kelp"]),
        ("search -kelp --limit 1 walrus", ["-kelp", "walrus"]),
        ("search --open -- --kelp", ["--kelp"]),
    ],
)
def test_words_that_start_with_a_dash_are_searched(shell, line: str, words: list[str]) -> None:
    shell.run_line_magic("session", "new alpha")
    shell.run_line_magic("chat", "the walrus eats kelp")
    shell.run_line_magic("session", "new beta")
    shell.run_line_magic("chat", "the walrus swims")
    found = shell.run_line_magic("session", line)
    assert found.query == " ".join(words)
    names = {hit.session_name for hit in found.hits}
    assert names == ({"alpha"} if "kelp" in found.query else {"alpha", "beta"})
    assert len(found.hits) == (1 if "--limit 1" in line else 2 * len(names))


def test_search_options_still_work_and_a_mistyped_one_is_refused(shell) -> None:
    shell.run_line_magic("session", "new alpha")
    shell.run_line_magic("chat", "the walrus eats kelp")
    shell.run_line_magic("session", "new beta")
    found = shell.run_line_magic("session", "search kelp --session alpha --limit=1 --open")
    assert [(h.session_name, h.number) for h in found.hits] == [("alpha", 2)]
    with pytest.raises(UsageError, match=r"unrecognized arguments: --limt.*--limit"):
        shell.run_line_magic("session", "search kelp --limt 1")
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("session", "search --kelp")
    assert "%session search -- --kelp takes it as a word." in str(caught.value)
    assert "\n" not in str(caught.value)
    assert len(shell.run_line_magic("session", "search -- --kelp").hits) == 2
    with pytest.raises(UsageError, match="expected one argument"):
        shell.run_line_magic("session", "search kelp --limit")
