"""Retry, Undo and Fork in the session widget: the ``%session retry|undo|fork`` of
:class:`~.view.SessionView`, mixed into it (the view's own module holds its layout and
syncing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..core.branching import fork, undo_last_exchange

if TYPE_CHECKING:
    from ..core.registry import Registry
    from ..core.session import Session
    from .throttle import Throttle


class ConversationActions:
    """Retry and Undo act on the last exchange of the active session; Fork on the message
    numbered in the box beside it (0: the last one), as the page numbers them."""

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
    _on_agent_event: Callable[[Any], None]

    def _make_action_row(self, button: Callable[..., widgets.Button]) -> widgets.HBox:
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
        for part, name in (
            (self.retry_button, "jido-retry"),
            (self.undo_button, "jido-undo"),
            (self.fork_button, "jido-fork"),
            (self.fork_at, "jido-fork-at"),
        ):
            part.add_class(name)
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
                self.input.value = removed[0].content
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
