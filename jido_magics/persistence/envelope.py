"""The one-line signed envelope of a session file (format version 1).

``{"jido_session":1,"kid":"<16 hex>","sig":"<64 hex>","payload":<payload>}\\n``

The signature covers the exact payload bytes after a domain prefix. Verification works on the
bytes read from disk and never re-serializes parsed data, so any edit is detected.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.paths import display_path
from .errors import ForeignKey, NotASessionFile, Tampered, UnknownVersion
from .keys import KeyRing

VERSION = 1
DOMAIN = b"jido_magics/session/v1\n"
_HEAD = b'{"jido_session":1,"kid":"'
_ENVELOPE = re.compile(
    rb'\{"jido_session":1,"kid":"([0-9a-f]{16})","sig":"([0-9a-f]{64})","payload":(\{[^\n]*\})\}\n'
)
# The same language checked faster (the regex walks every payload byte in Python's engine):
# this fixed-length head, then a payload "{...}" with no newline, then "}\n".
_ENVELOPE_HEAD = re.compile(
    rb'\{"jido_session":1,"kid":"([0-9a-f]{16})","sig":"([0-9a-f]{64})","payload":\{'
)
_PAYLOAD_START = 126  # len of the head up to (not including) the payload's "{"
# Only to tell "a newer format" from "not a session file" when the strict pattern fails.
_ANY_VERSION = re.compile(rb'\{"jido_session":([0-9]{1,9})[,}]')


def signature(key: bytes, payload: bytes | memoryview) -> bytes:
    """``HMAC-SHA256(key, DOMAIN + payload)`` as 64 lowercase hex bytes (payload not copied)."""
    mac = hmac.new(key, DOMAIN, hashlib.sha256)
    mac.update(payload)
    return mac.hexdigest().encode("ascii")


def envelope_parts(keys: KeyRing, payload: bytes) -> tuple[bytes, bytes, bytes]:
    """The file's bytes as (head, payload, tail), to write without joining them first."""
    sig = signature(keys.signing_key, payload)
    head = b"".join((_HEAD, keys.kid.encode("ascii"), b'","sig":"', sig, b'","payload":'))
    return head, payload, b"}\n"


def head_signature(head: bytes) -> bytes:
    """The signature inside a head made by :func:`envelope_parts`."""
    start = len(_HEAD) + 16 + len(b'","sig":"')
    return head[start : start + 64]


def head_fields(data: bytes) -> tuple[str, str] | None:
    """(kid, sig) from the start of a session file, or None when it has no envelope head."""
    head = _ENVELOPE_HEAD.match(data)
    if head is None:
        return None
    return head.group(1).decode("ascii"), head.group(2).decode("ascii")


def seal(keys: KeyRing, payload: bytes) -> bytes:
    """The whole signed file content for ``payload``."""
    return b"".join(envelope_parts(keys, payload))


@dataclass(frozen=True, slots=True)
class Envelope:
    """A structurally valid envelope; ``payload`` is a view into the bytes read, ``data``,
    from ``start`` to ``end``."""

    kid: str
    sig: bytes
    payload: memoryview
    data: bytes
    start: int
    end: int


def open_envelope(data: bytes, path: Path) -> Envelope:
    """Match ``data`` against the strict envelope pattern (no parsing, no verification)."""
    head = _ENVELOPE_HEAD.match(data)
    end = len(data) - 2  # the payload ends before the final "}\n"
    if (
        head is not None
        and end >= _PAYLOAD_START + 2
        and data.endswith(b"}}\n")
        and data.find(b"\n", _PAYLOAD_START) == end + 1
    ):
        payload = memoryview(data)[_PAYLOAD_START:end]
        kid = head.group(1).decode("ascii")
        return Envelope(kid, head.group(2), payload, data, _PAYLOAD_START, end)
    label = display_path(path)
    match = _ENVELOPE.fullmatch(data)
    if match is None:
        version = _ANY_VERSION.match(data)
        if version is not None and int(version.group(1)) != VERSION:
            raise UnknownVersion(
                f"{label} uses session file format {int(version.group(1))}, which this version "
                "of jido_magics does not read: upgrade jido_magics to load it.",
                path,
            )
        raise NotASessionFile(
            f"{label} is not a jido_magics session file ({why_not(data)}): move it out of the "
            "sessions folder or restore it from a backup.",
            path,
        )
    start, end = match.span(3)
    payload = memoryview(data)[start:end]
    return Envelope(match.group(1).decode("ascii"), match.group(2), payload, data, start, end)


def verify(envelope: Envelope, keys: KeyRing, path: Path) -> None:
    """Check the signature; raise :class:`ForeignKey` or :class:`Tampered` when it fails."""
    key = keys.key_for(envelope.kid)
    if key is None:
        label = display_path(path)  # only on failure: it costs more than a small file's MAC
        raise ForeignKey(
            f"{label} is signed with a different key (kid {envelope.kid}): if you trust where "
            f"it came from, run %session trust {label}.",
            path,
            envelope.kid,
        )
    if not hmac.compare_digest(signature(key, envelope.payload), envelope.sig):
        label = display_path(path)
        raise Tampered(
            f"{label} was changed after it was saved (its signature does not match): restore "
            f"it from a backup, or run %session trust {label} if you changed it on purpose.",
            path,
        )


def why_not(data: bytes) -> str:
    """A short reason that quotes no file content."""
    if not data:
        return "it is empty"
    if data.startswith(b"\xef\xbb\xbf"):
        return "it starts with a byte order mark"
    if not data.startswith(b'{"jido_session":'):
        return "it does not start with the session header"
    if not data.endswith(b"\n"):
        return "it is truncated or has no final newline"
    if data.count(b"\n") != 1:
        return "it is not a single line"
    return "its header or signature is malformed"
