"""A ``%%chat`` reply as it streams: plain text in a terminal, rendered in a notebook.

In a kernel the reply streams into one display (plain text, updated at most every
``interval`` seconds, so a long reply is not resent with every word) and, once it is complete,
that same display is replaced by Markdown built with the renderer ``%session show`` uses:
message text neutralized (:func:`~..core.safe_markdown.neutralize_markdown`), reasoning and
tool calls folded. The plain text stays in the bundle for front ends without Markdown. A
terminal keeps the plain text printed as it arrives (:class:`StreamPrinter` on stdout).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from IPython.display import display

from ..agents.events import Event, ReasoningDelta, TextDelta, ToolResult
from ..core.controls import visible_controls
from ..core.errors import shorten
from ..core.safe_markdown import code_block, folded, neutralize_markdown
from ..core.transcript import tool_call_markdown


class StreamPrinter:
    """Writes a reply to ``out`` as its events arrive: reasoning first, marked, then the text,
    and one line per tool call."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out
        self.section: str | None = None
        self.at_line_start = True

    def __call__(self, event: Event) -> None:
        if isinstance(event, ReasoningDelta):
            self._enter("reasoning", "[reasoning] ")
            self._write(event.text)
        elif isinstance(event, TextDelta):
            self._enter("text", "")
            self._write(event.text)
        elif isinstance(event, ToolResult):
            call = event.call
            arguments = json.dumps(call.arguments, ensure_ascii=False, sort_keys=True)
            self._enter("tool", "")
            self._write(f"[tool {call.name}({shorten(arguments, 60)}): {call.status}]\n")

    def end(self) -> None:
        if not self.at_line_start:
            self._write("\n")

    def _enter(self, section: str, header: str) -> None:
        if self.section != section:
            if self.section is not None:
                self._write("\n" if self.at_line_start else "\n\n")
            self.section = section
            self._write(header)

    def _write(self, text: str) -> None:
        if not text:
            return
        text = visible_controls(text)  # a model's escape sequences must not drive the terminal
        out = self.out or sys.stdout  # looked up late: IPython swaps stdout per cell
        # noted first: an interrupt may land inside write or flush
        self.at_line_start = text.endswith("\n")
        out.write(text)
        out.flush()


def in_kernel(shell: Any) -> bool:
    """True in a Jupyter kernel (rich display), False in a terminal or plain shell."""
    return getattr(shell, "kernel", None) is not None


class RenderedReply:
    """The ``on_event`` callback of an exchange shown in a notebook: call it with each event
    (its :attr:`printer` writes the plain text into this object), then :meth:`finish`."""

    def __init__(
        self, *, interval: float = 0.1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.printer = StreamPrinter(self)  # the terminal's text, written to self.write
        self._interval = interval
        self._clock = clock
        self._plain: list[str] = []
        self._blocks: list[list[Any]] = []  # [kind, text or ToolCall], in arrival order
        self._handle: Any = None
        self._shown_at = 0.0

    # -- the event callback ----------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if isinstance(event, (ReasoningDelta, TextDelta)):
            kind = "reasoning" if isinstance(event, ReasoningDelta) else "text"
            if self._blocks and self._blocks[-1][0] == kind:
                self._blocks[-1][1] += event.text
            else:
                self._blocks.append([kind, event.text])
        elif isinstance(event, ToolResult):
            self._blocks.append(["tool", event.call])
        self.printer(event)

    # -- the file the printer writes to ----------------------------------------------------

    def write(self, text: str) -> int:
        self._plain.append(text)
        if self._handle is None or self._clock() - self._shown_at >= self._interval:
            self._show({"text/plain": self.plain_text})
        return len(text)

    def flush(self) -> None:
        """Nothing to do: :meth:`write` shows the text as often as ``interval`` allows."""

    # -- the end ---------------------------------------------------------------------------

    @property
    def plain_text(self) -> str:
        return "".join(self._plain)

    def markdown(self) -> str:
        """The reply as safe Markdown, as ``%session show`` renders a message."""
        parts = []
        for kind, content in self._blocks:
            if kind == "reasoning":
                parts.append(folded("Reasoning", code_block(content.strip("\n"))))
            elif kind == "text":
                parts.append(neutralize_markdown(content))
            else:
                parts.append(tool_call_markdown(content))
        return "\n\n".join(part for part in parts if part.strip()) + "\n"

    def finish(self) -> None:
        """Replace the streamed text by the rendered reply (nothing shown if nothing came)."""
        if not self._plain:
            return
        bundle = {"text/plain": self.plain_text}
        if self._blocks:
            bundle["text/markdown"] = self.markdown()
        self._show(bundle)

    def _show(self, bundle: dict[str, str]) -> None:
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        self._shown_at = self._clock()
