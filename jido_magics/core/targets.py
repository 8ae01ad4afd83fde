"""Resolving what a user typed to name a session: index, id, name or unique prefix."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import NO_SESSION_OPEN, AmbiguousTarget, SessionNotFound, shorten
from .session import Session


def resolve_target(target: int | str, sessions: Sequence[Session]) -> Session:
    """Find one session by exact id, 1-based index, exact name (case-insensitive), or a unique
    case-insensitive prefix of a name or id, in that order of precedence."""
    if not sessions:
        raise SessionNotFound(NO_SESSION_OPEN)
    if isinstance(target, int) and not isinstance(target, bool):
        return _by_index(target, sessions, str(target))
    if not isinstance(target, str) or not target.strip():
        raise SessionNotFound("Name a session by its index, name or id (see %session list).")
    text = target.strip()
    for session in sessions:
        if session.id == text:
            return session
    is_number = text.isdecimal() and text.isascii()
    if is_number and 1 <= int(text) <= len(sessions):
        return sessions[int(text) - 1]
    folded = text.casefold()
    for session in sessions:
        if session.name.casefold() == folded:
            return session
    matches = [
        s
        for s in sessions
        if s.name.casefold().startswith(folded) or s.id.casefold().startswith(folded)
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise AmbiguousTarget(text, [s.name for s in matches])
    if is_number:
        return _by_index(int(text), sessions, text)
    raise SessionNotFound(
        f"No open session matches '{shorten(text, 40)}': see %session list for names and indexes."
    )


def _by_index(index: int, sessions: Sequence[Session], shown: str) -> Session:
    if 1 <= index <= len(sessions):
        return sessions[index - 1]
    raise SessionNotFound(
        f"There is no session number {shorten(shown, 20)}: "
        f"use 1 to {len(sessions)} (see %session list)."
    )
