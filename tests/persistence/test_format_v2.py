"""File format version 2: ``parent``, status ``superseded``, ``usage.cost_usd``;
version 1 files load and are written as version 2 on their next save; newer ones are refused.

``fixtures/fmt1fixture.json`` was written by jido_magics with format version 1, signed with
``FIXTURE_KEY``; tests either use that key or re-sign its payload bytes with the kernel's key.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from magic_helpers import one_line_usage_error, run

from jido_magics.core.records import Parent, Usage
from jido_magics.core.session import Session
from jido_magics.persistence import KeyRing, SessionStore
from jido_magics.persistence.envelope import seal
from jido_magics.persistence.errors import InvalidPayload, UnknownVersion

FIXTURE = Path(__file__).parent / "fixtures" / "fmt1fixture.json"
FIXTURE_KEY = b"jido_magics format 1 test key!!!"
FIXTURE_ID = "fmt1fixture"


def payload_of(data: bytes) -> bytes:
    return data[126:-2]


def fixture_payload() -> bytes:
    payload = payload_of(FIXTURE.read_bytes())
    plain = orjson.loads(payload)
    assert plain["format_version"] == 1 and "parent" not in plain  # really a version 1 file
    return payload


def test_version_1_file_loads_and_is_written_as_version_2(tmp_path: Path) -> None:
    folder = tmp_path / "nb.sessions"
    folder.mkdir()
    shutil.copyfile(FIXTURE, folder / f"{FIXTURE_ID}.json")
    store = SessionStore(folder, keys=KeyRing([FIXTURE_KEY]))
    s = store.load(FIXTURE_ID)
    old = orjson.loads(fixture_payload())
    assert s.parent is None and s.name == old["name"] and s.generation == 1
    assert [m.to_dict() for m in s.messages] == old["messages"]
    assert s.usage.to_dict() == old["usage"] and s.usage.cost_usd is None
    assert s.dropped == old["dropped"] == {"messages": 2, "reasoning_steps": 0, "tool_calls": 0}
    store.save(s)
    new = orjson.loads(payload_of((folder / f"{FIXTURE_ID}.json").read_bytes()))
    assert new["format_version"] == 2 and new["parent"] is None and new["generation"] == 2
    for key in ("messages", "reasoning_steps", "tool_calls", "usage", "dropped", "config"):
        assert new[key] == old[key], key
    again = SessionStore(folder, keys=KeyRing([FIXTURE_KEY])).load(FIXTURE_ID)
    assert [m.to_dict() for m in again.messages] == old["messages"]


def test_version_1_upgrade_in_a_shell(shell, workdir: Path, registry, capsys) -> None:
    run(shell, "where")  # the kernel's store and key
    store = shell.magics_manager.registry["SessionMagics"].extension.store
    folder = workdir / ".sessions"
    folder.mkdir()
    (folder / f"{FIXTURE_ID}.json").write_bytes(seal(store.keys, fixture_payload()))
    run(shell, f"resume {FIXTURE_ID}")
    s = registry.active
    assert s.id == FIXTURE_ID and len(s.messages) == 6 and s.parent is None
    run(shell, "save")
    new = orjson.loads(payload_of((folder / f"{FIXTURE_ID}.json").read_bytes()))
    assert new["format_version"] == 2 and new["parent"] is None
    assert new["messages"] == orjson.loads(fixture_payload())["messages"]


def test_newer_version_is_refused_in_one_line(shell, workdir: Path, registry) -> None:
    run(shell, "where")
    store = shell.magics_manager.registry["SessionMagics"].extension.store
    plain = orjson.loads(fixture_payload())
    plain["format_version"] = 3
    folder = workdir / ".sessions"
    folder.mkdir()
    target = folder / f"{FIXTURE_ID}.json"
    target.write_bytes(seal(store.keys, orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)))
    before = target.read_bytes()
    message = one_line_usage_error(shell, f"resume {FIXTURE_ID}")
    assert "made by a newer jido_magics" in message
    assert not registry.sessions and target.read_bytes() == before


def v2_session() -> Session:
    s = Session("forked", parent=Parent("abc123", 4))
    s.add_message("user", "q")
    s.add_message("assistant", "first", status="superseded", usage=Usage(3, 4, 0.0015))
    s.add_message("assistant", "second", usage=Usage(3, 5, 0.25))
    s.add_message("assistant", "unpriced", usage=Usage(1, 1))
    s.add_usage(Usage(3, 4, 0.0015))
    s.add_usage(Usage(3, 5, 0.25))
    s.add_usage(Usage(1, 1))
    return s


def test_version_2_fields_round_trip(tmp_path: Path) -> None:
    keys = KeyRing([FIXTURE_KEY])
    s = v2_session()
    assert s.usage.cost_usd == pytest.approx(0.2515)
    path = SessionStore(tmp_path, keys=keys).save(s).path
    plain = orjson.loads(payload_of(path.read_bytes()))
    assert plain["parent"] == {"session_id": "abc123", "message": 4}
    assert plain["messages"][1]["status"] == "superseded"
    assert plain["messages"][1]["usage"]["cost_usd"] == 0.0015
    assert "cost_usd" not in plain["messages"][3]["usage"]  # unknown: absent, never 0
    loaded = SessionStore(tmp_path, keys=keys).load(s.id)
    assert loaded.parent == Parent("abc123", 4)
    assert [m.to_dict() for m in loaded.messages] == [m.to_dict() for m in s.messages]
    assert loaded.usage == s.usage


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p["messages"][1].__setitem__("status", "superseded"),
        lambda p: p["usage"].__setitem__("cost_usd", 0.5),
        lambda p: p.__setitem__("parent", None),
    ],
    ids=["superseded", "cost", "parent"],
)
def test_version_1_file_with_version_2_fields_is_refused(tmp_path: Path, change) -> None:
    keys = KeyRing([FIXTURE_KEY])
    plain = orjson.loads(fixture_payload())
    change(plain)
    (tmp_path / f"{FIXTURE_ID}.json").write_bytes(
        seal(keys, orjson.dumps(plain, option=orjson.OPT_SORT_KEYS))
    )
    with pytest.raises(InvalidPayload):
        SessionStore(tmp_path, keys=keys).load(FIXTURE_ID)


def test_version_0_is_unknown(tmp_path: Path) -> None:
    keys = KeyRing([FIXTURE_KEY])
    plain = orjson.loads(fixture_payload())
    plain["format_version"] = 0
    (tmp_path / f"{FIXTURE_ID}.json").write_bytes(
        seal(keys, orjson.dumps(plain, option=orjson.OPT_SORT_KEYS))
    )
    with pytest.raises(UnknownVersion) as info:
        SessionStore(tmp_path, keys=keys).load(FIXTURE_ID)
    assert "newer" not in str(info.value)
