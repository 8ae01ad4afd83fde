"""A session: one capped, chronological conversation with its model settings and usage."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from .clock import utc_now
from .errors import JidoError, SessionBusy
from .ids import check_session_id, new_id
from .list_view import ListView
from .page import PAGE_SIZE, Page, take_page
from .records import (
    MESSAGE_STATUSES,
    ROLES,
    TOOL_CALL_STATUSES,
    Caps,
    Message,
    MessageStatus,
    Parent,
    ReasoningStep,
    Role,
    SessionConfig,
    ToolCall,
    ToolCallStatus,
    Usage,
)

#: Called after every change as ``listener(session, kind)``; kinds are the ``CHANGE_*`` names.
SessionListener = Callable[["Session", str], None]

CHANGE_MESSAGE = "message"  # a message was added
CHANGE_MESSAGE_TEXT = "message_text"  # streaming text or status of a message changed
CHANGE_REMOVED = "removed"  # the newest messages were removed (undo)
CHANGE_REASONING = "reasoning"
CHANGE_TOOL_CALL = "tool_call"
CHANGE_CONFIG = "config"
CHANGE_USAGE = "usage"
CHANGE_EXCHANGE = "exchange"  # a user message and its reply are complete
CHANGE_ANSWERING = "answering"  # a reply started or stopped streaming in
CHANGE_SAVED = "saved"


class Session:
    """A named conversation. Lists are chronological and capped; the oldest entries drop first
    and are counted in :attr:`dropped`. Thread-safe: every change holds the session's lock."""

    __slots__ = (
        "__weakref__",
        "_answering",
        "_caps",
        "_config",
        "_listener",
        "_lock",
        "_messages",
        "_name",
        "_reasoning_steps",
        "_tool_calls",
        "_views",
        "created_at",
        "dropped",
        "generation",
        "id",
        "parent",
        "revision",
        "saved_revision",
        "updated_at",
        "usage",
    )

    def __init__(
        self,
        name: str,
        *,
        id: str | None = None,
        config: SessionConfig | None = None,
        caps: Caps | None = None,
        created_at: str | None = None,
        updated_at: str | None = None,
        messages: Iterable[Message] = (),
        reasoning_steps: Iterable[ReasoningStep] = (),
        tool_calls: Iterable[ToolCall] = (),
        usage: Usage | None = None,
        dropped: dict[str, int] | None = None,
        generation: int = 0,
        parent: Parent | None = None,
    ) -> None:
        self.id: str = new_id() if id is None else check_session_id(id)
        self._name = name
        self.created_at: str = created_at or utc_now()
        self.updated_at: str = updated_at or self.created_at
        self._config = config or SessionConfig()
        self._caps = caps or Caps()
        self._messages: list[Message] = list(messages)
        for message in self._messages:
            if message.status == "streaming":  # saved mid-reply: that reply has ended
                message.status = "interrupted"
        self._reasoning_steps: list[ReasoningStep] = list(reasoning_steps)
        self._tool_calls: list[ToolCall] = list(tool_calls)
        self._views = (
            ListView(self._messages),
            ListView(self._reasoning_steps),
            ListView(self._tool_calls),
        )
        self.usage: Usage = usage or Usage()
        self.dropped: dict[str, int] = {"messages": 0, "reasoning_steps": 0, "tool_calls": 0}
        if dropped:
            self.dropped.update(dropped)
        #: Generation of the file this session was last saved to or loaded from (0: never).
        self.generation = generation
        #: The session this one was forked (or copied) from, if any.
        self.parent: Parent | None = parent
        #: Counts changes; equal to ``saved_revision`` when nothing changed since the last save.
        self.revision = 0
        self.saved_revision = 0
        self._lock = threading.RLock()
        self._listener: SessionListener | None = None
        self._answering = False
        self._enforce_caps()

    # -- reading ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def answering(self) -> bool:
        """True while a reply streams into this session (see :meth:`begin_answer`)."""
        return self._answering

    def refuse_while_answering(self) -> None:
        """Raise :class:`SessionBusy` while a reply streams in: close, delete and rename
        call this, so a reply is never cut off and saved half-written."""
        if self._answering:
            raise SessionBusy(self._name)

    @property
    def config(self) -> SessionConfig:
        return self._config

    @property
    def caps(self) -> Caps:
        return self._caps

    @property
    def messages(self) -> ListView[Message]:
        return self._views[0]

    @property
    def reasoning_steps(self) -> ListView[ReasoningStep]:
        return self._views[1]

    @property
    def tool_calls(self) -> ListView[ToolCall]:
        return self._views[2]

    @property
    def lock(self) -> threading.RLock:
        """Held while the session changes; hold it to read several fields consistently."""
        return self._lock

    @property
    def dirty(self) -> bool:
        """True when the session changed since it was last saved or loaded."""
        return self.revision != self.saved_revision

    def page(self, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
        """Messages ``[offset, offset+limit)`` from the oldest with their reasoning steps and
        tool calls, copied (see :func:`.page.take_page`); copies at most one page."""
        return take_page(self, offset, limit)

    def newest_page(self, limit: int = PAGE_SIZE) -> Page:
        return take_page(self, None, limit)

    def find_message(self, message_id: str) -> Message | None:
        with self._lock:
            for message in reversed(self._messages):
                if message.id == message_id:
                    return message
        return None

    def __repr__(self) -> str:
        return (
            f"<Session {self._name!r} id={self.id} messages={len(self._messages)} "
            f"provider={self._config.provider}>"
        )

    def _repr_markdown_(self) -> str:
        """Notebook display: name, id, counts, provider/model, the newest messages."""
        from .summary import session_markdown

        return session_markdown(self)

    def _repr_html_(self) -> str:
        """The same summary as escaped HTML."""
        from .summary import session_html

        return session_html(self)

    # -- changing --------------------------------------------------------------------------

    def add_message(
        self,
        role: Role,
        content: str,
        *,
        model: str | None = None,
        usage: Usage | None = None,
        tool_call_id: str | None = None,
        status: MessageStatus = "complete",
    ) -> Message:
        if role not in ROLES:
            raise JidoError(f"Unknown role '{role}': use one of {', '.join(ROLES)}.")
        if status not in MESSAGE_STATUSES:
            raise JidoError(f"Unknown message status '{status}'.")
        if not isinstance(content, str):
            raise JidoError("Message content must be text.")
        with self._lock:
            message = Message(
                new_id(6), role, content, utc_now(), model, usage, tool_call_id, status
            )
            self._messages.append(message)
            self._trim(self._messages, self._caps.max_messages, "messages")
            self._touch(message.created_at)
        self._notify(CHANGE_MESSAGE)
        return message

    def append_text(self, message: Message, delta: str) -> None:
        """Append streamed text to ``message``."""
        if not delta:
            return
        with self._lock:
            message.content += delta
            self._touch()
        self._notify(CHANGE_MESSAGE_TEXT)

    def finish_message(
        self,
        message: Message,
        status: MessageStatus = "complete",
        *,
        usage: Usage | None = None,
        model: str | None = None,
    ) -> None:
        if status not in MESSAGE_STATUSES:
            raise JidoError(f"Unknown message status '{status}'.")
        with self._lock:
            message.status = status
            if usage is not None:
                message.usage = usage
            if model is not None:
                message.model = model
            self._touch()
        self._notify(CHANGE_MESSAGE_TEXT)

    def remove_from(self, index: int) -> list[Message]:
        """Remove ``messages[index:]`` with the reasoning steps and tool calls that belong to
        them (``%session undo``); returns the removed messages, oldest first."""
        with self._lock:
            removed = self._messages[index:]
            if not removed:
                return []
            ids = {m.id for m in removed}
            del self._messages[index:]
            self._reasoning_steps[:] = [r for r in self._reasoning_steps if r.message_id not in ids]
            self._tool_calls[:] = [c for c in self._tool_calls if c.message_id not in ids]
            self._touch()
        self._notify(CHANGE_REMOVED)
        return removed

    def add_reasoning_step(self, content: str, message_id: str | None = None) -> ReasoningStep:
        with self._lock:
            step = ReasoningStep(new_id(6), content, utc_now(), message_id)
            self._reasoning_steps.append(step)
            self._trim(self._reasoning_steps, self._caps.max_reasoning_steps, "reasoning_steps")
            self._touch(step.created_at)
        self._notify(CHANGE_REASONING)
        return step

    def append_reasoning(self, step: ReasoningStep, delta: str) -> None:
        if not delta:
            return
        with self._lock:
            step.content += delta
            self._touch()
        self._notify(CHANGE_REASONING)

    def add_tool_call(
        self,
        name: str,
        arguments: dict[str, Any],
        message_id: str | None = None,
        *,
        call_id: str | None = None,
    ) -> ToolCall:
        with self._lock:
            call = ToolCall(call_id or new_id(6), name, dict(arguments), utc_now(), message_id)
            self._tool_calls.append(call)
            self._trim(self._tool_calls, self._caps.max_tool_calls, "tool_calls")
            self._touch(call.created_at)
        self._notify(CHANGE_TOOL_CALL)
        return call

    def update_tool_call(
        self, call: ToolCall, status: ToolCallStatus, result: str | None = None
    ) -> None:
        if status not in TOOL_CALL_STATUSES:
            raise JidoError(f"Unknown tool call status '{status}'.")
        with self._lock:
            call.status = status
            if result is not None:
                call.result = result
            self._touch()
        self._notify(CHANGE_TOOL_CALL)

    def add_usage(self, usage: Usage) -> None:
        with self._lock:
            self.usage.add(usage)
            self._touch()
        self._notify(CHANGE_USAGE)

    def set_config(self, config: SessionConfig) -> None:
        with self._lock:
            self._config = config
            self._touch()
        self._notify(CHANGE_CONFIG)

    def set_caps(self, caps: Caps) -> None:
        """Apply new caps now, dropping the oldest entries over them."""
        with self._lock:
            self._caps = caps
            if self._enforce_caps():
                self._touch()
        self._notify(CHANGE_CONFIG)

    def begin_answer(self) -> None:
        """Mark that a reply starts streaming in; :class:`SessionBusy` if one already is."""
        with self._lock:
            self.refuse_while_answering()
            self._answering = True
        self._notify(CHANGE_ANSWERING)

    def end_answer(self) -> None:
        self._answering = False
        self._notify(CHANGE_ANSWERING)

    def mark_exchange_complete(self) -> None:
        """Tell observers (autosave, the widget) that a prompt and its reply are complete."""
        self._notify(CHANGE_EXCHANGE)

    def mark_saved(self, generation: int, revision: int) -> None:
        """Record that the state at ``revision`` was written as ``generation``."""
        with self._lock:
            self.generation = generation
            self.saved_revision = revision
        self._notify(CHANGE_SAVED)

    # -- internals ---------------------------------------------------------------------------

    def _set_name(self, name: str) -> None:
        """Rename; the registry checks validity and uniqueness first."""
        with self._lock:
            self._name = name
            self._touch()

    def _become_copy(self, new_id: str, name: str, parent: Parent) -> None:
        """Become a new, never saved session ``new_id`` copied from ``parent`` (the registry
        checks the name)."""
        with self._lock:
            self.id = new_id
            self._name = name
            self.parent = parent
            self.generation = 0
            self._touch()

    def _set_listener(self, listener: SessionListener | None) -> None:
        self._listener = listener

    def _touch(self, when: str | None = None) -> None:
        self.updated_at = when or utc_now()
        self.revision += 1

    def _trim(self, items: list[Any], cap: int, key: str) -> bool:
        excess = len(items) - cap
        if excess > 0:
            del items[:excess]
            self.dropped[key] += excess
            return True
        return False

    def _enforce_caps(self) -> bool:
        caps = self._caps
        trimmed = self._trim(self._messages, caps.max_messages, "messages")
        trimmed |= self._trim(self._reasoning_steps, caps.max_reasoning_steps, "reasoning_steps")
        trimmed |= self._trim(self._tool_calls, caps.max_tool_calls, "tool_calls")
        return trimmed

    def _notify(self, kind: str) -> None:
        listener = self._listener
        if listener is not None:
            listener(self, kind)
