"""``%session search`` and ``show --at``: words and phrases in open and saved sessions, bad
queries as one line, hits from saved files only while they verify."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from jido_magics.core import Session
from jido_magics.core.search import (
    SNIPPET_WIDTH,
    InvalidQuery,
    parse_query,
    parse_words,
    search_sessions,
    snippet,
)
from jido_magics.persistence import cache as cache_module
from jido_magics.persistence import text_index

HOSTILE = [
    "NEAR(a b, 3)",
    "a* OR b",
    '"unclosed phrase',
    "col:word",
    "^start AND NOT x",
    "(a) + {b}",
    '"a" "" "b',
    "a\x00b",
    "ü ß Σ σ 中文",
    "-x --y",
    "'single' \"double\"",
    "x" * 500,
]


def test_words_and_phrases() -> None:
    query = parse_query('Hello "Big  World" again')
    assert query.terms == (("hello",), ("big", "world"), ("again",))
    assert query.fts == '"hello" "big world" "again"'
    assert query.spans("say HELLO to the big, world again") is not None
    assert query.spans("say hello to the world big again") is None  # a phrase keeps order
    assert query.spans("hellothere big world again") is None  # whole words only
    assert parse_words(["big world", "x"]).terms == (("big", "world"), ("x",))
    assert parse_words(["big-world"]).terms == (("big",), ("world",))


@pytest.mark.parametrize("text", ["", "   ", '"', '""', "*", "...!?", "( ) ^ : -"])
def test_nothing_to_search_for_is_one_line(text: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse_query(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text", HOSTILE)
def test_typed_search_syntax_is_only_words(text: str) -> None:
    """Whatever is typed becomes quoted words: SQLite never sees an operator."""
    query = parse_query(text)
    assert re.fullmatch(r'"[^\W_]+( [^\W_]+)*"( "[^\W_]+( [^\W_]+)*")*', query.fts)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(c, tokenize='unicode61 remove_diacritics 0')")
    db.execute("INSERT INTO t VALUES (?)", (text,))
    assert db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (query.fts,)).fetchone() == (1,)
    assert query.spans(text) is not None  # the in-memory match agrees


def test_snippet_is_one_short_line_with_the_match_marked() -> None:
    text = ("before\n" * 60) + "the Needle is here\n" + ("after " * 100)
    shown = snippet(text, parse_query("needle").spans(text))
    assert len(shown) <= SNIPPET_WIDTH and "\n" not in shown
    assert "«Needle»" in shown and shown.startswith("…") and shown.endswith("…")
    assert snippet("no match here", None) == "no match here"
    long_match = "word " * 100
    assert len(snippet(long_match, parse_query('"' + long_match + '"').spans(long_match))) <= 160


def test_open_sessions_newest_first() -> None:
    a, b = Session("a"), Session("b")
    a.add_message("user", "apple one")
    b.add_message("user", "apple two")
    a.add_message("assistant", "banana")
    a.add_message("user", "APPLE three")
    hits = search_sessions([a, b], parse_query("apple"), 10)
    assert [(h.session_name, h.number, h.role) for h in hits] == [
        ("a", 3, "user"),
        ("b", 1, "user"),
        ("a", 1, "user"),
    ]
    assert [h.session_name for h in search_sessions([a, b], parse_query("apple"), 2)] == ["a", "b"]


def _chat(shell, session: str, *texts: str) -> None:
    shell.run_line_magic("session", f"new {session}")
    for text in texts:
        shell.run_line_magic("chat", text)


def test_search_open_and_saved(shell, registry, capsys) -> None:
    _chat(shell, "alpha", "tell me about otters", "and the river")
    _chat(shell, "beta", "otters again, please")
    shell.run_line_magic("session", "save --all")
    shell.run_line_magic("session", "close alpha --no-save")
    capsys.readouterr()
    found = shell.run_line_magic("session", "search otters")
    rows = [(h.session_name, h.number, h.role, h.open) for h in found.hits]
    # beta's newest first (open), then alpha's (saved); offline replies quote the prompt
    assert rows == [
        ("beta", 2, "assistant", True),
        ("beta", 1, "user", True),
        ("alpha", 2, "assistant", False),
        ("alpha", 1, "user", False),
    ]
    text = str(found)
    assert text.splitlines()[0].split() == ["session", "msg", "role", "time", "(UTC)", "text"]
    assert "alpha (saved)" in text and "«otters»" in text
    assert [
        h.session_name for h in shell.run_line_magic("session", "search otters --open").hits
    ] == ["beta", "beta"]
    only = shell.run_line_magic("session", "search otters --session alpha --limit 1")
    assert [(h.session_name, h.number) for h in only.hits] == [("alpha", 2)]
    assert len(shell.run_line_magic("session", 'search "the river"').hits) == 2
    assert len(shell.run_line_magic("session", 'search "river the"').hits) == 0
    empty = shell.run_line_magic("session", "search walrus")
    assert len(empty) == 0 and str(empty).startswith("No message matches 'walrus'")


@pytest.mark.parametrize(
    "line",
    ["search", 'search "', "search *", "search ...", "search x --limit 0", "search x --limit z"],
)
def test_bad_search_lines_are_one_line(shell, line: str) -> None:
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("session", line)
    assert "\n" not in str(caught.value) and "sqlite" not in str(caught.value).lower()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_in_the_magic(shell, text: str) -> None:
    _chat(shell, "alpha", "plain words")
    shell.run_line_magic("session", "save")
    shell.run_line_magic("session", "close --no-save")
    line = "search " + text.replace("\x00", "")
    try:
        result = shell.run_line_magic("session", line)
    except UsageError as exc:
        assert "\n" not in str(exc) and "sqlite" not in str(exc).lower()
    else:
        assert len(result) == 0


def _saved_session(shell, registry, name: str, text: str) -> Path:
    _chat(shell, name, text)
    session = registry.get(name)
    shell.run_line_magic("session", f"close {name}")
    return Path(".sessions") / f"{session.id}.json"


def test_hits_only_from_files_that_verify(shell, registry, settled) -> None:
    path = _saved_session(shell, registry, "alpha", "secret plans")
    assert len(shell.run_line_magic("session", "search secret").hits) == 2  # indexed
    data = bytearray(path.read_bytes())
    index = data.index(b"plans")
    data[index] ^= 0x20
    stat = os.stat(path)
    while True:  # in place, same size and mtime, until the (coarse) ctime moved
        with open(path, "r+b") as f:
            f.write(data)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        if os.stat(path).st_ctime_ns != stat.st_ctime_ns:
            break
        time.sleep(0.001)
    assert shell.run_line_magic("session", "search secret").hits == ()
    assert "tampered" in str(shell.run_line_magic("session", "resume"))


def test_a_replaced_file_is_indexed_again(shell, registry, settled) -> None:
    path = _saved_session(shell, registry, "alpha", "first words")
    assert len(shell.run_line_magic("session", "search first").hits) == 2
    shell.run_line_magic("session", "resume alpha")
    shell.run_line_magic("chat", "second thoughts")
    shell.run_line_magic("session", "close alpha")
    assert path.exists()
    assert len(shell.run_line_magic("session", "search second").hits) == 2
    assert [h.number for h in shell.run_line_magic("session", "search first").hits] == [2, 1]
    shell.run_line_magic("session", "delete alpha")
    assert shell.run_line_magic("session", "search first").hits == ()


def test_search_without_the_cache(shell, registry, tmp_path, monkeypatch, capsys) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv(cache_module.CACHE_ENV, str(blocker))
    _saved_session(shell, registry, "alpha", "quiet lake")
    capsys.readouterr()
    found = shell.run_line_magic("session", "search lake")
    assert [(h.session_name, h.number, h.open) for h in found.hits] == [
        ("alpha", 2, False),
        ("alpha", 1, False),
    ]
    assert "off for this kernel" in capsys.readouterr().err


def test_show_at_message(shell, registry) -> None:
    shell.run_line_magic("session", "new long")
    session = registry.get("long")
    for i in range(120):
        session.add_message("user", f"message {i + 1}")
    page = shell.run_line_magic("session", "show long --at 51")
    assert page.number == 2 and "message 51" in str(page)
    assert shell.run_line_magic("session", "show long --at 1").number == 1
    with pytest.raises(UsageError, match="Message 121 does not exist"):
        shell.run_line_magic("session", "show long --at 121")
    with pytest.raises(UsageError, match="not both"):
        shell.run_line_magic("session", "show long --at 1 --page 1")


def _load_in(ipython_shell, folder: Path, capsys) -> str:
    capsys.readouterr()
    ipython_shell.run_line_magic("load_ext", "jido_magics")
    try:
        return capsys.readouterr().out
    finally:
        ipython_shell.run_line_magic("unload_ext", "jido_magics")


def test_startup_hint(ipython_shell, workdir, capsys) -> None:
    ipython_shell.user_ns.pop("__session__", None)
    assert _load_in(ipython_shell, workdir, capsys) == ""  # nothing saved: nothing said
    folder = workdir / ".sessions"
    folder.mkdir()
    for name in ("aaaa1111.json", "bbbb2222.json", "cccc3333.json", "notes.txt", ".x.json"):
        (folder / name).write_text("{}\n")
    out = _load_in(ipython_shell, workdir, capsys)
    assert out == "3 saved sessions beside this notebook: %session resume lists them.\n"
    ipython_shell.config.SessionMagics.startup_hint = False
    try:
        assert _load_in(ipython_shell, workdir, capsys) == ""
    finally:
        del ipython_shell.config.SessionMagics["startup_hint"]


@pytest.mark.parametrize("few", [1, 2000])
def test_frequent_and_rare_words_give_the_same_newest_hits(
    shell, registry, monkeypatch, few
) -> None:
    """Interleaved sessions: a frequent word (searched file by file) and a rare one (sorted
    at once) both give the globally newest hits."""
    monkeypatch.setattr(text_index, "_FEW", few)
    sessions = [Session(name) for name in ("one", "two", "three")]
    for i in range(30):
        sessions[(i * 7) % 3].add_message("user", f"common word number {i}")
    store = registry_store(shell)
    for session in sessions:
        store.save(session)
    found = shell.run_line_magic("session", "search common --limit 7")
    expected = sorted(
        ((m.created_at, s.name, n) for s in sessions for n, m in enumerate(s.messages, 1)),
        reverse=True,
    )[:7]
    assert [(h.created_at, h.session_name, h.number) for h in found.hits] == expected


def registry_store(shell):  # type: ignore[no-untyped-def]
    from jido_magics.interface.extension import extension_for

    return extension_for(shell).store


def test_search_after_the_cache_was_deleted(shell, registry, cache_folder, settled) -> None:
    """The kernel's memory of its last listing does not hide files from a new database."""
    _saved_session(shell, registry, "alpha", "deep lake")
    assert len(shell.run_line_magic("session", "search lake").hits) == 2
    str(shell.run_line_magic("session", "resume"))
    cache_module.close_all()
    for path in cache_folder.iterdir():
        path.unlink()
    assert len(shell.run_line_magic("session", "search lake").hits) == 2


