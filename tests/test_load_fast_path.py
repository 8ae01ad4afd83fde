"""The fast message pass of a load gives exactly what the checked pass gives: the same records
for a good list, and for a bad one it gives up so the checked pass names the same message. Also:
loaded sessions share no mutable record, and the in-place canonical comparison refuses every
re-encoding of a signed payload, same-length ones included."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability import one_line, plain_of, sign, sign_plain, small_session

from jido_magics.core import Session, Usage
from jido_magics.core.records import Message
from jido_magics.persistence import InvalidPayload, KeyRing, SessionStore, codec

KEY = bytes(range(32))
FIELDS = ("id", "role", "content", "created_at", "model", "usage", "tool_call_id", "status")


def good_items(count: int = 6) -> list[dict]:
    s = Session("fast")
    for i in range(count):
        s.add_message("user" if i % 2 == 0 else "assistant", f'm{i} «ü» "q" \n')
    s.add_message("assistant", "with usage", model="m", usage=Usage(3, 4), status="error")
    s.add_message("tool", "out", tool_call_id="c1", status="interrupted")
    return orjson.loads(orjson.dumps([m.to_dict() for m in s.messages]))


def outcome(fn, items):
    """What ``fn(items)`` gives: ("ok", records as dicts) or ("error", its message)."""
    try:
        built = fn(items)
    except codec._Invalid as exc:
        return ("error", str(exc))
    return ("ok", [m.to_dict() for m in built])


def same_as_checked(items) -> None:
    fast = codec._messages_fast(items)
    checked = outcome(codec._messages_checked, items)
    if fast is not None:  # the fast pass may only accept what the checked pass accepts
        assert checked[0] == "ok"
        for message in fast:  # every slot filled: no record is half built
            for f in fields(Message):
                getattr(message, f.name)
        assert [m.to_dict() for m in fast] == checked[1]
        assert [type(m.usage) for m in fast] == [type(m["usage"] and Usage(0, 0)) for m in items]
    assert outcome(codec._messages, items) == checked


def test_a_good_list_takes_the_fast_pass_and_equals_the_checked_one() -> None:
    items = good_items()
    fast = codec._messages_fast(items)
    assert fast is not None and fast == codec._messages_checked(items)
    assert fast[-2].usage == Usage(3, 4) and type(fast[-2].usage) is Usage
    same_as_checked(items)
    assert codec._messages_fast([]) == [] and codec._messages([]) == []


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
def test_every_bad_value_in_every_field_is_reported_as_the_checked_pass_does(
    field: str, position: int
) -> None:
    for value in BAD_VALUES:
        items = good_items()
        items[position][field] = value
        same_as_checked(items)


@pytest.mark.parametrize("position", [0, 4, 7])
def test_wrong_shapes_give_the_checked_error(position: int) -> None:
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
        same_as_checked(items)
        assert outcome(codec._messages, items)[0] == "error", kind
    for item in (None, 1, "text", [], ["a"] * 8, "abcdefgh"):
        items = good_items()
        items[position] = item
        same_as_checked(items)
        assert outcome(codec._messages, items) == (
            "error",
            f"messages[{position}] has wrong fields",
        )


def test_an_earlier_bad_time_is_named_before_a_later_bad_value() -> None:
    items = good_items()
    items[1]["created_at"] = "yesterday"
    items[5]["role"] = "robot"
    assert outcome(codec._messages, items) == ("error", "messages[1] has a bad value")
    same_as_checked(items)


def test_times_valid_but_not_in_utc_now_form_load_through_the_checked_pass() -> None:
    items = good_items()
    items[2]["created_at"] = "2026-01-01T00:00:00Z"
    items[3]["created_at"] = "2026-01-01T00:00:00.5Z"
    assert codec._messages_fast(items) is None
    assert [m.created_at for m in codec._messages(items)][2:4] == [
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
        st.tuples(st.integers(0, 7), st.sampled_from((*FIELDS, "extra")), JSON),
        max_size=4,
    )
)
def test_random_edits_give_the_checked_outcome(edits) -> None:
    items = good_items()
    for position, field, value in edits:
        items[position][field] = value
    same_as_checked(items)


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


def test_records_are_made_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Across chunk boundaries the result is the same; a bad item in a later chunk still gives
    the checked error, and a hostile list makes at most one chunk of records past it."""
    monkeypatch.setattr(codec, "_CHUNK", 3)
    items = good_items(10)  # 12 messages: 4 chunks
    assert codec._messages_fast(items) == codec._messages_checked(items)
    for position in (2, 3, 11):
        bad = good_items(10)
        bad[position]["status"] = "done"
        same_as_checked(bad)
    made: list[int] = []
    real = codec._fill_messages
    monkeypatch.setattr(
        codec, "_fill_messages", lambda chunk, *rest: made.append(len(chunk)) or real(chunk, *rest)
    )
    hostile = good_items(2) + [1] * 100_000
    assert codec._messages_fast(hostile) is None and made == [3, 3]
