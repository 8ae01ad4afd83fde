"""Crash-safe writing of a file: the old content or the new one, never a mix.

A temp file in the same folder is written, fsynced and renamed over the target, then the folder
is fsynced. Until the folder is durable the old file stays reachable through a hard link, so a
failure at any step leaves the old file byte-identical; the temp file is removed on any failure.
Only a regular file is ever replaced; without ``overwrite`` the last step is a hard link, which
never replaces a file, even one that appeared meanwhile. Session files and exports both write
this way.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_CREATE |= getattr(os, "O_CLOEXEC", 0)


#: What ``link`` raises where a file system has no hard links (or no more for this file).
NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV)

_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC
# A planted symlink in place of the folder must not redirect writes elsewhere.
_FOLDER |= getattr(os, "O_NOFOLLOW", 0)


def open_folder(
    folder: Path | str, *, dir_fd: int | None = None, follow_symlinks: bool = False
) -> int:
    """A file descriptor of ``folder`` (relative to ``dir_fd`` when given) for ``dir_fd=``
    calls, locking and fsync.

    Raises ``OSError`` (``ELOOP`` on Linux) when ``folder`` itself is a symbolic link, unless
    ``follow_symlinks`` (a folder the user named, as an export's)."""
    flags = _FOLDER & ~getattr(os, "O_NOFOLLOW", 0) if follow_symlinks else _FOLDER
    return os.open(folder, flags, dir_fd=dir_fd)


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
    folder: Path,
    name: str,
    chunks: Sequence[bytes],
    *,
    dir_fd: int | None = None,
    overwrite: bool = True,
) -> None:
    """Write the concatenation of ``chunks`` (in one call) as ``folder/name``.

    With ``overwrite`` an existing regular file is replaced; without it the file is only
    created. ``FileExistsError`` when ``name`` is taken (without ``overwrite``) or holds
    anything but a regular file. Raises the ``OSError`` of the failing step after restoring
    the previous state.
    """
    own_fd = dir_fd is None
    folder_fd = open_folder(folder) if dir_fd is None else dir_fd
    temp = f".{name[:80]}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(temp, _CREATE, 0o666, dir_fd=folder_fd)
        try:
            if fcntl is not None:  # "being written": a leftover sweep leaves a locked temp file
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _write_all(fd, chunks)
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            _check_replaceable(name, folder_fd)
            had_old, backup = _keep_old(name, folder_fd)
        else:
            had_old, backup = False, None
        try:
            if overwrite:
                os.replace(temp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            else:
                _create(temp, name, folder_fd)
            try:
                os.fsync(folder_fd)
            except OSError:
                _restore_old(name, had_old, backup, folder_fd)
                raise
        finally:
            if backup is not None:
                unlink_quietly(backup, folder_fd)
        if not overwrite:
            unlink_quietly(temp, folder_fd)  # the new file is its second link
    except BaseException:
        unlink_quietly(temp, folder_fd)
        raise
    finally:
        if own_fd:
            os.close(folder_fd)


def _check_replaceable(name: str, folder_fd: int) -> None:
    """Only a regular file may be replaced: a link, pipe, device or folder would be swapped
    for a file."""
    try:
        info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise FileExistsError(errno.EEXIST, "not a regular file", name)


def _create(temp: str, name: str, folder_fd: int) -> None:
    """Give the written ``temp`` its ``name`` without replacing anything."""
    try:
        # atomic, and fails when the name exists
        os.link(temp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
    except OSError as exc:
        # File systems without hard links: the check-then-replace fallback.
        if exc.errno not in NO_HARD_LINKS:
            raise
        if exists_at(name, folder_fd):
            raise FileExistsError(errno.EEXIST, "file exists", name) from None
        os.replace(temp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)


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
        if exc.errno in NO_HARD_LINKS:
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


def unlink_quietly(name: str | Path, folder_fd: int | None = None) -> None:
    """Remove ``name`` (in the folder ``folder_fd``) if it can be: it is only clean-up."""
    try:
        os.unlink(name, dir_fd=folder_fd)
    except OSError:
        pass


def sync_quietly(fd: int) -> None:
    """fsync ``fd`` (a folder, after a change in it), best effort: the change is done, and a
    failure only weakens its durability."""
    try:
        os.fsync(fd)
    except OSError:
        pass


def sync_folder(folder: Path) -> None:
    """:func:`sync_quietly` for a folder given by its path (links followed)."""
    try:
        fd = open_folder(folder, follow_symlinks=True)
    except OSError:
        return
    try:
        sync_quietly(fd)
    finally:
        os.close(fd)
