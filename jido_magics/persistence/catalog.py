"""The saved sessions of a folder at the cost of one ``stat`` per file.

A file whose fingerprint (device, inode, size, mtime_ns, ctime_ns) is the one its last full
verification recorded in the cache, and whose ctime was settled before that verification, is
listed from the cache; any other file is verified in full, every check of a load but no
session built (see ``SessionStore.examine``), and the result recorded. Loading never uses
this: the store verifies the chosen file.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from weakref import WeakKeyDictionary

from ..core.errors import shorten
from ..core.ids import is_valid_session_id
from ..core.paths import display_path
from ..core.records import Caps
from ..core.session import Session
from .cache import Cache, CacheOff, Entry, Fingerprint, fingerprint_of, shared_cache
from .envelope import head_fields
from .errors import PersistenceError, io_error
from .file_status import STATUS_OK, STATUS_STALE, SavedSession
from .reading import SUFFIX
from .session_files import SessionFiles

#: A file changed less than this before its verification may change again within the same
#: timestamp tick without changing its fingerprint (ext4 stamps with a clock of a few
#: milliseconds, some file systems per second): such a result is used once, never cached.
SETTLE_NS = 2_000_000_000
_HEAD_BYTES = 127  # '{"jido_session":1,"kid":"<16>","sig":"<64>","payload":{'
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class ListingChanged(PersistenceError):
    """A file no longer holds the session a (cached) listing named."""


def cache_for(store: SessionFiles) -> Cache:
    """The cache a store uses: its own when set (tests), else the process's."""
    return getattr(store, "cache", None) or shared_cache()


def key_ring_label(store: SessionFiles) -> str:
    keys = store.keys
    return ",".join((keys.kid, *sorted(keys.kids)))


class Listing:
    """One pass over a folder: every session file with its status. ``for_search``: also
    each file's key and indexed fingerprint in the cache (``indexed``), read from the
    database after the listing."""

    def __init__(self, store: SessionFiles, *, for_search: bool = False) -> None:
        self.store = store
        self.cache = cache_for(store)
        self.saved: list[SavedSession] = []
        self.fingerprints: dict[str, Fingerprint] = {}
        #: (key, indexed fingerprint) by file id, from the database (only ``for_search``).
        self.indexed: dict[str, tuple[int, str]] = {}
        self._scan()
        if for_search and self.cache.on:
            self._read_indexed()

    def _read_indexed(self) -> None:
        """The index state of the listed files. A file listed from this kernel's memory but
        missing from the database (another kernel saw it gone meanwhile) is listed again
        without that memory, so it is recorded again."""
        store = self.store
        try:
            self.indexed = self.cache.indexed(store.folder, key_ring_label(store))
        except (CacheOff, PersistenceError):
            return
        if any(item.ok and item.id not in self.indexed for item in self.saved):
            _memos.pop(store, None)
            self.saved, self.fingerprints = [], {}
            self._scan()
            try:
                self.indexed = self.cache.indexed(store.folder, key_ring_label(store))
            except CacheOff:
                self.indexed = {}

    def _scan(self) -> None:
        store = self.store
        folder = store.folder
        try:
            with os.scandir(folder) as found:
                files = [
                    (e.name[: -len(SUFFIX)], e)
                    for e in found
                    if e.name.endswith(SUFFIX) and is_valid_session_id(e.name[: -len(SUFFIX)])
                ]
        except FileNotFoundError:
            return
        except OSError as exc:
            raise io_error("list", folder, exc) from None
        if not files:
            return
        try:
            ring = key_ring_label(store)
        except PersistenceError:  # no usable key: each file says why it cannot be verified
            self.saved = _newest_first([store.describe(i, folder / e.name) for i, e in files])
            return
        # This kernel's own last listing of the folder: files unchanged since then need no
        # database read either (the database may hold another kernel's newer rows: they are
        # read for the others).
        memo_ring, memo = _memos.get(store, ("", {}))
        if memo_ring != ring:
            memo = {}
        new_memo: dict[str, tuple[Fingerprint, SavedSession]] = {}
        misses: list[tuple[str, Path, os.stat_result | None]] = []
        for session_id, dir_entry in files:
            try:
                info = dir_entry.stat(follow_symlinks=False)
            except OSError:
                info = None
            remembered = memo.get(session_id)
            if info is not None and remembered is not None:
                fingerprint = fingerprint_of(info)
                if remembered[0] == fingerprint:
                    self.saved.append(self._current(remembered[1]))
                    self.fingerprints[session_id] = fingerprint
                    new_memo[session_id] = remembered
                    continue
            # folder / name: cheaper than parsing the entry's whole path again
            misses.append((session_id, folder / dir_entry.name, info))
        present = {session_id for session_id, _ in files}
        gone = [session_id for session_id in memo if session_id not in present]
        if misses or gone:
            known = self._known(folder, ring)
            gone = [session_id for session_id in known if session_id not in present]
            changed: list[tuple[str, Path, os.stat_result | None, Entry | None]] = []
            for session_id, path, info in misses:
                cached = known.get(session_id)
                if info is not None and cached is not None and cached.settled:
                    fingerprint = fingerprint_of(info)
                    if cached.fingerprint == fingerprint:
                        item = self._from_entry(cached, path)
                        self.saved.append(self._current(item))
                        self.fingerprints[session_id] = fingerprint
                        new_memo[session_id] = (fingerprint, item)
                        continue
                changed.append((session_id, path, info, cached))
            fresh = [entry for entry in self._verify(changed) if entry is not None]
            for entry in fresh:
                if entry.settled:
                    item = self._from_entry(entry, folder / f"{entry.file_id}{SUFFIX}")
                    new_memo[entry.file_id] = (entry.fingerprint, item)
            self._record(fresh, folder, ring, gone=gone)
        _memos[store] = (ring, new_memo)
        self.saved = _newest_first(self.saved)

    def _verify(
        self, changed: list[tuple[str, Path, os.stat_result | None, Entry | None]]
    ) -> list[Entry | None]:
        """Verify each changed file in full; two at a time when there are several: reading
        and HMAC release the GIL, so one file's MAC runs beside another's parse."""
        if len(changed) < 4:
            return [self._verify_one(*item) for item in changed]
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(lambda item: self._verify_one(*item), changed))

    def _verify_one(
        self, session_id: str, path: Path, info: os.stat_result | None, cached: Entry | None
    ) -> Entry | None:
        described, head = self.store.examine(session_id, path, info)
        self.saved.append(described)  # list.append is atomic: safe from the pool's threads
        if info is None:
            return None
        if head is None:  # refused before its signature matched: the head may still say
            head = _head(path, info)
        fingerprint = fingerprint_of(info)
        self.fingerprints[session_id] = fingerprint
        entry = Entry(
            session_id,
            fingerprint,
            fingerprint[4] < time.time_ns() - SETTLE_NS,
            head[0],
            head[1],
            _status_to_keep(described),
            described.name,
            described.generation,
            described.saved_at,
            None,
            described.message_count,
            described.problem,
            described.modified_at,
            cached.key if cached is not None else 0,
            cached.indexed if cached is not None else "",
        )
        return entry

    def _known(self, folder: Path, ring: str) -> dict[str, Entry]:
        try:
            return self.cache.entries(folder, ring)
        except CacheOff:
            return {}

    def _record(
        self, fresh: list[Entry], folder: Path, ring: str, gone: Sequence[str] = ()
    ) -> None:
        if not self.cache.on:
            return
        try:
            self.cache.record(folder, ring, fresh, gone)
        except CacheOff:
            pass

    def _from_entry(self, entry: Entry, path: Path) -> SavedSession:
        """The file as its last full verification found it (``stale`` aside)."""
        return SavedSession(
            entry.file_id,
            path,
            entry.status,
            name=entry.name,
            generation=entry.generation,
            saved_at=entry.saved_at,
            message_count=entry.message_count,
            modified_at=entry.modified_at,
            problem=entry.problem,
        )

    def _current(self, item: SavedSession) -> SavedSession:
        """``item`` as stale when this kernel saw a newer generation of it."""
        if item.status == STATUS_OK and (item.generation or 0) < self.store.seen_generation(
            item.id
        ):
            return replace(item, status=STATUS_STALE)
        return item


