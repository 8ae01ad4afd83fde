"""The one page model (``core.page``): ``%session show``, the exports and the widget read the
same copy of a page, with the same rule for reasoning steps and tool calls of no message."""

from __future__ import annotations

import pytest

from jido_magics.core.errors import JidoError
from jido_magics.core.page import take_page
from jido_magics.core.records import Caps
from jido_magics.core.session import Session
from jido_magics.core.show import conversation_page
from jido_magics.core.transcript import transcript_markdown
from jido_magics.ui.render import render_page


def history(count: int) -> Session:
    session = Session("s")
    for i in range(count):
        session.add_message("user", f"message {i}")
    return session


def test_a_page_is_a_copy_with_its_numbers() -> None:
    session = history(120)
    page = take_page(session, 50, 50)
    session.append_text(session.messages[60], " later")
    assert [e.number for e in page.entries] == list(range(51, 101))
    assert page.entries[10].message.content == "message 60"  # a copy: unchanged
    assert (page.number, page.pages, page.has_older, page.has_more) == (2, 3, True, True)
    assert take_page(session, None, 50).offset == 70
    whole = take_page(session, 0, None)
    assert (len(whole.entries), whole.pages, whole.has_more) == (120, 1, False)


def test_steps_and_calls_fold_under_their_message_on_its_page_only() -> None:
    session = history(60)
    session.add_reasoning_step("why 5", session.messages[5].id)
    session.add_tool_call("look", {"at": 55}, session.messages[55].id)
    older, newest = take_page(session, 0, 50), take_page(session, None, 50)
    assert [s.content for s in older.entries[5].reasoning_steps] == ["why 5"]
    assert [c.name for c in newest.entries[-5].tool_calls] == ["look"]
    assert not older.unattached_reasoning and not newest.unattached_reasoning


def test_steps_and_calls_of_no_message_show_on_the_newest_page() -> None:
    session = history(60)
    session.add_reasoning_step("loose thought")
    session.add_tool_call("loose", {})
    older, newest = take_page(session, 0, 50), take_page(session, None, 50)
    assert not older.unattached_reasoning and not older.unattached_tool_calls
    assert [s.content for s in newest.unattached_reasoning] == ["loose thought"]
    assert [c.name for c in newest.unattached_tool_calls] == ["loose"]
    # show, the widget and the export all show them
    assert "loose thought" in conversation_page(session)._repr_markdown_()
    assert "loose thought" in render_page(newest)
    assert "loose thought" in transcript_markdown(take_page(session, 0, None))


def test_a_whole_history_page_keeps_steps_whose_message_was_dropped() -> None:
    session = Session("s", caps=Caps(max_messages=3))
    first = session.add_message("user", "first")
    session.add_reasoning_step("about the first", first.id)
    for i in range(3):
        session.add_message("user", f"later {i}")
    assert session.dropped["messages"] == 1
    whole = take_page(session, 0, None)
    assert [s.content for s in whole.unattached_reasoning] == ["about the first"]
    assert "about the first" in transcript_markdown(whole)
    assert "about the first" in render_page(take_page(session, None, 50))


def test_a_page_refuses_a_negative_offset_or_an_empty_limit() -> None:
    with pytest.raises(JidoError):
        take_page(Session("a"), -1)
    with pytest.raises(JidoError):
        take_page(Session("a"), 0, 0)
