"""Reading one session file, verified before anything in it is parsed.

Order: ``lstat`` (a regular file, no symlink, within the size cap) → bounded read → strict
envelope match → key by ``kid`` → ``compare_digest`` → parse → schema → canonical form (the
bytes are what a save writes for the data). The store then checks the id and generation.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import orjson

from ..core.paths import display_path
from ..core.records import Caps
from ..core.session import Session
from .codec import check_canonical, decode, validate
from .envelope import Envelope, open_envelope, verify
from .errors import FileTooLarge, InvalidPayload, NoSavedSession, NotASessionFile, io_error
from .keys import KeyRing

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
#: Every session file is ``<id>.json``.
SUFFIX = ".json"

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
# A FIFO swapped in after lstat must not block the open.
_READ_FLAGS |= getattr(os, "O_NONBLOCK", 0)


def fingerprint(info: os.stat_result) -> str:
    """What tells a file apart from its earlier and later versions."""
    # ctime changes on every write, rename or chmod and cannot be set back by users.
    # One short string, not a tuple of five big ints: the store keeps one per session id for
    # the kernel's life, so its size is what every closed session leaves behind.
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


def read_verified(
    path: Path,
    keys: KeyRing,
    max_bytes: int,
    dir_fd: int | None = None,
    *,
    caps: Caps | None = None,
) -> tuple[Session, str, str, bytes]:
    """The session in ``path`` (built with ``caps``), its ``saved_at``, the file's
    fingerprint and signature, after every check above."""
    data, stamp, envelope = _read_signed(path, keys, max_bytes, dir_fd)
    session, parsed = decode_payload(data, envelope, path, caps=caps)  # only now: the MAC matched
    return session, parsed["saved_at"], stamp, envelope.sig


def read_checked(
    path: Path, keys: KeyRing, max_bytes: int, dir_fd: int | None = None
) -> tuple[dict[str, Any], Envelope]:
    """The parsed payload of ``path`` and its envelope, after every check of
    :func:`read_verified` (same order, same errors) but without building the session: what a
    listing needs to give the file the status its load would."""
    data, _, envelope = _read_signed(path, keys, max_bytes, dir_fd)
    parsed = _parse(envelope, path, trusting=False)
    validate(parsed, path)
    check_canonical(parsed, data, envelope.start, envelope.end, path)
    return parsed, envelope


def _read_signed(
    path: Path, keys: KeyRing, max_bytes: int, dir_fd: int | None
) -> tuple[bytes, str, Envelope]:
    """The bytes of ``path``, its fingerprint and its envelope, whose signature matched."""
    data, stamp = read_bounded(path, max_bytes, dir_fd)
    envelope = open_envelope(data, path)
    verify(envelope, keys, path)
    return data, stamp, envelope


def decode_payload(
    data: bytes,
    envelope: Envelope,
    path: Path,
    *,
    caps: Caps | None = None,
    trusting: bool = False,
) -> tuple[Session, Any]:
    """The session in the payload of ``data`` and the parsed payload, after the schema and
    canonical-form checks (``trusting``: the advice is for a file about to be trusted)."""
    parsed = _parse(envelope, path, trusting=trusting)
    # The schema first, while the parser's output is still in the CPU cache (the canonical
    # check's output would push it out); both run before anything is returned.
    session = decode(parsed, path, caps=caps)
    check_canonical(parsed, data, envelope.start, envelope.end, path)
    return session, parsed


def _parse(envelope: Envelope, path: Path, *, trusting: bool) -> Any:
    try:
        return orjson.loads(envelope.payload)
    except orjson.JSONDecodeError:
        raise InvalidPayload(
            f"{display_path(path)} does not hold valid JSON, so it cannot be trusted: ask its "
            "author for a good copy."
            if trusting
            else f"{display_path(path)} is signed but its payload is not valid JSON: restore "
            "it from a backup.",
            path,
        ) from None


def read_bounded(path: Path, max_bytes: int, dir_fd: int | None = None) -> tuple[bytes, str]:
    """The bytes of a regular file (no symlink) of at most ``max_bytes``, and its
    fingerprint."""
    name = path.name if dir_fd is not None else path
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        _check_regular(path, info, max_bytes)  # before the open: a FIFO would block it
        fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise not_saved(path) from None
    except OSError as exc:
        raise io_error("read", path, exc) from None
    try:
        opened = os.fstat(fd)
        _check_regular(path, opened, max_bytes)  # it may have been swapped since the lstat
        data = _read_at_most(fd, opened.st_size, max_bytes + 1)
    except OSError as exc:
        raise io_error("read", path, exc) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise _too_large(path, len(data), max_bytes)
    return data, fingerprint(opened)


def not_saved(path: Path) -> NoSavedSession:
    return NoSavedSession(
        f"There is no saved session {display_path(path)}: %session resume lists the saved ones.",
        path,
    )


def _check_regular(path: Path, info: os.stat_result, max_bytes: int) -> None:
    if stat.S_ISLNK(info.st_mode):  # labels only on failure: display_path is costly
        label = display_path(path)
        raise NotASessionFile(
            f"{label} is a symbolic link, which is never followed: replace it by the file "
            "it points to.",
            path,
        )
    if not stat.S_ISREG(info.st_mode):
        label = display_path(path)
        raise NotASessionFile(
            f"{label} is not a regular file: move it out of the sessions folder.", path
        )
    if info.st_size > max_bytes:
        raise _too_large(path, info.st_size, max_bytes)


def _too_large(path: Path, size: int, max_bytes: int) -> FileTooLarge:
    return FileTooLarge(
        f"{display_path(path)} is {size} bytes, over the {max_bytes}-byte limit of a "
        "session file: move it out of the sessions folder.",
        path,
    )


def _read_at_most(fd: int, size_hint: int, limit: int) -> bytes:
    """Up to ``limit`` bytes; usually one read of the whole file and one that sees its end."""
    parts: list[bytes] = []
    total = 0
    want = size_hint + 1  # one byte more than expected shows whether the file grew
    while total < limit:
        ask = want - total if total < want else 1 << 20
        chunk = os.read(fd, min(ask, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    return data[:limit] if len(data) > limit else data