def _three_left_to_the_search(shell, registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions alpha, beta and gamma saved (two messages each, about otters) and left for a
    search to index (no background thread), its progress line shown from the first file."""
    from jido_magics.interface.commands import search as search_command
    from jido_magics.interface.extension import extension_for

    extension_for(shell).magics.background_index = False
    for name in ("alpha", "beta", "gamma"):
        _saved_session(shell, registry, name, f"{name} talks about otters")
    monkeypatch.setattr(search_command, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(search_command, "PROGRESS_EVERY", 0.0)


def test_a_search_that_indexes_shows_one_updating_line(
    shell, registry, settled, capsys, monkeypatch
) -> None:
    _three_left_to_the_search(shell, registry, monkeypatch)
    capsys.readouterr()
    found = shell.run_line_magic("session", "search otters")
    assert len(found.hits) == 6  # three files, two messages each
    err = capsys.readouterr().err
    # One line, rewritten in place (\r) per file, ended once the last file is indexed.
    assert err.count("\n") == 1 and err.endswith("\n")
    steps = err.rstrip("\n").split("\r")[1:]
    assert [s.rstrip() for s in steps[:2]] == [
        "Indexing saved sessions for search: 1 of 3 files…",
        "Indexing saved sessions for search: 2 of 3 files…",
    ]
    assert steps[2].startswith("Indexed 3 saved session files for search in ")
    # Indexed now: the next search indexes nothing and prints nothing.
    assert len(shell.run_line_magic("session", "search otters").hits) == 6
    assert capsys.readouterr().err == ""


def test_a_file_another_kernel_removed_from_the_cache_is_searched(
    shell, registry, cache_folder, settled
) -> None:
    """This kernel lists unchanged files from its memory; a search still finds a file whose
    cache row another kernel removed meanwhile (it is recorded and indexed again)."""
    path = _saved_session(shell, registry, "alpha", "deep lake")
    assert len(shell.run_line_magic("session", "search lake").hits) == 2
    with sqlite3.connect(cache_folder / cache_module.DATABASE, isolation_level=None) as db:
        db.execute("DELETE FROM files WHERE file_id=?", (path.stem,))
    hits = shell.run_line_magic("session", "search lake").hits
    assert [(h.session_name, h.number) for h in hits] == [("alpha", 2), ("alpha", 1)]
