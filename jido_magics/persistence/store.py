"""The on-disk store of one notebook's sessions: one signed file per session in one folder.

:class:`SessionStore` is the whole store as the rest of the package uses it: the files
themselves (saving, loading, describing: :mod:`.session_files`, reading them verified:
:mod:`.reading`), with listing (:mod:`.catalog`), the trash (:mod:`.trash`) and trusting
(:mod:`.trusting`) on top.
"""

from __future__ import annotations

from pathlib import Path

from .catalog import list_saved
from .file_status import SavedSession
from .session_files import SessionFiles
from .trash import move_to_trash
from .trusting import trust_file


class SessionStore(SessionFiles):
    """Signed session files in ``folder``, one per session id (``<id>.json``)."""

    def saved(self) -> list[SavedSession]:
        """Every ``<id>.json`` in the folder with its status, newest first: files unchanged
        since their last full verification are listed from the cache (see :mod:`.catalog`)."""
        return list_saved(self)

    def delete(self, session_id: str) -> Path:
        """Move ``<id>.json`` (whatever its status) to the folder's trash and remove that id's
        leftovers; returns where the file went (see :mod:`.trash`)."""
        return move_to_trash(self, session_id)

    def trust(self, path: Path | str) -> Path:
        """Re-sign a session file with the local key after the user chose to trust it (see
        :func:`.trusting.trust_file`); returns the trusted file's path."""
        return trust_file(self, path)
