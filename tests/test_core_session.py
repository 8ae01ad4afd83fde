"""Sessions: fields, caps that drop the oldest and count them, order, pagination, threads."""

from __future__ import annotations

import re
import threading

import pytest

from jido_magics.core import Caps, JidoError, Session, SessionConfig
from jido_magics.core.clock import is_utc_timestamp, utc_now
from jido_magics.core.errors import InvalidConfig
from jido_magics.core.ids import check_session_id, is_valid_session_id, new_id


def test_new_session_has_the_design_fields() -> None:
    s = Session("analysis")
    assert re.fullmatch(r"[0-9a-f]{8}", s.id)
    assert s.name == "analysis"
    assert is_utc_timestamp(s.created_at) and s.created_at.endswith("Z")
    assert s.updated_at == s.created_at
    assert s.config == SessionConfig()
    assert list(s.messages) == [] and list(s.reasoning_steps) == [] and list(s.tool_calls) == []
    assert s.usage.to_dict() == {"input_tokens": 0, "output_tokens": 0}
    assert s.dropped == {"messages": 0, "reasoning_steps": 0, "tool_calls": 0}
    assert s.generation == 0 and not s.dirty


def test_add_message_records_role_content_time_and_status() -> None:
    s = Session("a")
    m = s.add_message("user", "hello")
    assert (m.role, m.content, m.status) == ("user", "hello", "complete")
    assert re.fullmatch(r"[0-9a-f]{12}", m.id)
    assert is_utc_timestamp(m.created_at)
    assert s.messages[0] is m and s.dirty
    assert s.updated_at == m.created_at


@pytest.mark.parametrize(
    ("role", "content", "status"),
    [("robot", "x", "complete"), ("user", 3, "complete"), ("user", "x", "done")],
)
def test_add_message_rejects_bad_values(role: str, content: object, status: str) -> None:
    s = Session("a")
    with pytest.raises(JidoError):
        s.add_message(role, content, status=status)  # type: ignore[arg-type]
    assert len(s.messages) == 0 and not s.dirty


@pytest.mark.parametrize(
    ("kind", "cap_field", "count", "cap"),
    [
        ("messages", "max_messages", 1005, 1000),
        ("messages", "max_messages", 7, 3),
        ("reasoning_steps", "max_reasoning_steps", 103, 100),
        ("tool_calls", "max_tool_calls", 512, 500),
        ("tool_calls", "max_tool_calls", 2, 5),
    ],
)
def test_caps_drop_the_oldest_and_count_them(
    kind: str, cap_field: str, count: int, cap: int
) -> None:
    s = Session("capped", caps=Caps(**{cap_field: cap}))
    for i in range(count):
        if kind == "messages":
            s.add_message("user", f"m{i}")
        elif kind == "reasoning_steps":
            s.add_reasoning_step(f"m{i}")
        else:
            s.add_tool_call("list_variables", {"i": i})
    items = getattr(s, kind)
    kept = min(count, cap)
    assert len(items) == kept
    assert s.dropped[kind] == count - kept
    first = items[0].content if kind != "tool_calls" else f"m{items[0].arguments['i']}"
    assert first == f"m{count - kept}"  # the oldest went first; order stays chronological


def test_default_caps_are_the_designs() -> None:
    assert Caps() == Caps(1000, 100, 500)


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_caps_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(InvalidConfig):
        Caps(max_messages=bad)  # type: ignore[arg-type]


def test_lowering_caps_trims_existing_history() -> None:
    s = Session("a")
    for i in range(10):
        s.add_message("user", str(i))
    s.set_caps(Caps(max_messages=4))
    assert [m.content for m in s.messages] == ["6", "7", "8", "9"]
    assert s.dropped["messages"] == 6


def test_messages_view_is_read_only_and_live() -> None:
    s = Session("a")
    view = s.messages
    s.add_message("user", "one")
    assert len(view) == 1 and view == [s.messages[0]]
    assert not hasattr(view, "append")
    with pytest.raises(TypeError):
        view[0] = None  # type: ignore[index]


def test_order_is_chronological() -> None:
    s = Session("a")
    contents = [f"{i}" for i in range(30)]
    for i, text in enumerate(contents):
        s.add_message("user" if i % 2 == 0 else "assistant", text)
    assert [m.content for m in s.messages] == contents
    times = [m.created_at for m in s.messages]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("total", "offset", "limit", "expected", "has_more", "has_older"),
    [
        (0, 0, 50, [], False, False),
        (10, 0, 50, list(range(10)), False, False),
        (120, 0, 50, list(range(50)), True, False),
        (120, 50, 50, list(range(50, 100)), True, True),
        (120, 70, 50, list(range(70, 120)), False, True),
        (120, 100, 50, list(range(100, 120)), False, True),
        (120, 500, 50, [], False, True),
    ],
)
def test_page(total, offset, limit, expected, has_more, has_older) -> None:
    s = Session("a")
    for i in range(total):
        s.add_message("user", str(i))
    page = s.page(offset=offset, limit=limit)
    assert [int(m.content) for m in page.messages] == expected
    assert page.total == total and page.has_more is has_more and page.has_older is has_older


