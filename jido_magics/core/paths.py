"""How a path is shown in a one-line message: relative when that is short, and printable."""

from __future__ import annotations

import os


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the current folder when that is short, else as given."""
    text = os.fspath(path)
    try:
        relative = os.path.relpath(text)
    except (ValueError, OSError):  # another drive on Windows, or no current folder
        relative = os.pardir + os.sep + os.pardir
    # Two or more levels up reads worse than the path itself.
    shown = text if relative.startswith(os.pardir + os.sep + os.pardir) else relative
    # A newline or control character in a path must not break a one-line message.
    return shown if shown.isprintable() else repr(shown)[1:-1]
