"""Identifiers: generated ones are short, random and lowercase; session ids are validated
before any file-system call because they become file names."""

from __future__ import annotations

import re
import secrets

from .errors import InvalidSessionId, shorten

SESSION_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: Names Windows reserves for devices whatever the extension ("con.json" opens the console).
RESERVED_NAMES = re.compile(r"(?i)(con|prn|aux|nul|com[0-9]|lpt[0-9])")


def is_device_name(stem: str) -> bool:
    """True when ``stem`` (a file name before its first dot) names a Windows device."""
    return RESERVED_NAMES.fullmatch(stem) is not None


def new_id(nbytes: int = 4) -> str:
    """A random lowercase hex id (8 characters by default)."""
    return secrets.token_hex(nbytes)


def is_valid_session_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and SESSION_ID_PATTERN.fullmatch(value) is not None
        and not is_device_name(value)
    )


def check_session_id(value: object) -> str:
    """Return ``value`` when it is a valid session id, else raise :class:`InvalidSessionId`."""
    if not is_valid_session_id(value):
        shown = shorten(str(value), 40)
        raise InvalidSessionId(
            f"'{shown}' is not a valid session id: use 1-64 ASCII letters, digits, '_' or '-', "
            "starting with a letter or digit (not a device name such as con or nul)."
        )
    return value  # type: ignore[return-value]