#: Per store, its last listing: (key ring, {file id: (fingerprint, listed item)}).
_memos: WeakKeyDictionary[SessionFiles, tuple[str, dict[str, tuple[Fingerprint, SavedSession]]]]
_memos = WeakKeyDictionary()


def _newest_first(saved: list[SavedSession]) -> list[SavedSession]:
    return sorted(saved, key=lambda s: (s.saved_at or s.modified_at, s.id), reverse=True)


def list_saved(store: SessionFiles) -> list[SavedSession]:
    """Every ``<id>.json`` of the store's folder with its status, newest first."""
    return Listing(store).saved


def load_listed(
    store: SessionFiles, session_id: str, name: str | None, *, caps: Caps | None = None
) -> Session:
    """Load ``session_id`` (verified in full by the store) and check it holds the session
    the listing named ``name`` (None: chosen by its exact id)."""
    session = store.load(session_id, caps=caps)
    _check_name(store, session_id, name, session.name)
    return session


def check_listed(store: SessionFiles, session_id: str, name: str | None) -> None:
    """Verify ``session_id``'s file in full and check it holds the session the listing named
    ``name`` (before deleting it, say)."""
    if name is not None:
        found = store.describe(session_id, store.path_for(session_id))
        _check_name(store, session_id, name, found.name)


def _check_name(
    store: SessionFiles, session_id: str, listed: str | None, found: str | None
) -> None:
    if listed is None or found == listed:
        return
    _memos.pop(store, None)  # the cache was wrong (damaged, or changed by hand): verify
    try:  # everything next time
        cache_for(store).forget(store.folder)
    except CacheOff:
        pass
    raise ListingChanged(
        f"{display_path(store.path_for(session_id))} no longer holds the session "
        f"'{shorten(listed, 50)}' it was listed as: run the command again (the listing is "
        "checked anew).",
        store.path_for(session_id),
    )


def _status_to_keep(described: SavedSession) -> str:
    """What a file's status is apart from this kernel's memory: ``stale`` depends on the
    generations this kernel saw, so it is worked out again at each listing."""
    return STATUS_OK if described.status == STATUS_STALE else described.status


def _head(path: Path, info: os.stat_result | None) -> tuple[str, str]:
    """(kid, sig) from a regular file's envelope head, or empty strings."""
    if info is None or not stat.S_ISREG(info.st_mode):
        return "", ""
    try:
        fd = os.open(path, _READ_FLAGS)
        try:
            head = os.read(fd, _HEAD_BYTES)
        finally:
            os.close(fd)
    except OSError:
        return "", ""
    return head_fields(head) or ("", "")
