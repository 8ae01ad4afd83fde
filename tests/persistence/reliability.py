"""Helpers of the reliability and security tests: signed files made with the real key ring,
file snapshots (bytes and mtime), and the one-line message check."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson

from jido_magics.core import Session, Usage
from jido_magics.core.clock import utc_now
from jido_magics.persistence import KeyRing, codec
from jido_magics.persistence.envelope import seal

#: The test key ring's key, and a colleague's.
KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))

#: Where the payload starts in a file: the envelope head has a fixed length.
PAYLOAD_AT = 126


def small_session(session_id: str | None = None, name: str = "victim") -> Session:
    """A small session using every kind of record (files stay under 2 KB)."""
    s = Session(name, id=session_id)
    s.add_message("user", "question with «ünïcode» and {braces}")
    reply = s.add_message("assistant", "answer 2 plain text", model="m", usage=Usage(3, 4))
    s.add_reasoning_step("thinking", reply.id)
    call = s.add_tool_call("describe", {"name": "df", "n": [1, 2.5, None]}, reply.id)
    s.update_tool_call(call, "completed", result="ok")
    return s


def payload_of(session: Session, generation: int = 1) -> bytes:
    """The exact payload bytes the store would write for ``session`` as ``generation``."""
    payload, _ = codec.encode(session, generation, utc_now())
    return payload


def plain_of(session: Session, generation: int = 1) -> dict:
    return orjson.loads(payload_of(session, generation))


def sign(keys: KeyRing, payload: bytes) -> bytes:
    """A whole file: ``payload`` in a valid envelope signed by ``keys`` (the envelope module)."""
    return seal(keys, payload)


def sign_plain(keys: KeyRing, plain: dict) -> bytes:
    return sign(keys, orjson.dumps(plain, option=orjson.OPT_SORT_KEYS))


def snapshot(path: Path) -> tuple:
    """What must not change: type, mode, size, mtime and (for regular files) the bytes."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return ("missing",)
    data = None
    if stat.S_ISREG(info.st_mode):
        data = path.read_bytes()
    elif stat.S_ISLNK(info.st_mode):
        data = os.readlink(path)
    return (stat.S_IFMT(info.st_mode), info.st_mode, info.st_size, info.st_mtime_ns, data)


def key_texts(keys: KeyRing) -> list[bytes]:
    """Every form of every key that must never leak: raw bytes and hex, both cases."""
    forms = []
    for kid in keys.kids:
        key = keys.key_for(kid)
        assert key is not None
        forms += [key, key.hex().encode(), key.hex().upper().encode()]
    return forms


def assert_no_key(text: str | bytes, keys: KeyRing) -> None:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    for form in key_texts(keys):
        assert form not in data, "key bytes leaked"
    # Half a key in hex is as bad as all of it.
    for kid in keys.kids:
        key = keys.key_for(kid)
        assert key is not None
        assert key.hex()[:32].encode() not in data and key.hex()[32:].encode() not in data


def one_line(exc: BaseException, keys: KeyRing | None = None) -> str:
    """The error's message after checking it is one short line without key bytes."""
    text = str(exc)
    assert text and "\n" not in text and "\r" not in text and len(text) < 400, text
    if keys is not None:
        assert_no_key(text, keys)
    return text
