"""Typed errors of the session store.

Each message is one sentence that names the file by a relative path and says what to do next.
Messages never contain key bytes nor more than 80 characters of a file's content.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import JidoError
from ..core.paths import display_path


class PersistenceError(JidoError):
    """A session file could not be saved, loaded or trusted."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else Path(path)


class KeyFileError(PersistenceError):
    """The signing key file is missing, damaged or readable by others."""


class StoreIOError(PersistenceError):
    """The operating system refused a read or write."""


class NoSavedSession(PersistenceError):
    """There is no saved file for that session."""


class RejectedFile(PersistenceError):
    """A file that exists but is not accepted as a session of this notebook."""


class FileTooLarge(RejectedFile):
    pass


class NotASessionFile(RejectedFile):
    """Not a session file: wrong type of file, malformed envelope or payload."""


class UnknownVersion(NotASessionFile):
    pass


class InvalidPayload(NotASessionFile):
    """The signature is valid but the content does not follow the session schema."""


class MismatchedId(NotASessionFile):
    """A valid file saved under another session's file name."""


class ForeignKey(RejectedFile):
    """Signed with a key this kernel does not have."""

    def __init__(self, message: str, path: str | os.PathLike[str], kid: str) -> None:
        super().__init__(message, path)
        self.kid = kid


class Tampered(RejectedFile):
    """Signed with the local key, but the bytes changed after signing."""


class Stale(PersistenceError):
    """An older generation than one this kernel already saw."""


class Conflict(PersistenceError):
    """The file on disk is newer than the copy in memory."""


class SaveBeforeCloseFailed(PersistenceError):
    """Autosave could not save a session that is being closed; it stays open."""


def io_error(action: str, path: str | os.PathLike[str], exc: OSError) -> StoreIOError:
    """A one-line :class:`StoreIOError` for ``exc`` raised while ``action`` (e.g. "read")."""
    reason = exc.strerror or type(exc).__name__
    return StoreIOError(
        f"Cannot {action} {display_path(path)} ({reason}): check the folder's permissions and "
        "free disk space, then try again.",
        path,
    )


@contextmanager
def io_errors(action: str, path: str | os.PathLike[str]) -> Iterator[None]:
    """Raise an ``OSError`` from the block as :func:`io_error` (``action``, ``path``). A site
    that treats one kind of ``OSError`` apart (a missing file, say) catches it inside."""
    try:
        yield
    except OSError as exc:
        raise io_error(action, path, exc) from None
