"""``%session save|resume|delete|trust|where``: the sessions saved beside the notebook."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ...core.errors import AmbiguousTarget, DuplicateName, JidoError, shorten
from ...core.ids import is_valid_session_id
from ...core.paths import display_path
from ...core.text import plural
from ...persistence.catalog import check_listed, load_listed
from ...persistence.errors import NoSavedSession, NotASessionFile, PersistenceError
from ...persistence.file_status import STATUS_UNREADABLE, SavedSession
from ...persistence.keys import default_key_path
from ...persistence.location import folder_from, other_folders
from ...persistence.store import SessionStore
from ..saving import home_store, save_home, saved_line
from ..text_table import TextTable
from .command import OPTIONAL_TARGET, TARGET, Arg, Command

if TYPE_CHECKING:
    from ...core.session import Session
    from ...persistence.trash import TrashedSession
    from ..extension import Extension


# -- save --------------------------------------------------------------------------------------


def is_saved_unchanged(store: SessionStore, session: Session) -> bool:
    """True when ``session`` has not changed since its file was written and that file is there."""
    return not session.dirty and os.path.lexists(store.path_for(session.id))


def _run_save(ext: Extension, args: argparse.Namespace) -> None:
    if args.all and args.target is not None:
        raise JidoError("%session save: give a TARGET or --all, not both.")
    registry = ext.registry
    if not args.all:
        session = registry.get(args.target)
        store, saved = save_home(ext, session, force=args.force)
        print(saved_line(store, session, saved))
        return
    sessions = registry.sessions
    if not sessions:
        print("No session is open: nothing to save.")
        return
    # Unchanged sessions whose file is there are not written again (a new generation of the
    # same content); --force saves them too.
    unchanged = (
        [] if args.force else [s for s in sessions if is_saved_unchanged(home_store(ext, s), s)]
    )
    failures: list[str] = []
    for session in sessions:
        if session in unchanged:
            continue
        try:
            store, saved = save_home(ext, session, force=args.force)
        except JidoError as exc:
            failures.append(str(exc))
            continue
        print(saved_line(store, session, saved))
    if unchanged:
        names = ", ".join(f"'{shorten(s.name, 40)}'" for s in unchanged)
        print(f"Unchanged since saved, not written again: {names} (--force saves them too).")
    if failures:
        raise PersistenceError(
            f"{len(failures)} of {len(sessions)} sessions were not saved; the first: {failures[0]}"
        )


# -- resume ------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)  # the table is its repr
class SavedListing(TextTable):
    """What ``%session resume`` returns without a target: a table of saved sessions."""

    folder: str
    rows: tuple[tuple[str, ...], ...]
    saved: tuple[SavedSession, ...]
    #: Other sessions folders beside this one that hold files (a renamed notebook's).
    others: tuple[tuple[str, int], ...] = ()

    HEADERS = ("#", "name", "id", "status", "gen", "saved (UTC)", "messages", "")

    @classmethod
    def of(cls, store: SessionStore, ext: Extension, *, others: bool = True) -> SavedListing:
        saved = tuple(store.saved())
        rows = []
        for index, item in enumerate(saved, 1):
            rows.append(
                (
                    str(index),
                    shorten(item.name, 50) if item.name else "?",
                    item.id,
                    item.status,
                    "" if item.generation is None else str(item.generation),
                    (item.saved_at or "")[:19].replace("T", " "),
                    "" if item.message_count is None else str(item.message_count),
                    "(open)" if ext.registry.find_by_id(item.id) is not None else "",
                )
            )
        return cls(
            display_path(store.folder), tuple(rows), saved, folders_beside(store) if others else ()
        )

    def empty_text(self) -> str:
        return f"No saved sessions in {self.folder}: save one with %session save."

    def __str__(self) -> str:
        # "unreadable" has many causes (permissions, the key file, a vanished file): say which
        reasons = [
            f"#{index} unreadable: {item.problem}"
            for index, item in enumerate(self.saved, 1)
            if item.status == STATUS_UNREADABLE and item.problem
        ]
        lines = [super().__str__(), *reasons]
        if self.others:
            lines.append(others_note(self.others))
        return "\n".join(lines)


def folders_beside(store: SessionStore) -> tuple[tuple[str, int], ...]:
    """The other sessions folders beside ``store``'s that hold saved files (a renamed
    notebook's), as shown, with how many files each."""
    return tuple((display_path(folder), count) for folder, count in other_folders(store.folder))


def others_note(others: Sequence[tuple[str, int]]) -> str:
    """The line naming :func:`folders_beside` and how to list them."""
    named = ", ".join(f"{folder} ({count} session{'s' * (count != 1)})" for folder, count in others)
    return (
        f"Other sessions folders beside it: {named}; "
        f"%session resume --from {others[0][0]} lists them."
    )


