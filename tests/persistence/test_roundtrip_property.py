"""Property tests (hypothesis): save -> load gives back every field of arbitrary sessions
(any surrogate-free Unicode: NUL, emoji, right-to-left, very long lines; any settings; any
JSON tool arguments). And what save writes, load reads: a session that cannot be stored is
refused by save with one clear line, never written as a file that load then rejects."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability import KEY, one_line
from test_persistence import state_of

from jido_magics.core import Caps, Session, SessionConfig, Usage
from jido_magics.core.errors import InvalidName, JidoError
from jido_magics.core.names import check_name
from jido_magics.core.records import MESSAGE_STATUSES, ROLES, TOOL_CALL_STATUSES, Parent
from jido_magics.persistence import KeyRing, SessionStore

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Every code point but lone surrogates (which no UTF-8 file can hold).
CHARS = st.characters(blacklist_categories=("Cs",))
EDGE_TEXTS = [
    "",
    "\x00",
    "a\x00b\x00",
    "😀👩‍👩‍👧‍👦🏳️‍🌈",
    "مرحبا بالعالم",
    "\u202eevil\u202c",
    "שלום \u200f",
    "\r\n\r\n",
    "\u2028\u2029",
    "\ufeffbom",
    "\uffff\U0010ffff",
    '"\\"\\\\',
    "}\n{",
    '"}}\n',
    "x" * 200_000,
    ("long line " * 20_000) + "\n" + "ok",
]
TEXT = st.one_of(st.text(CHARS, max_size=300), st.sampled_from(EDGE_TEXTS))
COUNT = st.integers(0, 2**53 - 1)


def _valid_name(text: str) -> bool:
    try:
        return check_name(text) == text
    except InvalidName:
        return False


NAME = st.text(CHARS, min_size=1, max_size=50).filter(_valid_name)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(CHARS, max_size=40),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(CHARS, max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
CONFIG = st.builds(
    SessionConfig,
    provider=st.text(CHARS, min_size=1, max_size=30).filter(lambda t: t.strip() == t and t),
    model=st.one_of(st.none(), st.text(CHARS, min_size=1, max_size=40).filter(str.strip)),
    base_url=st.one_of(
        st.none(), st.builds(lambda s, t: s + t, st.sampled_from(["http://", "https://"]), TEXT)
    ),
    temperature=st.one_of(st.none(), st.floats(0, 2)),
    max_tokens=st.one_of(st.none(), st.integers(1, 2**53 - 1)),
    system_prompt=st.one_of(st.none(), TEXT),
    context_budget=st.integers(64, 2**53 - 1),
    api_key=st.one_of(st.none(), st.text(CHARS, max_size=20)),
)


#: A cost in US dollars, or unknown (None); never NaN, infinite or negative once in a Usage.
COST = st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False, allow_infinity=False))


@st.composite
def sessions(draw) -> Session:
    s = Session(draw(NAME), config=draw(CONFIG), caps=Caps(1000, 100, 500))
    for _ in range(draw(st.integers(0, 6))):
        usage = draw(st.one_of(st.none(), st.builds(Usage, COUNT, COUNT, COST)))
        message = s.add_message(
            draw(st.sampled_from(ROLES)),
            draw(TEXT),
            model=draw(st.one_of(st.none(), st.text(CHARS, max_size=20))),
            usage=usage,
            tool_call_id=draw(st.one_of(st.none(), st.text(CHARS, max_size=12))),
            status=draw(st.sampled_from(MESSAGE_STATUSES)),
        )
        if draw(st.booleans()):
            s.add_reasoning_step(draw(TEXT), draw(st.sampled_from([message.id, None])))
        if draw(st.booleans()):
            call = s.add_tool_call(
                draw(st.text(CHARS, max_size=30)),
                draw(st.dictionaries(st.text(CHARS, max_size=10), JSON_VALUE, max_size=4)),
                draw(st.sampled_from([message.id, None])),
            )
            s.update_tool_call(
                call, draw(st.sampled_from(TOOL_CALL_STATUSES)), draw(st.one_of(st.none(), TEXT))
            )
    s.usage = draw(st.builds(Usage, COUNT, COUNT, COST))
    if draw(st.booleans()):
        s.parent = Parent(draw(st.sampled_from(["abc123", "X_y-9"])), draw(st.integers(0, 2000)))
    return s


def _same(a, b) -> bool:
    """Equality that also tells 0.0 from -0.0 and an int from a float."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


@SETTINGS
@given(sessions())
def test_save_then_load_gives_back_every_field(s: Session) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore(Path(tmp) / "p.sessions", keys=KeyRing([KEY]))
        store.save(s)
        loaded = SessionStore(store.folder, keys=store.keys).load(s.id)
        expected = state_of(s)
        for message in expected["messages"]:  # a reply saved mid-stream loads as interrupted
            if message["status"] == "streaming":
                message["status"] = "interrupted"
        assert _same(state_of(loaded), expected)
        assert loaded.config.api_key is None and loaded.generation == 1 and not loaded.dirty
        # and once more: a loaded session saves to the same payload
        loaded.add_message("user", "again")
        store.save(loaded)
        assert _same(state_of(store.load(s.id)), state_of(loaded))


