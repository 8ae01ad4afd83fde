"""A ``%%chat`` reply in a notebook: streamed as plain text, then shown rendered.

In a kernel the reply streams into one display (plain text, updated at most every
``interval`` seconds, so a long reply is not resent with every word) and, once it is complete,
that same display is replaced by Markdown built with the renderer ``%session show`` uses:
message text neutralized (:func:`~..core.safe_markdown.neutralize_markdown`), reasoning and
tool calls folded. The plain text stays in the bundle for front ends without Markdown. A
terminal keeps the plain text printed as it arrives (:class:`~.chat.StreamPrinter` on stdout).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..agents.events import Event, ReasoningDelta, TextDelta, ToolResult
from ..core.safe_markdown import neutralize_markdown
from ..core.transcript import code_block, folded, tool_call_markdown
from .chat import StreamPrinter


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
        from IPython.display import display

        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        self._shown_at = self._clock()
