"""Search the saved sessions of a folder: the FTS5 index in the cache, kept current by file.

Only files the listing finds ``ok`` are searched. A file whose text is not in the index for
its current fingerprint is read and verified in full, then indexed; hits come only from text
indexed out of a verified read of the file as it is now. Without the cache every ``ok`` file
is read, verified and scanned (slower, same results). :func:`index_folder` does a search's
indexing ahead of it (``background_index`` runs it after saves and loads).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from ..core.search import Hit, Query, search_sessions, snippet
from . import text_index
from .cache import CacheOff, stamp_of
from .catalog import SETTLE_NS, Listing, key_ring_label
from .errors import PersistenceError
from .file_status import SavedSession
from .store import SessionStore

#: Removed files whose text a search deletes first (more would delay it: each costs about an
#: indexing); the background indexer deletes the rest.
_CLEANED_BY_A_SEARCH = 4
#: Called with (files indexed so far, files to index) while a search indexes.
Progress = Callable[[int, int], None]


def search_saved(
    store: SessionStore,
    query: Query,
    limit: int,
    *,
    skip: Collection[str] = (),
    only: str | None = None,
    progress: Progress | None = None,
) -> list[Hit]:
    """The newest ``limit`` messages of the folder's verified saved sessions that match
    ``query``, newest first; ``skip``: ids not to search (open sessions), ``only``: the one
    id to search; ``progress(done, total)`` is called after each file indexed."""
    listing = Listing(store, for_search=True)
    wanted = [
        item
        for item in listing.saved
        if item.ok and item.id not in skip and (only is None or item.id == only)
    ]
    if not wanted:
        return []
    if listing.cache.on:
        try:
            return _from_index(store, listing, wanted, query, limit, progress)
        except CacheOff:
            pass
    return _by_reading(store, wanted, query, limit)


def _from_index(
    store: SessionStore,
    listing: Listing,
    wanted: list[SavedSession],
    query: Query,
    limit: int,
    progress: Progress | None,
) -> list[Hit]:
    cache = listing.cache
    text_index.clean(cache, most=_CLEANED_BY_A_SEARCH)
    by_key, unindexed = _index_state(listing, wanted)
    for done, (item, stamp) in enumerate(unindexed, 1):
        key = index_file(store, item, stamp)
        if key:
            by_key[key] = item
        if progress is not None:
            progress(done, len(unindexed))
    hits = []
    files = sorted(
        ((key, item.saved_at or "") for key, item in by_key.items()),
        key=lambda pair: pair[1],
        reverse=True,
    )
    for row in text_index.search(cache, query.fts, files, limit):
        item = by_key[row.key]
        spans = query.spans(row.content)
        hits.append(
            Hit(
                item.name or item.id,
                item.id,
                row.number,
                row.role,
                row.created_at,
                snippet(row.content, spans),
                False,
            )
        )
    return hits


def index_folder(store: SessionStore, stop: Callable[[], bool] = lambda: False) -> bool:
    """Index the text of every verified saved file of ``store``'s folder that is not indexed
    at its current fingerprint, as a search would first; ``stop()`` is asked between files.
    Returns False when it stopped early. Raises ``CacheOff`` when the cache fails."""
    listing = Listing(store, for_search=True)
    if not listing.cache.on:
        return True
    for item, stamp in to_index(listing):
        if stop():
            return False
        index_file(store, item, stamp)
    listing.cache.forget_missing_folders()
    text_index.clean(listing.cache, stop=stop)
    return not stop()


def to_index(listing: Listing) -> list[tuple[SavedSession, str]]:
    """The listed files that verify but whose text a search would index first, each with
    its fingerprint stamp."""
    return _index_state(listing, [item for item in listing.saved if item.ok])[1]


def _index_state(
    listing: Listing, wanted: list[SavedSession]
) -> tuple[dict[int, SavedSession], list[tuple[SavedSession, str]]]:
    """({cache key: file} for the ``wanted`` files whose text is current, [(file, its
    fingerprint stamp)] for those to index first)."""
    current: dict[int, SavedSession] = {}
    unindexed: list[tuple[SavedSession, str]] = []
    for item in wanted:
        fingerprint = listing.fingerprints.get(item.id)
        if fingerprint is None:
            continue
        # Text is current when it was read from the file at the fingerprint it has now (and
        # indexed only once that fingerprint had settled: see index_file).
        stamp = stamp_of(fingerprint)
        key, indexed = listing.indexed.get(item.id, (0, ""))
        if key and indexed == stamp:
            current[key] = item
        else:
            unindexed.append((item, stamp))
    return current, unindexed


def index_file(store: SessionStore, item: SavedSession, expected: str) -> int:
    """Read and verify ``item``'s file and put its messages in the index; returns its key in
    the cache (0 when the file changed since it was listed or no longer verifies)."""
    from .catalog import cache_for

    try:
        session, _, fingerprint, _ = store._read_verified(item.path)
    except PersistenceError:
        return 0
    if fingerprint != expected or session.id != item.id:
        return 0
    # A file changed just before this read could change again unseen (coarse timestamps):
    # its text is used now but marked to be indexed again next time.
    ctime_ns = int(fingerprint.rsplit(":", 1)[1])
    reusable = ctime_ns < time.time_ns() - SETTLE_NS
    return text_index.put(
        cache_for(store),
        store.folder,
        key_ring_label(store),
        item.id,
        fingerprint if reusable else "",
        ((m.role, m.created_at, m.content) for m in session.messages),
    )


def _by_reading(
    store: SessionStore, wanted: list[SavedSession], query: Query, limit: int
) -> list[Hit]:
    sessions = []
    for item in wanted:
        try:
            session, _, _, _ = store._read_verified(item.path)
        except PersistenceError:
            continue
        if session.id == item.id:
            sessions.append(session)
    return search_sessions(sessions, query, limit, open_=False)
