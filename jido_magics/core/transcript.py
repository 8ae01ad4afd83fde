"""A session's conversation as text: Markdown pages for ``%session show``, a full Markdown
transcript and a plain JSON document for ``%session export`` (stdlib only).

Message content is Markdown written by a user or a model, so before it is placed in Markdown
that a notebook renders it is neutralized (:mod:`.safe_markdown`). Reasoning steps and tool
calls are folded in ``<details>`` blocks whose text sits in code fences.
"""

from __future__ import annotations

import html
import json
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .clock import display_time, utc_now
from .controls import visible_controls
from .errors import JidoError
from .phrases import ROLE_LABELS, dropped_note, fork_note, model_label
from .records import Message, ReasoningStep, ToolCall
from .safe_markdown import code_fence, neutralize_markdown
from .text import plural

PAGE_SIZE = 50
EXPORT_FORMAT = "jido_magics.transcript"
EXPORT_VERSION = 1

#: The summary of a reply replaced by ``%session retry`` (folded wherever it is shown).
SUPERSEDED_LABEL = "Superseded reply (replaced by retry)"


class PageOutOfRange(JidoError):
    """``%session show --page N`` named a page that does not exist."""


# -- inline text -----------------------------------------------------------------------------

# The marks that can start inline Markdown or HTML mid-line (CommonMark lets any ASCII
# punctuation be backslash-escaped; escaping only these keeps the source readable).
_INLINE_SPECIAL = frozenset("\\`*_[]<>!|~&#$")


def markdown_inline(text: str) -> str:
    """``text`` as literal inline Markdown (not at a line start): its special marks are
    backslash-escaped and line breaks become spaces."""
    flat = " ".join(text.split())
    return "".join("\\" + c if c in _INLINE_SPECIAL else c for c in flat)


def code_block(text: str, info: str = "text") -> str:
    """``text`` in a fence longer than any backtick run inside it, so it stays verbatim."""
    fence = code_fence(text)
    return f"{fence}{info}\n{text}\n{fence}"


def folded(summary: str, body: str) -> str:
    """A ``<details>`` block; ``summary`` is plain text (escaped here), ``body`` Markdown.
    The blank lines let Markdown inside the block render."""
    return f"<details><summary>{html.escape(summary)}</summary>\n\n{body}\n\n</details>"


