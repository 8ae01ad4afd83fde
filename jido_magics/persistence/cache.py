"""Derived data about saved sessions, in one SQLite database in the user's cache folder.

Per sessions folder it holds each file's stat fingerprint (device, inode, size, mtime_ns,
ctime_ns), its envelope head (kid, sig) and what its last full verification found (status,
name, generation, times, message count), plus an FTS5 index of message text. Nothing here is
ever trusted to load a session: the store verifies the chosen file in full. The text index
is read and written by :mod:`.text_index`. Deleting the database loses nothing. Any failure
(read-only or full disk, a corrupt or hostile database, a file where the folder should be)
turns the cache off for the kernel with one line; callers then verify every file as before.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_ENV = "JIDO_MAGICS_CACHE_DIR"
DATABASE = "sessions.sqlite3"
SCHEMA = 3  # 3: files.key AUTOINCREMENT

_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS folders(key INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL,"
    " ring TEXT NOT NULL)",
    # AUTOINCREMENT: a key is never reused, so text rows left by a removed file (until the
    # next search cleans them) can never be taken for another file's.
    "CREATE TABLE IF NOT EXISTS files(key INTEGER PRIMARY KEY AUTOINCREMENT,"
    " folder INTEGER NOT NULL,"
    " file_id TEXT NOT NULL, dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER,"
    " ctime_ns INTEGER, settled INTEGER, kid TEXT, sig TEXT, status TEXT, name TEXT,"
    " generation INTEGER, saved_at TEXT, updated_at TEXT, message_count INTEGER,"
    " problem TEXT, modified_at TEXT, indexed TEXT, UNIQUE(folder, file_id))",
    # Keys of files whose text rows are still in the index (removed files): cleaned up by the
    # next search, so listing never pays for deleting text.
    "CREATE TABLE IF NOT EXISTS orphans(key INTEGER PRIMARY KEY)",
    # remove_diacritics 0: the same matching as core.search's for open sessions.
    "CREATE VIRTUAL TABLE IF NOT EXISTS text USING fts5(content, role UNINDEXED,"
    " created_at UNINDEXED, tokenize='unicode61 remove_diacritics 0')",
)

Fingerprint = tuple[int, int, int, int, int]


def cache_dir() -> Path:
    """``$JIDO_MAGICS_CACHE_DIR``, else ``$XDG_CACHE_HOME/jido_magics``, else
    ``~/.cache/jido_magics``."""
    given = os.environ.get(CACHE_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "jido_magics"


def fingerprint_of(info: os.stat_result) -> Fingerprint:
    # ctime changes on every write, rename or chmod and cannot be set back by users.
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@dataclass(frozen=True, slots=True)
class Entry:
    """What the last full verification of one file found, and the file's state then.

    ``settled``: the file's ctime was well before that verification, so a later change
    cannot share its fingerprint (timestamps are coarse: a change in the same clock tick as
    the verification could). ``indexed``: the fingerprint whose text the index holds."""

    file_id: str
    fingerprint: Fingerprint
    settled: bool
    kid: str
    sig: str
    status: str
    name: str | None
    generation: int | None
    saved_at: str | None
    updated_at: str | None
    message_count: int | None
    problem: str | None
    modified_at: str = ""
    key: int = 0
    indexed: str = ""


class CacheOff(Exception):
    """The cache failed; it is off for the rest of the kernel."""


class Cache:
    """The database at ``path`` (``None``: the cache is off from the start)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self.off_reason: str | None = None if path is not None else "no cache folder"

    def __repr__(self) -> str:
        state = f"off: {self.off_reason}" if self.off_reason else "on"
        return f"<Cache {self.path} ({state})>"

    @property
    def on(self) -> bool:
        return self.off_reason is None

    # -- opening and failing ---------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        if self.off_reason is not None or self.path is None:
            raise CacheOff(self.off_reason)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            db = self._open()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            # A damaged or foreign database: derived data, so start again once.
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.unlink(f"{self.path}{suffix}")
                except FileNotFoundError:
                    pass
            db = self._open()
        self._db = db
        return db

    def _open(self) -> sqlite3.Connection:
        assert self.path is not None
        db = sqlite3.connect(self.path, timeout=2.0, isolation_level=None, check_same_thread=False)
        try:
            # Creating the database, without fsync: it holds nothing yet, and a database a
            # crash damaged is detected and made again (a first listing saves 20-80 ms).
            db.execute("PRAGMA synchronous=OFF")
            db.execute("PRAGMA journal_mode=WAL")
            row = db.execute(
                "SELECT value FROM meta WHERE key='schema'"
                if _has_table(db, "meta")
                else "SELECT NULL"
            ).fetchone()
            if row is not None and row[0] is not None and row[0] != str(SCHEMA):
                raise sqlite3.DatabaseError("another schema")
            with transaction(db):
                for statement in _TABLES:
                    db.execute(statement)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
            db.execute("PRAGMA synchronous=NORMAL")  # derived data: a lost commit is re-done
        except BaseException:
            db.close()
            raise
        return db

    @contextmanager
    def using(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; any failure turns the cache off."""
        with self._lock:
            try:
                yield self._connect()
            except CacheOff:
                raise
            except (sqlite3.Error, OSError, ValueError, TypeError, OverflowError) as exc:
                self.turn_off(exc)
                raise CacheOff(self.off_reason) from None

    def turn_off(self, why: BaseException | str) -> None:
        """Stop using the cache for this kernel and say so once."""
        with self._lock:
            if self.off_reason is not None:
                return
            reason = why if isinstance(why, str) else f"{type(why).__name__}: {why}"
            self.off_reason = reason[:120]
            if self._db is not None:
                try:
                    self._db.close()
                except sqlite3.Error:
                    pass
                self._db = None
        print(
            f"jido_magics: the session cache ({self.path}) is off for this kernel "
            f"({self.off_reason}); listing and search still work, more slowly.",
            file=sys.stderr,
        )

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- file metadata ---------------------------------------------------------------------

    def folder_key(self, db: sqlite3.Connection, folder: Path, ring: str) -> int:
        """The folder's key; its rows are forgotten when the key ring changed (a file's
        status depends on the keys it was checked with)."""
        path = os.fspath(folder)
        row = db.execute("SELECT key, ring FROM folders WHERE path=?", (path,)).fetchone()
        if row is None:
            with transaction(db):  # another kernel may have added it since the SELECT
                db.execute("INSERT OR IGNORE INTO folders(path, ring) VALUES (?, ?)", (path, ring))
                row = db.execute("SELECT key, ring FROM folders WHERE path=?", (path,)).fetchone()
        key, known_ring = row
        if known_ring != ring:
            with transaction(db):
                db.execute("UPDATE files SET settled=0 WHERE folder=?", (key,))
                db.execute("UPDATE folders SET ring=? WHERE key=?", (ring, key))
        return int(key)

    def entries(self, folder: Path, ring: str) -> dict[str, Entry]:
        """The verified state of every file of ``folder`` the cache knows, by file id."""
        with self.using() as db:
            folder_key = self.folder_key(db, folder, ring)
            rows = db.execute(
                "SELECT file_id, dev, ino, size, mtime_ns, ctime_ns, settled, kid, sig, status,"
                " name, generation, saved_at, updated_at, message_count, problem, modified_at, key,"
                " indexed"
                " FROM files WHERE folder=?",
                (folder_key,),
            ).fetchall()
        found = {}
        for row in rows:
            entry = _entry(row)
            if entry is not None:  # a row of the wrong shape is verified again
                found[entry.file_id] = entry
        return found

    def indexed(self, folder: Path, ring: str) -> dict[str, tuple[int, str]]:
        """(key, fingerprint its indexed text was read at) of every file of ``folder`` the
        cache knows, by file id: what a search needs, without the rest of each row."""
        with self.using() as db:
            folder_key = self.folder_key(db, folder, ring)
            rows = db.execute(
                "SELECT file_id, key, indexed FROM files WHERE folder=?", (folder_key,)
            ).fetchall()
        # A value of the wrong type (a damaged or hand-edited database) is never current.
        return {
            file_id: (key, indexed if type(indexed) is str else "")
            for file_id, key, indexed in rows
            if type(file_id) is str and type(key) is int
        }

    def record(
        self, folder: Path, ring: str, entries: Iterable[Entry], gone: Iterable[str]
    ) -> None:
        """Store new verification results and forget files no longer in the folder."""
        entries = list(entries)
        gone = list(gone)
        if not entries and not gone:
            return
        with self.using() as db:
            folder_key = self.folder_key(db, folder, ring)
            with transaction(db):
                for file_id in gone:
                    db.execute(
                        "INSERT OR IGNORE INTO orphans SELECT key FROM files"
                        " WHERE folder=? AND file_id=? AND indexed != ''",
                        (folder_key, file_id),
                    )
                    db.execute(
                        "DELETE FROM files WHERE folder=? AND file_id=?", (folder_key, file_id)
                    )
                for e in entries:
                    values = (
                        *e.fingerprint,
                        int(e.settled),
                        e.kid,
                        e.sig,
                        e.status,
                        e.name,
                        e.generation,
                        e.saved_at,
                        e.updated_at,
                        e.message_count,
                        e.problem,
                        e.modified_at,
                    )
                    cursor = db.execute(
                        "UPDATE files SET dev=?, ino=?, size=?, mtime_ns=?, ctime_ns=?, settled=?,"
                        " kid=?, sig=?, status=?, name=?, generation=?, saved_at=?, updated_at=?,"
                        " message_count=?, problem=?, modified_at=? WHERE folder=? AND file_id=?",
                        (*values, folder_key, e.file_id),
                    )
                    if cursor.rowcount == 0:
                        db.execute(
                            "INSERT INTO files(dev, ino, size, mtime_ns, ctime_ns, settled, kid,"
                            " sig, status, name, generation, saved_at, updated_at,"
                            " message_count, problem, modified_at, folder, file_id, indexed)"
                            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'')",
                            (*values, folder_key, e.file_id),
                        )

    def forget_missing_folders(self) -> int:
        """Forget every folder that no longer exists (moved, renamed or deleted): its files'
        rows now, their text at the next ``text_index.clean``. Returns how many."""
        with self.using() as db:
            rows = db.execute("SELECT key, path FROM folders").fetchall()
            missing = [key for key, path in rows if type(path) is str and not os.path.isdir(path)]
            for key in missing:
                with transaction(db):
                    db.execute(
                        "INSERT OR IGNORE INTO orphans SELECT key FROM files"
                        " WHERE folder=? AND indexed != ''",
                        (key,),
                    )
                    db.execute("DELETE FROM files WHERE folder=?", (key,))
                    db.execute("DELETE FROM folders WHERE key=?", (key,))
        return len(missing)

    def forget(self, folder: Path) -> None:
        """Forget what was verified in ``folder`` (its text stays until re-indexed)."""
        with self.using() as db, transaction(db):
            db.execute(
                "UPDATE files SET settled=0 WHERE folder IN (SELECT key FROM folders WHERE path=?)",
                (os.fspath(folder),),
            )


def stamp_of(fingerprint: Fingerprint) -> str:
    """The fingerprint as one string (the form ``SessionStore`` gives a file it read)."""
    return ":".join(map(str, fingerprint))


def _entry(row: tuple[Any, ...]) -> Entry | None:
    """A row as an :class:`Entry`, or None when a value has the wrong type (a damaged or
    hand-edited database: that file is verified again)."""
    file_id, dev, ino, size, mtime, ctime, settled, kid, sig, status, name = row[:11]
    generation, saved_at, updated_at, count, problem, modified_at, key, indexed = row[11:]
    try:
        fingerprint = (dev + 0, ino + 0, size + 0, mtime + 0, ctime + 0)  # ints (or floats)
        if (
            type(key) is not int
            or type(settled) is not int
            or not (type(file_id) is type(kid) is type(sig) is type(status) is str)
            or not (type(modified_at) is type(indexed) is str)
            or not all(type(n) is int for n in fingerprint)
            or (name is not None and type(name) is not str)
            or (saved_at is not None and type(saved_at) is not str)
            or (updated_at is not None and type(updated_at) is not str)
            or (problem is not None and type(problem) is not str)
            or (generation is not None and type(generation) is not int)
            or (count is not None and type(count) is not int)
        ):
            return None
    except TypeError:
        return None
    return Entry(
        file_id,
        fingerprint,
        bool(settled),
        kid,
        sig,
        status,
        name,
        generation,
        saved_at,
        updated_at,
        count,
        problem,
        modified_at,
        key,
        indexed,
    )


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,))
    return row.fetchone() is not None


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


_caches: dict[Path, Cache] = {}
_caches_lock = threading.Lock()


def shared_cache() -> Cache:
    """The cache of this process for the current cache folder (one per folder)."""
    folder = cache_dir()
    with _caches_lock:
        cache = _caches.get(folder)
        if cache is None:
            cache = _caches[folder] = Cache(folder / DATABASE)
        return cache


def close_all() -> None:
    """Close and forget every cache of this process (a new one opens on next use)."""
    with _caches_lock:
        caches = list(_caches.values())
        _caches.clear()
    for cache in caches:
        cache.close()
