"""``%session show``: one page of a conversation, rendered as Markdown in a notebook and as
readable text in a terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .clock import display_time
from .controls import visible_controls
from .errors import JidoError
from .page import PAGE_SIZE, Entry, Page, page_count, take_page
from .phrases import dropped_note
from .safe_markdown import markdown_inline
from .text import plural
from .transcript import entry_markdown, unattached_markdown


class PageOutOfRange(JidoError):
    """``%session show --page N`` named a page that does not exist."""


@dataclass(frozen=True)
class ConversationPage:
    """What ``%session show`` returns: a :class:`~.page.Page` that displays itself."""

    page: Page

    @property
    def number(self) -> int:
        return self.page.number

    @property
    def pages(self) -> int:
        return self.page.pages

    def heading(self) -> str:
        page = self.page
        if not page.entries:
            return f"Session '{page.name}' ({page.session_id}): no messages yet."
        first = page.entries[0].number
        last = page.entries[-1].number
        return (
            f"Session '{page.name}' ({page.session_id}) — page {page.number} of {page.pages}, "
            f"messages {first}–{last} of {page.total}"
        )

    def _notes(self) -> list[tuple[str, str]]:
        """``(text, command)`` pairs: what is dropped, and how to see older or newer pages
        (by id, which is always a valid target)."""
        page = self.page
        notes = []
        for note in (page.fork, dropped_note(page.dropped)):
            if note:
                notes.append((f"{note[0].upper()}{note[1:]}.", ""))
        show = f"%session show {page.session_id} --page"
        if page.number > 1:
            notes.append(("Older:", f"{show} {page.number - 1}"))
        if page.number < page.pages:
            notes.append(("Newer:", f"{show} {page.number + 1}"))
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
        blocks += [entry_markdown(entry) for entry in self.page.entries]
        blocks += unattached_markdown(self.page)
        return visible_controls("\n\n---\n\n".join(blocks) + "\n")

    def __str__(self) -> str:
        lines = [self.heading()]
        lines += [f"{text} {command}".rstrip() for text, command in self._notes()]
        for entry in self.page.entries:
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


def conversation_page(
    session: Any, page: int | None = None, name_of_id: dict[str, str] | None = None
) -> ConversationPage:
    """Page ``page`` (1 = oldest) of ``session``'s conversation; the newest page by default.
    ``name_of_id`` names the open sessions, for the fork note of a resumed fork.

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
        taken = take_page(session, (number - 1) * PAGE_SIZE, PAGE_SIZE, name_of_id=name_of_id)
    return ConversationPage(taken)
