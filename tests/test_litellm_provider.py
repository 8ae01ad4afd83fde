"""The ``litellm`` provider: real LiteLLM code against real servers on 127.0.0.1, one speaking
Anthropic's Messages API (``anthropic/…``) and one OpenAI's chat completions (``openai/…``)."""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import anthropic_server as an
import pytest
import sse_server as sse
from test_agents import assert_consistent

from jido_magics import Registry, Session
from jido_magics.agents import ChatError, ChatFailed
from jido_magics.agents.events import Done, ErrorEvent, ReasoningDelta, TextDelta, UsageEvent
from jido_magics.agents.exchange import send_message
from jido_magics.agents.providers import check_installed
from jido_magics.agents.providers.litellm_provider import INSTALL, load

SECRET = "sk-ant-api03-t0p5ecret-key-0123456789"
MODEL = f"anthropic/{an.MODEL}"


@pytest.fixture(autouse=True)
def no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def anthropic_server() -> Iterator[sse.ScriptedServer]:
    with an.AnthropicServer() as server:
        yield server


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def claude(registry: Registry, anthropic_server: sse.ScriptedServer) -> Session:
    return registry.create(
        "claude", provider="litellm", model=MODEL, base_url=anthropic_server.root, api_key=SECRET
    )


def price(model: str, input_tokens: int, output_tokens: int) -> float:
    """The cost from LiteLLM's own price map, read directly."""
    entry = load().model_cost[model]
    return (
        input_tokens * entry["input_cost_per_token"]
        + output_tokens * (entry["output_cost_per_token"])
    )


# -- Anthropic through LiteLLM -------------------------------------------------------------


def test_text_and_thinking_stream_into_the_session(claude, anthropic_server) -> None:
    anthropic_server.push(
        an.reply("The answer ", "is 42.", thinking=("Six times ", "seven."), input_tokens=31)
    )
    events: list[Any] = []
    message = send_message(claude, "What is the answer?", on_event=events.append)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["The answer ", "is 42."]
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["Six times ", "seven."]
    assert (message.content, message.status, message.model) == (
        "The answer is 42.",
        "complete",
        an.MODEL,
    )
    [step] = claude.reasoning_steps
    assert (step.content, step.message_id) == ("Six times seven.", message.id)
    [usage] = [e for e in events if isinstance(e, UsageEvent)]
    assert (usage.input_tokens, usage.output_tokens) == (31, 15)
    assert usage.cost_usd == pytest.approx(price(an.MODEL, 31, 15))
    assert (message.usage.input_tokens, message.usage.output_tokens) == (31, 15)
    assert message.usage.cost_usd == pytest.approx(price(an.MODEL, 31, 15))
    assert claude.usage.cost_usd == message.usage.cost_usd
    assert isinstance(events[-1], Done)
    assert_consistent(claude)


def test_the_request_is_anthropic_s_with_the_session_s_key(registry, anthropic_server) -> None:
    session = registry.create(
        "s",
        provider="litellm",
        model=MODEL,
        base_url=anthropic_server.root,
        api_key=SECRET,
        temperature=0.3,
        max_tokens=300,
        system_prompt="Be terse.",
    )
    anthropic_server.push(an.reply("ok"))
    send_message(session, "hi")
    [body] = anthropic_server.requests
    assert body["model"] == an.MODEL and body["stream"] is True
    assert (body["temperature"], body["max_tokens"]) == (0.3, 300)
    assert "Be terse." in str(body["system"])
    assert body["messages"][-1]["role"] == "user" and "hi" in str(body["messages"][-1])
    assert anthropic_server.headers[0]["x-api-key"] == SECRET


def test_a_local_server_needs_no_key(registry, anthropic_server) -> None:
    session = registry.create(
        "local", provider="litellm", model=MODEL, base_url=anthropic_server.root
    )
    anthropic_server.push(an.reply("fine"))
    assert send_message(session, "hi").content == "fine"
    assert anthropic_server.headers[0]["x-api-key"] == "not-needed"


def test_a_notebook_tool_round_trip(claude, anthropic_server) -> None:
    namespace = {"rows": [1, 2, 3], "In": ["", "rows = [1, 2, 3]"]}
    anthropic_server.push(
        an.tool_round("toolu_01", "describe_variable", '{"name": "rows"}', text="Looking."),
        an.reply("rows holds three numbers."),
    )
    final = send_message(claude, "What is in rows?", namespace=namespace)
    assert final.content == "rows holds three numbers."
    [call] = claude.tool_calls
    assert (call.id, call.name, call.arguments, call.status) == (
        "toolu_01",
        "describe_variable",
        {"name": "rows"},
        "completed",
    )
    assert "list" in call.result
    first, second = anthropic_server.requests
    assert [tool["name"] for tool in first["tools"]] == [
        "list_variables",
        "describe_variable",
        "read_recent_cells",
    ]
    # the result goes back as Anthropic's tool_result block, after the tool_use it answers
    sent = str(second["messages"])
    assert "'tool_use'" in sent and "'tool_result'" in sent and "toolu_01" in sent
    assert sent.index("tool_use") < sent.index("tool_result")
    assert claude.usage.input_tokens == 50  # two requests of 25
    # each reply records its request's cost; the session sums them
    asking = next(m for m in claude.messages if m.id == call.message_id)
    assert asking.usage.cost_usd == pytest.approx(price(an.MODEL, 25, 9))
    assert final.usage.cost_usd == pytest.approx(price(an.MODEL, 25, 15))
    assert claude.usage.cost_usd == pytest.approx(price(an.MODEL, 50, 24))
    assert_consistent(claude)


