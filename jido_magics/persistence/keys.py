"""The local signing key: 32 random bytes in the Jupyter data folder, never beside a notebook.

The file holds 64 lowercase hex characters and a newline, mode 0600. It is created with
``O_EXCL`` so that kernels starting at the same moment agree on one key: the loser of the race
reads the winner's key, waiting briefly for its content. ``JIDO_MAGICS_KEY_FILE`` points
elsewhere (for tests, or a key shared by a team on a hub).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
import time
from collections.abc import Iterable
from pathlib import Path

from ..core.paths import display_path
from .atomic import sync_folder, unlink_quietly
from .errors import KeyFileError

KEY_FILE_ENV = "JIDO_MAGICS_KEY_FILE"
KEY_BYTES = 32
_KEY_TEXT = re.compile(rb"[0-9a-f]{64}\n")
_KID_LABEL = b"jido-kid"
# A FIFO planted as the key file must not block the open (fstat refuses it just after).
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
#: How long a loser of the creation race waits for the winner to write the key.
_CREATION_WAIT_SECONDS = 5.0


def default_key_path() -> Path:
    explicit = os.environ.get(KEY_FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    # $JUPYTER_DATA_DIR, else the platform's Jupyter data folder (lazy: a first save needs it)
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "jido_magics" / "session_key"


def kid_of(key: bytes) -> str:
    """The public key id written in every file: 16 hex digits that reveal nothing of the key."""
    return hmac.new(key, _KID_LABEL, hashlib.sha256).hexdigest()[:16]


class KeyRing:
    """Signing keys by key id. The first key signs; all of them verify.

    Key bytes never appear in ``repr``, messages or logs: only key ids do.
    """

    __slots__ = ("_by_kid", "_signing_kid", "path", "stamp")

    def __init__(self, keys: Iterable[bytes], *, path: Path | None = None, stamp: str = "") -> None:
        by_kid: dict[str, bytes] = {}
        for key in keys:
            if not isinstance(key, bytes) or len(key) < 16:
                raise KeyFileError("A session key must be at least 16 bytes.")
            by_kid.setdefault(kid_of(key), key)
        if not by_kid:
            raise KeyFileError("A key ring needs at least one key.")
        self._by_kid = by_kid
        self._signing_kid = next(iter(by_kid))
        self.path = path
        #: The key file's stat fingerprint when it was read (see :func:`follow_key_file`).
        self.stamp = stamp

    @classmethod
    def load(cls, path: Path | None = None) -> KeyRing:
        """The key at ``path`` (default :func:`default_key_path`), created when missing."""
        path = default_key_path() if path is None else Path(path)
        key, info = _load_or_create(path)
        return cls([key], path=path, stamp=_stamp(info))

    @property
    def kid(self) -> str:
        """Id of the signing key."""
        return self._signing_kid

    @property
    def signing_key(self) -> bytes:
        return self._by_kid[self._signing_kid]

    def key_for(self, kid: str) -> bytes | None:
        return self._by_kid.get(kid)

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._by_kid)

    def _keys(self) -> list[bytes]:
        """The key bytes, signing key first (for a ring that follows the key file)."""
        signing = self._by_kid[self._signing_kid]
        return [signing, *(key for key in self._by_kid.values() if key is not signing)]

    def __repr__(self) -> str:
        where = f" path={display_path(self.path)!r}" if self.path else ""
        return f"<KeyRing kid={self._signing_kid}{where}>"

    def __reduce__(self) -> object:  # pickling would write key bytes somewhere
        raise TypeError("A KeyRing cannot be pickled.")


def load_or_create_key(path: Path) -> bytes:
    """Read the key at ``path``; create it (exclusively, mode 0600) when it does not exist."""
    return _load_or_create(path)[0]


def _load_or_create(path: Path) -> tuple[bytes, os.stat_result]:
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    try:
        return _create_key_file(path, secrets.token_bytes(KEY_BYTES))
    except FileExistsError:
        # Another kernel won the race: use its key once it is written.
        try:
            return _read_key(path)
        except FileNotFoundError:
            raise _key_error(path, "it vanished while being created") from None


def _create_key_file(path: Path, key: bytes) -> tuple[bytes, os.stat_result]:
    """Write ``key`` to a new file at ``path`` (``O_EXCL``, mode 0600); ``FileExistsError``
    when one exists."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _key_error(path, f"cannot create its folder ({exc.strerror})") from None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = _open(path, flags, "create", FileExistsError)
    try:
        os.fchmod(fd, 0o600)  # a umask cannot loosen 0600, but be explicit
        text = key.hex().encode("ascii") + b"\n"
        written = os.write(fd, text)
        if written != len(text):
            raise OSError(0, "short write")
        os.fsync(fd)
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        unlink_quietly(path)
        raise _key_error(path, f"cannot write it ({exc.strerror})") from None
    os.close(fd)
    sync_folder(path.parent)
    return key, info