@SETTINGS
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_message_texts_survive_exactly(texts: list[str]) -> None:
    s = Session("texts")
    for text in texts:
        s.add_message("assistant", text)
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore(Path(tmp) / "p.sessions", keys=KeyRing([KEY]))
        store.save(s)
        assert [m.content for m in store.load(s.id).messages] == texts


def _last_message(s: Session) -> str:
    return s.messages[-1].content


def _last_call(s: Session):
    return s.tool_calls[-1].to_dict()


#: What save does with values a file cannot hold as they are: (change, then what a load gives
#: back: "same", "refused" (save refuses in one line) or (what to read, the value expected)).
EXTREMES = {
    "lone surrogate in a message": (
        lambda s: s.add_message("assistant", "a\ud800b"),
        (_last_message, "a\ufffdb"),
    ),
    "emoji streamed as two surrogate halves": (
        lambda s: s.add_message("assistant", "x\ud83d" + "\ude00y"),
        (_last_message, "x😀y"),
    ),
    "lone surrogate in a tool result": (
        lambda s: s.update_tool_call(s.add_tool_call("t", {}), "completed", "\udfff"),
        (lambda s: _last_call(s)["result"], "\ufffd"),
    ),
    "lone surrogate in a tool argument key": (
        lambda s: s.add_tool_call("t", {"\ud800": 1}),
        (lambda s: _last_call(s)["arguments"], {"\ufffd": 1}),
    ),
    "NaN in arguments (JSON null)": (
        lambda s: s.add_tool_call("t", {"n": float("nan")}),
        (lambda s: _last_call(s)["arguments"], {"n": None}),
    ),
    "integer over 64 bits in arguments": (lambda s: s.add_tool_call("t", {"n": 2**64}), "refused"),
    "set in arguments": (lambda s: s.add_tool_call("t", {"n": {1, 2}}), "refused"),
    "usage over 2**53": (lambda s: s.add_usage(Usage(2**53, 0)), "same"),
    "usage over 64 bits": (lambda s: s.add_usage(Usage(2**64, 5)), "same"),
    "negative usage": (lambda s: s.add_usage(Usage(-5, 3)), "same"),
    "message usage over 2**53": (
        lambda s: s.add_message("assistant", "x", usage=Usage(0, 2**60)),
        "same",
    ),
    "max_tokens over 2**53": (
        lambda s: s.set_config(s.config.updated({"max_tokens": 2**60})),
        "same",
    ),
    "context_budget over 64 bits": (
        lambda s: s.set_config(s.config.updated({"context_budget": 2**70})),
        "same",
    ),
}


@pytest.mark.parametrize("case", list(EXTREMES))
def test_what_save_writes_load_reads(tmp_path: Path, monkeypatch, case: str) -> None:
    monkeypatch.chdir(tmp_path)
    store = SessionStore(tmp_path / "x.sessions", keys=KeyRing([KEY]))
    s = Session("extreme")
    s.add_message("user", "before")
    store.save(s)
    old = store.path_for(s.id).read_bytes()
    change, expected = EXTREMES[case]
    try:
        change(s)
    except JidoError as exc:  # refused when it was set: nothing to store
        assert "2**53-1" in one_line(exc)
        return
    generation = s.generation
    if expected == "refused":
        with pytest.raises(JidoError) as info:
            store.save(s)
        assert "Session 'extreme' cannot be saved" in one_line(info.value)
        assert store.path_for(s.id).read_bytes() == old
        assert s.generation == generation and s.dirty
        return
    store.save(s)
    loaded = SessionStore(store.folder, keys=store.keys).load(s.id)
    if expected == "same":
        assert _same(state_of(loaded), state_of(s))
    else:
        read, value = expected
        assert _same(read(loaded), value)
    assert s.usage.input_tokens <= 2**53 - 1 and s.usage.output_tokens >= 0


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [300, 2000, 100_000])
def test_deeply_nested_tool_arguments_from_a_model_are_refused(depth: int) -> None:
    """A model's arguments nested deeper than a file can hold (orjson stops at 255 levels)
    would make every later save fail; far deeper ones crashed with RecursionError."""
    from jido_magics.agents.tools import arguments_from_json

    with pytest.raises(ValueError):
        arguments_from_json(_nested(depth))


def test_nested_tool_arguments_within_the_limit_round_trip(tmp_path: Path) -> None:
    from jido_magics.agents.tools import MAX_ARGUMENT_DEPTH, arguments_from_json
    from jido_magics.ui.render import render_tool_calls

    arguments = arguments_from_json(_nested(MAX_ARGUMENT_DEPTH))
    s = Session("nested")
    call = s.add_tool_call("t", arguments)
    store = SessionStore(tmp_path / "n.sessions", keys=KeyRing([KEY]))
    store.save(s)
    assert store.load(s.id).tool_calls[0].arguments == arguments
    assert "<pre>" in render_tool_calls([call])


def test_a_tool_call_too_deep_to_show_does_not_break_the_page() -> None:
    """Arguments given through the Python API are not checked: the page still renders."""
    from jido_magics.ui.render import render_tool_calls

    deep: dict = {}
    inner = deep
    for _ in range(5000):
        inner["a"] = {}
        inner = inner["a"]
    call = Session("deep").add_tool_call("t", deep)
    assert "too deeply nested" in render_tool_calls([call])
