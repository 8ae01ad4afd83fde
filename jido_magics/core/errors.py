"""Typed errors of jido_magics.

Every error carries one sentence that says what is wrong and what to do next; the magics show
``str(exc)`` as a one-line ``UsageError``. Messages never echo secrets or long file content.
"""

from __future__ import annotations

from collections.abc import Iterable

from .text import clip

#: The one wording for "there is no session" (none open means none active, and vice versa).
NO_SESSION_OPEN = "No session is open: create one with %session new NAME."


class JidoError(Exception):
    """Base class of every error the product raises on purpose."""


class SessionError(JidoError):
    """A problem with sessions in the registry (targets, names, limits)."""


class SessionNotFound(SessionError):
    pass


class AmbiguousTarget(SessionError):
    def __init__(
        self,
        target: str,
        candidates: list[str],
        advice: str = "type more of the name or use its index",
    ) -> None:
        self.target = target
        self.candidates = candidates
        listed = ", ".join(f"'{name}'" for name in candidates)
        super().__init__(f"Ambiguous session '{target}': matches {listed}; {advice}.")


class NoActiveSession(SessionError):
    pass


class SessionLimitReached(SessionError):
    pass


class InvalidName(SessionError):
    pass


class DuplicateName(SessionError):
    pass


class InvalidSessionId(SessionError):
    pass


class SessionBusy(SessionError):
    """A reply is streaming into the session: it cannot be closed, deleted or renamed, nor
    sent a second message, until the reply ends."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Session '{shorten(name, 50)}' is still answering: wait for the reply or interrupt it."
        )


class InvalidConfig(JidoError):
    pass


def shorten(text: str, limit: int = 80) -> str:
    """Return ``text`` cut to ``limit`` characters, for quoting user or file content safely."""
    return clip(repr(text)[1:-1] if not text.isprintable() else text, limit)


def closest_choice(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a mistyped ``word`` (any case), or None when none is close."""
    from difflib import get_close_matches  # lazy: only a mistake pays for it

    options = list(choices)
    found = get_close_matches(word.lower(), [c.lower() for c in options], n=1, cutoff=0.75)
    return next(c for c in options if c.lower() == found[0]) if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" Did you mean 'switch'?"`` for the choice closest to ``word``, else ``""``."""
    closest = closest_choice(word, choices)
    return f" Did you mean '{closest}'?" if closest else ""


def unknown_choice(kind: str, word: str, choices: Iterable[str], tail: str = "") -> str:
    """``Unknown setting 'temprature': did you mean 'temperature'? Use one of ...``, or
    ``... 'xyz': use one of ...`` when nothing is close."""
    options = list(choices)
    closest = closest_choice(word, options)
    head = f"Unknown {kind} '{shorten(word, 40)}': "
    listed = f"use one of {', '.join(options)}{tail}."
    return head + (f"did you mean '{closest}'? {listed.capitalize()}" if closest else listed)
