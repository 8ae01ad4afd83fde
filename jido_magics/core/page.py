"""One page of a session's conversation, copied under its lock: the one page model that
``%session show``, the exports (a page holding the whole history) and the widget all use.

Messages are numbered from 1 = the oldest message the session still holds. A page copies only
its own messages and the reasoning steps and tool calls that belong to them, so its cost is
bounded by the page and the caps, never by the length of the history.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from .errors import JidoError
from .phrases import fork_note
from .records import Message, ReasoningStep, ToolCall

PAGE_SIZE = 50


class Entry(NamedTuple):
    """One message with its 1-based number in the history and what belongs to it (a named
    tuple: a page makes one per message each time the widget renders)."""

    number: int
    message: Message
    reasoning_steps: tuple[ReasoningStep, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class Page:
    """Messages ``[offset, offset+limit)`` of a session (all from ``offset`` when ``limit`` is
    None), oldest first, with their reasoning steps and tool calls.

    The newest page also holds the steps and calls of no message (``unattached_*``, shown after
    the newest message); a page holding the whole history also those whose message is gone.
    """

    session_id: str
    name: str
    provider: str
    model: str | None
    offset: int
    limit: int | None
    total: int
    dropped: dict[str, int]
    entries: tuple[Entry, ...]
    unattached_reasoning: tuple[ReasoningStep, ...] = ()
    unattached_tool_calls: tuple[ToolCall, ...] = ()
    #: "forked from 'analysis' at message 4" for a fork, else "".
    fork: str = ""

    @property
    def messages(self) -> tuple[Message, ...]:
        return tuple(entry.message for entry in self.entries)

    @property
    def has_more(self) -> bool:
        """True when newer messages follow this page."""
        return self.offset + len(self.entries) < self.total

    @property
    def has_older(self) -> bool:
        """True when older messages precede this page."""
        return self.offset > 0

    @property
    def number(self) -> int:
        """1-based page number when pages are ``limit`` long from the oldest message."""
        return self.offset // self.limit + 1 if self.limit else 1

    @property
    def pages(self) -> int:
        """How many pages of ``limit`` messages the history fills (at least 1)."""
        return page_count(self.total, self.limit) if self.limit else 1


def page_count(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // page_size))


def newest_offset(total: int, limit: int = PAGE_SIZE) -> int:
    """The offset of the newest page of ``limit`` messages."""
    return max(0, total - limit)


def take_page(
    session: Any,
    offset: int | None = 0,
    limit: int | None = PAGE_SIZE,
    *,
    name_of_id: dict[str, str] | None = None,
) -> Page:
    """Copy page ``[offset, offset+limit)`` of ``session`` (``offset`` None: the newest page;
    ``limit`` None: to the newest message). ``name_of_id`` names the open sessions, for the
    fork note of a resumed fork."""
    if (offset is not None and offset < 0) or (limit is not None and limit < 1):
        raise JidoError("A page needs offset >= 0 and limit >= 1.")
    with session.lock:
        messages = session.messages
        total = len(messages)
        if offset is None:
            offset = 0 if limit is None else newest_offset(total, limit)
        end = total if limit is None else min(total, offset + limit)
        entries, loose_steps, loose_calls = attach(
            messages[offset:end], session.reasoning_steps, session.tool_calls, offset + 1
        )
        if end < total:  # steps and calls of no message show after the newest message only
            loose_steps, loose_calls = [], []
        elif offset > 0:  # those of older pages' messages belong there
            loose_steps = [s for s in loose_steps if s.message_id is None]
            loose_calls = [c for c in loose_calls if c.message_id is None]
        config = session.config
        return Page(
            session.id,
            session.name,
            config.provider,
            config.model,
            offset=offset,
            limit=limit,
            total=total,
            dropped=dict(session.dropped),
            entries=tuple(entries),
            unattached_reasoning=tuple(_copy_step(s) for s in loose_steps),
            unattached_tool_calls=tuple(_copy_call(c) for c in loose_calls),
            fork=fork_note(session, name_of_id),
        )


AttachedT = TypeVar("AttachedT", ReasoningStep, ToolCall)


def group_by_message(
    items: Iterable[AttachedT], message_ids: Container[str]
) -> tuple[dict[str, list[AttachedT]], list[AttachedT]]:
    """``items`` whose ``message_id`` is in ``message_ids``, by that id in their order, and
    the others (no message, or a message not among those)."""
    by_message: dict[str, list[AttachedT]] = {}
    others: list[AttachedT] = []
    for item in items:
        if item.message_id in message_ids:
            by_message.setdefault(item.message_id, []).append(item)  # type: ignore[arg-type]
        else:
            others.append(item)
    return by_message, others


def attach(
    messages: Sequence[Message],
    reasoning_steps: Iterable[ReasoningStep],
    tool_calls: Iterable[ToolCall],
    first_number: int = 1,
) -> tuple[list[Entry], list[ReasoningStep], list[ToolCall]]:
    """Copies of ``messages`` as entries numbered from ``first_number``, each with copies of
    its reasoning steps and tool calls; and the steps and calls (not copied) whose message is
    not in ``messages``."""
    ids = {m.id for m in messages}
    steps_by_message, loose_steps = group_by_message(reasoning_steps, ids)
    calls_by_message, loose_calls = group_by_message(tool_calls, ids)
    entries = []
    for number, m in enumerate(messages, first_number):
        steps, calls = steps_by_message.get(m.id), calls_by_message.get(m.id)
        entries.append(
            Entry(
                number,
                _copy_message(m),
                tuple(map(_copy_step, steps)) if steps else (),
                tuple(map(_copy_call, calls)) if calls else (),
            )
        )
    return entries, loose_steps, loose_calls


def _copy_message(m: Message) -> Message:
    return Message(
        m.id, m.role, m.content, m.created_at, m.model, m.usage, m.tool_call_id, m.status
    )


def _copy_step(s: ReasoningStep) -> ReasoningStep:
    return ReasoningStep(s.id, s.content, s.created_at, s.message_id)


def _copy_call(c: ToolCall) -> ToolCall:
    return ToolCall(c.id, c.name, dict(c.arguments), c.created_at, c.message_id, c.result, c.status)
