"""Control characters made visible, for text shown to a person: a terminal obeys ``\\x1b[2J``
(clear the screen) or an OSC 52 sequence (write the clipboard) that a model wrote, and a
Markdown file carries them to whoever opens it. Stored content and JSON stay exact; only what
is printed or exported as Markdown goes through :func:`visible_controls`."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 controls.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode control pictures: \x1b -> ␛, \r -> ␍
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\x{code:02x}"  # C1 controls have no pictures: \x9b -> the text \x9b


def visible_controls(text: str) -> str:
    """``text`` with every C0/C1 control character other than ``\\n`` and ``\\t`` shown
    as a visible sign (``\\x1b`` as ``␛``); a Windows line end ``\\r\\n`` stays a line end."""
    if _CONTROLS.search(text) is None:
        return text  # the common case: nothing to replace, no copy
    return _CONTROLS.sub(_visible, text.replace("\r\n", "\n"))
