"""What a listing says about one file of a sessions folder: :class:`SavedSession` and its
status word."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import (
    FileTooLarge,
    ForeignKey,
    MismatchedId,
    NotASessionFile,
    PersistenceError,
    Stale,
    Tampered,
    UnknownVersion,
)

STATUS_OK = "ok"
STATUS_TAMPERED = "tampered"
STATUS_OTHER_KEY = "other key"
STATUS_UNREADABLE = "unreadable"
STATUS_TOO_LARGE = "too large"
STATUS_NOT_A_SESSION = "not a session file"
STATUS_UNKNOWN_VERSION = "unknown version"
STATUS_WRONG_ID = "wrong id"
STATUS_STALE = "stale"

# Subclasses before their bases: the first match names the status.
_STATUS_OF_ERROR: tuple[tuple[type[PersistenceError], str], ...] = (
    (ForeignKey, STATUS_OTHER_KEY),
    (Tampered, STATUS_TAMPERED),
    (FileTooLarge, STATUS_TOO_LARGE),
    (UnknownVersion, STATUS_UNKNOWN_VERSION),
    (MismatchedId, STATUS_WRONG_ID),
    (Stale, STATUS_STALE),
    (NotASessionFile, STATUS_NOT_A_SESSION),
)


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


def status_of(exc: PersistenceError) -> str:
    """The ``saved()`` status word for an error."""
    for kind, status in _STATUS_OF_ERROR:
        if isinstance(exc, kind):
            return status
    return STATUS_UNREADABLE  # StoreIOError, NoSavedSession and anything else
