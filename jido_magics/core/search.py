"""Searching conversations: the query (words and "quoted phrases"), matching a message, and
the marked snippet of a hit.

Text is split into words the way SQLite's ``unicode61`` tokenizer splits it (runs of letters
and digits; case ignored), so a search of open sessions here and of saved ones in the FTS5
index find the same messages. Whatever the user types is only ever words: FTS5 operators
(``NEAR``, ``*``, ``^``, column filters, parentheses) are never passed through.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import JidoError, shorten

if TYPE_CHECKING:
    from .records import Message
    from .session import Session

_WORD = re.compile(r"[^\W_]+")
SNIPPET_WIDTH = 160
MARK_OPEN = "«"
MARK_CLOSE = "»"
_SPACE = re.compile(r"\s+")


class InvalidQuery(JidoError):
    pass


@dataclass(frozen=True)
class Query:
    """A parsed query: every term must occur in a message; a term is one word or a phrase
    (words in a row). Words are lower case."""

    text: str
    terms: tuple[tuple[str, ...], ...]
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        patterns = tuple(
            re.compile(
                r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, term)) + r"(?![^\W_])",
                re.IGNORECASE,
            )
            for term in self.terms
        )
        object.__setattr__(self, "_patterns", patterns)

    @property
    def fts(self) -> str:
        """The FTS5 expression: each term as a quoted string (words only: no operator, no
        quote inside), all required."""
        return " ".join('"' + " ".join(term) + '"' for term in self.terms)

    def spans(self, text: str) -> list[tuple[int, int]] | None:
        """Where each term first occurs in ``text``, or None when one does not."""
        found = []
        for pattern in self._patterns:
            match = pattern.search(text)
            if match is None:
                return None
            found.append(match.span())
        return found


def parse_query(text: str) -> Query:
    """Words and "quoted phrases" of ``text``; an unpaired quote is ignored. Raises
    :class:`InvalidQuery` when there is no word to search for."""
    terms: list[tuple[str, ...]] = []
    parts = text.split('"')
    if len(parts) % 2 == 0:  # an odd number of quotes: the last one pairs with nothing
        parts[-2:] = [parts[-2] + " " + parts[-1]]
    for index, part in enumerate(parts):
        words = tuple(w.lower() for w in _WORD.findall(part))
        if not words:
            continue
        if index % 2:  # inside quotes
            terms.append(words)
        else:
            terms.extend((w,) for w in words)
    if not text.strip():
        raise InvalidQuery('Give words or a "quoted phrase" to search for: %session search WORDS.')
    if not terms:
        raise InvalidQuery(
            f"Nothing to search for in '{shorten(text.strip(), 40)}': give one or more words "
            'or a "quoted phrase" (search looks at letters and digits only).'
        )
    return Query(text, tuple(dict.fromkeys(terms)))


def parse_words(words: list[str]) -> Query:
    """The query of a magic's words (quotes already removed by the line splitter): a word
    holding white space was quoted, so it is a phrase."""
    parts = []
    for word in words:
        word = word.replace('"', " ")
        parts.append(f'"{word}"' if any(c.isspace() for c in word.strip()) else word)
    return parse_query(" ".join(parts))


@dataclass(frozen=True, slots=True)
class Hit:
    """One message found: in which session, its number (1 = oldest kept), role, time and a
    snippet with the first match marked. ``open``: found in an open session."""

    session_name: str
    session_id: str
    number: int
    role: str
    created_at: str
    snippet: str
    open: bool


def where_found(hits: Iterable[Hit], width: int) -> list[str]:
    """Each hit's session as listed: its name (cut to ``width``), "(saved)" when it was found
    in a saved file, and its id when another session among ``hits`` has the same name
    (``keeper (saved, 71a582df)``), so that two of them can be told apart."""
    hits = list(hits)
    ids_of: dict[str, set[str]] = {}
    for hit in hits:
        ids_of.setdefault(hit.session_name.casefold(), set()).add(hit.session_id)
    places = []
    for hit in hits:
        marks = [] if hit.open else ["saved"]
        if len(ids_of[hit.session_name.casefold()]) > 1:
            marks.append(hit.session_id)
        aside = f" ({', '.join(marks)})" if marks else ""
        places.append(shorten(hit.session_name, width) + aside)
    return places


def snippet(text: str, spans: list[tuple[int, int]] | None, width: int = SNIPPET_WIDTH) -> str:
    """At most ``width`` characters of ``text`` on one line around the first span, marked
    ``«…»``; the start of the text when nothing matched."""
    if not spans:
        return _one_line(text, width)
    start, end = min(spans)
    end = min(end, start + width - 4)  # a very long match is cut, its marks kept
    room = width - (end - start) - 2  # the two marks
    before = min(start, room // 3)
    lead = text[start - before : start]
    tail = text[end : end + room - len(_flat(lead))]
    left = "…" if start - before > 0 else ""
    right = "…" if end + len(tail) < len(text) else ""
    shown = (
        left
        + _flat(lead).lstrip()
        + MARK_OPEN
        + _flat(text[start:end])
        + MARK_CLOSE
        + _flat(tail).rstrip()
    )
    over = len(shown) + len(right) - width
    if over > 0:
        shown = shown[: len(shown) - over - (1 if not right else 0)]
        right = "…"
    return shown + right


def _flat(text: str) -> str:
    """``text`` on one line: runs of white space (newlines too) as one space, other control
    characters as spaces."""
    text = _SPACE.sub(" ", text)
    return text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)


def _one_line(text: str, width: int) -> str:
    flat = _flat(text[: width * 4]).strip()
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def search_sessions(
    sessions: Iterable[Session], query: Query, limit: int, *, open_: bool = True
) -> list[Hit]:
    """The newest ``limit`` messages of ``sessions`` that match, newest first."""
    found: list[tuple[str, int, int, Session, Message]] = []
    for session in sessions:
        with session.lock:
            messages = list(session.messages)
        for number, message in enumerate(messages, 1):
            if query.spans(message.content) is not None:
                found.append((message.created_at, len(found), number, session, message))
    newest = heapq.nlargest(limit, found, key=lambda item: (item[0], item[1]))
    return [
        Hit(
            session.name,
            session.id,
            number,
            message.role,
            created_at,
            snippet(message.content, query.spans(message.content)),
            open_,
        )
        for created_at, _, number, session, message in newest
    ]


def newest_first(hits: Iterable[Hit], limit: int) -> list[Hit]:
    return heapq.nlargest(limit, hits, key=lambda hit: hit.created_at)