def test_newest_page_is_the_last_limit_messages() -> None:
    s = Session("a")
    for i in range(75):
        s.add_message("user", str(i))
    page = s.newest_page(50)
    assert page.offset == 25 and [int(m.content) for m in page.messages] == list(range(25, 75))


def test_page_rejects_negative_offset() -> None:
    with pytest.raises(JidoError):
        Session("a").page(offset=-1)


def test_page_copies_only_the_page() -> None:
    s = Session("a")
    for i in range(200):
        s.add_message("user", str(i))
    page = s.page(0, 50)
    s.add_message("user", "later")
    assert len(page.messages) == 50 and page.total == 200


def test_streaming_updates_and_finishing() -> None:
    s = Session("a")
    m = s.add_message("assistant", "", status="streaming")
    for part in ("Hel", "lo", ""):
        s.append_text(m, part)
    s.finish_message(m, "interrupted")
    assert (m.content, m.status) == ("Hello", "interrupted")


def test_tool_call_lifecycle() -> None:
    s = Session("a")
    call = s.add_tool_call("describe_variable", {"name": "df"}, message_id="m1")
    assert call.status == "pending"
    s.update_tool_call(call, "completed", result="DataFrame")
    assert (call.status, call.result) == ("completed", "DataFrame")
    with pytest.raises(JidoError):
        s.update_tool_call(call, "finished")  # type: ignore[arg-type]


def test_listener_sees_every_change() -> None:
    s = Session("a")
    kinds: list[str] = []
    s._set_listener(lambda session, kind: kinds.append(kind))
    m = s.add_message("assistant", "", status="streaming")
    s.append_text(m, "x")
    s.add_reasoning_step("because")
    s.add_tool_call("t", {})
    s.set_config(s.config.updated({"model": "m"}))
    s.mark_exchange_complete()
    assert kinds == ["message", "message_text", "reasoning", "tool_call", "config", "exchange"]


def test_threads_adding_messages_lose_nothing() -> None:
    s = Session("a", caps=Caps(max_messages=10_000))
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(200):
            s.add_message("user", f"{n}-{i}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(s.messages) == 1600
    for n in range(8):  # each thread's messages keep their own order
        mine = [m.content for m in s.messages if m.content.startswith(f"{n}-")]
        assert mine == [f"{n}-{i}" for i in range(200)]


def test_config_updates_are_all_or_nothing() -> None:
    config = SessionConfig()
    with pytest.raises(InvalidConfig):
        config.updated({"model": "gpt", "temperature": 9})
    assert config == SessionConfig()
    new = config.updated({"model": "gpt", "temperature": 0.2, "max_tokens": 100})
    assert (new.model, new.temperature, new.max_tokens) == ("gpt", 0.2, 100)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("temperature", -0.1),
        ("temperature", float("nan")),
        ("max_tokens", 0),
        ("max_tokens", "12"),
        ("context_budget", 10),
        ("base_url", "ftp://x"),
        ("provider", " "),
        ("colour", "red"),
    ],
)
def test_bad_settings_are_refused(key: str, value: object) -> None:
    with pytest.raises(InvalidConfig):
        SessionConfig().updated({key: value})


def test_api_key_is_neither_shown_nor_serialized() -> None:
    config = SessionConfig().updated({"api_key": "sk-secret-123"})
    assert "sk-secret" not in repr(config)
    assert "api_key" not in config.to_dict()
    assert "sk-secret" not in repr(Session("a", config=config))


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("abc", True),
        ("A" * 64, True),
        ("a_b-c9", True),
        ("A" * 65, False),
        ("", False),
        ("-abc", False),
        ("_abc", False),
        (".abc", False),
        ("..", False),
        ("a/b", False),
        ("a\\b", False),
        ("a\x00b", False),
        ("abc\n", False),
        ("аbc", False),  # Cyrillic a: a look-alike
        ("ab c", False),
        ("１２", False),  # full-width digits
    ],
)
def test_session_id_rules(value: str, ok: bool) -> None:
    assert is_valid_session_id(value) is ok
    if not ok:
        with pytest.raises(JidoError):
            check_session_id(value)


def test_generated_ids_are_short_random_lowercase() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{8}", i) for i in ids)


def test_utc_now_format() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", utc_now())
    assert not is_utc_timestamp("2026-11-24T12:00:00+00:00")
    assert not is_utc_timestamp("2026-13-24T12:00:00Z")
