"""The message list of a load is checked in one plain pass: a good list gives equal records,
and a bad one is refused naming its first bad message, as an independent reading of the file
format expects. Also: loaded sessions share no mutable record, and the in-place
canonical comparison refuses every re-encoding of a signed payload, same-length ones
included."""

from __future__ import annotations

import math
import re
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability import KEY, one_line, plain_of, sign, sign_plain, small_session

from jido_magics.core import Session, Usage
from jido_magics.core.records import MAX_COUNT, MESSAGE_STATUSES, ROLES
from jido_magics.persistence import InvalidPayload, KeyRing, SessionStore, schema

FIELDS = ("id", "role", "content", "created_at", "model", "usage", "tool_call_id", "status")
# The record times' pattern (the codec's: any Unicode digit; top-level times are stricter).
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")


def good_items(count: int = 6) -> list[dict]:
    s = Session("plain")
    for i in range(count):
        s.add_message("user" if i % 2 == 0 else "assistant", f'm{i} «ü» "q" \n')
    s.add_message("assistant", "with usage", model="m", usage=Usage(3, 4), status="error")
    s.add_message("tool", "out", tool_call_id="c1", status="interrupted")
    s.add_message("assistant", "priced", usage=Usage(1, 2, 0.5), status="superseded")
    return orjson.loads(orjson.dumps([m.to_dict() for m in s.messages]))


def _count(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_COUNT


def _usage_ok(value: object) -> bool:
    if value is None:
        return True
    if type(value) is not dict:
        return False
    keys = set(value)
    if keys == {"input_tokens", "output_tokens", "cost_usd"}:
        cost = value["cost_usd"]
        if type(cost) is not float or not 0 <= cost < math.inf:
            return False
    elif keys != {"input_tokens", "output_tokens"}:
        return False
    return _count(value["input_tokens"]) and _count(value["output_tokens"])


def _message_ok(item: object) -> bool:
    return (
        type(item) is dict
        and set(item) == set(FIELDS)
        and type(item["id"]) is str
        and type(item["role"]) is str
        and item["role"] in ROLES
        and type(item["content"]) is str
        and type(item["created_at"]) is str
        and TIME.fullmatch(item["created_at"]) is not None
        and (item["model"] is None or type(item["model"]) is str)
        and (item["tool_call_id"] is None or type(item["tool_call_id"]) is str)
        and type(item["status"]) is str
        and item["status"] in MESSAGE_STATUSES
        and _usage_ok(item["usage"])
    )


def expected(items: list) -> int | None:
    """Index of the first message the schema refuses, or None."""
    return next((i for i, item in enumerate(items) if not _message_ok(item)), None)


def check(items: list) -> None:
    """``schema._messages`` accepts exactly what the schema accepts, with equal records, and
    otherwise names the first bad message; checking without building records (a listing)
    gives the same answer in the same words."""
    bad = expected(items)
    try:
        schema._messages(items, build=False)
    except schema.Invalid as exc:
        unbuilt = str(exc)
    else:
        unbuilt = None
    try:
        built = schema._messages(items, build=True)
    except schema.Invalid as exc:
        assert bad is not None, f"refused a good list: {exc}"
        assert f"messages[{bad}]" in str(exc), (bad, str(exc))
        assert unbuilt == str(exc)
        return
    assert bad is None, f"accepted messages[{bad}]: {items[bad]!r}"
    assert unbuilt is None
    assert [m.to_dict() for m in built] == items


def test_a_good_list_gives_equal_records() -> None:
    items = good_items()
    check(items)
    built = schema._messages(items, build=True)
    assert built[-3].usage == Usage(3, 4) and type(built[-3].usage) is Usage
    assert built[-1].usage == Usage(1, 2, 0.5)
    assert schema._messages([], build=True) == []


BAD_VALUES = [
    None,
    1,
    1.5,
    True,
    "",
    "userx",
    "User",
    [],
    ["user"],
    {},
    {"input_tokens": 1, "output_tokens": 2},
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.123456Z",
    "2026-01-01T00:00:00.1234567Z",
    "2026-01-01 00:00:00.123456Z",
    "2026-01-01T00:00:00.123456Z\n2026-01-01T00:00:00.123456Z",
    "２０２６-01-01T00:00:00.123456Z",  # fullwidth digits: not ASCII
    "complete",
    "tool",
]


@pytest.mark.parametrize("position", [0, 3, 7])
@pytest.mark.parametrize("field", FIELDS)
def test_every_bad_value_in_every_field_is_refused_naming_its_message(
    field: str, position: int
) -> None:
    for value in BAD_VALUES:
        items = good_items()
        items[position][field] = value
        check(items)


@pytest.mark.parametrize("position", [0, 4, 7])
def test_wrong_shapes_are_refused_naming_their_message(position: int) -> None:
    edits = {
        "missing": lambda m: m.pop("status"),
        "extra": lambda m: m.update(extra=1),
        "renamed": lambda m: m.update(statu=m.pop("status")),
        "usage missing a count": lambda m: m.update(usage={"input_tokens": 1}),
        "usage extra": lambda m: m.update(usage={"input_tokens": 1, "output_tokens": 2, "x": 3}),
        "usage negative": lambda m: m.update(usage={"input_tokens": -1, "output_tokens": 2}),
        "usage too big": lambda m: m.update(usage={"input_tokens": 2**53, "output_tokens": 2}),
        "usage bool": lambda m: m.update(usage={"input_tokens": True, "output_tokens": 2}),
        "usage float": lambda m: m.update(usage={"input_tokens": 1.0, "output_tokens": 2}),
        "usage list": lambda m: m.update(usage=[1, 2]),
    }
    for kind, edit in edits.items():
        items = good_items()
        edit(items[position])
        check(items)
        assert expected(items) == position, kind
    for item in (None, 1, "text", [], ["a"] * 8, "abcdefgh"):
        items = good_items()
        items[position] = item
        check(items)
        with pytest.raises(schema.Invalid, match=rf"messages\[{position}\] has wrong fields"):
            schema._messages(items, build=True)


def test_an_earlier_bad_time_is_named_before_a_later_bad_value() -> None:
    items = good_items()
    items[1]["created_at"] = "yesterday"
    items[5]["role"] = "robot"
    with pytest.raises(schema.Invalid, match=r"messages\[1\] has a bad value"):
        schema._messages(items, build=True)
    check(items)


def test_times_valid_but_not_in_utc_now_form_load() -> None:
    items = good_items()
    items[2]["created_at"] = "2026-01-01T00:00:00Z"
    items[3]["created_at"] = "2026-01-01T00:00:00.5Z"
    check(items)
    assert [m.created_at for m in schema._messages(items, build=True)][2:4] == [
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.5Z",
    ]


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 2**54), st.floats(), st.text(max_size=30)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 8), st.sampled_from((*FIELDS, "extra")), JSON),
        max_size=4,
    )
)
def test_random_edits_are_refused_exactly_when_the_schema_says(edits) -> None:
    items = good_items()
    for position, field, value in edits:
        items[position][field] = value
    check(items)


