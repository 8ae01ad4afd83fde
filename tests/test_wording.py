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
