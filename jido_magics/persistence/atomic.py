"""Crash-safe replacement of a file: the old content or the new one, never a mix.

A temp file in the same folder is written, fsynced and renamed over the target, then the folder
is fsynced. Until the folder is durable the old file stays reachable through a hard link, so a
failure at any step leaves the old file byte-identical; the temp file is removed on any failure.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_CREATE |= getattr(os, "O_CLOEXEC", 0)


_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC
# A planted symlink in place of the folder must not redirect writes elsewhere.
_FOLDER |= getattr(os, "O_NOFOLLOW", 0)


def open_folder(folder: Path | str, *, dir_fd: int | None = None) -> int:
    """A file descriptor of ``folder`` (relative to ``dir_fd`` when given) for ``dir_fd=``
    calls, locking and fsync.

    Raises ``OSError`` (``ELOOP`` on Linux) when ``folder`` itself is a symbolic link."""
    return os.open(folder, _FOLDER, dir_fd=dir_fd)


def exists_at(name: str, dir_fd: int) -> bool:
    """Whether ``name`` exists in the folder ``dir_fd`` (a dangling symlink counts)."""
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def unused_name(stem: str, suffix: str, dir_fd: int) -> str:
    """``stem + suffix``, else ``stem-2 + suffix``, ``stem-3`` …: the first name free in the
    folder ``dir_fd``, so a file set aside never replaces an earlier one."""
    for attempt in range(1, 1000):
        name = f"{stem}{'' if attempt == 1 else f'-{attempt}'}{suffix}"
        if not exists_at(name, dir_fd):
            break
    return name


def write_atomic(
    folder: Path, name: str, chunks: Sequence[bytes], *, dir_fd: int | None = None
) -> None:
    """Replace ``folder/name`` by the concatenation of ``chunks`` (written in one call).

    Raises the ``OSError`` of the failing step after restoring the previous state.
    """
    own_fd = dir_fd is None
    folder_fd = open_folder(folder) if dir_fd is None else dir_fd
    temp = f".{name}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(temp, _CREATE, 0o666, dir_fd=folder_fd)
        try:
            if fcntl is not None:  # "being written": a leftover sweep leaves a locked temp file
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _write_all(fd, chunks)
            os.fsync(fd)
        finally:
            os.close(fd)
        had_old, backup = _keep_old(name, folder_fd)
        try:
            os.replace(temp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            try:
                os.fsync(folder_fd)
            except OSError:
                _restore_old(name, had_old, backup, folder_fd)
                raise
        finally:
            if backup is not None:
                _unlink_quietly(backup, folder_fd)
    except BaseException:
        _unlink_quietly(temp, folder_fd)
        raise
    finally:
        if own_fd:
            os.close(folder_fd)


def _write_all(fd: int, chunks: Sequence[bytes]) -> None:
    total = sum(len(chunk) for chunk in chunks)
    written = os.writev(fd, chunks)
    if written < total:  # a short write (rare on regular files): finish the rest
        rest = memoryview(b"".join(chunks))[written:]
        while rest:
            count = os.write(fd, rest)
            if count <= 0:
                raise OSError(errno.EIO, "write made no progress")
            rest = rest[count:]


def _keep_old(name: str, folder_fd: int) -> tuple[bool, str | None]:
    """Hard-link the current file (if any) under a temp name so a failure can put it back.

    Returns whether an old file exists and the backup's name (None when links are unsupported).
    """
    backup = f".{name}.{secrets.token_hex(4)}.old"
    try:
        os.link(name, backup, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False, None
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV):
            return True, None  # no hard links here: no rollback past the rename
        raise
    return True, backup


def _restore_old(name: str, had_old: bool, backup: str | None, folder_fd: int) -> None:
    try:
        if not had_old:
            os.unlink(name, dir_fd=folder_fd)
        elif backup is not None:
            os.replace(backup, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except OSError:
        pass  # the original error is the one to report


def _unlink_quietly(name: str, folder_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=folder_fd)
    except OSError:
        pass
