"""The line ``%load_ext`` prints when the notebook's folder holds saved sessions."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..core.ids import is_valid_session_id
from ..core.text import plural
from ..persistence.reading import SUFFIX


def startup_hint(sessions_folder: Callable[[], Path]) -> str | None:
    """ "3 saved sessions beside this notebook: …", or None (none in the folder, or one that
    cannot be read). Counts file names only: nothing is read. ``%load_ext`` shows it unless
    ``SessionMagics.startup_hint`` is off."""
    try:
        with os.scandir(sessions_folder()) as entries:
            count = sum(
                1
                for entry in entries
                if entry.name.endswith(SUFFIX) and is_valid_session_id(entry.name[: -len(SUFFIX)])
            )
    except OSError:  # no folder yet, or one that cannot be read: nothing to say at start-up
        return None
    if not count:
        return None
    return f"{plural(count, 'saved session')} beside this notebook: %session resume lists them."
