"""Session names: what a valid name is, and what a name being given now may not be."""

from __future__ import annotations

from .errors import InvalidName, shorten

MAX_NAME_LENGTH = 50


def check_name(name: object) -> str:
    """Return the name without surrounding blanks, or raise :class:`InvalidName`."""
    if not isinstance(name, str):
        raise InvalidName("A session name must be text.")
    stripped = name.strip()
    if not stripped:
        raise InvalidName("A session name cannot be empty: give 1 to 50 printable characters.")
    if len(stripped) > MAX_NAME_LENGTH:
        raise InvalidName(
            f"Session name '{shorten(stripped, 30)}' is {len(stripped)} characters long: "
            f"use at most {MAX_NAME_LENGTH}."
        )
    if not stripped.isprintable():
        raise InvalidName(
            f"Session name '{shorten(stripped, 30)}' has unprintable characters: "
            "use letters, digits, spaces or punctuation."
        )
    return stripped


def check_new_name(name: object) -> str:
    """:func:`check_name` for a name being given now (``new``, ``rename``): a name made only
    of digits is refused too, since targets read it as an index. A loaded file may hold one."""
    stripped = check_name(name)
    if stripped.isdecimal():
        raise InvalidName(
            f"Session name '{shorten(stripped, 30)}' is made only of digits, so it would be read "
            f"as an index: add a letter (e.g. 'run {shorten(stripped, 20)}')."
        )
    return stripped