def test_loaded_sessions_share_no_record(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sessions", keys=KeyRing([KEY]))
    s = Session("shared")
    for i in range(20):
        s.add_message("assistant", f"reply {i}", usage=Usage(i, i + 1))
    store.save(s)
    a, b = store.load(s.id), store.load(s.id)
    assert [m.to_dict() for m in a.messages] == [m.to_dict() for m in b.messages]
    for x, y in zip(a.messages, b.messages, strict=True):
        assert x is not y and x.usage is not y.usage
    a.append_text(a.messages[0], " more")
    a.messages[1].usage.add(Usage(100, 100))
    a.add_message("user", "only in a")
    assert b.messages[0].content == "reply 0" and b.messages[1].usage == Usage(1, 2)
    assert len(b.messages) == 20 and a.dropped is not b.dropped and a.usage is not b.usage


def test_same_length_re_encodings_of_a_signed_payload_are_refused(tmp_path: Path) -> None:
    """Key order swapped or an exponent in capitals keep the length: the byte comparison
    still refuses them (a length check alone would not)."""
    keys = KeyRing([KEY])
    store = SessionStore(tmp_path / "s.sessions", keys=keys)
    s = small_session("sid")
    plain = plain_of(s)
    plain["tool_calls"][0]["arguments"]["big"] = 1e20  # written as 1e+20
    payload = orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)
    store.folder.mkdir(parents=True)
    swapped = payload.replace(b'"model":null,"role":"user"', b'"role":"user","model":null', 1)
    edits = {
        "key order": swapped,
        "exponent": payload.replace(b"1e+20", b"1E+20", 1),
    }
    for kind, edited in edits.items():
        assert edited != payload and len(edited) == len(payload), kind
        assert orjson.loads(edited) == orjson.loads(payload), kind
        store.path_for("sid").write_bytes(sign(keys, edited))
        with pytest.raises(InvalidPayload) as info:
            store.load("sid")
        assert "canonical" in one_line(info.value, keys), kind
    store.path_for("sid").write_bytes(sign(keys, payload))
    assert store.load("sid").tool_calls[0].arguments["big"] == 1e20


def test_a_payload_bad_in_schema_and_form_names_the_schema(tmp_path: Path) -> None:
    """The schema is checked before the canonical form: a file wrong in both says what is wrong
    with its content (both are refused the same way)."""
    keys = KeyRing([KEY])
    store = SessionStore(tmp_path / "s.sessions", keys=keys)
    store.folder.mkdir(parents=True)
    plain = plain_of(small_session("sid"))
    plain["messages"][1]["role"] = "robot"
    spaced = orjson.dumps(plain, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
    store.path_for("sid").write_bytes(sign(keys, spaced.replace(b"\n", b"")))
    with pytest.raises(InvalidPayload) as info:
        store.load("sid")
    assert "messages[1] has a bad value" in one_line(info.value, keys)
    store.path_for("sid").write_bytes(sign_plain(keys, plain))
    with pytest.raises(InvalidPayload) as info:
        store.load("sid")
    assert "messages[1] has a bad value" in one_line(info.value, keys)
