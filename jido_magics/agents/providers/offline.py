"""The offline provider: deterministic, no network, and says so in every reply.

It makes the product usable and testable without a model. Its reply restates the prompt and
what it received; when asked about variables and the notebook tools are offered it calls
``list_variables`` once and reports the result, so tool calls can be seen offline too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ...core.records import SessionConfig
from ...core.safe_markdown import code_block
from ...core.text import clip, one_line, plural
from ..context import estimate_tokens
from ..events import Done, ProviderEvent, TextDelta, ToolCallRequest, UsageEvent
from ..prompts import typed_text, wants_code_only
from .base import ChatRequest

LABEL = "[offline provider: no model was contacted]"
MODEL = "offline"
_WANTS_VARIABLES = re.compile(r"\bvariables?\b", re.IGNORECASE)
_QUOTE_LIMIT = 200


class OfflineProvider:
    name = "offline"

    def check(self, config: SessionConfig) -> None:
        """Any settings work offline."""

    def stream(self, request: ChatRequest) -> Iterator[ProviderEvent]:
        messages = request.messages
        last = messages[-1] if messages else {"role": "user", "content": ""}
        offered = {spec["function"]["name"] for spec in request.tools}
        if (
            last["role"] == "user"
            and "list_variables" in offered
            and _WANTS_VARIABLES.search(last.get("content") or "")
        ):
            # the id is derived from the history so the same conversation gives the same id
            yield ToolCallRequest(f"offline-{len(messages)}", "list_variables", {})
            yield UsageEvent(_input_tokens(messages), 8)
            yield Done("tool_calls", MODEL)
            return
        reply = _reply(messages, last)
        for piece in _pieces(reply):
            yield TextDelta(piece)
        yield UsageEvent(_input_tokens(messages), estimate_tokens(reply))
        yield Done("stop", MODEL)


def _reply(messages: list[dict[str, Any]], last: dict[str, Any]) -> str:
    if last["role"] == "tool":
        return (
            f"{LABEL} The notebook tool answered:\n\n```\n{last.get('content') or ''}\n```\n\n"
            "A real model would now explain it; choose one with "
            "`%session config provider=openai model=NAME`."
        )
    content = last.get("content") or ""
    if wants_code_only(content):
        asked = " ".join(typed_text(content).split())
        code = f"# {LABEL}\n# A model would write code for: {asked}\nprint({asked!r})"
        return code_block(code, "python")
    prompt = one_line(content)
    quoted = clip(prompt, _QUOTE_LIMIT)
    earlier = sum(1 for m in messages[:-1] if m["role"] in ("user", "assistant"))
    words = len(prompt.split())
    return (
        f"{LABEL} You wrote {plural(words, 'word')}: \u201c{quoted}\u201d. "
        f"I received {plural(earlier, 'earlier message')} as context. "
        "To talk to a model, choose one with `%session config provider=openai model=NAME` "
        "(and OPENAI_BASE_URL / OPENAI_API_KEY)."
    )


def _pieces(text: str, count: int = 6) -> Iterator[str]:
    """Split ``text`` into about ``count`` deltas at word boundaries, as a stream would."""
    words = re.findall(r"\S+\s*|\s+", text)
    step = max(1, -(-len(words) // count))
    for start in range(0, len(words), step):
        yield "".join(words[start : start + step])


def _input_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(estimate_tokens(m.get("content") or "") + 4 for m in messages)
