"""The signed session files of one folder, one per session id (``<id>.json``): saving,
loading and describing one file, under the locks that keep kernels from mixing them up.

A load reads the file verified (see :mod:`.reading`), then checks that its ``session_id`` is
the file's id and its generation not older than one this store already saw. Saves are atomic
(see :mod:`.atomic`), locked per session in this process and per folder across processes,
and refuse to overwrite a newer generation unless forced. :class:`.store.SessionStore` adds
listing, the trash and trusting on top.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..core.clock import FILE_STAMP, utc_now, utc_timestamp
from ..core.ids import check_session_id
from ..core.paths import display_path
from ..core.records import Caps
from ..core.session import Session
from .atomic import open_folder, unused_name, write_atomic
from .codec import encode
from .envelope import envelope_parts, head_signature
from .errors import (
    Conflict,
    MismatchedId,
    NoSavedSession,
    PersistenceError,
    RejectedFile,
    Stale,
    StoreIOError,
    io_error,
    io_errors,
)
from .file_status import STATUS_OK, STATUS_STALE, SavedSession, status_of
from .keys import KeyRing, follow_key_file
from .leftovers import remove_leftovers
from .reading import (
    DEFAULT_MAX_BYTES,
    SUFFIX,
    fingerprint,
    not_saved,
    read_checked,
    read_verified,
)

try:  # advisory lock between kernels saving into the same folder (POSIX)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_ID_LOCK_STRIPES = 32


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What one save did: the file it wrote, the generation that file holds, and the file it
    renamed to ``<id>.rejected-<UTC time>.json`` first because it failed verification."""

    path: Path
    generation: int
    set_aside: Path | None = None


@dataclass(frozen=True, slots=True)
class _Known:
    """A file this store wrote or verified, recognised by its stat fingerprint."""

    fingerprint: str
    generation: int
    #: The start of the file's signature: it names the same bytes wherever they were copied
    #: or touched (16 hex digits are plenty to tell two files apart, and stay small).
    sig: bytes