# -- OpenAI's format through LiteLLM -------------------------------------------------------


def test_openai_format_text_reasoning_and_an_unpriced_model(registry, chat_server) -> None:
    session = registry.create(
        "oa", provider="litellm", model="openai/test-model", base_url=chat_server.url
    )
    chat_server.push(
        sse.Stream(
            [
                sse.reasoning("Hmm."),
                sse.content("Hello "),
                sse.content("there."),
                sse.finish(),
                sse.usage(12, 4),
            ]
        )
    )
    events: list[Any] = []
    message = send_message(session, "hi", on_event=events.append)
    assert message.content == "Hello there."
    assert [s.content for s in session.reasoning_steps] == ["Hmm."]
    [usage] = [e for e in events if isinstance(e, UsageEvent)]
    assert (usage.input_tokens, usage.output_tokens, usage.cost_usd) == (12, 4, None)
    # an unknown price is absent, never 0
    assert message.usage.cost_usd is None and session.usage.cost_usd is None
    assert "cost_usd" not in message.usage.to_dict()
    assert chat_server.requests[0]["model"] == "test-model"
    assert chat_server.requests[0]["stream_options"] == {"include_usage": True}


def test_openai_format_priced_model_has_a_cost(registry, chat_server) -> None:
    session = registry.create(
        "mini", provider="litellm", model="openai/gpt-4o-mini", base_url=chat_server.url
    )
    chat_server.push(sse.reply("ok", prompt_tokens=1000, completion_tokens=100))
    events: list[Any] = []
    send_message(session, "hi", on_event=events.append)
    [usage] = [e for e in events if isinstance(e, UsageEvent)]
    assert usage.cost_usd == pytest.approx(price("gpt-4o-mini", 1000, 100))
    assert usage.cost_usd > 0


# -- failures ----------------------------------------------------------------------------


def _anthropic_cut(after: int) -> sse.Stream:
    stream = an.reply("Part", "ial", "!")
    stream.drop_after = after
    return stream


ANTHROPIC_FAILURES = {
    "401": (sse.Status(401, "invalid x-api-key"), "refused the API key (HTTP 401)", ""),
    "429": (
        sse.Status(429, "slow down", {"retry-after": "7"}),
        "limiting requests (HTTP 429): slow down; try again in 7 s.",
        "",
    ),
    "500": (sse.Status(500, "model crashed"), "HTTP 500: model crashed", ""),
    "529": (sse.Status(529, "Overloaded"), "HTTP 529: Overloaded", ""),
    "timeout": (sse.Stall(30), "timeout", ""),
    "dropped": (_anthropic_cut(4), "broke during the reply", "Partial"),
    "no end": (
        sse.Stream(an.reply("Unfinished").chunks[:-2], done=False),
        "cut off before the model finished",
        "Unfinished",
    ),
}


@pytest.mark.parametrize("case", list(ANTHROPIC_FAILURES))
def test_each_anthropic_failure_is_one_line_and_the_session_stays_usable(
    case, claude, anthropic_server, monkeypatch
) -> None:
    monkeypatch.setenv("JIDO_MAGICS_TIMEOUT", "0.5")
    response, reason, partial = ANTHROPIC_FAILURES[case]
    anthropic_server.push(response)
    events: list[Any] = []
    with pytest.raises(ChatFailed) as caught:
        send_message(claude, "Please answer.", on_event=events.append)
    error = str(caught.value)
    assert reason in error, error
    assert "\n" not in error and len(error) <= 300 and SECRET not in error
    assert "litellm." not in error and "Handle with" not in error
    user, assistant = claude.messages
    assert (user.content, user.status) == ("Please answer.", "complete")
    assert (assistant.content, assistant.status) == (partial, "error")
    assert isinstance(events[-1], ErrorEvent) and events[-1].message == error
    assert_consistent(claude)
    anthropic_server.push(an.reply("Recovered."))
    assert send_message(claude, "Again?").content == "Recovered."


def test_401_names_the_provider_s_key_variable(claude, anthropic_server) -> None:
    anthropic_server.push(sse.Status(401, "invalid x-api-key"))
    with pytest.raises(ChatFailed, match="check ANTHROPIC_API_KEY or %session config api_key"):
        send_message(claude, "hi")


