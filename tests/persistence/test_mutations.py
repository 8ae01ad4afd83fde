"""1000 seeded random byte mutations of a signed session file: none is accepted, and the JSON
parser never runs on a file whose MAC fails."""

from __future__ import annotations

import os
import random
from pathlib import Path
from types import SimpleNamespace

import orjson
import pytest
from reliability import KEY, one_line, payload_of, sign, small_session

from jido_magics.persistence import (
    ForeignKey,
    KeyRing,
    NotASessionFile,
    RejectedFile,
    SessionStore,
    Tampered,
)
from jido_magics.persistence import reading as reading_module

MUTATIONS = 1000


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits: replace, insert, delete, bit flip, duplicate or swap bytes."""
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 4))):
        at = rng.randrange(len(out))
        action = rng.randrange(6)
        if action == 0:
            out[at] = rng.choice([b for b in range(256) if b != out[at]])
        elif action == 1:
            out.insert(at, rng.randrange(256))
        elif action == 2 and len(out) > 1:
            del out[at]
        elif action == 3:
            out[at] ^= 1 << rng.randrange(8)
        elif action == 4:
            end = min(len(out), at + rng.randrange(1, 40))
            out[at:at] = out[at:end]
        else:
            other = rng.randrange(len(out))
            out[at], out[other] = out[other], out[at]
    return bytes(out)


@pytest.fixture
def counted_parser(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every payload the store hands to its JSON parser."""
    calls: list[bytes] = []
    fake = SimpleNamespace(
        loads=lambda data: calls.append(bytes(data)) or orjson.loads(data),
        JSONDecodeError=orjson.JSONDecodeError,
        dumps=orjson.dumps,
        OPT_SORT_KEYS=orjson.OPT_SORT_KEYS,
    )
    monkeypatch.setattr(reading_module, "orjson", fake)
    return calls


def test_random_mutations_are_never_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted_parser: list[bytes]
) -> None:
    monkeypatch.chdir(tmp_path)
    keys = KeyRing([KEY])
    store = SessionStore(tmp_path / "s.sessions", keys=keys)
    session = small_session("target")
    good = store.save(session).path.read_bytes()
    assert good == sign(keys, good[126:-2])  # the fixture file is what the envelope makes
    assert store.load("target").name == "victim" and len(counted_parser) == 1
    counted_parser.clear()
    path = store.path_for("target")
    rng = random.Random(20261126)
    errors: dict[str, int] = {}
    accepted = []
    seen: set[bytes] = set()
    for n in range(MUTATIONS):
        bad = mutate(good, rng)
        while bad == good or bad in seen:
            bad = mutate(good, rng)
        seen.add(bad)
        path.write_bytes(bad)
        fresh = SessionStore(store.folder, keys=keys)  # no memory of generations: MAC only
        try:
            fresh.load("target")
        except RejectedFile as exc:
            assert isinstance(exc, (Tampered, ForeignKey, NotASessionFile)), (n, exc)
            one_line(exc, keys)
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
        else:
            accepted.append(n)
        assert path.read_bytes() == bad
    assert accepted == []
    assert counted_parser == [], "the JSON parser ran on a file whose MAC failed"
    assert sum(errors.values()) == MUTATIONS
    assert errors.get("Tampered", 0) > 300 and errors.get("NotASessionFile", 0) > 100, errors
    assert os.listdir(store.folder) == ["target.json"]


def test_mutations_of_the_payload_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted_parser: list[bytes]
) -> None:
    """Edits that keep the envelope's shape (same length, no newline) all reach the MAC check
    and stop there: each is Tampered, the parser never runs."""
    monkeypatch.chdir(tmp_path)
    keys = KeyRing([KEY])
    folder = tmp_path / "s.sessions"
    folder.mkdir()
    good = sign(keys, payload_of(small_session("target")))
    rng = random.Random(7)
    for _ in range(300):
        data = bytearray(good)
        at = rng.randrange(127, len(good) - 3)
        data[at] = rng.choice([b for b in range(256) if b not in (data[at], 0x0A)])
        (folder / "target.json").write_bytes(bytes(data))
        with pytest.raises(Tampered):
            SessionStore(folder, keys=keys).load("target")
    assert counted_parser == []
