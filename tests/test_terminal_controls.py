"""Control characters from a model or a file are shown, never obeyed: printed
text and Markdown exports escape them visibly; stored content and JSON exports stay exact."""

from __future__ import annotations

import json
import re

import pytest
import sse_server as sse
from hypothesis import given
from hypothesis import strategies as st
from IPython.core.error import UsageError
from magic_helpers import one_line_usage_error as usage_error
from magic_helpers import run

from jido_magics.core.controls import visible_controls

CLEAR = "\x1b[2J"
CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # OSC 52: write "echo pwned" to the clipboard
HOSTILE = f"Sure.{CLEAR} Done{CLIPBOARD}\x9b31m end"
SHOWN = "Sure.␛[2J Done␛]52;c;ZWNobyBwd25lZA==␇\\x9b31m end"
# Every C0/C1 control but newline and tab.
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_controls_become_visible_signs() -> None:
    assert visible_controls(HOSTILE) == SHOWN
    assert visible_controls("a\tb\nc\r\nd\re\x00\x7f") == "a\tb\nc\nd␍e␀␡"
    text = "plain text, ünïcode ✓\n\tindented"
    assert visible_controls(text) is text


@given(st.text())
def test_no_raw_control_is_left(text: str) -> None:
    shown = visible_controls(text)
    assert RAW_CONTROL.search(shown) is None
    assert shown.count("\t") == text.count("\t")


def test_a_streamed_reply_is_printed_escaped_and_stored_exact(
    shell, registry, chat_server, capsys
) -> None:
    run(shell, f"new t --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(sse.reply("Sure.", f"{CLEAR} Done{CLIPBOARD}", "\x9b31m end"))
    capsys.readouterr()
    shell.run_cell("%chat hi")
    out = capsys.readouterr().out
    assert out == SHOWN + "\n"
    assert registry.active.messages[-1].content == HOSTILE


def test_show_in_a_terminal_and_markdown_exports_escape(shell, registry, workdir, capsys):
    session = registry.create("t")
    session.add_message("user", "hi")
    session.add_message("assistant", HOSTILE)
    page = run(shell, "show")
    for text in (str(page), page._repr_markdown_()):
        assert RAW_CONTROL.search(text) is None
        assert "Sure.␛[2J Done␛]52;c;ZWNobyBwd25lZA==␇" in text
    run(shell, "export --format md")
    run(shell, "export --format ipynb")
    run(shell, "export --format json")
    markdown = (workdir / "t.md").read_text(encoding="utf-8")
    assert RAW_CONTROL.search(markdown) is None and "␛[2J" in markdown
    cells = json.loads((workdir / "t.ipynb").read_text(encoding="utf-8"))["cells"]
    assert "␛[2J" in "".join(cells[-1]["source"])
    document = json.loads((workdir / "t.json").read_text(encoding="utf-8"))
    assert document["messages"][-1]["content"] == HOSTILE  # exact


def test_an_error_line_escapes_what_the_server_said(shell, registry, chat_server) -> None:
    run(shell, f"new t --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(sse.Status(500, f"boom{CLEAR}"))
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("chat", "hello")
    assert "answered HTTP 500: boom" in str(info.value)
    assert RAW_CONTROL.search(str(info.value)) is None


def test_an_unknown_subcommand_is_quoted_escaped(shell) -> None:
    message = usage_error(shell, "\x1b[2Jx")
    assert message.startswith("Unknown subcommand '␛[2Jx'")
