"""``%session search``: words and "quoted phrases" in open and saved conversations."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...core.errors import JidoError, SessionNotFound, shorten
from ...core.search import (
    Hit,
    Query,
    newest_first,
    parse_words,
    search_sessions,
    where_found,
)
from ...core.text import plural
from ...persistence.errors import NoSavedSession
from ..text_table import TextTable
from .command import SESSION_OPTION, Arg, Command
from .saved import find_saved, folders_beside, others_note

if TYPE_CHECKING:
    from ..extension import Extension

DEFAULT_LIMIT = 20


@dataclass(frozen=True, repr=False)  # the table is its repr
class SearchResults(TextTable):
    """What ``%session search`` returns: the hits, newest first, as a table."""

    query: str
    rows: tuple[tuple[str, ...], ...]
    hits: tuple[Hit, ...]
    searched: str
    #: When nothing matched: the note naming other sessions folders beside this one.
    note: str = ""

    HEADERS = ("session", "msg", "role", "time (UTC)", "text")

    @classmethod
    def of(cls, query: str, hits: list[Hit], searched: str, note: str = "") -> SearchResults:
        rows = tuple(
            (
                where,
                str(hit.number),
                hit.role,
                hit.created_at[:16].replace("T", " "),
                hit.snippet,
            )
            for where, hit in zip(where_found(hits, 30), hits, strict=True)
        )
        return cls(query, rows, tuple(hits), searched, note)

    def empty_text(self) -> str:
        text = f"No message matches '{shorten(self.query, 40)}' in {self.searched}."
        return f"{text}\n{self.note}" if self.note else text


def _run(ext: Extension, args: argparse.Namespace) -> SearchResults:
    query = parse_words(args.query)
    progress = IndexingLine()
    try:
        hits, searched = find_hits(
            ext,
            query,
            limit=args.limit,
            target=args.target,
            open_only=args.open_only,
            progress=progress,
        )
    except KeyboardInterrupt:
        # Each file indexed so far is committed; the next search goes on from there.
        raise JidoError(progress.interrupted()) from None
    note = ""
    if not hits and not args.open_only and args.target is None:
        # A renamed notebook's sessions stay in its old folder, which is not searched.
        others = folders_beside(ext.store)
        note = others_note(others) if others else ""
    return SearchResults.of(query.text, hits, searched, note)


#: Seconds of indexing before its progress line shows, and between two updates.
PROGRESS_AFTER = 0.5
PROGRESS_EVERY = 0.2


class IndexingLine:
    """One line on stderr, rewritten in place, while a search indexes saved files: shown
    only once it has taken ``PROGRESS_AFTER`` seconds, so a quick search prints nothing."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._shown = 0.0
        self._width = 0
        self._done: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        self._done = (done, total)
        now = time.monotonic()
        if now - self._start < PROGRESS_AFTER or (
            done < total and now - self._shown < PROGRESS_EVERY
        ):
            return
        if done < total:
            text = f"Indexing saved sessions for search: {done} of {total} files…"
        elif self._shown:
            took = now - self._start
            text = f"Indexed {plural(total, 'saved session file')} for search in {took:.1f} s."
        else:
            return
        self._shown = now
        end = "\n" if done >= total else ""
        print(f"\r{text:<{self._width}}", end=end, file=sys.stderr, flush=True)
        self._width = len(text)

    def interrupted(self) -> str:
        """Clear a progress line left unfinished, and the sentence for an interrupted search."""
        if self._width and self._done is not None and self._done[0] < self._done[1]:
            print(f"\r{'':<{self._width}}\r", end="", file=sys.stderr, flush=True)
        done, total = self._done or (0, 0)
        if done >= total:  # before indexing, or after all of it
            return "Search interrupted."
        return (
            f"Search interrupted after indexing {done} of {plural(total, 'saved file')}; "
            "the rest is indexed by the next search."
        )


def find_hits(
    ext: Extension,
    query: Query,
    *,
    limit: int = DEFAULT_LIMIT,
    target: str | None = None,
    open_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Hit], str]:
    """The newest ``limit`` hits of ``query`` in the open sessions and this notebook's saved
    ones (``target``: only that session, open or saved; ``open_only``: open ones only), and
    what was searched, for the sentence when nothing matched. ``progress(done, total)``:
    called as saved files are indexed."""
    if limit < 1:
        raise JidoError(f"--limit must be at least 1, not {limit}.")
    registry = ext.registry
    open_sessions = list(registry.sessions)
    only_saved: str | None = None
    if target is not None:
        try:
            open_sessions = [registry.get(target)]
        except SessionNotFound:
            if open_only:
                raise
            open_sessions = []
            only_saved = _saved_target(ext, target)
    hits = search_sessions(open_sessions, query, limit)
    searched = plural(len(open_sessions), "open session")
    if not open_only and (target is None or only_saved is not None):
        from ...persistence.saved_search import search_saved

        skip = {s.id for s in registry.sessions}  # their open copy is the newer one
        # The background indexer waits: what is left to index, the search does with progress.
        with ext.indexer.paused() if ext.indexer is not None else nullcontext():
            saved = search_saved(
                ext.store, query, limit, skip=skip, only=only_saved, progress=progress
            )
        hits = newest_first([*hits, *saved], limit)
        if only_saved is not None:
            searched = "that saved session"
        elif open_sessions:
            searched = f"{searched} and this notebook's saved sessions"
        else:
            searched = "this notebook's saved sessions"
    elif target is not None:
        searched = "that session"
    return hits, searched


def _saved_target(ext: Extension, target: str) -> str:
    try:
        return find_saved(ext.store, target)
    except NoSavedSession:
        raise SessionNotFound(
            f"No open or saved session matches '{shorten(target, 40)}': "
            "%session list and %session resume list them."
        ) from None


COMMANDS = [
    Command(
        "search",
        (
            Arg("query", nargs="*", metavar="QUERY"),
            SESSION_OPTION,
            Arg("--open", flag=True, dest="open_only"),
            Arg("--limit", metavar="N", type=int, default=DEFAULT_LIMIT),
        ),
        'find messages in open and saved sessions: words, "quoted phrases", newest first',
        _run,
        dash_words=True,
        details=(
            "Case is ignored; punctuation, search operators and -words are plain text.\n"
            f"--open: open sessions only. Default --limit {DEFAULT_LIMIT}.\n"
            "Go to a hit: %session show TARGET --at N (resume a saved one first)."
        ),
    ),
]