def _read_key(path: Path) -> tuple[bytes, os.stat_result]:
    deadline = time.monotonic() + _CREATION_WAIT_SECONDS
    while True:
        fd = _open(path, _READ_FLAGS, "read", FileNotFoundError)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _key_error(path, "it is not a regular file")
            if info.st_mode & 0o077:
                raise _key_error(
                    path, "other users may read or change it; run chmod 600 on it if it is yours"
                )
            data = os.read(fd, 4096)
        except OSError as exc:
            raise _key_error(path, f"cannot read it ({exc.strerror})") from None
        finally:
            os.close(fd)
        if _KEY_TEXT.fullmatch(data):
            return bytes.fromhex(data[:64].decode("ascii")), info
        # A short key is normal for a moment while another kernel creates the file; an old
        # short file is damaged and waiting would not help.
        being_written = len(data) < 65 and time.time() - info.st_mtime < _CREATION_WAIT_SECONDS
        if not being_written or time.monotonic() >= deadline:
            raise _key_error(
                path,
                "it does not hold 64 lowercase hex digits; restore it from a backup, or remove "
                "it to make a new key (then trust your files again)",
            )
        time.sleep(0.01)


def _stamp(info: os.stat_result) -> str:
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


def follow_key_file(ring: KeyRing) -> tuple[KeyRing, str | None]:
    """Check ``ring``'s key file with ``stat`` (before a save) and follow what changed.

    Unchanged: ``(ring, None)``. Missing: written again from the key in memory. Holding another
    valid key: a ring that signs with it (and still verifies with the old ones). Damaged or
    unsafe: the key in memory keeps signing. Each change comes with one sentence to show."""
    path = ring.path
    if path is None:
        return ring, None
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError:
        return ring, None  # cannot look: keep signing as before, and look again next time
    if info is not None and _stamp(info) == ring.stamp:
        return ring, None
    shown = display_path(path)
    if info is None:
        try:
            _, made = _create_key_file(path, ring.signing_key)
        except FileExistsError:  # another kernel re-created it first: read that one below
            pass
        except KeyFileError as exc:
            return KeyRing(ring._keys(), path=path, stamp="missing"), (
                f"The session key file {shown} is missing and could not be written again "
                f"({exc}); this kernel keeps signing with key {ring.kid}."
            )
        else:
            return KeyRing(ring._keys(), path=path, stamp=_stamp(made)), (
                f"The session key file {shown} was missing; it was written again with this "
                f"kernel's key {ring.kid}."
            )
    try:
        key, info = _read_key(path)
    except (FileNotFoundError, KeyFileError) as exc:
        reason = str(exc) if isinstance(exc, KeyFileError) else "it vanished"
        return KeyRing(ring._keys(), path=path, stamp=_stamp(info) if info else ""), (
            f"{reason.rstrip('.')}; this kernel keeps signing with key {ring.kid} until it "
            "is fixed."
        )
    if kid_of(key) == ring.kid:
        return KeyRing(ring._keys(), path=path, stamp=_stamp(info)), None
    followed = KeyRing([key, *ring._keys()], path=path, stamp=_stamp(info))
    return followed, (
        f"The session key file {shown} now holds another key ({followed.kid}); this kernel signs "
        f"with it from now on (its files signed with {ring.kid} still load here; elsewhere they "
        "need %session trust)."
    )


def _open(path: Path, flags: int, action: str, expected: type[OSError]) -> int:
    """``os.open`` of the key file: ``expected`` (the caller's cue to read or wait instead)
    raises as is, any other failure as one line."""
    try:
        return os.open(path, flags, 0o600)
    except expected:
        raise
    except OSError as exc:
        raise _key_error(path, f"cannot {action} it ({exc.strerror})") from None


def _key_error(path: Path, reason: str) -> KeyFileError:
    return KeyFileError(f"Session key file {display_path(path)}: {reason}.", path)