class SessionFiles:
    """Signed session files in ``folder``, one per session id (``<id>.json``)."""

    def __init__(
        self,
        folder: Path | str,
        *,
        keys: KeyRing | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._keys = keys
        self._lock = threading.Lock()
        # A fixed set of re-entrant locks shared by hash: a lock per id ever saved would grow
        # with every session a long-running kernel opens (saves serialize on the folder anyway).
        self._id_locks = tuple(threading.RLock() for _ in range(_ID_LOCK_STRIPES))
        #: Highest generation seen per id (loaded or saved); kept after a session closes.
        self._seen: dict[str, int] = {}
        self._known: dict[str, _Known] = {}
        self._swept: set[str] = set()
        self._notices: list[str] = []

    def __repr__(self) -> str:
        return f"<SessionStore folder={display_path(self.folder)!r}>"

    @property
    def keys(self) -> KeyRing:
        """The key ring, loaded (or created) on first use."""
        keys = self._keys
        if keys is None:
            with self._lock:
                if self._keys is None:
                    self._keys = KeyRing.load()
                keys = self._keys
        return keys

    def _checked_keys(self) -> KeyRing:
        """The key ring, after checking its key file (see :func:`.keys.follow_key_file`)."""
        current = self.keys
        keys, note = follow_key_file(current)
        if keys is not current:
            with self._lock:
                self._keys = keys
                if note is not None and note not in self._notices:
                    self._notices.append(note)
        return keys

    def take_notices(self) -> list[str]:
        """Sentences about the store itself (its key file) not yet shown to the user, once."""
        with self._lock:
            notices, self._notices = self._notices, []
        return notices

    def path_for(self, session_id: str) -> Path:
        return self.folder / f"{check_session_id(session_id)}{SUFFIX}"

    def seen_generation(self, session_id: str) -> int:
        """The newest generation of ``session_id`` this store loaded or saved (0: none)."""
        return self._seen.get(session_id, 0)

    # -- saving ----------------------------------------------------------------------------

    def save(self, session: Session, *, force: bool = False) -> SaveResult:
        """Write ``session`` as its next generation; returns what the save did.

        Raises :class:`Conflict` when the file holds a newer generation than the one the
        session was loaded from or last saved as (unless ``force``). A file that fails
        verification is renamed to ``<id>.rejected-<UTC time>.json`` first, never overwritten.
        On any failure the old file is byte-identical and the session unchanged.
        """
        session_id = check_session_id(session.id)
        name = session_id + SUFFIX
        path = self.folder / name
        keys = self._checked_keys()  # a key problem must stop the save before anything changes
        with self.locked_folder(session_id, create=True) as dir_fd:
            on_disk, rejected, ours = self._disk_generation(session_id, path, dir_fd)
            # Newer, or the same generation written by someone else (after a rollback).
            theirs = on_disk > session.generation or (
                on_disk == session.generation and on_disk > 0 and not ours
            )
            if theirs and not force:
                raise Conflict(
                    f"{display_path(path)} holds generation {on_disk} saved by another "
                    f"kernel after this session's generation {session.generation}: to take "
                    f"that copy, %session close {session_id} --no-save then %session resume "
                    f"{session_id}; to overwrite it, %session save {session_id} --force; "
                    f"to keep both, %session fork {session_id}.",
                    path,
                )
            generation = max(session.generation, on_disk, self._seen.get(session_id, 0)) + 1
            payload, revision = encode(session, generation, utc_now())
            parts = envelope_parts(keys, payload)
            size = sum(len(part) for part in parts)
            if size > self.max_bytes:  # a file every load would refuse: keep the old one
                raise PersistenceError(
                    f"Session '{session.name}' cannot be saved: it would be {size} bytes, "
                    f"over the {self.max_bytes}-byte limit of a session file; export it "
                    "(%session export) and start a new session.",
                    path,
                )
            # only once the new file can be written
            aside = self._set_aside(session_id, path, dir_fd) if rejected else None
            try:
                write_atomic(self.folder, name, parts, dir_fd=dir_fd)
            except OSError as exc:
                # Its clean-up may have failed too: the next save sweeps this id again.
                self._swept.discard(session_id)
                raise io_error("save", path, exc) from None
            self._remember(session_id, generation, name, dir_fd, head_signature(parts[0])[:16])
            # Under the id lock: a slower save finishing later must not set an older generation.
            session.mark_saved(generation, revision)
        return SaveResult(path, generation, aside)

    def _disk_generation(self, session_id: str, path: Path, dir_fd: int) -> tuple[int, bool, bool]:
        """(generation on disk, whether that file is rejected, whether it can be the file this
        store last wrote or read); (0, False, False) when there is none."""
        # This id's leftovers once per store (they come from a dead process: the folder is
        # locked), and any old enough, at every save.
        remove_leftovers(dir_fd, None if session_id in self._swept else session_id)
        self._swept.add(session_id)
        try:
            info = os.stat(path.name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return 0, False, False
        except OSError as exc:
            raise io_error("read", path, exc) from None
        known = self._known.get(session_id)
        if known is not None and known.fingerprint == fingerprint(info):
            return known.generation, False, True
        try:
            # whatever a load would refuse is set aside
            on_disk, _, _, sig = self._read_verified(path, dir_fd)
        except NoSavedSession:
            return 0, False, False
        except RejectedFile:
            return 0, True, False
        if on_disk.id != session_id:
            return 0, True, False
        generation = on_disk.generation
        # Without a memory of this id (another store object) only a newer generation counts.
        ours = known is None or (known.sig == sig[:16] and known.generation == generation)
        return generation, False, ours

    def _set_aside(self, session_id: str, path: Path, dir_fd: int) -> Path:
        stem = f"{session_id}.rejected-{datetime.now(timezone.utc).strftime(FILE_STAMP)}"
        with io_errors("check", self.folder / f"{stem}{SUFFIX}"):
            aside = unused_name(stem, SUFFIX, dir_fd)
        with io_errors("set aside", path):
            os.rename(path.name, aside, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        self._known.pop(session_id, None)
        return self.folder / aside

    def _remember(
        self, session_id: str, generation: int, name: str, dir_fd: int, sig: bytes
    ) -> None:
        self._seen[session_id] = max(self._seen.get(session_id, 0), generation)
        try:
            stamp = fingerprint(os.stat(name, dir_fd=dir_fd, follow_symlinks=False))
        except OSError:
            stamp = ""  # never matches: the next save verifies the file instead
        self._known[session_id] = _Known(stamp, generation, sig)

    # -- loading ---------------------------------------------------------------------------

    def load(self, session_id: str, *, caps: Caps | None = None) -> Session:
        """A new, clean :class:`Session` from ``<id>.json``, verified before it is parsed.

        ``caps`` are the caps to build it with (default: large enough to keep everything).
        """
        path = self.path_for(session_id)
        with self._id_lock(session_id):
            session, _, stamp, sig = self._read_verified(path, caps=caps)
            if session.id != session_id:
                raise _mismatched_id(path, session.id, session_id)
            seen = self._seen.get(session_id, 0)
            if session.generation < seen:
                raise Stale(
                    f"{display_path(path)} holds generation {session.generation}, older than "
                    f"generation {seen} this kernel already saw: restore the newer copy, or "
                    f"delete this one with %session delete {session_id}.",
                    path,
                )
            self._seen[session_id] = session.generation
            self._known[session_id] = _Known(stamp, session.generation, sig[:16])
        return session

    def _read_verified(
        self, path: Path, dir_fd: int | None = None, *, caps: Caps | None = None
    ) -> tuple[Session, str, str, bytes]:
        """:func:`.reading.read_verified` with this store's keys and size cap."""
        return read_verified(path, self.keys, self.max_bytes, dir_fd, caps=caps)

    def peek(self, path: Path) -> Session:
        """The session in the file ``path`` (e.g. in the trash), verified as a load does but
        for its id and generation, without recording anything."""
        return self._read_verified(Path(path))[0]

    # -- describing ----------------------------------------------------------------------

    def describe(
        self, session_id: str, path: Path, info: os.stat_result | None = None
    ) -> SavedSession:
        """``path`` as ``saved()`` lists it: verified in full, for its status and metadata
        (``info``: its ``lstat``, when the caller has it)."""
        return self.examine(session_id, path, info)[0]

    def examine(
        self, session_id: str, path: Path, info: os.stat_result | None = None
    ) -> tuple[SavedSession, tuple[str, str] | None]:
        """:meth:`describe`, and the (kid, sig) of the file's envelope when its signature
        matched (None when it was refused before).

        Every check of a load runs (:func:`.reading.read_checked`), but no record is built:
        the file gets the status and the error sentence its load would give."""
        try:
            if info is None:
                info = os.lstat(path)
            modified = datetime.fromtimestamp(info.st_mtime, timezone.utc)
            modified_at = utc_timestamp(modified)
        except OSError:
            modified_at = ""
        try:
            parsed, envelope = read_checked(path, self.keys, self.max_bytes)
            found = parsed["session_id"]
            if found != session_id:
                raise _mismatched_id(path, found, session_id)
        except PersistenceError as exc:
            problem = SavedSession(
                session_id, path, status_of(exc), modified_at=modified_at, problem=str(exc)
            )
            return problem, None
        generation = parsed["generation"]
        seen = self._seen.get(session_id, 0)
        described = SavedSession(
            session_id,
            path,
            STATUS_STALE if generation < seen else STATUS_OK,
            name=parsed["name"],
            generation=generation,
            saved_at=parsed["saved_at"],
            message_count=len(parsed["messages"]),
            modified_at=modified_at,
        )
        return described, (envelope.kid, envelope.sig.decode("ascii"))

    # -- internals -------------------------------------------------------------------------

    @contextmanager
    def locked_folder(self, session_id: str, *, create: bool) -> Iterator[int]:
        """The folder's descriptor, with ``session_id`` locked in this process and the folder
        locked against other kernels' saves. Without ``create`` a missing folder raises
        :class:`NoSavedSession` for ``session_id``."""
        with self._id_lock(session_id):
            try:
                dir_fd = self._open_folder(create=create)
            except StoreIOError:
                if not create and not os.path.lexists(self.folder):
                    raise not_saved(self.path_for(session_id)) from None
                raise
            try:
                if fcntl is not None:
                    fcntl.flock(dir_fd, fcntl.LOCK_EX)
                yield dir_fd
            finally:
                os.close(dir_fd)  # also releases the folder lock

    def vouch(self, session_id: str, generation: int) -> None:
        """The user vouched for the file of ``session_id`` (see :mod:`.trusting`): it may be
        loaded even if older than one seen. Call with the folder locked."""
        self._seen[session_id] = generation
        self._known.pop(session_id, None)

    def forget_file(self, session_id: str) -> None:
        """Forget the file this store last wrote or read for ``session_id`` (it was moved)."""
        self._known.pop(session_id, None)

    def _id_lock(self, session_id: str) -> threading.RLock:
        return self._id_locks[hash(session_id) % _ID_LOCK_STRIPES]

    def _open_folder(self, *, create: bool) -> int:
        try:
            if create:
                # os.makedirs, not Path.mkdir: Python 3.10's pathlib calls a copy of os.mkdir
                # bound at import, which fault-injection tests cannot reach
                os.makedirs(self.folder, exist_ok=True)
            return open_folder(self.folder)
        except OSError as exc:
            if os.path.islink(self.folder):
                raise StoreIOError(
                    f"The sessions folder {display_path(self.folder)} is a symbolic link, which "
                    "is never written through: replace it by a real folder.",
                    self.folder,
                ) from None
            raise io_error("open the folder", self.folder, exc) from None


def _mismatched_id(path: Path, found: str, wanted: str) -> MismatchedId:
    return MismatchedId(
        f"{display_path(path)} holds session {found}, not {wanted} (it was renamed or copied): "
        f"rename it back to {found}{SUFFIX} to load it.",
        path,
    )
