"""Choosing a model: ``%session models``, completion of model names, and the widget's provider
and model picker (same validation as ``%session config``), in the real InteractiveShell."""

from __future__ import annotations

import html
import json
import sys

import pytest
from IPython.utils.capture import capture_output
from magic_helpers import run
from test_chat_magic import cell, one_usage_error
from test_completion import ours

from jido_magics.agents.providers.catalog import price_file
from jido_magics.agents.providers.litellm_provider import INSTALL
from jido_magics.core.text import usd
from jido_magics.interface.extension import extension_for

CLAUDE = "anthropic/claude-sonnet-4-5"


def litellm_chat_models(provider: str) -> set[str]:
    """Names LiteLLM's shipped price list gives ``provider`` for chat, read here directly."""
    data = json.loads(price_file().read_bytes())
    return {
        key
        for key, entry in data.items()
        if isinstance(entry, dict)
        and entry.get("mode") == "chat"
        and entry.get("litellm_provider") == provider
    }


# -- %session models ---------------------------------------------------------------------


def test_models_of_a_litellm_prefix_are_in_litellm_s_form(shell) -> None:
    listing = run(shell, "models anthropic")
    expected = {f"anthropic/{name}" for name in litellm_chat_models("anthropic")}
    assert set(listing.names) == expected and CLAUDE in listing.names
    assert list(listing.names) == sorted(listing.names)
    assert str(listing).splitlines()[0].startswith(f"{len(expected)} chat models known")


def test_models_of_litellm_cover_every_prefix(shell) -> None:
    everything = run(shell, "models litellm")
    assert CLAUDE in everything.names and len(everything) > 1000
    assert any(name.startswith("gemini/") for name in everything.names)
    assert all("/" in name for name in everything.names)


def test_models_default_to_the_active_session_s_provider(shell, registry) -> None:
    registry.create("g", provider="openai")
    listing = run(shell, "models")
    assert "gpt-4o-mini" in listing.names and all("/" not in n for n in listing.names)
    registry.create("o")
    assert len(run(shell, "models")) == 0  # offline: any name goes


def test_models_mistakes_are_one_line(shell, monkeypatch, capsys) -> None:
    cell(shell, "%session models nonsense-provider")
    assert "Unknown provider 'nonsense-provider'" in one_usage_error(capsys)
    monkeypatch.setitem(sys.modules, "litellm", None)
    cell(shell, "%session models litellm")
    assert INSTALL in one_usage_error(capsys)


# -- completion ----------------------------------------------------------------------------


def test_model_names_complete_after_model_options(shell, registry) -> None:
    line = "%session new x --provider litellm --model anthropic/claude-sonnet-4-"
    found = ours(shell, line)
    assert found and all(f.startswith(line) for f in found)
    assert f"%session new x --provider litellm --model {CLAUDE}" in found
    registry.create("c", provider="litellm", model=CLAUDE)
    assert f"%session config model={CLAUDE}" in ours(shell, "%session config model=anthropic/cl")
    assert ours(shell, "%session models anthro") == ["%session models anthropic"]


# -- the widget's picker -------------------------------------------------------------------


def show_picker(shell):
    with capture_output():
        run(shell, "ui")
    return extension_for(shell).session_view


def test_picker_shows_and_follows_the_active_session(shell, registry) -> None:
    registry.create("plain")
    view = show_picker(shell)
    picker = view.picker
    assert (picker.provider.value, picker.model.value) == ("offline", "")
    registry.create("claude", provider="litellm", model=CLAUDE)
    assert (picker.provider.value, picker.model.value) == ("litellm", CLAUDE)
    assert CLAUDE in picker.model.options  # that prefix's names are suggested
    run(shell, "switch plain")
    assert (picker.provider.value, picker.model.value) == ("offline", "")
    run(shell, "config provider=openai model=gpt-4o-mini")
    assert (picker.provider.value, picker.model.value) == ("openai", "gpt-4o-mini")


def test_picker_sets_provider_and_model_like_config(shell, registry) -> None:
    session = registry.create("s")
    picker = show_picker(shell).picker
    picker.provider.value = "litellm"
    assert "anthropic/" in picker.model.options  # prefixes first
    picker.model.value = CLAUDE
    assert session.config.provider == "offline"  # nothing changes before Apply
    picker.apply_button.click()
    assert (session.config.provider, session.config.model) == ("litellm", CLAUDE)
    picker.model.value = "   "
    picker.apply()
    assert session.config.model is None  # an empty box resets the model, as model= does


def test_picker_errors_go_to_the_status_line_and_change_nothing(
    shell, registry, monkeypatch
) -> None:
    session = registry.create("s", provider="openai", model="m")
    view = show_picker(shell)
    monkeypatch.setitem(sys.modules, "litellm", None)
    view.picker.provider.value = "litellm"
    view.picker.model.value = CLAUDE
    view.picker.apply()
    assert INSTALL in view.last_error
    assert html.escape(INSTALL) in view.status.value
    assert (session.config.provider, session.config.model) == ("openai", "m")


def test_picker_without_a_session_is_disabled(shell, registry) -> None:
    picker = show_picker(shell).picker
    assert picker.apply_button.disabled and picker.model.disabled
    registry.create("s")
    assert not picker.apply_button.disabled


def test_status_line_shows_a_known_cost_only(shell, registry) -> None:
    from jido_magics.core.records import Usage

    session = registry.create("s")
    view = show_picker(shell)
    session.add_usage(Usage(10, 5))
    assert "$" not in view.status.value
    session.add_usage(Usage(100, 50, 0.0123))
    assert usd(0.0123) in view.status.value


@pytest.mark.parametrize(
    ("cost", "shown"),
    [(0.0, "$0"), (0.00003, "< $0.0001"), (0.0003, "$0.0003"), (0.5, "$0.5000"), (12.5, "$12.50")],
)
def test_costs_read_as_dollars(cost: float, shown: str) -> None:
    assert usd(cost) == shown
