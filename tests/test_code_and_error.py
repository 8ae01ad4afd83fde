"""``%%chat --code`` and ``%chat --error``: in a real kernel (``jupyter_client``: the
``set_next_input`` payload and a real ``ZeroDivisionError``), and in a plain shell."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import sse_server as sse
from kernels import Kernel

from jido_magics.agents.prompts import CODE_ONLY, code_of

ONE = "Here:\n\n```python\nimport math\nprint(math.pi)\n```\n\nDone."
THREE = (
    "First\n```python\nx = 1\n```\nthen\n~~~\ny = 2\n~~~\n"
    "and last\n````py\nprint('```', x + y)\n````\n"
)


@pytest.mark.parametrize(
    "reply, code",
    [
        ("No code here, only `inline` words.", ""),
        (ONE, "import math\nprint(math.pi)"),
        (THREE, "x = 1\n\ny = 2\n\nprint('```', x + y)"),
        ("```\nunclosed = True\n", "unclosed = True"),
        ("```python\n```", ""),
    ],
    ids=["zero", "one", "three", "unclosed", "empty"],
)
def test_code_of_a_reply(reply: str, code: str) -> None:
    assert code_of(reply) == code


@pytest.fixture
def kernel(workdir) -> Iterator[Kernel]:
    k = Kernel(workdir)
    try:
        k.run("%load_ext jido_magics")
        yield k
    finally:
        k.stop()


def said(kernel: Kernel, code: str) -> tuple[str, dict[str, Any]]:
    """What the cell showed (stdout, stderr, displays as last updated) and its reply."""
    outcome = kernel.run(code)
    return outcome.text, outcome.reply


def next_inputs(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in content.get("payload", []) if p.get("source") == "set_next_input"]


def test_code_puts_the_replys_code_in_a_new_cell_below(kernel: Kernel, chat_server) -> None:
    kernel.run(f"%session new c --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(sse.reply(ONE), sse.reply(THREE), sse.reply("I cannot write that."))
    out, content = said(kernel, "%%chat --code\nPrint pi.")
    assert content["status"] == "ok" and "print(math.pi)" in out
    assert next_inputs(content) == [
        {"source": "set_next_input", "text": "import math\nprint(math.pi)", "replace": False}
    ]
    out, content = said(kernel, "%chat --code Add two numbers")
    assert next_inputs(content) == [
        {
            "source": "set_next_input",
            "text": "x = 1\n\ny = 2\n\nprint('```', x + y)",
            "replace": False,
        }
    ]
    out, content = said(kernel, "%chat --code Something impossible")
    assert content["status"] == "ok" and next_inputs(content) == []
    assert "The reply holds no code block: no cell was added." in out
    # the request asked for code only; the replies are kept in the session
    asked = [r["messages"][-1]["content"] for r in chat_server.requests]
    assert asked == [
        f"{text}\n\n{CODE_ONLY}"
        for text in ("Print pi.", "Add two numbers", "Something impossible")
    ]
    out, _ = said(
        kernel,
        "import jido_magics\n"
        "print([m.content[:5] for m in jido_magics.get_registry().active.messages][1::2])",
    )
    assert out.strip() == "['Here:', 'First', 'I can']"


def test_code_with_the_offline_provider_gives_a_labelled_cell(kernel: Kernel) -> None:
    _, content = said(kernel, "%chat --code plot a sine")
    (payload,) = next_inputs(content)
    assert payload["replace"] is False
    assert payload["text"].startswith("# [offline provider: no model was contacted]\n")
    assert payload["text"].endswith("print('plot a sine')")


def test_error_sends_the_last_exception_of_a_real_kernel(kernel: Kernel, chat_server) -> None:
    out, content = said(kernel, "%chat --error")
    assert content["status"] == "error"
    assert "No exception yet in this kernel" in out and "Traceback" not in out
    kernel.run(f"%session new e --provider openai --model m --base-url {chat_server.url}")
    kernel.run("def ratio(a, b):\n    return a / b")
    _, content = said(kernel, "total = 3\nratio(total, 0)")
    assert content["status"] == "error" and content["ename"] == "ZeroDivisionError"
    kernel.run("%session nosuchcommand")  # a UsageError does not replace the last error
    chat_server.push(sse.reply("You divided by zero."), sse.reply("Same error."))
    out, content = said(kernel, "%chat --error")
    assert content["status"] == "ok" and "You divided by zero." in out
    sent = chat_server.requests[0]["messages"][-1]["content"]
    assert sent.startswith("Explain this error and how to fix it.\n\n")
    assert "Error: ZeroDivisionError: division by zero" in sent
    assert "```python\ntotal = 3\nratio(total, 0)\n```" in sent  # the cell that raised
    assert "return a / b" in sent and "ratio(total, 0)" in sent  # the traceback's frames
    assert "\x1b" not in sent and not re.search(r"\[\d+(;\d+)*m", sent)  # no ANSI colours
    assert "interactiveshell.py" not in sent  # IPython's own frames left out
    kernel.run("%%chat --error\nWhy does ratio fail here?")
    sent = chat_server.requests[1]["messages"][-1]["content"]
    assert sent.startswith("Why does ratio fail here?\n\nError: ZeroDivisionError")


def test_error_and_code_in_a_terminal_shell(shell, registry, capsys, monkeypatch) -> None:
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        monkeypatch.delattr(sys, name, raising=False)  # errors of earlier tests in this shell
    assert "No exception yet" in one_line_usage_error_chat(shell, "%chat --error")
    shell.run_cell("{}['missing']", store_history=True)
    capsys.readouterr()
    assert shell.run_cell("%chat --error what now?", store_history=True).success
    sent = registry.active.messages[-2].content
    assert sent.startswith("what now?\n\nError: KeyError: 'missing'")
    assert "```python\n{}['missing']\n```" in sent
    capsys.readouterr()
    shell.run_cell("%chat --code hello", store_history=True)
    out = capsys.readouterr().out
    assert out.endswith(
        "Code from the reply:\n# [offline provider: no model was contacted]\n"
        "# A model would write code for: hello\nprint('hello')\n"
    )


def one_line_usage_error_chat(shell, line: str) -> str:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError) as info:
        shell.run_line_magic("chat", line.removeprefix("%chat "))
    assert "\n" not in str(info.value)
    return str(info.value)


def test_chat_option_mistakes_are_one_line(shell) -> None:
    assert "Nothing to send" in one_line_usage_error_chat(shell, "%chat --code")
    assert "unknown option '--codes'" in one_line_usage_error_chat(shell, "%chat --codes x")


def test_error_raised_before_the_extension_was_loaded(shell, capsys) -> None:
    """Only sys.last_value knows it: the cell's source comes from IPython's line cache."""
    shell.run_line_magic("unload_ext", "jido_magics")
    try:
        assert not shell.run_cell("words = ['a']\nwords[3]", store_history=True).success
    finally:
        shell.run_line_magic("load_ext", "jido_magics")
    import jido_magics

    capsys.readouterr()
    assert shell.run_cell("%chat --error", store_history=True).success
    sent = jido_magics.get_registry().active.messages[0].content
    assert "Error: IndexError: list index out of range" in sent
    assert "```python\nwords = ['a']\nwords[3]\n```" in sent
