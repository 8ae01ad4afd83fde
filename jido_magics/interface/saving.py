"""Saving a session where it belongs, and keeping this kernel's copy when another kernel saved
the same session meanwhile (DESIGN §10).

- **Home folder**: a session saves to the folder it was loaded from or first saved to, for the
  kernel's lifetime, even if the notebook is renamed or moved meanwhile.
- **Reporting**: what a save tells the user (its "Saved" line, the file it set aside, news of
  the key file) is worded here for the save command, the widget and autosave alike.
- **Conflict copies**: when an autosave, a close or the exit-save meets a newer generation on
  disk, the open session becomes a new one (new id, name ``<name> (conflict <UTC time>)``,
  ``parent`` = the original) and is saved as such; the other kernel's file stays untouched.
  An explicit ``%session save`` still refuses (see ``Conflict``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..core.errors import shorten
from ..core.names import MAX_NAME_LENGTH
from ..core.paths import display_path
from ..core.records import Parent
from ..persistence.errors import Conflict, PersistenceError

if TYPE_CHECKING:
    from ..core.registry import Registry
    from ..core.session import Session
    from ..persistence.session_files import SaveResult
    from ..persistence.store import SessionStore
    from .extension import Extension


def home_store(ext: Extension, session: Session) -> SessionStore:
    """The store ``session`` saves to: its home, else this notebook's folder."""
    store = ext.homes.get(session.id)
    return store if store is not None else ext.store


def save_home(
    ext: Extension, session: Session, *, force: bool = False
) -> tuple[SessionStore, SaveResult]:
    """Save ``session`` in its home folder (which it keeps from then on)."""
    store = home_store(ext, session)
    saved = store.save(session, force=force)
    ext.homes[session.id] = store
    ext.index_later(store)
    return store, saved


def save_notes(
    store: SessionStore, session: Session, saved: SaveResult, *, autosave: bool = False
) -> list[str]:
    """What a save has to add to its "Saved" line: what changed in the key file (see
    ``SessionStore.take_notices``) and the file it set aside, if it did."""
    notes = store.take_notices()
    if saved.set_aside is not None:
        aside = display_path(saved.set_aside)
        notes.append(
            f"Autosave of session '{shorten(session.name, 50)}' found a file it could not "
            f"verify and kept it as {aside} (see %session trust)."
            if autosave
            else f"The file there could not be verified; it was kept as {aside} (see "
            "%session trust)."
        )
    return notes


def saved_line(
    store: SessionStore, session: Session, saved: SaveResult, *, widget: bool = False
) -> str:
    """What ``%session save`` prints for one session (the widget's status line: its name
    shortened, without the path), with the save's notes."""
    if widget:
        line = f"Saved '{shorten(session.name, 40)}' (generation {saved.generation})."
    else:
        where = display_path(saved.path)
        line = f"Saved '{session.name}' to {where} (generation {saved.generation})."
    return " ".join((line, *save_notes(store, session, saved)))


def save_or_copy(ext: Extension, session: Session) -> tuple[SessionStore, SaveResult, str | None]:
    """Save as autosave, a close and the exit-save do: on a conflict, keep this kernel's copy
    as a conflict copy. Returns the store, what the save did, and the sentence to show for a
    copy."""
    try:
        store, saved = save_home(ext, session)
    except Conflict as exc:
        conflict = exc
    else:
        return store, saved, None
    store = home_store(ext, session)
    original_id, original_name = session.id, session.name
    shared = _shared_messages(store, session)
    name = conflict_name(ext.registry, original_name)
    ext.registry.make_copy(session, name, Parent(original_id, shared, original_name))
    saved = store.save(session)  # a new id: nothing on disk to conflict with
    ext.homes[session.id] = store
    ext.index_later(store)
    where = display_path(conflict.path) if conflict.path else original_id
    return (
        store,
        saved,
        (
            f"Session '{shorten(original_name, 50)}' was saved by another kernel meanwhile "
            f"({where} is newer); this kernel's copy is kept as '{name}' ({session.id}, "
            f"{display_path(saved.path)}); %session resume {original_id} opens the other copy."
        ),
    )


def autosave_session(ext: Extension, session: Session) -> list[str]:
    """Save as autosave does (:func:`save_or_copy`); returns what to warn about: the conflict
    copy it made, if it did, and the save's notes."""
    store, saved, copied = save_or_copy(ext, session)
    return [*filter(None, [copied]), *save_notes(store, session, saved, autosave=True)]


def conflict_name(registry: Registry, name: str) -> str:
    """``<name> (conflict <UTC time>)``, the name cut to fit and unique among open sessions."""
    suffix = f" (conflict {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M:%SZ')})"
    room = MAX_NAME_LENGTH - len(suffix) - 3  # and for unique_name's " 2"
    base = name if len(name) <= room else name[: room - 1].rstrip() + "…"
    return registry.unique_name(base + suffix)


def _shared_messages(store: SessionStore, session: Session) -> int:
    """How many leading messages this copy shares with the file on disk (the copy's fork
    point); all of this copy's messages when that file cannot be read."""
    mine = [m.id for m in session.messages]
    try:
        theirs = store.peek(store.path_for(session.id)).messages
    except PersistenceError:
        return len(mine)
    shared = 0
    for own, other in zip(mine, theirs, strict=False):
        if own != other.id:
            break
        shared += 1
    return shared
