"""The FTS5 index of message text in the cache database (see :mod:`.cache`).

One row per message: its rowid holds the file's key (``files.key``) above the message
number, so a file's rows are one rowid range. Rows are written only from a full verification
of the file, and a file's ``indexed`` column says for which fingerprint; callers search only
files whose current fingerprint is that one.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import Cache, transaction

#: Message numbers live in the low bits of a text row's rowid, the file's key above them.
_NUMBER_BITS = 32
_NUMBER_MASK = (1 << _NUMBER_BITS) - 1
#: A word in at most this many messages is sorted by time at once; a more frequent one is
#: searched file by file, newest first, stopping when older files cannot hold a newer hit.
_FEW = 2000


@dataclass(frozen=True, slots=True)
class TextRow:
    """One message found in the index."""

    key: int
    number: int
    role: str
    created_at: str
    content: str


def put(
    cache: Cache,
    folder: Path,
    ring: str,
    file_id: str,
    stamp: str,
    messages: Iterable[tuple[str, str, str]],
) -> int:
    """Replace the indexed text of ``file_id`` by ``messages`` ((role, created_at, content)
    in order, from a full verification of the file); ``stamp`` is the file's fingerprint
    then ("": index it again next time). Returns the file's key (0: the file was not
    listed)."""
    with cache.using() as db:
        folder_key = cache.folder_key(db, folder, ring)
        # Read in the write transaction: another kernel may index the same file at once.
        with transaction(db):
            row = db.execute(
                "SELECT key, indexed FROM files WHERE folder=? AND file_id=?",
                (folder_key, file_id),
            ).fetchone()
            if row is None:
                return 0
            key, indexed = row
            if stamp and indexed == stamp:  # it did, from the same bytes
                return int(key)
            base = int(key) << _NUMBER_BITS
            forget(db, int(key))  # whatever is there: rows are never added twice
            db.executemany(
                "INSERT INTO text(rowid, role, created_at, content) VALUES (?, ?, ?, ?)",
                (
                    (base | number, role, created, content)
                    for number, (role, created, content) in enumerate(messages, 1)
                ),
            )
            # "-": rows exist but are never current
            db.execute("UPDATE files SET indexed=? WHERE key=?", (stamp or "-", key))
        return int(key)


def clean(
    cache: Cache, *, most: int | None = None, stop: Callable[[], bool] = lambda: False
) -> None:
    """Delete the text of files that left their folder (at ``most`` that many files;
    ``stop()`` is asked between files). Each file's deletion costs about what indexing it
    did, so the lock is taken file by file."""
    with cache.using() as db:
        keys = [row[0] for row in db.execute("SELECT key FROM orphans LIMIT ?", (most or -1,))]
    for key in keys:
        if stop():
            return
        with cache.using() as db, transaction(db):
            forget(db, int(key))
            db.execute("DELETE FROM orphans WHERE key=?", (key,))


def forget(db: sqlite3.Connection, key: int) -> None:
    """Delete the text rows of the file ``key`` (inside the caller's transaction)."""
    low = key << _NUMBER_BITS
    db.execute("DELETE FROM text WHERE rowid BETWEEN ? AND ?", (low, low | _NUMBER_MASK))


def search(
    cache: Cache, expression: str, files: Sequence[tuple[int, str]], limit: int
) -> list[TextRow]:
    """The newest ``limit`` messages matching the FTS5 ``expression`` among ``files`` ((key,
    a time no message of the file is newer than), newest first), newest first."""
    if not files:
        return []
    wanted = {key for key, _ in files}
    with cache.using() as db:
        # Rowids alone come from the index, without reading any message.
        found = db.execute(
            "SELECT rowid FROM text WHERE text MATCH ? LIMIT ?", (expression, _FEW + 1)
        ).fetchall()
        if len(found) <= _FEW:
            rowids = [r for (r,) in found if r >> _NUMBER_BITS in wanted]
            times = _times(db, rowids)
        else:  # a frequent word: file by file, newest first, until older files cannot win
            times = []
            for key, newest in files:
                if len(times) >= limit and newest < heapq.nlargest(limit, times)[-1][0]:
                    break
                low = key << _NUMBER_BITS
                times += db.execute(
                    "SELECT created_at, rowid FROM text WHERE text MATCH ?"
                    " AND rowid BETWEEN ? AND ? ORDER BY rowid DESC LIMIT ?",
                    (expression, low, low | _NUMBER_MASK, limit),
                ).fetchall()
        best = [rowid for _, rowid in heapq.nlargest(limit, times)]
        rows = _rows(db, best)
    by_rowid = {row[0]: row for row in rows}
    found_rows = []
    for rowid in best:
        row = by_rowid.get(rowid)
        if row is None:
            continue
        _, role, created, content = row
        if type(content) is str and type(created) is str and type(role) is str:
            key, number = rowid >> _NUMBER_BITS, rowid & _NUMBER_MASK
            found_rows.append(TextRow(key, number, role, created, content))
    return found_rows


def _times(db: sqlite3.Connection, rowids: list[int]) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for start in range(0, len(rowids), 500):
        chunk = ",".join(map(str, rowids[start : start + 500]))  # integers: nothing typed
        found += db.execute(
            f"SELECT created_at, rowid FROM text WHERE rowid IN ({chunk})"
        ).fetchall()
    return [(t, r) for t, r in found if type(t) is str]


def _rows(db: sqlite3.Connection, rowids: list[int]) -> list[tuple[Any, ...]]:
    if not rowids:
        return []
    listed = ",".join(map(str, rowids))
    return db.execute(
        f"SELECT rowid, role, created_at, content FROM text WHERE rowid IN ({listed})"
    ).fetchall()
