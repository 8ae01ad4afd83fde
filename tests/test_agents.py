"""Talking to models through a real chat-completions server on 127.0.0.1, and offline."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
from typing import Any

import pytest
import sse_server as sse

from jido_magics import Registry, Session
from jido_magics.agents import ChatBusy, ChatError, ChatFailed, UnknownProvider
from jido_magics.agents.context import (
    DEFAULT_SYSTEM_PROMPT,
    MESSAGE_OVERHEAD,
    build_context,
    estimate_tokens,
)
from jido_magics.agents.events import (
    Done,
    ErrorEvent,
    ReasoningDelta,
    TextDelta,
    ToolResult,
    UsageEvent,
)
from jido_magics.agents.exchange import MAX_TOOL_ROUNDS, send_message
from jido_magics.agents.providers import get_provider, provider_names, register_provider
from jido_magics.agents.providers.offline import LABEL
from jido_magics.agents.tools import MAX_RESULT_CHARS, run_tool
from jido_magics.export import render
from jido_magics.persistence import KeyRing, SessionStore

SECRET = "sk-test-5ecret-key-0123456789"


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def remote(registry: Registry, chat_server: sse.ScriptedServer) -> Session:
    """A session talking to the scripted server, with a key that must never leak."""
    return registry.create(
        "remote", provider="openai", model="m-1", base_url=chat_server.url, api_key=SECRET
    )


@pytest.fixture
def exchanges(registry: Registry) -> list[str]:
    """Names of sessions whose exchange completed, in order (what autosave listens to)."""
    seen: list[str] = []
    registry.subscribe(
        lambda event: seen.append(event.session.name) if event.kind == "exchange" else None
    )
    return seen


def assert_consistent(session: Session) -> None:
    """No message still streaming, no tool call pending or running, every call answered."""
    assert all(m.status != "streaming" for m in session.messages)
    assert all(c.status in ("completed", "error") for c in session.tool_calls)
    answered = {m.tool_call_id for m in session.messages if m.role == "tool"}
    assert {c.id for c in session.tool_calls} <= answered


# -- streaming ---------------------------------------------------------------------------


def test_content_deltas_are_joined_and_streamed(remote, chat_server, exchanges) -> None:
    chat_server.push(sse.reply("The ", "answer ", "is 42."))
    events: list[Any] = []
    message = send_message(remote, "What is the answer?", on_event=events.append)
    assert message.content == "The answer is 42."
    assert message.status == "complete"
    assert message.model == sse.MODEL
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["The ", "answer ", "is 42."]
    assert isinstance(events[-1], Done) and events[-1].finish_reason == "stop"
    assert [(m.role, m.content) for m in remote.messages] == [
        ("user", "What is the answer?"),
        ("assistant", "The answer is 42."),
    ]
    assert exchanges == ["remote"]
    assert_consistent(remote)


@pytest.mark.parametrize("field_name", ["reasoning_content", "reasoning"])
def test_reasoning_deltas_become_one_reasoning_step(remote, chat_server, field_name) -> None:
    chat_server.push(
        sse.Stream(
            [
                sse.reasoning("First, ", field_name),
                sse.reasoning("think.", field_name),
                sse.content("Done."),
                sse.finish(),
                sse.usage(3, 4),
            ]
        )
    )
    events: list[Any] = []
    message = send_message(remote, "Think first.", on_event=events.append)
    assert message.content == "Done."
    [step] = remote.reasoning_steps
    assert step.content == "First, think."
    assert step.message_id == message.id
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["First, ", "think."]


def test_usage_is_recorded_on_the_message_and_the_session(remote, chat_server) -> None:
    chat_server.push(sse.reply("a", prompt_tokens=30, completion_tokens=5))
    chat_server.push(sse.reply("b", prompt_tokens=40, completion_tokens=6))
    first = send_message(remote, "one")
    second = send_message(remote, "two")
    assert (first.usage.input_tokens, first.usage.output_tokens) == (30, 5)
    assert (second.usage.input_tokens, second.usage.output_tokens) == (40, 6)
    assert (remote.usage.input_tokens, remote.usage.output_tokens) == (70, 11)


def test_a_running_usage_total_in_every_chunk_counts_once(remote, chat_server) -> None:
    running = [sse.content("a"), sse.content("b"), sse.finish()]
    for number, chunk in enumerate(running, 1):
        chunk["usage"] = {"prompt_tokens": 10, "completion_tokens": number, "total_tokens": 0}
    chat_server.push(sse.Stream(running))
    message = send_message(remote, "count")
    assert (message.usage.input_tokens, message.usage.output_tokens) == (10, 3)
    assert (remote.usage.input_tokens, remote.usage.output_tokens) == (10, 3)


def test_request_body_holds_model_settings_and_stream_options(registry, chat_server) -> None:
    session = registry.create(
        "s",
        provider="openai",
        model="llama3.2",
        base_url=chat_server.url,
        temperature=0.2,
        max_tokens=512,
        system_prompt="You are terse.",
    )
    chat_server.push(sse.reply("ok"))
    send_message(session, "hello")
    [body] = chat_server.requests
    assert body["model"] == "llama3.2"
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 512
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hello"},
    ]
    assert "tools" not in body  # no namespace, no tools


def test_only_the_newest_messages_that_fit_the_budget_are_sent(registry, chat_server) -> None:
    session = registry.create(
        "long", provider="openai", model="m", base_url=chat_server.url, context_budget=1000
    )
    for number in range(999):
        role = "user" if number % 2 == 0 else "assistant"
        session.add_message(role, f"message {number:04d} " + "x" * 380)
    assert len(session.messages) == 999
    chat_server.push(sse.reply("ok"))
    send_message(session, "the newest question")
    [body] = chat_server.requests
    sent = body["messages"]
    assert sent[0] == {"role": "system", "content": DEFAULT_SYSTEM_PROMPT}
    assert sent[-1] == {"role": "user", "content": "the newest question"}
    history = sent[1:-1]
    assert 3 <= len(history) < 20  # about 1000 / 100 tokens, not 999 messages
    # the newest ones, in order, contiguous up to the question
    assert history[-1]["content"].startswith("message 0998 ")
    numbers = [int(m["content"].split()[1]) for m in history]
    assert numbers == list(range(numbers[0], 999))
    cost = sum(estimate_tokens(m["content"]) + MESSAGE_OVERHEAD for m in sent)
    assert cost <= 1000


def test_env_gives_base_url_and_key_sent_as_bearer(registry, chat_server, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    session = registry.create("env", provider="openai", model="m")
    chat_server.push(sse.reply("hi"))
    assert send_message(session, "hello").content == "hi"
    assert chat_server.headers[-1]["authorization"] == f"Bearer {SECRET}"


# -- tool calls --------------------------------------------------------------------------


def tool_round(*calls: tuple[str, str, str]) -> sse.Stream:
    """A reply asking for tool calls, each split over two chunks as real servers do."""
    chunks: list[Any] = []
    for index, (call_id, name, arguments) in enumerate(calls):
        half = len(arguments) // 2
        chunks.append(sse.tool_call(index, call_id, name, arguments[:half]))
        chunks.append(sse.tool_call(index, None, None, arguments[half:]))
    return sse.Stream([*chunks, sse.finish("tool_calls"), sse.usage(20, 9)])


def test_tool_call_round_trip(remote, chat_server, exchanges) -> None:
    namespace = {"df_rows": [1, 2, 3], "In": ["", "df_rows = [1, 2, 3]"]}
    chat_server.push(
        tool_round(
            ("call_a", "describe_variable", '{"name": "df_rows"}'),
            ("call_b", "read_recent_cells", '{"count": 2}'),
        ),
        sse.reply("It holds three numbers."),
    )
    events: list[Any] = []
    final = send_message(remote, "What is df_rows?", namespace=namespace, on_event=events.append)
    assert final.content == "It holds three numbers."
    first, second = chat_server.requests
    assert [t["function"]["name"] for t in first["tools"]] == [
        "list_variables",
        "describe_variable",
        "read_recent_cells",
    ]
    asked, result_a, result_b = second["messages"][-3:]
    assert asked["role"] == "assistant"
    assert [(c["id"], c["function"]["name"]) for c in asked["tool_calls"]] == [
        ("call_a", "describe_variable"),
        ("call_b", "read_recent_cells"),
    ]
    assert json.loads(asked["tool_calls"][0]["function"]["arguments"]) == {"name": "df_rows"}
    assert result_a["role"] == "tool" and result_a["tool_call_id"] == "call_a"
    assert "type: list" in result_a["content"] and "len: 3" in result_a["content"]
    assert result_b["tool_call_id"] == "call_b" and "df_rows = [1, 2, 3]" in result_b["content"]
    calls = list(remote.tool_calls)
    assert [(c.id, c.status) for c in calls] == [("call_a", "completed"), ("call_b", "completed")]
    assert calls[0].arguments == {"name": "df_rows"}
    assert calls[0].message_id == remote.messages[1].id
    assert [e.call.id for e in events if isinstance(e, ToolResult)] == ["call_a", "call_b"]
    assert (remote.usage.input_tokens, remote.usage.output_tokens) == (31, 16)
    assert exchanges == ["remote"]  # one exchange, however many rounds
    assert_consistent(remote)


def test_unknown_tool_and_bad_arguments_end_as_errors(remote, chat_server) -> None:
    chat_server.push(
        tool_round(("call_x", "delete_everything", "{}"), ("call_y", "describe_variable", "{oops")),
        sse.reply("Sorry."),
    )
    send_message(remote, "go", namespace={})
    unknown, broken = remote.tool_calls
    assert unknown.status == "error" and "Unknown tool 'delete_everything'" in unknown.result
    assert broken.status == "error" and "not a JSON object" in broken.result
    sent = chat_server.requests[1]["messages"]
    assert sent[-1]["tool_call_id"] == "call_y" and "not a JSON object" in sent[-1]["content"]
    assert_consistent(remote)


def test_tool_rounds_are_bounded(remote, chat_server) -> None:
    for number in range(MAX_TOOL_ROUNDS + 1):
        chat_server.push(tool_round((f"call_{number}", "list_variables", "{}")))
    final = send_message(remote, "loop forever", namespace={"a": 1})
    assert len(chat_server.requests) == MAX_TOOL_ROUNDS + 1
    assert all("tools" in body for body in chat_server.requests[:-1])
    assert "tools" not in chat_server.requests[-1]  # the last round must answer
    last_call = remote.tool_calls[-1]
    assert last_call.status == "error" and "limit" in last_call.result
    assert final.status == "complete"
    assert_consistent(remote)


def test_repeated_tool_call_ids_are_made_unique(remote, chat_server) -> None:
    for _ in range(2):
        chat_server.push(tool_round(("call_0", "list_variables", "{}")), sse.reply("ok"))
        send_message(remote, "vars", namespace={"a": 1})
    ids = [c.id for c in remote.tool_calls]
    assert len(set(ids)) == 2 and ids[0] == "call_0"
    assert_consistent(remote)


# -- failures ----------------------------------------------------------------------------

FAILURES = {
    "http 401": (sse.Status(401, f"Incorrect API key provided: {SECRET}"), "HTTP 401", ""),
    "http 500": (sse.Status(500, "model crashed"), "HTTP 500: model crashed", ""),
    "http 404": (sse.Status(404, "model 'm-1' not found"), "HTTP 404", ""),
    "timeout": (sse.Stall(30), "timeout", ""),
    "timeout mid-stream": (
        sse.Stream([sse.content("Half "), sse.content("way"), sse.finish()], stall_after=2),
        "timeout",
        "Half way",
    ),
    "connection dropped": (
        sse.Stream([sse.content("Part"), sse.content("ial"), sse.content("!")], drop_after=2),
        "broke during the reply",
        "Partial",
    ),
    "garbage line": (
        sse.Stream([sse.content("Good "), "data: {not json", sse.finish()]),
        "malformed stream",
        "Good ",
    ),
    "cut stream": (
        sse.Stream([sse.content("Unfinished")], done=False),
        "cut off",
        "Unfinished",
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_each_failure_leaves_a_consistent_usable_session(
    case, remote, chat_server, exchanges, monkeypatch
) -> None:
    monkeypatch.setenv("JIDO_MAGICS_TIMEOUT", "0.5")
    response, reason, partial = FAILURES[case]
    chat_server.push(response)
    events: list[Any] = []
    with pytest.raises(ChatFailed) as caught:
        send_message(remote, "Please answer.", on_event=events.append)
    error = caught.value
    assert reason in str(error)
    assert "\n" not in str(error) and len(str(error)) <= 300
    assert SECRET not in str(error)
    user, assistant = remote.messages
    assert (user.role, user.content, user.status) == ("user", "Please answer.", "complete")
    assert (assistant.role, assistant.content, assistant.status) == ("assistant", partial, "error")
    assert error.message is assistant
    assert isinstance(events[-1], ErrorEvent) and events[-1].message == str(error)
    assert exchanges == ["remote"]
    assert_consistent(remote)
    # still usable; the failed reply is not sent back as context
    chat_server.push(sse.reply("Recovered."))
    assert send_message(remote, "Again?").content == "Recovered."
    assert [m["content"] for m in chat_server.requests[-1]["messages"][1:]] == [
        "Please answer.",
        "Again?",
    ]


def test_failure_during_a_tool_round_answers_every_call(remote, chat_server) -> None:
    chat_server.push(tool_round(("call_1", "list_variables", "{}")), sse.Status(503, "busy"))
    with pytest.raises(ChatFailed, match="HTTP 503"):
        send_message(remote, "vars", namespace={"a": 1})
    assert remote.tool_calls[0].status == "completed"
    assert remote.messages[-1].status == "error"
    assert_consistent(remote)


def test_unreachable_server_is_one_line(registry) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = registry.create(
        "down", provider="openai", model="m", base_url=f"http://127.0.0.1:{port}/v1"
    )
    with pytest.raises(ChatFailed, match=r"^Cannot reach http://127\.0\.0\.1:\d+/v1"):
        send_message(session, "anyone?")
    assert [m.status for m in session.messages] == ["complete", "error"]


def test_key_never_reaches_files_reprs_or_messages(remote, chat_server) -> None:
    chat_server.push(sse.Status(401, f"Incorrect API key provided: {SECRET[:12]}***"))
    with pytest.raises(ChatFailed) as caught:
        send_message(remote, "hi")
    texts = [
        str(caught.value),
        repr(remote),
        repr(remote.config),
        json.dumps(remote.config.to_dict()),
        *(m.content for m in remote.messages),
    ]
    assert not any(SECRET in text or SECRET[:12] in text for text in texts)


def test_cancel_keeps_the_partial_reply_as_interrupted(remote, chat_server, exchanges) -> None:
    chat_server.push(sse.reply("one ", "two ", "three"))
    cancel = threading.Event()

    def stop_after_first(event: Any) -> None:
        if isinstance(event, TextDelta):
            cancel.set()

    message = send_message(remote, "count", on_event=stop_after_first, cancel=cancel)
    assert (message.content, message.status) == ("one ", "interrupted")
    assert exchanges == ["remote"]
    chat_server.push(sse.reply("fine"))
    assert send_message(remote, "again").status == "complete"


def test_keyboard_interrupt_keeps_partial_reply_and_is_reraised(remote, chat_server) -> None:
    chat_server.push(sse.reply("partial ", "rest"))

    def interrupt(event: Any) -> None:  # Ctrl-C arriving while the reply streams
        if isinstance(event, TextDelta):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        send_message(remote, "go", on_event=interrupt)
    assert [(m.content, m.status) for m in remote.messages] == [
        ("go", "complete"),
        ("partial ", "interrupted"),
    ]
    chat_server.push(sse.reply("next"))
    assert send_message(remote, "again").content == "next"


def test_keyboard_interrupt_between_tool_calls_answers_them(remote, chat_server) -> None:
    chat_server.push(
        tool_round(("c1", "list_variables", "{}"), ("c2", "list_variables", "{}")),
    )

    def interrupt(event: Any) -> None:
        if isinstance(event, ToolResult):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        send_message(remote, "vars", namespace={"a": 1}, on_event=interrupt)
    first, second = remote.tool_calls
    assert first.status == "completed" and second.status == "error"
    assert_consistent(remote)


def test_a_broken_event_callback_does_not_lose_the_reply(remote, chat_server) -> None:
    chat_server.push(sse.reply("still ", "here"))

    def broken(event: Any) -> None:
        raise RuntimeError("widget bug")

    assert send_message(remote, "hi", on_event=broken).content == "still here"


def test_a_session_answers_one_message_at_a_time(remote, chat_server) -> None:
    chat_server.push(sse.reply("a", "b"))
    nested: list[BaseException] = []

    def send_again(event: Any) -> None:
        if isinstance(event, TextDelta) and not nested:
            try:
                send_message(remote, "me too")
            except ChatBusy as exc:
                nested.append(exc)

    send_message(remote, "first", on_event=send_again)
    assert len(nested) == 1 and "still answering" in str(nested[0])
    assert [m.content for m in remote.messages] == ["first", "ab"]


# -- requests that cannot start ----------------------------------------------------------


@pytest.mark.parametrize(
    "settings, text, error",
    [
        ({}, "   ", "Nothing to send"),
        ({"provider": "nope"}, "hi", "Unknown provider 'nope'"),
        ({"provider": "openai"}, "hi", "needs a model"),
        ({"provider": "openai", "model": "m"}, "hi", "needs an API key"),
    ],
)
def test_requests_that_cannot_start_change_nothing(registry, settings, text, error) -> None:
    session = registry.create("s", **settings)
    revision = session.revision
    with pytest.raises(ChatError, match=error):
        send_message(session, text)
    assert len(session.messages) == 0 and session.revision == revision


def test_unknown_provider_error_is_a_chat_error() -> None:
    with pytest.raises(UnknownProvider, match="offline, openai"):
        get_provider("nope")


def test_providers_can_be_added_by_name(registry) -> None:
    class Echo:
        name = "echo"

        def check(self, config):
            pass

        def stream(self, request):
            yield TextDelta(request.messages[-1]["content"].upper())
            yield Done("stop", "echo-1")

    restore = register_provider("echo", Echo)
    try:
        assert "echo" in provider_names()
        session = registry.create("e", provider="echo")
        assert send_message(session, "shout").content == "SHOUT"
    finally:
        restore()
    assert "echo" not in provider_names()


# -- offline -----------------------------------------------------------------------------


def offline_transcript(monkeypatch) -> tuple[list[tuple[str, str]], list[Any], tuple]:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the offline provider opened a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    session = Registry().create("offline")
    events: list[Any] = []
    for prompt in ("Hello there.", "What {braces} stay?", "Second line\nwith more words."):
        send_message(session, prompt, on_event=events.append)
    usage = (session.usage.input_tokens, session.usage.output_tokens)
    return [(m.role, m.content) for m in session.messages], events, usage


def test_offline_provider_is_deterministic_labelled_and_streams(monkeypatch) -> None:
    first, events, usage = offline_transcript(monkeypatch)
    second, _, usage_again = offline_transcript(monkeypatch)
    assert first == second and usage == usage_again
    replies = [content for role, content in first if role == "assistant"]
    assert len(replies) == 3
    assert all(reply.startswith(LABEL) and "offline" in reply for reply in replies)
    assert "\u201cWhat {braces} stay?\u201d" in replies[1]
    assert "2 earlier messages" in replies[1]
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 3 * 3
    assert "".join(d.text for d in deltas) == "".join(replies)
    assert sum(isinstance(e, UsageEvent) for e in events) == 3


def test_offline_provider_shows_a_tool_call() -> None:
    session = Registry().create("offline")
    reply = send_message(session, "Which variables exist?", namespace={"frame": "abc"})
    [call] = session.tool_calls
    assert (call.name, call.status, call.result) == (
        "list_variables",
        "completed",
        "frame: str, len 3",
    )
    assert "frame: str, len 3" in reply.content and reply.content.startswith(LABEL)
    assert [m.role for m in session.messages] == ["user", "assistant", "tool", "assistant"]


# -- context -----------------------------------------------------------------------------


def test_context_never_sends_an_unpaired_tool_message(registry) -> None:
    session = registry.create("ctx", context_budget=64)
    asking = session.add_message("assistant", "")
    call = session.add_tool_call("list_variables", {}, asking.id, call_id="c1")
    session.update_tool_call(call, "completed", "x" * 2000)
    session.add_message("tool", "x" * 2000, tool_call_id="c1")
    session.add_message("assistant", "Here you go.")
    session.add_message("user", "thanks")
    wire = build_context(session)
    assert [m["role"] for m in wire] == ["system", "assistant", "user"] or [
        m["role"] for m in wire
    ] == ["system", "user"]
    assert all(m["role"] != "tool" for m in wire)


def test_context_cuts_a_huge_tool_result_to_its_end_and_keeps_the_question(registry) -> None:
    session = registry.create("big", context_budget=100, system_prompt="")
    session.add_message("user", "What is in data? " + "q" * 200)
    asking = session.add_message("assistant", "")
    session.add_tool_call("describe_variable", {"name": "data"}, asking.id, call_id="c1")
    session.add_message("tool", "a" * 10_000 + "THE END", tool_call_id="c1")
    question, call, result = build_context(session)
    assert question == {"role": "user", "content": "What is in data? " + "q" * 200}
    assert call["tool_calls"][0]["id"] == "c1"
    assert result["content"].endswith("THE END") and len(result["content"]) <= 100 * 4


def test_context_skips_failed_and_streaming_replies(registry) -> None:
    session = registry.create("skip")
    session.add_message("user", "q1")
    session.add_message("assistant", "broken", status="error")
    session.add_message("user", "q2")
    session.add_message("assistant", "partial", status="interrupted")
    session.add_message("assistant", "", status="streaming")
    assert [m["content"] for m in build_context(session)[1:]] == ["q1", "q2", "partial"]


# -- notebook tools ----------------------------------------------------------------------


class FakeFrame:
    """Duck-typed like a pandas DataFrame (no pandas here)."""

    shape = (3, 2)
    columns = ("a", "b")
    dtypes = ("int64", "float64")

    def __repr__(self) -> str:
        return "   a    b\n0  1  0.5"


def test_list_variables_shows_types_and_shapes_and_hides_ipython_names() -> None:
    namespace = {
        "df": FakeFrame(),
        "names": ["x", "y"],
        "n": 3,
        "_private": 1,
        "In": [],
        "Out": {},
        "json": json,
        "get_ipython": print,
    }
    outcome = run_tool("list_variables", {}, namespace)
    assert outcome.ok
    assert outcome.text.splitlines() == [
        "df: test_agents.FakeFrame, shape (3, 2)",
        "names: list, len 2",
        "n: int",
    ]


def test_describe_variable_gives_columns_dtypes_and_a_bounded_repr() -> None:
    outcome = run_tool("describe_variable", {"name": "df"}, {"df": FakeFrame()})
    assert outcome.ok
    assert "shape: (3, 2)" in outcome.text and "columns: a (int64), b (float64)" in outcome.text
    big = run_tool("describe_variable", {"name": "s"}, {"s": list(range(100_000))})
    assert big.ok and len(big.text) < 600
    missing = run_tool("describe_variable", {"name": "nope"}, {})
    assert not missing.ok and "No variable named 'nope'" in missing.text


def test_tool_output_is_bounded() -> None:
    namespace = {f"v{i}": "x" * i for i in range(1000)}
    namespace["In"] = ["", *("y" * 5000 for _ in range(50))]
    for name, arguments in (("list_variables", {}), ("read_recent_cells", {"count": 20})):
        outcome = run_tool(name, arguments, namespace)
        assert outcome.ok and len(outcome.text) <= MAX_RESULT_CHARS


def test_read_recent_cells_numbers_them_and_checks_count() -> None:
    namespace = {"In": ["", "a = 1", "", "b = a + 1", "print(b)"]}
    outcome = run_tool("read_recent_cells", {"count": 2}, namespace)
    assert outcome.text == "In [3]:\nb = a + 1\n\nIn [4]:\nprint(b)"
    assert not run_tool("read_recent_cells", {"count": "all"}, namespace).ok
    assert not run_tool("read_recent_cells", {}, {}).ok


def test_a_failing_repr_is_an_error_result() -> None:
    class Bad:
        def __repr__(self) -> str:
            raise ValueError("no repr")

    outcome = run_tool("describe_variable", {"name": "b"}, {"b": Bad()})
    assert not outcome.ok and "ValueError: no repr" in outcome.text


def test_openai_provider_needs_no_httpx_of_its_own(chat_server, monkeypatch) -> None:
    """``httpx`` is no dependency of jido_magics (recent ``openai`` SDKs use ``httpx2``): on a
    machine without it every openai exchange failed with "No module named 'httpx'". The
    provider uses what the SDK exports, and still names timeouts and broken connections."""
    if importlib.util.find_spec("httpx2") is None:
        pytest.skip("this openai SDK is built on httpx itself")
    monkeypatch.setitem(sys.modules, "httpx", None)  # as if it were not installed
    monkeypatch.setenv("JIDO_MAGICS_TIMEOUT", "0.5")
    session = Registry().create("r", provider="openai", model="m", base_url=chat_server.url)
    chat_server.push(sse.reply("Fine ", "here."))
    assert send_message(session, "hi").content == "Fine here."
    for response, reason in (
        (sse.Stream([sse.content("Half "), sse.content("way")], stall_after=1), "timeout"),
        (sse.Stream([sse.content("Pa"), sse.content("rt")], drop_after=1), "broke during"),
    ):
        chat_server.push(response)
        with pytest.raises(ChatFailed) as caught:
            send_message(session, "again")
        assert reason in str(caught.value), str(caught.value)
        assert session.messages[-1].status == "error"


def test_tool_results_never_carry_the_api_key(chat_server, tmp_path, monkeypatch) -> None:
    """A key typed in a cell (``%session config api_key=...``) or held in a variable reached
    the model through ``read_recent_cells`` / ``describe_variable``, and the tool results were
    kept in the session, its saved file and its exports. Tool results hide it."""
    other = "sk-env-ZyXwVuTsRqPoNm9876"
    monkeypatch.setenv("OPENAI_API_KEY", other)
    session = Registry().create(
        "r", provider="openai", model="m", base_url=chat_server.url, api_key=SECRET
    )
    namespace = {
        "In": ["", f"%session config api_key={SECRET}", f"os.environ['X'] = '{other}'"],
        "key": SECRET,
    }
    chat_server.push(
        sse.Stream(
            [
                sse.tool_call(0, "call_a", "read_recent_cells", '{"count": 5}'),
                sse.tool_call(1, "call_b", "describe_variable", '{"name": "key"}'),
                sse.finish("tool_calls"),
            ]
        ),
        sse.reply("Done."),
    )
    assert send_message(session, "What did I run?", namespace=namespace).content == "Done."
    results = [call.result or "" for call in session.tool_calls]
    assert len(results) == 2 and all("[key hidden]" in r for r in results), results
    path = SessionStore(tmp_path, keys=KeyRing([b"k" * 32])).save(session).path
    for text in (
        json.dumps(chat_server.requests[-1]),
        "".join(m.content for m in session.messages),
        "".join(results),
        path.read_text(),
        render(session, "md").decode(),
    ):
        assert SECRET not in text and other not in text
