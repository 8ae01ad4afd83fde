"""Session ↔ payload bytes: plain dicts serialized by orjson with sorted keys, and a strict
schema check of loaded data before any record is built. API keys are never written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ..core.paths import display_path
from ..core.records import Caps
from ..core.session import Session
from .errors import InvalidPayload, PersistenceError, UnknownVersion
from .schema import Invalid, build
from .schema import validate as validate_schema

#: Written on every save; version 1 files (no ``parent``, no ``superseded``, no costs) load
#: and are written as version 2 on their next save.
FORMAT_VERSION = 2


def encode(session: Session, generation: int, saved_at: str) -> tuple[bytes, int]:
    """The payload bytes of ``session`` saved as ``generation``, and the revision they hold.

    Built under the session's lock, so the bytes are one consistent state.
    """
    with session.lock:
        config = session.config.to_dict()
        config.pop("api_key", None)  # secrets never reach a file, whatever to_dict returns
        plain = {
            "format_version": FORMAT_VERSION,
            "session_id": session.id,
            "generation": generation,
            "saved_at": saved_at,
            "name": session.name,
            "created_at": session.created_at,
            "updated_at": session.updated_at,
            "config": config,
            "messages": [m.to_dict() for m in session.messages],
            "reasoning_steps": [r.to_dict() for r in session.reasoning_steps],
            "tool_calls": [t.to_dict() for t in session.tool_calls],
            "usage": session.usage.to_dict(),
            "dropped": dict(session.dropped),
            "parent": None if session.parent is None else session.parent.to_dict(),
        }
        try:
            payload = orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            payload = _encode_repaired(plain, session.name)
        return payload, session.revision


def _encode_repaired(plain: dict[str, Any], name: str) -> bytes:
    """Second try after orjson refused ``plain``. Text holding UTF-16 surrogates (an emoji
    streamed in two halves) is stored with pairs joined and lone halves as U+FFFD; anything
    else JSON cannot hold (an integer over 64 bits, a set) is refused in one line."""
    try:
        return orjson.dumps(_join_surrogates(plain), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:
        raise PersistenceError(
            f"Session '{name}' cannot be saved: it holds a value JSON cannot store, such as a "
            f"number over 64 bits in a tool call's arguments ({str(exc)[:60]})."
        ) from None


def _join_surrogates(value: Any) -> Any:
    if type(value) is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if type(value) is dict:
        return {_join_surrogates(k): _join_surrogates(v) for k, v in value.items()}
    if type(value) is list:
        return [_join_surrogates(v) for v in value]
    return value


def decode(data: Any, path: Path, *, caps: Caps | None = None) -> Session:
    """A new, clean :class:`Session` from a parsed payload, after checking every field."""
    version = _version(data, path)
    try:
        return build(data, caps, version)
    except Invalid as exc:
        raise _invalid(path, exc) from None


def validate(data: Any, path: Path) -> None:
    """Every check of :func:`decode`, with the same errors, without building the session
    (for a listing: it keeps only a few fields)."""
    version = _version(data, path)
    try:
        validate_schema(data, version)
    except Invalid as exc:
        raise _invalid(path, exc) from None


def _version(data: Any, path: Path) -> int:
    """The format version of a parsed payload this version of jido_magics reads."""
    # Labels are made only for an error: display_path costs more than decoding a small file.
    if type(data) is not dict:
        label = display_path(path)
        raise InvalidPayload(
            f"{label} is signed but holds no session object: restore it from a backup.", path
        )
    version = data.get("format_version")
    if type(version) is not int:
        raise InvalidPayload(
            f"{display_path(path)} is signed but has no format_version: restore it from a backup.",
            path,
        )
    if version > FORMAT_VERSION:
        label = display_path(path)
        raise UnknownVersion(
            f"{label} was made by a newer jido_magics (session data format "
            f"{str(version)[:20]}): upgrade jido_magics to load it.",
            path,
        )
    if version < 1:
        label = display_path(path)
        raise UnknownVersion(
            f"{label} holds session data format {str(version)[:20]}, which this version of "
            "jido_magics does not read: upgrade jido_magics to load it.",
            path,
        )
    return version


def _invalid(path: Path, exc: Invalid) -> InvalidPayload:
    return InvalidPayload(
        f"{display_path(path)} is signed but its content is not a valid session ({exc}): "
        "restore it from a backup.",
        path,
    )


def check_canonical(data: Any, file: bytes, start: int, end: int, path: Path) -> None:
    """Refuse a payload (``file[start:end]``) that is not exactly what ``encode`` writes for
    the data it holds.

    Duplicate keys, extra spaces, escapes or key order would let another JSON reader see
    something else than this one in the same signed bytes. Costs one ``orjson.dumps`` and one
    ``memcmp`` (``startswith`` compares in place: no copy of the payload).
    """
    try:
        written = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        canonical = len(written) == end - start and file.startswith(written, start)
    except orjson.JSONEncodeError:
        canonical = False
    if not canonical:
        raise InvalidPayload(
            f"{display_path(path)} is signed but its payload is not in canonical form "
            "(duplicate keys, spacing or key order): restore it from a backup.",
            path,
        )
