"""The trash of a sessions folder: ``delete`` moves a file there, ``undelete`` brings it back.

A deleted ``<id>.json`` becomes ``.trash/<id>.<UTC time>.json`` (``-2``, ``-3``… when one
second holds several). A restore never overwrites a live file of that id. Trash older than
:data:`KEEP_DAYS` days is purged at the next delete in that folder.
"""

from __future__ import annotations

import os
import re
import stat
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.clock import FILE_STAMP, utc_timestamp
from ..core.paths import display_path
from .atomic import (
    NO_HARD_LINKS,
    exists_at,
    open_folder,
    sync_quietly,
    unlink_quietly,
    unused_name,
)
from .errors import Conflict, NoSavedSession, NotASessionFile, io_error, io_errors
from .leftovers import remove_leftovers

if TYPE_CHECKING:
    from .file_status import SavedSession
    from .session_files import SessionFiles

TRASH = ".trash"
KEEP_DAYS = 30
_ENTRY = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.(\d{8}T\d{6}Z)(?:-(\d{1,3}))?\.json")


@dataclass(frozen=True, slots=True)
class TrashedSession:
    """One file in the trash: when it was deleted and what :meth:`SessionStore.describe`
    found in it (status, name, generation, message count)."""

    deleted_at: str
    saved: SavedSession
    order: tuple[str, int, int]

    @property
    def id(self) -> str:
        return self.saved.id

    @property
    def name(self) -> str | None:
        return self.saved.name

    @property
    def path(self) -> Path:
        return self.saved.path


def trash_folder(store: SessionFiles) -> Path:
    return store.folder / TRASH


def move_to_trash(store: SessionFiles, session_id: str) -> Path:
    """Move ``<id>.json`` into the trash, remove that id's leftovers and purge old trash.

    A symbolic link or other special file in its place is removed, not kept: it holds no
    session. Returns the trashed file's path (the removed path for a special file)."""
    path = store.path_for(session_id)
    with store.locked_folder(session_id, create=False) as dir_fd:
        try:
            info = os.stat(path.name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            raise NoSavedSession(
                f"There is no saved session {display_path(path)}: %session resume lists the "
                "saved ones.",
                path,
            ) from None
        except OSError as exc:
            raise io_error("delete", path, exc) from None
        if stat.S_ISDIR(info.st_mode):
            raise NotASessionFile(
                f"{display_path(path)} is a folder, not a session file: remove it yourself if "
                "you do not need it.",
                path,
            )
        if stat.S_ISREG(info.st_mode):
            moved = _move_in(store, path, dir_fd)
        else:
            _unlink(path, dir_fd)
            moved = path
        store.forget_file(session_id)
        remove_leftovers(dir_fd, session_id)
        sync_quietly(dir_fd)
    return moved


def _move_in(store: SessionFiles, path: Path, dir_fd: int) -> Path:
    trash = trash_folder(store)
    with io_errors("create the trash folder", trash), suppress(FileExistsError):
        os.mkdir(TRASH, 0o700, dir_fd=dir_fd)
    with io_errors("open the trash folder", trash):
        trash_fd = open_folder(TRASH, dir_fd=dir_fd)
    try:
        now = datetime.now(timezone.utc)
        stamp = now.strftime(FILE_STAMP)
        session_id = path.name[: -len(".json")]
        with io_errors("move to the trash", path):
            name = unused_name(f"{session_id}.{stamp}", ".json", trash_fd)
            os.rename(path.name, name, src_dir_fd=dir_fd, dst_dir_fd=trash_fd)
        sync_quietly(trash_fd)
        _purge(trash_fd, now - timedelta(days=KEEP_DAYS))
    finally:
        os.close(trash_fd)
    return trash / name


def trashed(store: SessionFiles) -> list[TrashedSession]:
    """The files in the trash, newest deletion first, each verified for its status."""
    folder = trash_folder(store)
    try:
        entries = _entries(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise io_error("list", folder, exc) from None
    found = []
    for name, match in entries:
        session_id, stamp, again = match.groups()
        deleted = utc_timestamp(datetime.strptime(stamp, FILE_STAMP).replace(tzinfo=timezone.utc))
        path = folder / name
        try:  # a move sets ctime: it orders deletions within one second
            moved_ns = os.lstat(path).st_ctime_ns
        except OSError:
            moved_ns = 0
        described = store.describe(session_id, path)
        found.append(TrashedSession(deleted, described, (stamp, int(again or 1), moved_ns)))
    found.sort(key=lambda t: (t.order, t.id), reverse=True)
    return found


def trashed_ids(store: SessionFiles) -> list[str]:
    """The ids in the trash, from the file names alone (nothing is read): for completion."""
    try:
        entries = _entries(trash_folder(store))
    except OSError:
        return []
    return sorted({match.group(1) for _, match in entries})


def _entries(folder: Path | int) -> list[tuple[str, re.Match[str]]]:
    """The trash's files (any other name is not one), each with its id, stamp and number."""
    return [(name, m) for name in os.listdir(folder) if (m := _ENTRY.fullmatch(name)) is not None]


def restore(store: SessionFiles, entry: TrashedSession) -> Path:
    """Put ``entry`` back as ``<id>.json``; refused when a file of that id exists."""
    target = store.path_for(entry.id)
    with store.locked_folder(entry.id, create=False) as dir_fd:
        if exists_at(target.name, dir_fd):
            raise Conflict(
                f"{display_path(target)} exists already, and undelete never overwrites it: "
                f"delete it first (%session delete {entry.id}) if the trashed copy is the one "
                "to keep.",
                target,
            )
        try:
            trash_fd = open_folder(TRASH, dir_fd=dir_fd)
        except FileNotFoundError:
            raise _gone(entry) from None
        except OSError as exc:
            raise io_error("open the trash folder", trash_folder(store), exc) from None
        try:
            _link_back(entry, target, trash_fd, dir_fd)
            sync_quietly(dir_fd)
            sync_quietly(trash_fd)
        finally:
            os.close(trash_fd)
        store.forget_file(entry.id)
    return target


def _link_back(entry: TrashedSession, target: Path, trash_fd: int, dir_fd: int) -> None:
    name = entry.path.name
    try:
        # A hard link cannot replace a file that appeared meanwhile (rename could).
        os.link(name, target.name, src_dir_fd=trash_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise _gone(entry) from None
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise io_error("restore", entry.path, exc) from None
        try:  # no hard links here: the folder lock keeps other kernels' saves out
            os.rename(name, target.name, src_dir_fd=trash_fd, dst_dir_fd=dir_fd)
        except OSError as exc2:
            raise io_error("restore", entry.path, exc2) from None
        return
    unlink_quietly(name, trash_fd)  # restored; a copy left in the trash loses nothing


def _gone(entry: TrashedSession) -> NoSavedSession:
    return NoSavedSession(
        f"{display_path(entry.path)} is no longer in the trash: %session undelete lists what is.",
        entry.path,
    )


def _purge(trash_fd: int, before: datetime) -> None:
    """Remove trash deleted before ``before`` (best effort: it is already deleted)."""
    cutoff = before.strftime(FILE_STAMP)
    try:
        entries = _entries(trash_fd)
    except OSError:
        return
    for name, match in entries:
        if match.group(2) < cutoff:
            unlink_quietly(name, trash_fd)


def _unlink(path: Path, dir_fd: int) -> None:
    with io_errors("delete", path):
        os.unlink(path.name, dir_fd=dir_fd)