# -- a conversation snapshot -----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One message with its 1-based number in the history and what belongs to it."""

    number: int
    message: Message
    reasoning_steps: tuple[ReasoningStep, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of (part of) a session taken under its lock."""

    session_id: str
    name: str
    provider: str
    model: str | None
    total: int
    dropped: dict[str, int]
    entries: tuple[Entry, ...]
    #: Reasoning steps and tool calls whose message is not among ``entries``.
    unattached_reasoning: tuple[ReasoningStep, ...] = ()
    unattached_tool_calls: tuple[ToolCall, ...] = ()
    #: "forked from 'analysis' at message 4" for a fork, else "".
    fork: str = ""


def snapshot(session: Any, offset: int = 0, limit: int | None = None) -> Snapshot:
    """Copy messages ``[offset, offset+limit)`` (all when ``limit`` is None) with their
    reasoning steps and tool calls. Only the requested messages are copied."""
    with session.lock:
        total = len(session.messages)
        end = total if limit is None else min(total, offset + limit)
        messages = [_copy_message(m) for m in session.messages[offset:end]]
        steps = [_copy_step(s) for s in session.reasoning_steps]
        calls = [_copy_call(c) for c in session.tool_calls]
        config = session.config
        name, dropped = session.name, dict(session.dropped)
        fork = fork_note(session)
    entries, loose_steps, loose_calls = attach(messages, steps, calls, first_number=offset + 1)
    # On a page, the steps and calls of other pages are not "unattached": only a view of the
    # whole history lists those whose message was dropped or never recorded.
    whole = offset == 0 and end == total
    return Snapshot(
        session_id=session.id,
        name=name,
        provider=config.provider,
        model=config.model,
        total=total,
        dropped=dropped,
        entries=tuple(entries),
        unattached_reasoning=tuple(loose_steps) if whole else (),
        unattached_tool_calls=tuple(loose_calls) if whole else (),
        fork=fork,
    )


def _copy_message(m: Message) -> Message:
    return Message(
        m.id, m.role, m.content, m.created_at, m.model, m.usage, m.tool_call_id, m.status
    )


def _copy_step(s: ReasoningStep) -> ReasoningStep:
    return ReasoningStep(s.id, s.content, s.created_at, s.message_id)


def _copy_call(c: ToolCall) -> ToolCall:
    return ToolCall(c.id, c.name, dict(c.arguments), c.created_at, c.message_id, c.result, c.status)


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
    """Group reasoning steps and tool calls under the message they belong to; returns the
    entries and the steps and calls whose message is not in ``messages``."""
    ids = {m.id for m in messages}
    steps_by_message, loose_steps = group_by_message(reasoning_steps, ids)
    calls_by_message, loose_calls = group_by_message(tool_calls, ids)
    entries = [
        Entry(
            first_number + i,
            m,
            tuple(steps_by_message.get(m.id, ())),
            tuple(calls_by_message.get(m.id, ())),
        )
        for i, m in enumerate(messages)
    ]
    return entries, loose_steps, loose_calls


# -- Markdown --------------------------------------------------------------------------------


def entry_heading(entry: Entry) -> str:
    """``**#3 · Assistant** · 2026-11-24 12:43:49 UTC · gpt-4o · error``"""
    message = entry.message
    parts = [f"**#{entry.number} · {ROLE_LABELS.get(message.role, message.role.title())}**"]
    parts.append(display_time(message.created_at))
    if message.model:
        parts.append(markdown_inline(message.model))
    if message.status != "complete":
        parts.append(f"*{message.status}*")
    return " · ".join(parts)


def reasoning_markdown(steps: Sequence[ReasoningStep]) -> str:
    body = "\n\n".join(code_block(step.content) for step in steps)
    return folded(f"Reasoning ({plural(len(steps), 'step')})", body)


def tool_call_markdown(call: ToolCall) -> str:
    arguments = json.dumps(call.arguments, indent=2, ensure_ascii=False, sort_keys=True)
    body = "Arguments:\n\n" + code_block(arguments, "json")
    if call.result is not None:
        body += "\n\nResult:\n\n" + code_block(call.result)
    return folded(f"Tool call: {call.name} ({call.status})", body)


def entry_markdown(entry: Entry) -> str:
    """One message as Markdown: a heading line, the content, then folded extras."""
    message = entry.message
    blocks = [entry_heading(entry)]
    if entry.reasoning_steps:
        blocks.append(reasoning_markdown(entry.reasoning_steps))
    if message.role == "tool":
        label = f"Tool result ({message.tool_call_id})" if message.tool_call_id else "Tool result"
        blocks.append(folded(label, code_block(message.content)))
    elif message.status == "superseded":
        blocks.append(folded(SUPERSEDED_LABEL, neutralize_markdown(message.content)))
    elif message.content:
        blocks.append(neutralize_markdown(message.content))
    elif message.status == "streaming":
        blocks.append("*…*")
    blocks.extend(tool_call_markdown(call) for call in entry.tool_calls)
    return "\n\n".join(blocks)


def _unattached_markdown(snap: Snapshot) -> list[str]:
    blocks = []
    if snap.unattached_reasoning:
        blocks.append(reasoning_markdown(snap.unattached_reasoning))
    blocks.extend(tool_call_markdown(call) for call in snap.unattached_tool_calls)
    return blocks


def transcript_markdown(snap: Snapshot, exported_at: str | None = None) -> str:
    """The whole conversation as one Markdown document, oldest message first."""
    model = model_label(snap.provider, snap.model)
    lines = [
        f"# {markdown_inline(snap.name)}",
        "",
        f"Session `{snap.session_id}` · {markdown_inline(model)} · "
        f"{plural(snap.total, 'message')} · exported {display_time(exported_at or utc_now())}",
    ]
    for note in (snap.fork, dropped_note(snap.dropped)):
        if note:
            lines += ["", f"*{markdown_inline(note[0].upper() + note[1:])}.*"]
    blocks = ["\n".join(lines)]
    blocks += [entry_markdown(entry) for entry in snap.entries]
    blocks += _unattached_markdown(snap)
    return visible_controls("\n\n---\n\n".join(blocks) + "\n")


def message_cells(snap: Snapshot) -> list[tuple[str, str]]:
    """``(message id, Markdown)`` of each message (one notebook cell each), oldest first."""
    return [(entry.message.id, visible_controls(entry_markdown(entry))) for entry in snap.entries]


# -- JSON ------------------------------------------------------------------------------------


def transcript_document(session: Any, exported_at: str | None = None) -> dict[str, Any]:
    """The session as a plain, chronological JSON document (settings without secrets)."""
    with session.lock:
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": exported_at or utc_now(),
            "session": {
                "id": session.id,
                "name": session.name,
                "created_at": session.created_at,
                "updated_at": session.updated_at,
                "config": session.config.to_dict(),
                "usage": session.usage.to_dict(),
                "dropped": dict(session.dropped),
            },
            "messages": [m.to_dict() for m in session.messages],
            "reasoning_steps": [s.to_dict() for s in session.reasoning_steps],
            "tool_calls": [c.to_dict() for c in session.tool_calls],
        }


