"""``%session undelete [TARGET]``: list the folder's trash, or restore a deleted session."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...core.errors import shorten
from ...core.paths import display_path
from ...persistence.errors import NoSavedSession
from ..text_table import TextTable
from .command import OPTIONAL_TARGET, Command
from .saved import match_listed

if TYPE_CHECKING:
    from ...persistence.store import SessionStore
    from ...persistence.trash import TrashedSession
    from ..extension import Extension


@dataclass(frozen=True, repr=False)  # the table is its repr
class TrashListing(TextTable):
    """What ``%session undelete`` returns without a target: the trash, newest first."""

    folder: str
    rows: tuple[tuple[str, ...], ...]
    trashed: tuple[TrashedSession, ...]

    HEADERS = ("#", "name", "id", "status", "gen", "deleted (UTC)", "messages")

    @classmethod
    def of(cls, store: SessionStore) -> TrashListing:
        from ...persistence.trash import trash_folder, trashed

        items = tuple(trashed(store))
        rows = tuple(
            (
                str(index),
                shorten(item.name, 50) if item.name else "?",
                item.id,
                item.saved.status,
                "" if item.saved.generation is None else str(item.saved.generation),
                item.deleted_at[:19].replace("T", " "),
                "" if item.saved.message_count is None else str(item.saved.message_count),
            )
            for index, item in enumerate(items, 1)
        )
        return cls(display_path(trash_folder(store)), rows, items)

    def empty_text(self) -> str:
        return f"The trash ({self.folder}) is empty: %session delete moves files there."


def _run_undelete(ext: Extension, args: argparse.Namespace) -> TrashListing | None:
    from ...persistence.trash import restore

    store = ext.store
    listing = TrashListing.of(store)
    if args.target is None:
        return listing
    text = args.target.strip()
    entry = match_listed(listing.trashed, text) if text else None
    if entry is None:
        raise NoSavedSession(
            f"Nothing in the trash matches '{shorten(text, 40)}': %session undelete lists it."
        )
    path = restore(store, entry)
    name = f"'{shorten(entry.name, 50)}' " if entry.name else ""
    print(
        f"Restored {name}({entry.id}) to {display_path(path)}: %session resume {entry.id} opens it."
    )
    return None


COMMANDS = [
    Command(
        "undelete",
        OPTIONAL_TARGET,
        "no TARGET: list the trash, newest first; else restore that deleted session's file",
        _run_undelete,
        details="A saved file of the same id is never overwritten. Trash older than 30 days\n"
        "is purged at the next delete.",
    ),
]
