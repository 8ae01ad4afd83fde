"""A session that is answering cannot be closed, deleted or renamed: the reply
is held mid-stream by a real SSE server on 127.0.0.1 while the magics and the widget try."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sse_server as sse
from magic_helpers import one_line_usage_error, run

from jido_magics.agents.context import build_context
from jido_magics.agents.exchange import send_message
from jido_magics.core.errors import SessionBusy
from jido_magics.core.session import Session

BUSY = "is still answering: wait for the reply or interrupt it."


class HeldReply:
    """``%chat`` in a worker thread against a reply the server holds after its first chunk."""

    def __init__(self, shell: Any, server: sse.ScriptedServer, session: Session) -> None:
        self.gate = threading.Event()
        self.session = session
        server.push(
            sse.Stream(
                [sse.content("Hello, part one. "), sse.content("Part two."), sse.finish()],
                hold_after=(1, self.gate),
            )
        )
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._chat, args=(shell,), daemon=True)

    def _chat(self, shell: Any) -> None:
        try:
            shell.run_line_magic("chat", "Say hello")
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def start(self) -> HeldReply:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self._first_chunk_arrived():
            assert time.monotonic() < deadline, "the first chunk never arrived"
            time.sleep(0.01)
        return self

    def _first_chunk_arrived(self) -> bool:
        messages = self.session.messages
        return bool(messages) and messages[-1].content == "Hello, part one. "

    def finish(self) -> None:
        self.gate.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        assert self.error is None, self.error


@pytest.fixture
def held(shell, registry, chat_server) -> Iterator[HeldReply]:
    run(shell, f"new slow --provider openai --model m --base-url {chat_server.url}")
    reply = HeldReply(shell, chat_server, registry.get("slow")).start()
    try:
        yield reply
    finally:
        reply.gate.set()
        reply.thread.join(10)


@pytest.mark.parametrize(
    "line", ["close", "close slow", "close --no-save", "rename other", "rename x --session slow"]
)
def test_close_and_rename_refuse_while_the_reply_streams(held, shell, registry, line) -> None:
    message = one_line_usage_error(shell, line)
    assert message == f"Session 'slow' {BUSY}"
    held.finish()
    session = registry.get("slow")  # still open, under its old name
    assert [(m.role, m.content, m.status) for m in session.messages] == [
        ("user", "Say hello", "complete"),
        ("assistant", "Hello, part one. Part two.", "complete"),
    ]
    run(shell, "close slow")  # once the reply is complete, close works
    assert registry.sessions == ()


def test_the_saved_file_holds_the_whole_reply_after_a_refused_close(held, shell, registry):
    one_line_usage_error(shell, "close")
    held.finish()
    run(shell, "close")
    run(shell, "resume slow")
    assert registry.active.messages[-1].content == "Hello, part one. Part two."
    assert registry.active.messages[-1].status == "complete"


def test_delete_refuses_while_the_open_session_answers(held, shell, registry, workdir) -> None:
    assert held.session.answering
    run(shell, "save slow")
    saved = sorted(workdir.rglob(f"{held.session.id}.json"))
    assert len(saved) == 1
    message = one_line_usage_error(shell, "delete slow")
    assert message == f"Session 'slow' {BUSY}"
    assert saved[0].exists()
    held.finish()


def test_the_widget_close_refuses_while_the_reply_streams(held, registry) -> None:
    from jido_magics.ui.view import SessionView

    view = SessionView(registry, prewarm=False)
    try:
        assert view.close_session() is None
        assert view.last_error == f"Session 'slow' {BUSY}"
        assert registry.active is held.session
        held.finish()
        assert view.close_session() is held.session
        assert view.last_error == ""
    finally:
        view.close()


def test_a_second_message_is_refused_while_answering(held) -> None:
    with pytest.raises(SessionBusy, match=BUSY):
        send_message(held.session, "another")
    held.finish()
    assert [m.content for m in held.session.messages if m.role == "user"] == ["Say hello"]


def test_a_streaming_message_in_a_loaded_file_becomes_interrupted(held, shell, registry):
    shell.run_line_magic("config", "SessionMagics.autosave = False")
    try:
        run(shell, "save slow")  # written mid-reply, as a crash or a second kernel can leave it
        held.finish()
        run(shell, "close --no-save slow")
        run(shell, "resume slow")
    finally:
        shell.run_line_magic("config", "SessionMagics.autosave = True")
    session = registry.active
    reply = session.messages[-1]
    assert (reply.content, reply.status) == ("Hello, part one. ", "interrupted")
    assert not session.answering
    sent = build_context(session)  # the partial reply reaches the model again
    assert sent[-1] == {"role": "assistant", "content": "Hello, part one. "}
