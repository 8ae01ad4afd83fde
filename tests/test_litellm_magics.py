"""The ``litellm`` provider through the magics in a real InteractiveShell: a session on
``anthropic/…`` against a local Anthropic-format server streams, calls a notebook tool, saves
and resumes; without the package, choosing the provider is one line naming the pip command."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import anthropic_server as an
import pytest
import sse_server as sse
from test_chat_magic import cell, one_usage_error

from jido_magics.agents.providers.litellm_provider import INSTALL, load
from jido_magics.core.text import usd

MODEL = f"anthropic/{an.MODEL}"


def price(model: str, input_tokens: int, output_tokens: int) -> float:
    entry = load().model_cost[model]
    return (
        input_tokens * entry["input_cost_per_token"]
        + output_tokens * (entry["output_cost_per_token"])
    )


def new_session(shell, name: str, server: sse.ScriptedServer) -> None:
    cell(shell, f"%session new {name} --provider litellm --model {MODEL} --base-url {server.root}")


@pytest.fixture
def anthropic_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[sse.ScriptedServer]:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with an.AnthropicServer() as server:
        yield server


def test_a_session_on_anthropic_streams_uses_a_tool_saves_and_resumes(
    shell, registry, anthropic_server, capsys
) -> None:
    new_session(shell, "claude", anthropic_server)
    assert "Provider: litellm, model: anthropic/claude-sonnet-4-5." in capsys.readouterr().out
    cell(shell, "rows = [1, 2, 3]")
    anthropic_server.push(
        an.tool_round("toolu_07", "list_variables", "{}"),
        an.reply("You have ", "rows.", thinking=("Look at ", "the tools.")),
    )
    result = cell(shell, "%%chat\nWhich variables do I have?\n")
    assert result.success
    out = capsys.readouterr().out
    assert "Look at the tools." in out and "You have rows." in out and "list_variables" in out
    session = registry.active
    [call] = session.tool_calls
    assert (call.name, call.status) == ("list_variables", "completed") and "rows" in call.result
    assert [s.content for s in session.reasoning_steps] == ["Look at the tools."]
    assert session.usage.input_tokens == 50 and session.usage.output_tokens == 24
    before = [(m.role, m.content, m.status) for m in session.messages]

    cell(shell, "%session close claude")
    assert registry.sessions == ()
    cell(shell, "%session resume claude")
    resumed = registry.active
    assert resumed.name == "claude" and resumed.config.provider == "litellm"
    assert (resumed.config.model, resumed.config.base_url) == (MODEL, anthropic_server.root)
    assert [(m.role, m.content, m.status) for m in resumed.messages] == before
    assert [s.content for s in resumed.reasoning_steps] == ["Look at the tools."]
    assert (resumed.usage.input_tokens, resumed.usage.output_tokens) == (50, 24)
    assert resumed.usage.cost_usd == pytest.approx(price(an.MODEL, 50, 24))
    cost = usd(resumed.usage.cost_usd)
    assert str(cell(shell, "%session list").result).splitlines()[1].endswith(cost)
    capsys.readouterr()
    cell(shell, "%session config")
    assert f"cost            {cost} so far" in capsys.readouterr().out

    anthropic_server.push(an.reply("Still here."))
    cell(shell, "%chat and now?")
    assert resumed.messages[-1].content == "Still here."
    # the whole conversation went back to the model in Anthropic's form
    sent = str(anthropic_server.requests[-1]["messages"])
    assert "Which variables do I have?" in sent and "toolu_07" in sent and "and now?" in sent


def test_a_failure_in_a_cell_is_one_line(shell, registry, anthropic_server, capsys) -> None:
    new_session(shell, "c", anthropic_server)
    capsys.readouterr()
    anthropic_server.push(sse.Status(429, "slow down", {"retry-after": "3"}))
    cell(shell, "%chat hello")
    assert "HTTP 429" in one_usage_error(capsys)
    assert [m.status for m in registry.active.messages] == ["complete", "error"]


def test_without_litellm_choosing_it_is_one_line_naming_pip(
    shell, registry, monkeypatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # what Python does for a missing module
    cell(shell, f"%session new c --provider litellm --model {MODEL}")
    assert INSTALL in one_usage_error(capsys)
    assert registry.sessions == ()
    cell(shell, "%session new plain")
    capsys.readouterr()
    cell(shell, "%session config provider=litellm model=x")
    assert INSTALL in one_usage_error(capsys)
    assert (registry.active.config.provider, registry.active.config.model) == ("offline", None)


def test_an_unknown_price_shows_nothing_anywhere(shell, registry, chat_server, capsys) -> None:
    options = f"--provider litellm --model openai/test-model --base-url {chat_server.url}"
    cell(shell, f"%session new local {options}")
    chat_server.push(sse.reply("hi"))
    cell(shell, "%chat hello")
    session = registry.active
    assert session.usage.total > 0 and session.usage.cost_usd is None
    listing = cell(shell, "%session list").result
    assert listing.rows[0][-1] == "" and "$" not in str(listing)
    capsys.readouterr()
    cell(shell, "%session config")
    out = capsys.readouterr().out
    assert "cost" not in out and "$" not in out
    assert "$" not in repr(session._repr_markdown_())


def test_the_widget_streams_a_claude_reply_with_thinking_and_cost(
    shell, registry, anthropic_server
) -> None:
    from IPython.utils.capture import capture_output

    from jido_magics.interface.extension import extension_for

    new_session(shell, "claude", anthropic_server)
    with capture_output():
        cell(shell, "%session ui")
    view = extension_for(shell).session_view
    assert (view.picker.provider.value, view.picker.model.value) == ("litellm", MODEL)
    anthropic_server.push(an.reply("Hello ", "from Claude.", thinking=("Greet ", "back.")))
    view.input.value = "Hi!"
    view.send_button.click()
    page = view.conversation.value
    assert view.last_error == "" and "Hello from Claude." in page
    assert "Reasoning (1 step)" in page and "Greet back." in page
    status = view.status.value
    assert f"litellm/{MODEL}" in status and "tokens 25 in / 15 out" in status
    assert usd(price(an.MODEL, 25, 15)) in status


def test_config_names_the_key_variable_of_the_model_s_provider(
    shell, registry, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    cell(shell, f"%session new c --provider litellm --model {MODEL}")
    capsys.readouterr()
    cell(shell, "%session config")
    assert "api_key         unset (ANTHROPIC_API_KEY is unset)" in capsys.readouterr().out