def find_saved(store: SessionStore, target: str) -> str:
    """The id of the saved session ``target`` names: exact id, 1-based index in the listing,
    exact name (case-insensitive), or a unique prefix of a name or id."""
    return _find_saved(store, target)[0]


def _find_saved(store: SessionStore, target: str) -> tuple[str, str | None]:
    """:func:`find_saved`'s id and the name the listing showed for it (None when ``target``
    is the exact id): the listing may come from the cache, so a load checks that name."""
    text = target.strip()
    if not text:  # as a prefix it would match every saved session
        raise NoSavedSession(
            "Give the name, id or number of a saved session: %session resume lists them."
        )
    if is_valid_session_id(text) and os.path.lexists(store.path_for(text)):
        return text, None
    saved = store.saved()
    if not saved:
        raise NoSavedSession(
            f"There are no saved sessions in {display_path(store.folder)}: "
            "save one with %session save."
        )
    found = match_listed(saved, text)
    if found is not None:
        return found.id, found.name
    unverified = sum(1 for s in saved if s.name is None)  # names show only once verified
    if unverified:
        files = plural(unverified, "saved file")
        raise NoSavedSession(
            f"No verified saved session matches '{shorten(text, 40)}'; {files} could not be "
            "verified: %session resume lists them with their status (another key: see "
            "%session trust)."
        )
    raise NoSavedSession(
        f"No saved session matches '{shorten(text, 40)}': %session resume lists the saved ones."
    )


Listed = TypeVar("Listed", SavedSession, "TrashedSession")


def match_listed(listed: Sequence[Listed], text: str) -> Listed | None:
    """The item of a listing ``text`` names: 1-based index, exact id, exact name
    (case-insensitive), else a unique prefix of a name or id; the first (newest) of several
    items with one id. None when nothing matches; :class:`AmbiguousTarget` when several do."""
    if text.isdecimal() and text.isascii() and 1 <= int(text) <= len(listed):
        return listed[int(text) - 1]
    folded = text.casefold()
    named = [s for s in listed if s.id == text]
    if not named:
        named = [s for s in listed if s.name is not None and s.name.casefold() == folded]
    if not named:
        named = [
            s
            for s in listed
            if s.id.casefold().startswith(folded)
            or (s.name is not None and s.name.casefold().startswith(folded))
        ]
    distinct = list({s.id: s for s in reversed(named)}.values())  # keeps the first of an id
    if len(distinct) == 1:
        return distinct[0]
    if distinct:
        candidates = [f"{s.name or '?'} ({s.id})" for s in reversed(distinct)]
        if all(s.name is not None and s.name.casefold() == folded for s in distinct):
            raise AmbiguousTarget(
                text, candidates, "several have that name: use its id or its index in the list"
            )
        raise AmbiguousTarget(text, candidates)
    return None


def _store_from(ext: Extension, given: str) -> SessionStore:
    folder = folder_from(given, ext.cwd) if "\x00" not in given else None
    if folder is None:
        raise NoSavedSession(
            f"--from '{shorten(given, 60)}' is neither a notebook (.ipynb) nor a sessions "
            "folder: give one (see %session resume for folders beside this notebook)."
        )
    return ext.store_at(folder)


def _run_resume(ext: Extension, args: argparse.Namespace) -> SavedListing | None:
    store = ext.store if args.source is None else _store_from(ext, args.source)
    if args.target is None:
        return SavedListing.of(store, ext, others=args.source is None)
    session, was_open = open_saved(ext, *_find_saved(store, args.target), store=store)
    if was_open:
        print(f"Session '{session.name}' is already open; it is now active.")
        return None
    count = len(session.messages)
    print(
        f"Resumed '{session.name}' ({session.id}, {count} message{'s' * (count != 1)}, "
        f"generation {session.generation}), now active."
    )
    return None


def open_saved(
    ext: Extension,
    session_id: str,
    listed_name: str | None,
    *,
    store: SessionStore | None = None,
) -> tuple[Session, bool]:
    """Activate saved session ``session_id``: the open one when it is open (True), else
    loaded from ``store`` (default: this notebook's), verified as the session listed as
    ``listed_name``, and added (False); it saves back to that store from then on."""
    store = ext.store if store is None else store
    registry = ext.registry
    open_session = registry.find_by_id(session_id)
    if open_session is not None:
        registry.switch(open_session.id)
        return open_session, True
    session = load_listed(store, session_id, listed_name, caps=registry.caps)
    try:
        registry.add(session)
        ext.homes[session.id] = store  # it saves back there, wherever the notebook goes
    except DuplicateName:
        raise DuplicateName(
            f"Another open session is named '{shorten(session.name, 50)}': rename it "
            f"(%session rename NEW_NAME --session {session.name!r}) before resuming this one."
        ) from None
    ext.index_later(store)
    return session, False


