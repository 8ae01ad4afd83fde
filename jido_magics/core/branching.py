"""Working with a conversation rather than only appending to it: fork a session at a
message, mark the last reply superseded for a retry, take back the last exchange.

Messages are numbered from 1 = the oldest message the session still holds (dropped ones are
not counted), as ``%session show`` numbers them.
"""

from __future__ import annotations

import copy

from .errors import JidoError, shorten
from .records import Message, Parent, Usage
from .session import Session


class NothingToChange(JidoError):
    """Retry or undo found no exchange to work on, or fork a message number out of range."""


def fork(session: Session, name: str, at: int | None = None) -> Session:
    """A new session (not yet opened) holding messages 1..``at`` (default all) of
    ``session`` with their reasoning steps and tool calls, its settings, caps and dropped
    counts, and ``parent`` pointing back at it. ``session`` is unchanged."""
    with session.lock:
        total = len(session.messages)
        if at is None:
            at = total
        elif not 1 <= at <= total:
            where = "it has no messages" if not total else f"use 1 to {total}"
            raise NothingToChange(
                f"Cannot fork '{shorten(session.name, 40)}' at message {at}: {where}."
            )
        messages = copy.deepcopy(session.messages[:at])
        ids = {m.id for m in messages}
        cutoff = messages[-1].created_at if messages else ""

        def belongs(message_id: str | None, created_at: str) -> bool:
            # Steps and calls of no message go with the fork when they are not newer.
            return message_id in ids if message_id is not None else created_at <= cutoff

        steps = [
            copy.deepcopy(r) for r in session.reasoning_steps if belongs(r.message_id, r.created_at)
        ]
        calls = [
            copy.deepcopy(c) for c in session.tool_calls if belongs(c.message_id, c.created_at)
        ]
        config, caps, dropped = session.config, session.caps, dict(session.dropped)
    usage = Usage()
    for message in messages:
        if message.usage is not None:
            usage.add(message.usage)
    # A reply still streaming in is copied as it is; Session marks it interrupted (the copy
    # will never receive the rest).
    forked = Session(
        name,
        config=config,
        caps=caps,
        messages=messages,
        reasoning_steps=steps,
        tool_calls=calls,
        usage=usage,
        dropped=dropped,
        parent=Parent(session.id, at, name=session.name),
    )
    forked.revision += 1  # its messages are not saved anywhere yet: a save must write them
    return forked


def last_user_index(session: Session) -> int | None:
    """Index of the newest user message, or None."""
    with session.lock:
        messages = session.messages
        for index in range(len(messages) - 1, -1, -1):
            if messages[index].role == "user":
                return index
    return None


def supersede_last_reply(session: Session) -> Message:
    """Mark every reply after the newest user message (assistant and tool messages)
    ``superseded``, so a new reply can be asked for; returns that user message."""
    with session.lock:
        index = _newest_user_index(session, "retry", " (send one with %chat)")
        replies = [m for m in session.messages[index + 1 :] if m.status != "superseded"]
        for reply in replies:
            session.finish_message(reply, "superseded")
        return session.messages[index]


def undo_last_exchange(session: Session) -> list[Message]:
    """Remove the newest user message and everything after it (replies, reasoning steps,
    tool calls); returns the removed messages, the user message first. Refused
    (:class:`~.errors.SessionBusy`) while a reply streams in."""
    with session.lock:  # begin_answer takes it too: no reply can start meanwhile
        session.refuse_while_answering()
        return session.remove_from(_newest_user_index(session, "undo"))


def _newest_user_index(session: Session, action: str, hint: str = "") -> int:
    """:func:`last_user_index`, or :class:`NothingToChange` saying there is nothing to
    ``action``."""
    index = last_user_index(session)
    if index is None:
        raise NothingToChange(
            f"Nothing to {action}: session '{shorten(session.name, 40)}' has no message of "
            f"yours{hint}."
        )
    return index
