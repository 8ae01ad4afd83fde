"""``%session trust``: re-sign a session file with the local key after the user chose to trust
it (a colleague's file, or one signed by a key this kernel does not hold)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..core.paths import display_path
from .atomic import exists_at, write_atomic
from .envelope import envelope_parts, open_envelope, signature, why_not
from .errors import (
    Conflict,
    MismatchedId,
    NoSavedSession,
    NotASessionFile,
    UnknownVersion,
    io_errors,
)
from .reading import decode_payload, read_bounded

if TYPE_CHECKING:
    from .session_files import SessionFiles


def trust_file(store: SessionFiles, path: Path | str) -> Path:
    """Re-sign the session file ``path`` with the local key of ``store``.

    The payload bytes are kept exactly. A file inside the folder is re-signed in place; one
    elsewhere is copied in as ``<id>.json`` (refused when that name is taken by another
    file). Returns the trusted file's path.
    """
    source = Path(path).absolute()
    try:
        data, _ = read_bounded(source, store.max_bytes)
    except NoSavedSession:
        raise NoSavedSession(
            f"There is no file {display_path(source)} to trust: give the session file's "
            "path (see %session where).",
            source,
        ) from None
    try:
        envelope = open_envelope(data, source)
    except UnknownVersion:
        raise
    except NotASessionFile:  # its advice is for a file in the folder, not for trust
        raise NotASessionFile(
            f"{display_path(source)} is not a jido_magics session file ({why_not(data)}), "
            "so trusting it cannot help: give the path of an ID.json file jido_magics saved.",
            source,
        ) from None
    keys = store.keys
    session, _ = decode_payload(data, envelope, source, trusting=True)  # in the order of a load
    target = store.path_for(session.id)
    folder = store.folder.absolute()
    in_place = source.parent == folder and source.name == target.name
    if not in_place and source.parent == folder:
        raise MismatchedId(
            f"{display_path(source)} holds session {session.id}: rename it to "
            f"{target.name} first, then trust it.",
            source,
        )
    payload = bytes(envelope.payload)
    with store.locked_folder(session.id, create=True) as dir_fd:
        if not in_place and exists_at(target.name, dir_fd):
            raise Conflict(
                f"{display_path(target)} already exists: resume or delete that session "
                f"(%session delete {session.id}) before trusting {display_path(source)}.",
                target,
            )
        already = in_place and envelope.kid == keys.kid
        if not (already and signature(keys.signing_key, payload) == envelope.sig):
            with io_errors("write", target):
                write_atomic(
                    store.folder, target.name, envelope_parts(keys, payload), dir_fd=dir_fd
                )
        store.vouch(session.id, session.generation)
    return target