# -- delete, trust, where ----------------------------------------------------------------------


def _run_delete(ext: Extension, args: argparse.Namespace) -> None:
    store = ext.store
    session_id, listed_name = _find_saved(store, args.target)
    check_listed(store, session_id, listed_name)
    still_open = ext.registry.find_by_id(session_id)
    if still_open is not None:
        still_open.refuse_while_answering()  # its reply would be saved again right away
    moved = store.delete(session_id)
    note = (
        f" Session '{still_open.name}' is still open; saving it writes a new file."
        if still_open is not None
        else ""
    )
    if moved == store.path_for(session_id):  # a symlink or special file: nothing to keep
        print(f"Deleted {display_path(moved)}.{note}")
        return
    print(
        f"Moved {display_path(store.path_for(session_id))} to the trash "
        f"({display_path(moved)}); %session undelete {session_id} brings it back.{note}"
    )


def trust_source(store: SessionStore, text: str) -> Path:
    """The file ``%session trust TEXT`` names (relative: from the current folder, else the
    sessions folder), or a one-line error that says what is wrong with that path."""
    if not text.strip():
        raise NoSavedSession(
            "Give the path of the session file to trust, e.g. %session trust "
            "other.sessions/ID.json (%session where shows this notebook's folder)."
        )
    if "\x00" in text:  # no file name holds one (and the OS would refuse it)
        raise NoSavedSession(
            f"There is no file '{shorten(text, 40)}' to trust: give the session file's path "
            "(see %session where)."
        )
    given = Path(text).expanduser()
    source = given if os.path.lexists(given) or given.is_absolute() else store.folder / given
    label = display_path(source)
    if not os.path.lexists(source):
        where = "" if given.is_absolute() else f" (looked in the current folder and {store.folder})"
        raise NoSavedSession(f"There is no file {label} to trust{where}: check the path.")
    if source.is_dir() and not source.is_symlink():
        raise NotASessionFile(
            f"{label} is a folder: give the path of one session file in it (ID.json).", source
        )
    if not source.is_symlink() and not source.is_file():
        raise NotASessionFile(
            f"{label} is not a regular file, so not a session file: give the path of an ID.json "
            "file that jido_magics saved.",
            source,
        )
    return source


def _run_trust(ext: Extension, args: argparse.Namespace) -> None:
    store = ext.store
    target = store.trust(trust_source(store, args.file))
    print(
        f"Trusted {display_path(target)}: it is now signed with this kernel's key; "
        f"resume it with %session resume {target.stem}."
    )


def _run_where(ext: Extension, args: argparse.Namespace) -> None:
    folder = ext.store.folder
    state = "" if folder.is_dir() else " (created on the first save)"
    print(f"Sessions folder: {folder}{state}")
    elsewhere = [
        f"'{shorten(s.name, 50)}' in {ext.homes[s.id].folder}"
        for s in ext.registry.sessions
        if s.id in ext.homes and ext.homes[s.id].folder != folder
    ]
    if elsewhere:  # e.g. the notebook was renamed: they keep saving where they were
        print(f"Open sessions saved elsewhere (they keep saving there): {', '.join(elsewhere)}")
    print(f"Signing key: {default_key_path()} (never stored beside the notebook)")


COMMANDS = [
    Command(
        "save",
        (*OPTIONAL_TARGET, Arg("--all", flag=True), Arg("--force", flag=True)),
        "save the active (or named, or every) session as a signed file beside the notebook",
        _run_save,
        details=(
            "--all skips sessions unchanged since saved; --force saves them too, and overwrites\n"
            "a newer copy another kernel saved. Autosave, close and exit never overwrite it:\n"
            "they keep this kernel's copy as a new session named 'NAME (conflict TIME)'."
        ),
    ),
    Command(
        "resume",
        (*OPTIONAL_TARGET, Arg("--from", metavar="PATH", dest="source")),
        "no TARGET: list saved sessions, newest first, with status; else load and activate it",
        _run_resume,
        details="Status: ok, tampered, other key (see trust), unreadable (with the reason),\n"
        "stale, ... The list also names other sessions folders beside the notebook.\n"
        "--from PATH: another notebook's folder (PATH: a notebook or a sessions folder).\n"
        "A session saves back to the folder it came from, even after a notebook rename.",
    ),
    Command(
        "delete",
        TARGET,
        "move a saved session's file to the folder's trash (an open session stays open)",
        _run_delete,
    ),
    Command(
        "trust",
        (Arg("file"),),
        "re-sign a session file from another key with this kernel's key, once you trust it",
        _run_trust,
    ),
    Command(
        "where",
        (),
        "print the folder where this notebook's sessions are saved, and the key file",
        _run_where,
    ),
]
