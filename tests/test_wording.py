"""One wording for one state: with no session, every command, the widget and the listing say
"No session is open" (never "no session is active"), and mistyped names get a suggestion."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from magic_helpers import one_line_usage_error, run

from jido_magics.core.errors import NO_SESSION_OPEN, did_you_mean

PACKAGE = Path(__file__).resolve().parent.parent / "jido_magics"


@pytest.mark.parametrize(
    "line", ["save", "close", "rename x", "show", "export", "config", "switch x", "config x=1"]
)
def test_every_command_says_no_session_is_open(shell, line: str) -> None:
    assert one_line_usage_error(shell, line).startswith("No session is open")


def test_the_listing_and_the_widget_say_it_too(shell) -> None:
    from jido_magics.ui.view import NO_SESSION_TEXT

    assert str(run(shell, "list")) == NO_SESSION_OPEN
    assert NO_SESSION_TEXT.startswith("No session is open")


def test_no_other_wording_is_left_in_the_package() -> None:
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"no (session is|open session is) active", text, re.I), path


def test_did_you_mean_picks_the_closest_choice_or_none() -> None:
    assert did_you_mean("swich", ["new", "switch", "show"]) == " Did you mean 'switch'?"
    assert did_you_mean("TEMPRATURE", ["temperature", "model"]) == " Did you mean 'temperature'?"
    assert did_you_mean("xyz", ["new", "switch"]) == ""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("swich a", "Unknown subcommand 'swich': did you mean 'switch'? Use one of new, list,"),
        ("config temprature=1", "Unknown setting 'temprature': did you mean 'temperature'?"),
        ("config provider=opnai", "Unknown provider 'opnai': did you mean 'openai'?"),
        (
            "new b --provder offline",
            "unrecognized arguments: --provder offline. Did you mean '--provider'?",
        ),
        ("save --forse", "unrecognized arguments: --forse. Did you mean '--force'? Usage:"),
        ("export --format jsn", "Did you mean 'json'? Usage: %session export"),
    ],
)
def test_a_mistyped_word_gets_the_closest_suggestion(shell, line: str, expected: str) -> None:
    run(shell, "new a")
    assert expected in one_line_usage_error(shell, line)


def test_nothing_close_means_no_suggestion_but_the_full_list(shell) -> None:
    message = one_line_usage_error(shell, "frobnicate")
    assert "did you mean" not in message.lower() and "use one of new, list, switch" in message


def test_chat_options_are_suggested_too(shell) -> None:
    from IPython.core.error import UsageError

    with pytest.raises(
        UsageError,
        match=r"unknown option '--interpolte'\. Did you mean "
        r"'--interpolate'\?",
    ):
        shell.run_cell_magic("chat", "--interpolte", "hello")