OPENAI_FAILURES = {
    "401": (sse.Status(401, f"Incorrect API key provided: {SECRET}"), "HTTP 401", ""),
    "429": (sse.Status(429, "rate limited", {"retry-after": "12"}), "try again in 12 s", ""),
    "500": (sse.Status(500, "model crashed"), "HTTP 500: model crashed", ""),
    "timeout mid-stream": (
        sse.Stream([sse.content("Half "), sse.content("way"), sse.finish()], stall_after=2),
        "timeout",
        "Half way",
    ),
    "dropped": (
        sse.Stream([sse.content("Part"), sse.content("ial"), sse.content("!")], drop_after=2),
        "broke during the reply",
        "Partial",
    ),
    "no finish": (
        sse.Stream([sse.content("Unfinished")], done=True),
        "cut off before the model finished",
        "Unfinished",
    ),
    "garbage": (
        sse.Stream([sse.content("Good "), "data: {not json", sse.finish()]),
        "malformed stream",
        "Good ",
    ),
}


@pytest.mark.parametrize("case", list(OPENAI_FAILURES))
def test_each_openai_format_failure_is_one_line(case, registry, chat_server, monkeypatch) -> None:
    monkeypatch.setenv("JIDO_MAGICS_TIMEOUT", "0.5")
    session = registry.create(
        "oa", provider="litellm", model="openai/m-1", base_url=chat_server.url, api_key=SECRET
    )
    response, reason, partial = OPENAI_FAILURES[case]
    chat_server.push(response)
    with pytest.raises(ChatFailed) as caught:
        send_message(session, "Please answer.")
    error = str(caught.value)
    assert reason in error, error
    assert "\n" not in error and SECRET not in error and SECRET[:12] not in error
    assert [(m.content, m.status) for m in session.messages] == [
        ("Please answer.", "complete"),
        (partial, "error"),
    ]
    assert_consistent(session)


def test_unreachable_server_is_one_line(registry) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = registry.create(
        "down", provider="litellm", model=MODEL, base_url=f"http://127.0.0.1:{port}"
    )
    with pytest.raises(ChatFailed, match=r"^Cannot reach http://127\.0\.0\.1:\d+: "):
        send_message(session, "anyone?")
    assert [m.status for m in session.messages] == ["complete", "error"]


def test_neither_litellm_nor_its_logging_prints_the_key(claude, anthropic_server, capfd) -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    logger = logging.getLogger("LiteLLM")
    handler, level = Keep(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        anthropic_server.push(an.reply("ok"), sse.Status(401, "invalid x-api-key"))
        send_message(claude, "hi")
        with pytest.raises(ChatFailed):
            send_message(claude, "again")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    captured = capfd.readouterr()
    assert records, "LiteLLM logged nothing at DEBUG: this test would prove nothing"
    for text in [*records, captured.out, captured.err]:
        assert SECRET not in text
    assert "Give Feedback" not in captured.out + captured.err


# -- settings checked before anything is sent ----------------------------------------------


def test_a_model_is_needed_in_litellm_s_form(registry, capfd) -> None:
    none = registry.create("a", provider="litellm")
    with pytest.raises(ChatError, match="needs a model in LiteLLM's form"):
        send_message(none, "hi")
    vague = registry.create("b", provider="litellm", model="no-such-model-xyz")
    with pytest.raises(ChatError, match="cannot tell which provider serves 'no-such-model-xyz'"):
        send_message(vague, "hi")
    assert none.messages == [] and vague.messages == []
    captured = capfd.readouterr()
    assert captured.out + captured.err == ""  # LiteLLM's own "Provider List" banner is off


def test_a_missing_key_names_the_variable_before_sending(registry) -> None:
    session = registry.create("c", provider="litellm", model=MODEL)
    with pytest.raises(ChatError, match=r"needs an API key: set ANTHROPIC_API_KEY"):
        send_message(session, "hi")
    assert session.messages == []


def test_without_the_package_the_provider_names_the_pip_command(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # what Python does for a missing module
    with pytest.raises(ChatError) as caught:
        check_installed("litellm")
    assert INSTALL in str(caught.value) and "\n" not in str(caught.value)
    check_installed("openai")  # needs nothing beyond the base install


def test_cancel_keeps_the_partial_reply_as_interrupted(claude, anthropic_server) -> None:
    anthropic_server.push(an.reply("one ", "two ", "three"))
    cancel = threading.Event()

    def stop_after_first(event: Any) -> None:
        if isinstance(event, TextDelta):
            cancel.set()

    message = send_message(claude, "count", on_event=stop_after_first, cancel=cancel)
    assert (message.content, message.status) == ("one ", "interrupted")
    assert_consistent(claude)
    anthropic_server.push(an.reply("Next."))
    assert send_message(claude, "again").content == "Next."  # the connection was released
