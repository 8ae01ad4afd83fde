"""Signed persistence: sessions saved as HMAC-signed JSON files beside the notebook.

Imports only the core, orjson, the standard library and (for the key's folder, lazily)
jupyter_core; never IPython.
"""

from .errors import (
    Conflict,
    FileTooLarge,
    ForeignKey,
    InvalidPayload,
    KeyFileError,
    MismatchedId,
    NoSavedSession,
    NotASessionFile,
    PersistenceError,
    RejectedFile,
    Stale,
    StoreIOError,
    Tampered,
    UnknownVersion,
)
from .file_status import SavedSession
from .keys import KeyRing, default_key_path
from .location import sessions_folder
from .store import SessionStore

__all__ = [
    "Conflict",
    "FileTooLarge",
    "ForeignKey",
    "InvalidPayload",
    "KeyFileError",
    "KeyRing",
    "MismatchedId",
    "NoSavedSession",
    "NotASessionFile",
    "PersistenceError",
    "RejectedFile",
    "SavedSession",
    "SessionStore",
    "Stale",
    "StoreIOError",
    "Tampered",
    "UnknownVersion",
    "default_key_path",
    "sessions_folder",
]