# -- pages for %session show -----------------------------------------------------------------


def page_count(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // page_size))


@dataclass(frozen=True)
class ConversationPage:
    """One page of a conversation, as ``%session show`` returns it: rendered as Markdown in a
    notebook, as readable text in a terminal."""

    snapshot: Snapshot
    number: int
    pages: int

    def heading(self) -> str:
        snap = self.snapshot
        if not snap.entries:
            return f"Session '{snap.name}' ({snap.session_id}): no messages yet."
        first = snap.entries[0].number
        last = snap.entries[-1].number
        return (
            f"Session '{snap.name}' ({snap.session_id}) — page {self.number} of {self.pages}, "
            f"messages {first}–{last} of {snap.total}"
        )

    def _notes(self) -> list[tuple[str, str]]:
        """``(text, command)`` pairs: what is dropped, and how to see older or newer pages
        (by id, which is always a valid target)."""
        notes = []
        for note in (self.snapshot.fork, dropped_note(self.snapshot.dropped)):
            if note:
                notes.append((f"{note[0].upper()}{note[1:]}.", ""))
        show = f"%session show {self.snapshot.session_id} --page"
        if self.number > 1:
            notes.append(("Older:", f"{show} {self.number - 1}"))
        if self.number < self.pages:
            notes.append(("Newer:", f"{show} {self.number + 1}"))
        return notes

    def _repr_markdown_(self) -> str:
        blocks = [f"**{markdown_inline(self.heading())}**"]
        notes = self._notes()
        if notes:
            blocks.append(
                " ".join(
                    f"*{markdown_inline(text)}*" + (f" `{command}`" if command else "")
                    for text, command in notes
                )
            )
        blocks += [entry_markdown(entry) for entry in self.snapshot.entries]
        blocks += _unattached_markdown(self.snapshot)
        return visible_controls("\n\n---\n\n".join(blocks) + "\n")

    def __str__(self) -> str:
        lines = [self.heading()]
        lines += [f"{text} {command}".rstrip() for text, command in self._notes()]
        for entry in self.snapshot.entries:
            lines.append("")
            lines.append(_entry_text(entry))
        return visible_controls("\n".join(lines))

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def _entry_text(entry: Entry) -> str:
    message = entry.message
    head = f"[{entry.number}] {message.role} · {display_time(message.created_at)}"
    if message.model:
        head += f" · {message.model}"
    if message.status != "complete":
        head += f" · {message.status}"
    lines = [head]
    if message.status == "superseded":
        size = plural(len(message.content), "character")
        lines.append(f"    (superseded reply, replaced by retry: {size} folded)")
    elif message.content:
        lines += ["    " + line for line in message.content.split("\n")]
    folded_parts = []
    if entry.reasoning_steps:
        folded_parts.append(plural(len(entry.reasoning_steps), "reasoning step"))
    folded_parts += [f"tool call {c.name} ({c.status})" for c in entry.tool_calls]
    if folded_parts:
        lines.append("    (" + "; ".join(folded_parts) + ")")
    return "\n".join(lines)


def page_of_message(session: Any, number: int) -> int:
    """The page (1 = oldest) holding message ``number`` (1 = oldest kept) of ``session``."""
    total = len(session.messages)
    if not 1 <= number <= total:
        raise PageOutOfRange(
            f"Message {number} does not exist: session '{session.name}' has "
            f"{plural(total, 'message')} (1 = the oldest kept)."
        )
    return (number - 1) // PAGE_SIZE + 1


def conversation_page(session: Any, page: int | None = None) -> ConversationPage:
    """Page ``page`` (1 = oldest) of ``session``'s conversation; the newest page by default.

    Raises :class:`PageOutOfRange` with the valid range for a page that does not exist."""
    with session.lock:
        total = len(session.messages)
        pages = page_count(total)
        number = pages if page is None else page
        if not 1 <= number <= pages:
            only = "has only page 1" if pages == 1 else f"has pages 1 to {pages}"
            raise PageOutOfRange(
                f"Page {page} does not exist: session '{session.name}' {only} "
                f"({plural(total, 'message')}, {PAGE_SIZE} a page)."
            )
        snap = snapshot(session, (number - 1) * PAGE_SIZE, PAGE_SIZE)
    return ConversationPage(snap, number, pages)
