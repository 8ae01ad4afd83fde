"""The on-disk store of one notebook's sessions: one signed file per session in one folder.

Load order (never parse what is not verified): ``lstat`` (a regular file, no symlink, within
the size cap) → bounded read → strict envelope match → key by ``kid`` → ``compare_digest`` →
parse → schema → canonical form (the bytes are what a save writes for the data) →
``session_id`` equals the file's id → generation not older than one this store already saw.
Saves are atomic (see :mod:`.atomic`), locked per session in this process and per folder
across processes, and refuse to overwrite a newer generation unless forced.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import orjson

from ..core.clock import utc_now
from ..core.ids import check_session_id
from ..core.paths import display_path
from ..core.records import Caps
from ..core.session import Session
from . import codec
from .atomic import exists_at, open_folder, unused_name, write_atomic
from .envelope import envelope_parts, head_signature, open_envelope, signature, verify, why_not
from .errors import (
    Conflict,
    FileTooLarge,
    ForeignKey,
    InvalidPayload,
    MismatchedId,
    NoSavedSession,
    NotASessionFile,
    PersistenceError,
    RejectedFile,
    Stale,
    StoreIOError,
    Tampered,
    UnknownVersion,
    io_error,
)
from .keys import KeyRing, follow_key_file
from .leftovers import remove_leftovers

try:  # advisory lock between kernels saving into the same folder (POSIX)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
_ID_LOCK_STRIPES = 32
SUFFIX = ".json"

STATUS_OK = "ok"
STATUS_TAMPERED = "tampered"
STATUS_OTHER_KEY = "other key"
STATUS_UNREADABLE = "unreadable"
STATUS_TOO_LARGE = "too large"
STATUS_NOT_A_SESSION = "not a session file"
STATUS_UNKNOWN_VERSION = "unknown version"
STATUS_WRONG_ID = "wrong id"
STATUS_STALE = "stale"

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
# A FIFO swapped in after lstat must not block the open.
_READ_FLAGS |= getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True, slots=True)
class SavedSession:
    """One file of the store as ``saved()`` lists it. ``problem`` is the error sentence when
    ``status`` is not ``"ok"``; name, generation, saved_at and message_count need ``"ok"``."""

    id: str
    path: Path
    status: str
    name: str | None = None
    generation: int | None = None
    saved_at: str | None = None
    message_count: int | None = None
    modified_at: str = ""
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK


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


def _fingerprint(info: os.stat_result) -> str:
    # ctime changes on every write, rename or chmod and cannot be set back by users.
    # One short string, not a tuple of five big ints: the store keeps one per session id for
    # the kernel's life, so its size is what every closed session leaves behind.
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


class SessionStore:
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
            payload, revision = codec.encode(session, generation, utc_now())
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
        if known is not None and known.fingerprint == _fingerprint(info):
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
        stem = f"{session_id}.rejected-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"
        try:
            aside = unused_name(stem, SUFFIX, dir_fd)
        except OSError as exc:
            raise io_error("check", self.folder / f"{stem}{SUFFIX}", exc) from None
        try:
            os.rename(path.name, aside, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except OSError as exc:
            raise io_error("set aside", path, exc) from None
        self._known.pop(session_id, None)
        return self.folder / aside

    def _remember(
        self, session_id: str, generation: int, name: str, dir_fd: int, sig: bytes
    ) -> None:
        self._seen[session_id] = max(self._seen.get(session_id, 0), generation)
        try:
            fingerprint = _fingerprint(os.stat(name, dir_fd=dir_fd, follow_symlinks=False))
        except OSError:
            fingerprint = ""  # never matches: the next save verifies the file instead
        self._known[session_id] = _Known(fingerprint, generation, sig)

    # -- loading ---------------------------------------------------------------------------

    def load(self, session_id: str, *, caps: Caps | None = None) -> Session:
        """A new, clean :class:`Session` from ``<id>.json``, verified before it is parsed.

        ``caps`` are the caps to build it with (default: large enough to keep everything).
        """
        path = self.path_for(session_id)
        with self._id_lock(session_id):
            session, _, fingerprint, sig = self._read_verified(path, caps=caps)
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
            self._known[session_id] = _Known(fingerprint, session.generation, sig[:16])
        return session

    def peek(self, path: Path) -> Session:
        """The session in the file ``path`` (e.g. in the trash), verified as a load does but
        for its id and generation, without recording anything."""
        return self._read_verified(Path(path))[0]

    def _read_verified(
        self, path: Path, dir_fd: int | None = None, *, caps: Caps | None = None
    ) -> tuple[Session, str, str, bytes]:
        """The session in ``path`` (built with ``caps``), its ``saved_at``, the file's
        fingerprint and signature, after every check above but the id and generation."""
        data, fingerprint = self._read_bounded(path, dir_fd)
        envelope = open_envelope(data, path)
        verify(envelope, self.keys, path)
        try:
            parsed = orjson.loads(envelope.payload)  # only now: the MAC matched
        except orjson.JSONDecodeError:
            raise InvalidPayload(
                f"{display_path(path)} is signed but its payload is not valid JSON: restore it "
                "from a backup.",
                path,
            ) from None
        # The schema first, while the parser's output is still in the CPU cache (the canonical
        # check's output would push it out); both run before anything is returned.
        session = codec.decode(parsed, path, caps=caps)
        codec.check_canonical(parsed, data, envelope.start, envelope.end, path)
        return session, parsed["saved_at"], fingerprint, envelope.sig

    def _read_bounded(self, path: Path, dir_fd: int | None = None) -> tuple[bytes, str]:
        """Read a regular file (no symlink) of at most ``max_bytes``."""
        name = path.name if dir_fd is not None else path
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            raise self._not_saved(path) from None
        except OSError as exc:
            raise io_error("read", path, exc) from None
        self._check_regular(path, info)
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            raise self._not_saved(path) from None
        except OSError as exc:
            raise io_error("read", path, exc) from None
        try:
            opened = os.fstat(fd)
            self._check_regular(path, opened)  # it may have been swapped since the lstat
            data = _read_at_most(fd, opened.st_size, self.max_bytes + 1)
        except OSError as exc:
            raise io_error("read", path, exc) from None
        finally:
            os.close(fd)
        if len(data) > self.max_bytes:
            raise self._too_large(path, len(data))
        return data, _fingerprint(opened)

    def _check_regular(self, path: Path, info: os.stat_result) -> None:
        if stat.S_ISLNK(info.st_mode):  # labels only on failure: display_path is costly
            label = display_path(path)
            raise NotASessionFile(
                f"{label} is a symbolic link, which is never followed: replace it by the file "
                "it points to.",
                path,
            )
        if not stat.S_ISREG(info.st_mode):
            label = display_path(path)
            raise NotASessionFile(
                f"{label} is not a regular file: move it out of the sessions folder.", path
            )
        if info.st_size > self.max_bytes:
            raise self._too_large(path, info.st_size)

    def _too_large(self, path: Path, size: int) -> FileTooLarge:
        return FileTooLarge(
            f"{display_path(path)} is {size} bytes, over the {self.max_bytes}-byte limit of a "
            "session file: move it out of the sessions folder.",
            path,
        )

    def _not_saved(self, path: Path) -> NoSavedSession:
        return NoSavedSession(
            f"There is no saved session {display_path(path)}: %session resume lists the saved "
            "ones.",
            path,
        )

    # -- listing, deleting, trusting ----------------------------------------------------------

    def saved(self) -> list[SavedSession]:
        """Every ``<id>.json`` in the folder with its status, newest first: files unchanged
        since their last full verification are listed from the cache (see :mod:`.catalog`)."""
        from .catalog import list_saved

        return list_saved(self)

    def describe(self, session_id: str, path: Path) -> SavedSession:
        """``path`` as ``saved()`` lists it: verified in full, for its status and metadata."""
        try:
            modified = datetime.fromtimestamp(os.lstat(path).st_mtime, timezone.utc)
            modified_at = modified.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        except OSError:
            modified_at = ""
        try:
            session, saved_at, _, _ = self._read_verified(path)
            if session.id != session_id:
                raise _mismatched_id(path, session.id, session_id)
        except PersistenceError as exc:
            return SavedSession(
                session_id, path, _status_of(exc), modified_at=modified_at, problem=str(exc)
            )
        seen = self._seen.get(session_id, 0)
        return SavedSession(
            session_id,
            path,
            STATUS_STALE if session.generation < seen else STATUS_OK,
            name=session.name,
            generation=session.generation,
            saved_at=saved_at,
            message_count=len(session.messages),
            modified_at=modified_at,
        )

    def delete(self, session_id: str) -> Path:
        """Move ``<id>.json`` (whatever its status) to the folder's trash and remove that id's
        leftovers; returns where the file went (see :mod:`.trash`)."""
        from .trash import move_to_trash

        return move_to_trash(self, session_id)

    def trust(self, path: Path | str) -> Path:
        """Re-sign a session file with the local key after the user chose to trust it.

        The payload bytes are kept exactly. A file inside the folder is re-signed in place; one
        elsewhere is copied in as ``<id>.json`` (refused when that name is taken by another
        file). Returns the trusted file's path.
        """
        source = Path(path).absolute()
        try:
            data, _ = self._read_bounded(source)
        except NoSavedSession:
            raise NoSavedSession(
                f"There is no file {display_path(source)} to trust: give the session file's "
                "path (see %session where).",
                source,
            ) from None
        try:
            envelope = open_envelope(data, source)
        except UnknownVersion:
            raise
        except NotASessionFile:  # its advice is for a file in the folder, not for trust
            raise NotASessionFile(
                f"{display_path(source)} is not a jido_magics session file ({why_not(data)}), "
                "so trusting it cannot help: give the path of an ID.json file jido_magics saved.",
                source,
            ) from None
        keys = self.keys
        try:
            parsed = orjson.loads(envelope.payload)
        except orjson.JSONDecodeError:
            raise InvalidPayload(
                f"{display_path(source)} does not hold valid JSON, so it cannot be trusted: "
                "ask its author for a good copy.",
                source,
            ) from None
        session = codec.decode(parsed, source)  # in the order of a load
        codec.check_canonical(parsed, data, envelope.start, envelope.end, source)
        target = self.path_for(session.id)
        in_place = source.parent == self.folder.absolute() and source.name == target.name
        if not in_place and source.parent == self.folder.absolute():
            raise MismatchedId(
                f"{display_path(source)} holds session {session.id}: rename it to "
                f"{target.name} first, then trust it.",
                source,
            )
        payload = bytes(envelope.payload)
        with self.locked_folder(session.id, create=True) as dir_fd:
            if not in_place and exists_at(target.name, dir_fd):
                raise Conflict(
                    f"{display_path(target)} already exists: resume or delete that session "
                    f"(%session delete {session.id}) before trusting {display_path(source)}.",
                    target,
                )
            already = in_place and envelope.kid == keys.kid
            if not (already and signature(keys.signing_key, payload) == envelope.sig):
                try:
                    write_atomic(
                        self.folder, target.name, envelope_parts(keys, payload), dir_fd=dir_fd
                    )
                except OSError as exc:
                    raise io_error("write", target, exc) from None
            # The user vouched for this copy: it may be loaded even if older than one seen.
            self._seen[session.id] = session.generation
            self._known.pop(session.id, None)
        return target

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
                    raise self._not_saved(self.path_for(session_id)) from None
                raise
            try:
                if fcntl is not None:
                    fcntl.flock(dir_fd, fcntl.LOCK_EX)
                yield dir_fd
            finally:
                os.close(dir_fd)  # also releases the folder lock

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


def _read_at_most(fd: int, size_hint: int, limit: int) -> bytes:
    """Up to ``limit`` bytes; usually one read of the whole file and one that sees its end."""
    parts: list[bytes] = []
    total = 0
    want = size_hint + 1  # one byte more than expected shows whether the file grew
    while total < limit:
        ask = want - total if total < want else 1 << 20
        chunk = os.read(fd, min(ask, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    return data[:limit] if len(data) > limit else data


def _mismatched_id(path: Path, found: str, wanted: str) -> MismatchedId:
    return MismatchedId(
        f"{display_path(path)} holds session {found}, not {wanted} (it was renamed or copied): "
        f"rename it back to {found}{SUFFIX} to load it.",
        path,
    )


def _status_of(exc: PersistenceError) -> str:
    """The ``saved()`` status word for an error."""
    if isinstance(exc, ForeignKey):
        return STATUS_OTHER_KEY
    if isinstance(exc, Tampered):
        return STATUS_TAMPERED
    if isinstance(exc, FileTooLarge):
        return STATUS_TOO_LARGE
    if isinstance(exc, UnknownVersion):
        return STATUS_UNKNOWN_VERSION
    if isinstance(exc, MismatchedId):
        return STATUS_WRONG_ID
    if isinstance(exc, Stale):
        return STATUS_STALE
    if isinstance(exc, NotASessionFile):
        return STATUS_NOT_A_SESSION
    return STATUS_UNREADABLE  # StoreIOError, NoSavedSession and anything else
