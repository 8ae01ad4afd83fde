"""A finished ``%%chat`` reply is shown rendered in a notebook (a real kernel runs the cells),
with the same safe Markdown as ``%session show``; a terminal-like shell keeps plain text."""

from __future__ import annotations

from pathlib import Path

import nbformat
from IPython.utils.capture import capture_output
from nbclient import NotebookClient

from jido_magics.agents.events import ReasoningDelta, TextDelta
from jido_magics.core.safe_markdown import neutralize_markdown
from jido_magics.interface.rendered_reply import RenderedReply

PROMPT = "Please **render** `this` and <b>not this</b>"


def run_in_kernel(folder: Path, cells: list[str]) -> list:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return notebook.cells


def test_the_finished_reply_replaces_the_streamed_text_with_markdown(tmp_path: Path) -> None:
    cells = run_in_kernel(
        tmp_path,
        [
            "%load_ext jido_magics",
            f"%%chat\n{PROMPT}",
            "%%chat\nWhich variables do I have?",
            "import jido_magics\n"
            "print(repr(jido_magics.get_registry().active.messages[1].content))",
        ],
    )
    created, *outputs = cells[1].outputs
    assert created.output_type == "stream" and "Created session 'chat'" in created.text
    (reply,) = outputs  # one display, updated in place: no stream of the reply left over
    assert reply.output_type == "display_data"
    content = eval(cells[3].outputs[0].text)  # the stored reply, as the session has it
    assert reply.data["text/plain"] == content + "\n"
    assert reply.data["text/markdown"] == neutralize_markdown(content) + "\n"
    assert "**render**" in reply.data["text/markdown"]  # Markdown, rendered by the front end
    assert "<b>" not in reply.data["text/markdown"]  # raw HTML neutralized, as in show
    (tools,) = cells[2].outputs
    markdown = tools.data["text/markdown"]
    assert "<details><summary>Tool call: list_variables (completed)</summary>" in markdown
    assert markdown.rstrip().endswith("`%session config provider=openai model=NAME`.")


def test_a_terminal_shell_prints_plain_text_and_displays_nothing(shell) -> None:
    with capture_output() as captured:
        shell.run_cell_magic("chat", "", PROMPT)
    assert captured.outputs == []
    assert "**render**" in captured.stdout and "offline provider" in captured.stdout


def test_streaming_updates_are_throttled_and_the_last_one_is_whole(shell) -> None:
    now = [0.0]
    reply = RenderedReply(interval=1.0, clock=lambda: now[0])
    with capture_output() as captured:
        reply(ReasoningDelta("think"))
        reply(TextDelta("Hello "))
        now[0] = 0.5
        reply(TextDelta("**world**"))  # within the interval: not shown yet
        now[0] = 2.0
        reply(TextDelta("!"))
        reply.printer.end()
        reply.finish()
    shown = [(o.update, o.data) for o in captured.outputs]
    assert [update for update, _ in shown] == [False, True, True]
    assert shown[0][1] == {"text/plain": "[reasoning] "}
    final = shown[-1][1]
    assert final["text/plain"] == "[reasoning] think\n\nHello **world**!\n"
    assert final["text/markdown"] == (
        "<details><summary>Reasoning</summary>\n\n```text\nthink\n```\n\n</details>"
        "\n\nHello **world**!\n"
    )
