"""Temp and backup files a killed save left in a sessions folder, and their removal.

A save writes ``.<id>.json.<8 hex>.tmp`` (locked while it is written) and may hard-link the old
file as ``.<id>.json.<8 hex>.old``; both vanish when it finishes. A process killed meanwhile
leaves them behind. They are removed with the folder locked (no save of this folder runs), never
while another process holds one locked, and, for ids other than the one being saved or deleted,
only once they are older than :data:`MAX_AGE_SECONDS` (a save on a machine that ignores the
folder lock finishes well within that).
"""

from __future__ import annotations

import os
import re
import stat
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

MAX_AGE_SECONDS = 600.0
_LEFTOVER = re.compile(r"\.([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.json\.[0-9a-f]{8}\.(?:tmp|old)")
_OPEN = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def remove_leftovers(dir_fd: int, session_id: str | None = None) -> list[str]:
    """Remove leftovers in the folder ``dir_fd`` (which the caller holds locked): every one of
    ``session_id``, and those of other ids older than ten minutes. Returns the names removed.

    Best effort: a file that cannot be checked or removed stays for a later sweep."""
    if fcntl is None:  # without the folder lock another save's temp file could be in use
        return []
    try:
        with os.scandir(dir_fd) as entries:
            names = [
                (e.name, match.group(1))
                for e in entries
                if e.name.startswith(".") and (match := _LEFTOVER.fullmatch(e.name)) is not None
            ]
    except OSError:
        return []
    oldest = time.time() - MAX_AGE_SECONDS
    removed = []
    for name, owner in names:
        if _remove_if_unlocked(name, dir_fd, None if owner == session_id else oldest):
            removed.append(name)
    return removed


def _remove_if_unlocked(name: str, dir_fd: int, modified_before: float | None) -> bool:
    try:
        fd = os.open(name, _OPEN, dir_fd=dir_fd)
    except OSError:  # gone, or a symlink (O_NOFOLLOW): unlinking below removes only the link
        fd = None
    try:
        if fd is not None:
            info = os.fstat(fd)
            if modified_before is not None and info.st_mtime > modified_before:
                return False
            if stat.S_ISREG(info.st_mode):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False  # being written by a live process
        elif modified_before is not None:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if info.st_mtime > modified_before:
                return False
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        return False
    finally:
        if fd is not None:
            os.close(fd)
    return True
