"""Send, Retry, Undo and Fork in the session widget: ``%chat`` and ``%session
retry|undo|fork`` of :class:`~.view.SessionView`, mixed into it (the view's own module holds
its layout and syncing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..agents.prompts import typed_text
from ..core.branching import fork, undo_last_exchange
from ..core.errors import JidoError
from .parts import add_classes, button

if TYPE_CHECKING:
    from ..core.registry import Registry
    from ..core.session import Session
    from .throttle import Throttle

NO_SESSION_TEXT = "No session is open: click New or run %session new NAME."

#: ``send(session, text, namespace, on_event)``: send a user message and stream the reply.
Sender = Callable[["Session", str, "dict[str, Any] | None", Callable[[Any], None]], Any]


def send_with_agents(
    session: Session,
    text: str,
    namespace: dict[str, Any] | None,
    on_event: Callable[[Any], None],
) -> Any:
    """The default sender: :func:`jido_magics.agents.exchange.send_message`."""
    try:
        from ..agents.exchange import send_message
    except ImportError as exc:
        raise JidoError("Sending from the widget is not available in this version.") from exc
    return send_message(session, text, namespace=namespace, on_event=on_event)


class ConversationActions:
    """Send sends the message box to the active session; Retry and Undo act on its last
    exchange; Fork on the message numbered in the box beside it (0: the last one), as the page
    numbers them."""

    _registry: Registry
    _namespace: dict[str, Any] | None
    _offset: int | None
    _note: str
    _stream: Throttle
    input: widgets.Textarea
    send_button: widgets.Button
    _act: Callable[[Callable[[], Any]], Any]
    _render_now: Callable[[], None]
    _set_error: Callable[[str], None]
    _send: Sender

    def _make_action_row(self) -> widgets.HBox:
        self.retry_button = button("Retry", "redo", "Ask again for the last message")
        self.undo_button = button("Undo", "undo", "Remove the last exchange")
        self.fork_button = button("Fork", "code-fork", "Fork the session at message #")
        self.fork_at = widgets.BoundedIntText(
            value=0,
            min=0,
            max=2**31 - 1,
            description="at #",
            tooltip="Message number to fork at (0: the last one)",
            style={"description_width": "2.5em"},
            layout=widgets.Layout(width="11em"),
        )
        add_classes(
            (
                (self.retry_button, "jido-retry"),
                (self.undo_button, "jido-undo"),
                (self.fork_button, "jido-fork"),
                (self.fork_at, "jido-fork-at"),
            )
        )
        self.retry_button.on_click(lambda _: self.retry())
        self.undo_button.on_click(lambda _: self.undo())
        self.fork_button.on_click(lambda _: self.fork(self.fork_at.value or None))
        return widgets.HBox(
            [self.retry_button, self.undo_button, self.fork_button, self.fork_at],
            layout=widgets.Layout(align_items="center"),
        )

    def _enable_actions(self, enabled: bool) -> None:
        for part in (self.retry_button, self.undo_button, self.fork_button):
            part.disabled = not enabled

    def send(self, text: str | None = None) -> Any:
        """Send ``text`` (default: the message box) to the active session; the reply streams
        into the page. The box is emptied, and refilled if nothing was sent."""
        text = self.input.value if text is None else text
        if not text.strip():
            self._set_error("Type a message first.")
            return None
        session = self._registry.active
        if session is None:
            self._set_error(NO_SESSION_TEXT)
            return None
        before = len(session.messages) + session.dropped.get("messages", 0)
        self.input.value = ""
        self.send_button.disabled = True
        self._offset = None
        try:
            return self._act(
                lambda: self._send(session, text, self._namespace, self._on_agent_event)
            )
        finally:
            self.send_button.disabled = False
            if len(session.messages) + session.dropped.get("messages", 0) == before:
                self.input.value = text  # nothing reached the session: keep what was typed
            self._stream.cancel()
            self._render_now()

    def _on_agent_event(self, event: Any) -> None:
        """Streaming events from the agent: the registry already reports the text; only an
        error needs showing here."""
        from ..agents.events import ErrorEvent

        if isinstance(event, ErrorEvent):
            self._set_error(event.message)

    def retry(self) -> Any:
        """Ask again for the active session's last message (``%session retry``)."""
        from ..agents.exchange import retry_reply

        session = self._registry.active
        if session is None:
            return self._act(self._registry.require_active)  # says what to do
        self._offset = None
        self.retry_button.disabled = self.send_button.disabled = True
        try:
            return self._act(
                lambda: retry_reply(
                    session, namespace=self._namespace, on_event=self._on_agent_event
                )
            )
        finally:
            self.retry_button.disabled = self.send_button.disabled = False
            self._stream.cancel()
            self._render_now()

    def undo(self) -> Any:
        """Remove the active session's last exchange (``%session undo``); the removed
        message goes back into an empty message box, to edit and send again."""

        def undo_active() -> Any:
            session = self._registry.require_active()
            removed = undo_last_exchange(session)
            if not self.input.value.strip():
                self.input.value = typed_text(removed[0].content)
            self._note = "Removed the last exchange; your message is back in the box."
            return removed

        return self._act(undo_active)

    def fork(self, at: int | None = None) -> Session | None:
        """Fork the active session at message ``at`` (default: the last), as ``%session
        fork`` does; the fork becomes active."""

        def fork_active() -> Session:
            source = self._registry.require_active()
            name = self._registry.unique_name(f"{source.name} (fork)")
            return self._registry.add(fork(source, name, at))

        return self._act(fork_active)
