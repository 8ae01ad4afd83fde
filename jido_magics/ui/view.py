"""``SessionView``: the session widget, composed of ipywidgets and kept in sync with a registry.

The view observes the registry, so a change made by a magic, by Python or by another thread
shows at once; a click on a session button switches the registry the magics use. It holds its
widgets (it is not one): ``view.widget`` is the VBox to display, and displaying the view itself
shows that same widget. Widget traits are only ever assigned, never mutated in place, so every
change reaches the browser.

Rendering cost is bounded by one page: a switch renders the newest page of the new session at
once; streaming deltas go through a :class:`~.throttle.Throttle` (at most one render per
``interval``, always with a trailing one).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as widgets

from ..core.errors import JidoError, shorten
from ..core.page import PAGE_SIZE, Page, newest_offset, take_page
from ..core.registry import (
    EVENT_ADDED,
    EVENT_CLOSED,
    EVENT_CREATED,
    EVENT_RENAMED,
    EVENT_SWITCHED,
    Registry,
    RegistryEvent,
)
from ..core.session import (
    CHANGE_ANSWERING,
    CHANGE_EXCHANGE,
    CHANGE_MESSAGE_TEXT,
    CHANGE_REASONING,
    CHANGE_SAVED,
    CHANGE_USAGE,
    Session,
)
from .actions import NO_SESSION_TEXT, ConversationActions, Sender, send_with_agents
from .model_picker import ModelPicker
from .parts import add_classes, button, close_tree
from .prewarm import Prewarmer
from .render import RenderCache, render_empty, render_page
from .status_line import status_html
from .throttle import Scheduler, Throttle, thread_timer
from .toolbar import sync_session_row

logger = logging.getLogger("jido_magics")

SAVE_UNAVAILABLE = "Saving is not available in this kernel."

#: ``save(session)``: save one session now; returns what the status note says about it.
Saver = Callable[[Session], str]


class SessionView(ConversationActions):
    """The widget of one registry: session buttons with New / Save / Close, one HTML page of
    the conversation with Older / Newer, a message box with Send, and a status line."""

    def __init__(
        self,
        registry: Registry,
        *,
        new_session: Callable[[Registry], Session] | None = None,
        save: Saver | None = None,
        send: Sender = send_with_agents,
        namespace: dict[str, Any] | None = None,
        page_size: int = PAGE_SIZE,
        interval: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        schedule: Scheduler = thread_timer,
        prewarm: bool = True,
    ) -> None:
        self._registry = registry
        # How New, Save and Send reach the kernel (tests pass their own).
        self._new_session = new_session or (lambda reg: reg.create())
        self._save, self._send, self._namespace = save, send, namespace
        self._page_size = page_size
        self._cache = RenderCache()
        self._lock = threading.RLock()
        self._local = threading.local()  # per-thread: "we are setting the tabs ourselves"
        self._session: Session | None = registry.active
        self._offset: int | None = None  # None: follow the newest page
        self._shown_offset = self._shown_total = 0  # the page on screen
        self._issued = self._assigned = 0  # render tickets: only the newest render is assigned
        self._last_error = self._note = ""
        self._closed = False
        self._stream = Throttle(self._render, interval, clock=clock, schedule=schedule)
        self._warmer = Prewarmer(self._warm) if prewarm else None
        #: The search box below the view (``ui.search_box``), when the extension adds one.
        self.search_box: Any = None

        self.tabs = widgets.ToggleButtons(
            options=[], style={"button_width": "auto"}, tooltip="Switch session"
        )

        self.menu = widgets.Dropdown(  # replaces the buttons past toolbar.TAB_LIMIT sessions
            options=[], tooltip="Switch session", layout=widgets.Layout(display="none")
        )

        self.new_button = button("New", "plus", "New session")
        self.save_button = button("Save", "save", "Save now")
        self.close_button = button("Close", "times", "Save and close the active session")
        self.older_button = button("Older", "chevron-left", "Older messages")
        self.newer_button = button("Newer", "chevron-right", "Newer messages")
        self.actions = widgets.HBox([self.new_button, self.save_button, self.close_button])
        self.page_label = widgets.HTML()
        self.conversation = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.input = widgets.Textarea(
            placeholder="Message the active session…",
            layout=widgets.Layout(width="100%", height="5em"),
        )
        self.send_button = widgets.Button(
            description="Send", icon="paper-plane", button_style="primary"
        )
        self.status = widgets.HTML()
        self.picker = ModelPicker(registry, self._act)  # the active session's provider/model
        self.action_row = self._make_action_row()
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.tabs, self.menu, self.actions]).add_class("jido-toolbar"),
                self.picker.widget,
                widgets.HBox(
                    [self.older_button, self.newer_button, self.page_label],
                    layout=widgets.Layout(align_items="center"),
                ),
                self.conversation,
                widgets.HBox([self.input, self.send_button]),
                self.action_row,
                self.status,
            ],
            layout=widgets.Layout(width="100%"),
        )
        add_classes(
            (
                (self.widget, "jido-view"),
                (self.tabs, "jido-tabs"),
                (self.menu, "jido-menu"),
                (self.new_button, "jido-new"),
                (self.save_button, "jido-save"),
                (self.close_button, "jido-close"),
                (self.actions, "jido-actions"),
                (self.older_button, "jido-older"),
                (self.newer_button, "jido-newer"),
                (self.conversation, "jido-conversation"),
                (self.input, "jido-input"),
                (self.send_button, "jido-send"),
                (self.status, "jido-status"),
            )
        )

        self.tabs.observe(self._on_tab_change, names="value")
        self.menu.observe(self._on_tab_change, names="value")
        self.new_button.on_click(lambda _: self.new_session())
        self.save_button.on_click(lambda _: self.save())
        self.close_button.on_click(lambda _: self.close_session())
        self.older_button.on_click(lambda _: self.older())
        self.newer_button.on_click(lambda _: self.newer())
        self.send_button.on_click(lambda _: self.send())
        self._unsubscribe = registry.subscribe(self._on_registry_event)
        self.refresh()
        self._prewarm(registry.sessions)

    # -- public ----------------------------------------------------------------------------

    @property
    def session(self) -> Session | None:
        """The session whose conversation is shown (the registry's active one)."""
        return self._session

    @property
    def offset(self) -> int:
        """Offset of the page shown, counted from the oldest message."""
        return self._shown_offset

    @property
    def render_cache(self) -> RenderCache:
        """Rendered message fragments, shared by every page this view shows."""
        return self._cache

    @property
    def last_error(self) -> str:
        return self._last_error

    @property
    def closed(self) -> bool:
        return self._closed

    def refresh(self) -> None:
        """Re-read everything from the registry and render at once."""
        self._session = self._registry.active
        self._sync_tabs()
        self._render_now()

    def flush(self) -> None:
        """Render now if a throttled streaming update is waiting."""
        self._stream.flush()

    def wait_prewarmed(self, timeout: float | None = None) -> bool:
        """Block until the background rendering of other sessions' pages is done."""
        return self._warmer.wait(timeout) if self._warmer is not None else True

    def older(self) -> None:
        self._offset = max(0, self._shown_offset - self._page_size)
        self._render_now()

    def newer(self) -> None:
        following = self._shown_offset + self._page_size
        self._offset = (
            None if following >= newest_offset(self._shown_total, self._page_size) else following
        )
        self._render_now()

    def show_message(self, number: int) -> None:
        """Show the page holding message ``number`` (1 = oldest kept) of the shown session:
        pages of ``page_size`` counted from the oldest, as ``%session show --at`` has them."""
        offset = (max(number, 1) - 1) // self._page_size * self._page_size
        total = len(self._session.messages) if self._session is not None else 0
        self._offset = None if offset >= newest_offset(total, self._page_size) else offset
        self._render_now()

    def new_session(self) -> Session | None:
        return self._act(lambda: self._new_session(self._registry))

    def save(self) -> Any:
        def save_active() -> Any:
            session = self._registry.require_active()
            if self._save is None:
                raise JidoError(SAVE_UNAVAILABLE)
            self._note = self._save(session)
            return self._note

        return self._act(save_active)

    def close_session(self) -> Session | None:
        return self._act(lambda: self._registry.close(self._registry.require_active().id))

    def close(self) -> None:
        """Stop observing the registry and close every widget (idempotent)."""
        with self._lock:  # a render in another thread assigns under this lock
            if self._closed:
                return
            self._closed = True
        self._unsubscribe()
        self.picker.close()
        self._stream.cancel()
        if self._warmer is not None:
            self._warmer.stop()
        with self._lock:
            close_tree(self.widget)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        shown = self._session.name if self._session else None
        return f"<SessionView session={shown!r} offset={self._shown_offset} closed={self._closed}>"

    # -- registry → widgets ----------------------------------------------------------------

    def _on_registry_event(self, event: RegistryEvent) -> None:
        if self._closed:
            return
        kind = event.kind
        if kind == EVENT_SWITCHED:
            self._stream.cancel()
            if event.session is not self._session:  # an old error or note is not about it
                self._last_error = self._note = ""
            self._session = event.session
            self._offset = None
            self._sync_tabs()
            self._render_now()
        elif kind in (EVENT_CREATED, EVENT_ADDED, EVENT_CLOSED, EVENT_RENAMED, CHANGE_ANSWERING):
            self._sync_tabs()
            self._render_status()
            if kind == EVENT_ADDED and event.session is not None:
                self._prewarm([event.session])  # e.g. resumed from disk with its history
        elif event.session is not self._session:
            if kind == CHANGE_EXCHANGE and event.session is not None:
                self._prewarm([event.session])  # it changed while another one is shown
            return
        elif kind in (CHANGE_MESSAGE_TEXT, CHANGE_REASONING):
            self._stream()
        elif kind in (CHANGE_USAGE, CHANGE_SAVED):
            self._render_status()
        else:  # a message or tool call added, a reply complete, settings or caps changed
            self._render_now()

    def _sync_tabs(self) -> None:
        sessions = self._registry.sessions
        active = self._registry.active
        with self._lock:
            self._local.syncing = True
            try:
                with self.tabs.hold_sync():
                    with self.menu.hold_sync():
                        sync_session_row(self.tabs, self.menu, sessions, active)
            finally:
                self._local.syncing = False
        disabled = active is None
        self.save_button.disabled = disabled
        self.close_button.disabled = disabled
        self._enable_actions(not disabled)

    def _prewarm(self, sessions: Iterable[Session]) -> None:
        if self._warmer is not None:
            self._warmer.request(s for s in sessions if s is not self._session)

    def _warm(self, session: Session) -> None:
        if not self._closed:
            render_page(take_page(session, None, self._page_size), self._cache)

    def _render_now(self) -> None:
        self._stream.ran()
        self._render()

    def _render(self) -> None:
        """Render the page and status; safe from any thread. Session data is read without
        holding the view's lock, and only the newest render is assigned."""
        if self._closed:
            return
        with self._lock:
            self._issued += 1
            ticket = self._issued
            session, offset = self._session, self._offset
        if session is None:
            page_html, label, start, total = render_empty(NO_SESSION_TEXT), "", 0, 0
            has_older = has_newer = False
        else:
            page = self._take_page(session, offset)
            page_html = render_page(page, self._cache)
            start, total = page.offset, page.total
            shown = len(page.entries)
            label = f"messages {start + 1}–{start + shown} of {total}" if shown else "no messages"
            has_older, has_newer = page.has_older, page.has_more
        status_html = self._status_html(session)
        with self._lock:
            if ticket < self._assigned or self._closed:
                return  # a newer render already showed fresher data
            self._assigned = ticket
            self._shown_offset, self._shown_total = start, total
            self.conversation.value = page_html
            self.page_label.value = label
            self.older_button.disabled = not has_older
            self.newer_button.disabled = not has_newer
            self.status.value = status_html

    def _take_page(self, session: Session, offset: int | None) -> Page:
        """The page at ``offset`` (``None``: the newest), clamped to the history, which may
        have shrunk (undo) since the offset was chosen."""
        with session.lock:
            newest = newest_offset(len(session.messages), self._page_size)
            return take_page(
                session, None if offset is None else min(offset, newest), self._page_size
            )

    def _render_status(self) -> None:
        status_html = self._status_html(self._session)
        with self._lock:
            if not self._closed:
                self.status.value = status_html

    def _status_html(self, session: Session | None) -> str:
        return status_html(session, self._registry.sessions, self._note, self._last_error)

    # -- widgets → registry ----------------------------------------------------------------

    def _on_tab_change(self, change: dict[str, Any]) -> None:
        if getattr(self._local, "syncing", False) or change["new"] is None:
            return
        self._act(lambda: self._registry.switch(change["new"]))

    def _act(self, action: Callable[[], Any]) -> Any:
        """Run a user action; its error goes to the status line, never a traceback."""
        self._note = ""
        try:
            result = action()
        except JidoError as exc:
            self._set_error(str(exc))
            return None
        except Exception as exc:  # a bug or an SDK failure: one line for the user, log for us
            logger.exception("jido_magics: the session widget's action failed")
            self._set_error(f"{type(exc).__name__}: {exc}")
            return None
        self._last_error = ""
        self._render_status()
        return result

    def _set_error(self, message: str) -> None:
        self._last_error = shorten(" ".join(message.split()), 200)
        self._render_status()
