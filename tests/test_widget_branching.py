"""The widget's Retry, Undo and Fork (``ui.actions``) in a real shell, clicked as a user
would (``Button.click`` runs the same handlers a browser click does)."""

from __future__ import annotations

import sse_server as sse
from magic_helpers import run
from test_widget import show_view

from jido_magics.core.records import Parent


def chat(shell, text: str) -> None:
    assert shell.run_cell(f"%chat {text}", store_history=True).success


def test_retry_undo_and_fork_buttons(shell, registry, chat_server) -> None:
    shell.run_cell(
        f"%session new w --provider openai --model m --base-url {chat_server.url}",
        store_history=True,
    )
    chat_server.push(sse.reply("one"), sse.reply("two"), sse.reply("two again"))
    chat(shell, "first")
    chat(shell, "second")
    view = show_view(shell)
    w = registry.active
    # message numbers in each head, for Fork
    assert "#4 Assistant" in view.conversation.value

    view.retry_button.click()
    assert [(m.content, m.status) for m in w.messages[3:]] == [
        ("two", "superseded"),
        ("two again", "complete"),
    ]
    assert "Superseded reply (replaced by retry)" in view.conversation.value
    assert [(m["role"], m["content"]) for m in chat_server.requests[-1]["messages"][1:]] == [
        ("user", "first"),
        ("assistant", "one"),
        ("user", "second"),
    ]

    view.fork_at.value = 2
    view.fork_button.click()
    fork = registry.active
    assert fork is not w and fork.name == "w (fork)" and fork.parent == Parent(w.id, 2)
    assert [m.content for m in fork.messages] == ["first", "one"]
    assert "forked from &#x27;w&#x27; at message 2" in view.status.value
    assert view.tabs.value == fork.id

    run(shell, "switch w")
    view.input.value = ""
    view.undo_button.click()
    assert [m.content for m in w.messages] == ["first", "one"]
    assert view.input.value == "second"  # back in the box, to send again
    assert view.last_error == ""

    view.fork_at.value = 9
    view.fork_button.click()
    assert "Cannot fork 'w' at message 9: use 1 to 2." in view.last_error
    assert registry.active is w and len(registry.sessions) == 2


def test_buttons_with_nothing_to_act_on_say_so_in_one_line(shell, registry) -> None:
    view = show_view(shell)
    assert view.retry_button.disabled and view.undo_button.disabled and view.fork_button.disabled
    run(shell, "new empty")
    assert not view.retry_button.disabled
    view.retry_button.click()
    assert view.last_error.startswith("Nothing to retry")
    view.undo_button.click()
    assert view.last_error.startswith("Nothing to undo")
    view.fork_button.click()  # an empty session forks into an empty one
    assert registry.active.name == "empty (fork)" and registry.active.parent.message == 0


def test_undo_after_code_puts_back_only_what_was_typed(shell, registry) -> None:
    run(shell, "new c")
    assert shell.run_cell("%chat --code plot a sine wave", store_history=True).success
    view = show_view(shell)
    view.input.value = ""
    view.undo_button.click()
    assert view.input.value == "plot a sine wave"
    assert registry.active.messages == []
