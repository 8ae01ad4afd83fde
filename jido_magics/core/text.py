"""Small helpers that word counts and long text for people, one way each (stdlib only)."""

from __future__ import annotations

ELLIPSIS = "…"


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 message``, ``2 messages``; ``plural_noun`` for an irregular noun (``replies``)."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, its end replaced by "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def one_line(text: str) -> str:
    """``text`` with every run of blanks and line breaks made one space, trimmed."""
    return " ".join(text.split())


def preview(text: str, limit: int) -> str:
    """The start of ``text`` on one line, at most ``limit`` characters."""
    return clip(one_line(text), limit)


def usd(cost: float) -> str:
    """A cost in US dollars for people: ``$0.0003``, ``$1.25``, ``< $0.0001``."""
    if cost == 0:
        return "$0"
    if cost < 0.0001:
        return "< $0.0001"
    return f"${cost:.4f}" if cost < 1 else f"${cost:,.2f}"
