"""The line ``%load_ext`` prints when the notebook's folder holds saved sessions."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..core.ids import is_valid_session_id
from ..core.transcript import plural

if TYPE_CHECKING:
    from .extension import Extension

SUFFIX = ".json"  # persistence.store.SUFFIX, whose import (orjson, hmac) %load_ext avoids


def startup_hint(extension: Extension) -> str | None:
    """ "3 saved sessions beside this notebook: …", or None (none, or turned off with
    ``SessionMagics.startup_hint = False``). Counts file names only: nothing is read."""
    magics = extension.magics
    if magics is None or not magics.startup_hint:
        return None
    try:
        with os.scandir(extension.sessions_folder) as entries:
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
