"""A listing verifies a changed file without building its session (``schema.validate``), and
gives it exactly the status and the sentence its load gives: real files in a real store, any
field of any record edited and signed again, a tampered file, a format 1 file with what
format 1 did not know."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability import KEY, plain_of, sign, sign_plain, small_session

from jido_magics.core import Usage
from jido_magics.persistence import KeyRing, PersistenceError, SessionStore, catalog
from jido_magics.persistence.cache import shared_cache
from jido_magics.persistence.catalog import key_ring_label
from jido_magics.persistence.envelope import head_fields
from jido_magics.persistence.file_status import STATUS_OK, status_of

OK = (STATUS_OK, None)


def loaded(folder: Path, keys: KeyRing, session_id: str) -> tuple[str, str | None]:
    """(status, sentence) of loading the file, by a store that saw nothing before."""
    try:
        SessionStore(folder, keys=keys).load(session_id)
    except PersistenceError as exc:
        return status_of(exc), str(exc)
    return OK


def described(folder: Path, keys: KeyRing, session_id: str) -> tuple[str, str | None]:
    store = SessionStore(folder, keys=keys)
    found = store.describe(session_id, store.path_for(session_id))
    return found.status, found.problem


def rich_plain(session_id: str) -> dict[str, Any]:
    """The payload of a session with every kind of record, a priced and a superseded reply."""
    session = small_session(session_id)
    session.add_message("assistant", "priced", usage=Usage(1, 2, 0.5), status="superseded")
    session.add_message("tool", "out", tool_call_id="c1", status="interrupted")
    return plain_of(session, generation=3)


# What an edit may write: any JSON value, and values close to valid ones.
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 2**54), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=2), st.dictionaries(st.text(max_size=8), inner, max_size=2)
    ),
    max_leaves=4,
)
NEAR = st.sampled_from(
    [
        None,
        0,
        1,
        -1,
        2**53,
        0.5,
        "",
        "user",
        "tool",
        "superseded",
        "complete",
        "completed",
        "2026-01-01T00:00:00.123456Z",
        "2026-01-01T00:00:00Z",
        "2026-13-01T00:00:00.123456Z",
        "deadbeef",
        {"input_tokens": 1, "output_tokens": 2},
        {"input_tokens": 1, "output_tokens": 2, "cost_usd": 0.1},
        {"input_tokens": 1, "output_tokens": 2, "cost_usd": None},
        {"session_id": "deadbeef", "message": 1},
        {"messages": 0, "reasoning_steps": 0, "tool_calls": 0},
        [],
        {},
    ]
)
DELETE = object()
# Where an edit lands: a top-level field, or a field of one record or object in the payload.
PLACES = st.one_of(
    st.tuples(st.just(()), st.sampled_from([*sorted(rich_plain("s0000001")), "extra"])),
    st.tuples(
        st.tuples(st.just("messages"), st.integers(0, 3)),
        st.sampled_from(["id", "role", "content", "created_at", "model", "usage", "status"]),
    ),
    st.tuples(
        st.tuples(st.just("messages"), st.integers(0, 3)),
        st.sampled_from(["tool_call_id", "extra"]),
    ),
    st.tuples(
        st.sampled_from([("reasoning_steps", 0), ("tool_calls", 0)]),
        st.sampled_from(["id", "content", "name", "arguments", "result", "status", "created_at"]),
    ),
    st.tuples(
        st.sampled_from([("usage",), ("dropped",), ("config",), ("messages", 1, "usage")]),
        st.sampled_from(["input_tokens", "cost_usd", "messages", "model", "temperature", "x"]),
    ),
)
EDITS = st.lists(st.tuples(PLACES, st.one_of(NEAR, JSON, st.just(DELETE))), max_size=3)


def edited(plain: dict[str, Any], edits: list) -> dict[str, Any]:
    plain = copy.deepcopy(plain)
    for (where, key), value in edits:
        target: Any = plain
        for step in where:  # an earlier edit may have changed what is on the way
            if isinstance(step, str) and isinstance(target, dict):
                target = target.get(step)
            elif isinstance(step, int) and isinstance(target, list) and step < len(target):
                target = target[step]
            else:
                target = None
        if not isinstance(target, dict):
            continue
        if value is DELETE:
            target.pop(key, None)
        else:
            target[key] = copy.deepcopy(value)
    return plain


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=EDITS, version=st.sampled_from([None, 1, 3, 0, "2"]), spaced=st.booleans())
def test_any_signed_edit_is_listed_as_its_load_sees_it(
    tmp_path_factory: pytest.TempPathFactory, edits: list, version: Any, spaced: bool
) -> None:
    """Whatever the edit (schema, format 1 rules, version, canonical form), describing the
    file gives the status and sentence of its load, and ``ok`` only when it loads."""
    folder = tmp_path_factory.mktemp("edits") / "s.sessions"
    folder.mkdir()
    keys = KeyRing([KEY])
    plain = edited(rich_plain("s0000001"), edits)
    if version is not None:
        plain["format_version"] = version
        if version == 1:
            plain.pop("parent", None)  # format 1 had no parent
    payload = orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)
    if spaced:  # same data, not the bytes a save writes
        payload = payload.replace(b'","', b'", "', 1)
    (folder / "s0000001.json").write_bytes(sign(keys, payload))
    load = loaded(folder, keys, "s0000001")
    assert described(folder, keys, "s0000001") == load
    if load == OK:
        store = SessionStore(folder, keys=keys)
        item = store.describe("s0000001", store.path_for("s0000001"))
        session = store.load("s0000001")
        assert (item.name, item.generation, item.message_count) == (
            session.name,
            session.generation,
            len(session.messages),
        )
        assert item.saved_at == plain["saved_at"]


@pytest.mark.parametrize(
    ("kind", "edit"),
    [
        ("bad role", lambda p: p["messages"][1].update(role="robot")),
        ("message field missing", lambda p: p["messages"][2].pop("model")),
        ("bad message time", lambda p: p["messages"][0].update(created_at="yesterday")),
        ("negative usage", lambda p: p["messages"][1]["usage"].update(output_tokens=-1)),
        ("tool call status", lambda p: p["tool_calls"][0].update(status="done")),
        ("step content", lambda p: p["reasoning_steps"][0].update(content=None)),
        ("bad config", lambda p: p["config"].update(temperature="hot")),
        ("bad dropped", lambda p: p["dropped"].update(messages=-1)),
        ("bad parent", lambda p: p.update(parent={"session_id": "deadbeef", "message": -1})),
        ("format 1 superseded", lambda p: (p.update(format_version=1), p.pop("parent"))),
    ],
)
def test_a_signed_file_with_a_bad_field_is_never_listed_ok(
    store: SessionStore, keys: KeyRing, settled: None, kind: str, edit: Any
) -> None:
    """Signed with the right key, so only the schema can refuse it: the cold listing, the
    listing from the cache afterwards and the load all refuse it in the same words."""
    plain = rich_plain("s0000002")
    edit(plain)
    good = store.save(small_session(name="fine"))
    store.path_for("s0000002").write_bytes(sign_plain(keys, plain))
    load = loaded(store.folder, keys, "s0000002")
    assert load[0] == "not a session file", kind
    assert "is signed but its content is not a valid session" in (load[1] or ""), kind
    for _ in range(2):  # verified, then from this kernel's memory of the listing
        listing = {s.id: (s.status, s.problem) for s in store.saved()}
        assert listing == {good.path.stem: OK, "s0000002": load}, kind
    catalog._memos.clear()  # a new kernel: the listing comes from the cache database
    assert {s.id: (s.status, s.problem) for s in store.saved()}["s0000002"] == load


def test_tampered_and_replaced_files_are_never_listed_ok(
    store: SessionStore, keys: KeyRing, settled: None
) -> None:
    """A flipped byte after signing, and a file signed under another id: listed with their
    load's status and sentence, in a cold listing and from the cache in a new kernel; the
    cache rows keep each file's envelope head (kid, sig) as read from the file."""
    names = ("alpha", "bravo", "charlie")
    saved = {name: store.save(small_session(name=name)).path for name in names}
    data = saved["bravo"].read_bytes()
    index = data.index(b"question") + 1
    saved["bravo"].write_bytes(data[:index] + bytes([data[index] ^ 0x20]) + data[index + 1 :])
    saved["charlie"].write_bytes(saved["alpha"].read_bytes())  # alpha's file, charlie's name
    expected = {p.stem: loaded(store.folder, keys, p.stem) for p in saved.values()}
    assert expected[saved["alpha"].stem] == OK
    assert expected[saved["bravo"].stem][0] == "tampered"
    assert expected[saved["charlie"].stem][0] == "wrong id"
    assert {s.id: (s.status, s.problem) for s in store.saved()} == expected
    catalog._memos.clear()  # a new kernel: the listing comes from the database
    assert {s.id: (s.status, s.problem) for s in store.saved()} == expected
    rows = shared_cache().entries(store.folder, key_ring_label(store))
    for path in saved.values():
        assert (rows[path.stem].kid, rows[path.stem].sig) == head_fields(path.read_bytes())
