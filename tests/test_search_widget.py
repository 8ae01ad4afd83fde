"""The widget's search box: hits newest first, and choosing one shows the page holding its
message (resuming a saved session first)."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from jido_magics.interface.commands.widget import session_view
from jido_magics.interface.extension import extension_for


@pytest.fixture
def view(shell):  # type: ignore[no-untyped-def]
    view = session_view(extension_for(shell))
    yield view
    view.close()


def test_the_box_is_part_of_the_widget(view) -> None:  # type: ignore[no-untyped-def]
    box = view.search_box
    assert box.widget in view.widget.children
    assert "jido-search" in box.widget._dom_classes


def test_choosing_an_open_hit_shows_its_page(shell, registry, view) -> None:  # type: ignore[no-untyped-def]
    shell.run_line_magic("session", "new long")
    session = registry.get("long")
    for i in range(1, 121):
        session.add_message("user", f"line {i}" + (" needle" if i in (10, 75, 119) else ""))
    shell.run_line_magic("session", "new other")
    box = view.search_box
    hits = box.search("needle")
    assert [h.number for h in hits] == [119, 75, 10]
    assert len(box.results.options) == 3 and "#119" in box.results.options[0][0]
    assert box.choose(2) is session and registry.active is session
    assert view.offset == 0
    box.results.value = 1  # what a click in the list does
    assert view.offset == 50
    box.choose(0)
    assert view.offset == 70  # the newest page (messages 71-120) holds message 119
    assert "needle" not in box.note.value or "Message 119" in box.note.value


def test_choosing_a_saved_hit_resumes_it(shell, registry, view) -> None:  # type: ignore[no-untyped-def]
    shell.run_line_magic("session", "new archive")
    shell.run_line_magic("chat", "where are the otters")
    archived = registry.get("archive")
    shell.run_line_magic("session", "close archive")
    box = view.search_box
    hits = box.search('"the otters"')
    assert [(h.session_id, h.open) for h in hits] == [(archived.id, False)] * 2
    session = box.choose(1)
    assert session is not None and session.id == archived.id
    assert registry.active is session and len(session.messages) == 2


def test_a_bad_query_is_one_line_in_the_note(view) -> None:  # type: ignore[no-untyped-def]
    box = view.search_box
    assert box.search("*?!") == []
    assert "Nothing to search for" in box.note.value and box.results.options == ()
    assert box.search("   ") == [] and box.note.value.startswith("Type what to search for")
    assert box.search("NEAR(") == [] and box.note.value == "No message matches &#x27;NEAR(&#x27;."


def test_the_note_says_searching_while_a_search_runs(shell, registry, view) -> None:  # type: ignore[no-untyped-def]
    """A first search may index hundreds of saved files: the box says so at once (each
    change of the note reaches the browser as it happens), then gives the result."""
    shell.run_line_magic("session", "new notes")
    registry.active.add_message("user", "a needle here")
    box = view.search_box
    seen: list[str] = []
    box.note.observe(lambda change: seen.append(change["new"]), names="value")
    assert [h.number for h in box.search("needle")] == [1]
    assert seen == [
        "Searching for &#x27;needle&#x27;…",
        "1 hit, newest first: choose one to go there.",
    ]
