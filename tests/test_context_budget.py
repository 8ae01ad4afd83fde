"""The newest user message is never cut: it is sent whole, or, when it alone
exceeds the context budget, refused in one line before anything is added or sent."""

from __future__ import annotations

import re

import pytest
import sse_server as sse
from IPython.core.error import UsageError

from jido_magics.agents.context import build_context
from jido_magics.agents.errors import ChatError
from jido_magics.agents.exchange import send_message

QUESTION = "Which column has the most missing values?"


def csv_message(size: int = 73_000) -> str:
    """A question on the first line and a pasted CSV under it, ``size`` characters long."""
    rows = ["id,name,score"] + [f"{i},name{i},{i % 97}" for i in range(size // 14)]
    return (QUESTION + "\n" + "\n".join(rows))[:size]


def test_a_message_over_the_budget_is_refused_in_one_line(shell, registry, chat_server):
    shell.run_line_magic(
        "session", f"new d --provider openai --model m --base-url {chat_server.url}"
    )
    session = registry.active
    text = csv_message()
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("chat", "", text)
    message = str(info.value)
    assert "\n" not in message
    sizes = [int(n.replace(",", "")) for n in re.findall(r"about ([\d,]+) tokens", message)]
    assert sizes and sizes[0] >= 73_000 // 4  # the message's size ...
    assert "context budget of 8,192 tokens" in message  # ... and the budget's
    assert session.messages == [] and chat_server.requests == []  # nothing added or sent
    # The advice works: with the budget it names, the whole message is sent.
    setting = re.search(r"%session config (context_budget=\d+)", message).group(1)
    shell.run_line_magic("session", f"config {setting}")
    chat_server.push(sse.reply("Column score."))
    shell.run_cell_magic("chat", "", text)
    sent = chat_server.requests[0]["messages"][-1]
    assert sent == {"role": "user", "content": text}
    assert sent["content"].startswith(QUESTION)


def test_the_question_is_sent_whole_behind_a_long_history(registry, chat_server) -> None:
    session = registry.create(
        "h", provider="openai", model="m", base_url=chat_server.url, context_budget=2000
    )
    for number in range(40):
        session.add_message("user" if number % 2 == 0 else "assistant", "old " + "x" * 400)
    text = csv_message(7_000)  # fits alone, but not with the history
    chat_server.push(sse.reply("ok"))
    send_message(session, text)
    sent = chat_server.requests[0]["messages"]
    assert sent[-1] == {"role": "user", "content": text}
    assert all("earlier part cut" not in str(m["content"]) for m in sent)


def test_the_question_stays_whole_in_a_tool_round(registry) -> None:
    """After a tool call, the newest messages are the tool results: the question before them
    is still sent, whole."""
    session = registry.create("t", context_budget=600, system_prompt="")
    text = csv_message(1_600)
    session.add_message("user", text)
    asking = session.add_message("assistant", "")
    session.add_tool_call("describe_variable", {"name": "df"}, asking.id, call_id="c1")
    session.add_message("tool", "r" * 5_000, tool_call_id="c1")
    wire = build_context(session)
    assert wire[0] == {"role": "user", "content": text}
    assert [m["role"] for m in wire] == ["user", "assistant", "tool"]


def test_the_widget_keeps_a_refused_message_in_its_box(registry) -> None:
    from jido_magics.ui.view import SessionView

    session = registry.create("w")
    view = SessionView(registry, prewarm=False)
    try:
        text = csv_message()
        view.send(text)
        assert "Not sent: this message is about" in view.last_error
        assert view.input.value == text
        assert session.messages == []
    finally:
        view.close()


def test_send_message_refuses_before_adding(registry) -> None:
    session = registry.create("s", context_budget=64)
    with pytest.raises(ChatError, match="context_budget="):
        send_message(session, "y" * 1_000)
    assert session.messages == []
