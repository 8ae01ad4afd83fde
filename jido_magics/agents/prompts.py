"""Messages the product writes for the user, and what it reads back out of a reply:
``%%chat --code`` asks for code only and takes the code out of the reply; ``%chat --error``
describes the notebook's last exception."""

from __future__ import annotations

import re
import traceback
from types import TracebackType

from ..core.safe_markdown import code_block

#: Added to the user's text by ``--code`` (kept in the session: it is what was sent).
CODE_ONLY = "[Reply with code only: Python in one fenced code block, no explanation.]"
DEFAULT_ERROR_QUESTION = "Explain this error and how to fix it."
#: Beyond these sizes the traceback keeps its end and the cell its start.
TRACEBACK_LIMIT = 6000
SOURCE_LIMIT = 4000

# A fenced block: ``` or ~~~ (3 or more) with an optional info string, up to the same fence.
_FENCE = re.compile(
    r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[^\n`]*\n(?P<body>.*?)(?:^[ \t]{0,3}(?P=fence)[ \t]*$|\Z)",
    re.MULTILINE | re.DOTALL,
)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def ask_for_code(text: str) -> str:
    return f"{text}\n\n{CODE_ONLY}"


def wants_code_only(text: str) -> bool:
    return text.rstrip().endswith(CODE_ONLY)


def typed_text(text: str) -> str:
    """What the user typed: ``text`` without the instruction ``--code`` added to it."""
    if not wants_code_only(text):
        return text
    return text.rstrip().removesuffix(CODE_ONLY).rstrip()


def code_of(reply: str) -> str:
    """The code of ``reply``: the bodies of its fenced blocks joined by a blank line, or
    ``""`` when it holds none."""
    blocks = [m.group("body").rstrip("\n") for m in _FENCE.finditer(reply)]
    return "\n\n".join(block for block in blocks if block.strip())


def error_message(
    error: BaseException, source: str | None, question: str = DEFAULT_ERROR_QUESTION
) -> str:
    """The user message for ``%chat --error``: the question, then the exception's type and
    message, its traceback (plain text, no colours) and the source of the cell that raised."""
    kind = type(error).__qualname__
    text = _ANSI.sub("", str(error))
    trace = "".join(
        traceback.format_exception(type(error), error, _user_frames(error.__traceback__))
    )
    trace = _ANSI.sub("", trace)  # colours a library put in a message
    if len(trace) > TRACEBACK_LIMIT:
        trace = "…\n" + trace[-TRACEBACK_LIMIT:]
    parts = [question.strip() or DEFAULT_ERROR_QUESTION, f"Error: {kind}: {text}".rstrip(": ")]
    if source is not None and source.strip():
        if len(source) > SOURCE_LIMIT:
            source = source[:SOURCE_LIMIT] + "\n…"
        parts.append(f"The cell that raised it:\n\n{code_block(source.rstrip(), 'python')}")
    parts.append(f"Traceback:\n\n{code_block(trace.rstrip(), '')}")
    return "\n\n".join(parts)


def _user_frames(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` without its leading IPython frames (the machinery that ran the cell)."""
    first = tb
    while first is not None and first.tb_frame.f_globals.get("__name__", "").startswith("IPython."):
        first = first.tb_next
    return first if first is not None else tb
