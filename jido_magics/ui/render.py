"""Conversation pages as safe HTML: Markdown with raw HTML disabled, links checked twice.

Model output is untrusted: the HTML widget puts its value in the page with ``innerHTML``, so
nothing here may let text become markup. markdown-it escapes every raw ``<`` (``html=False``),
refuses bad link schemes (its ``validateLink``, replaced by a stricter allow-list), and the
token pass below drops every attribute not on a short list and re-checks ``href``/``src``, so
no event-handler attribute or script URL can reach the output even through a parser bug.

Everything here is a pure function of its arguments; :class:`RenderCache` memoises message
bodies so re-showing a page costs dictionary lookups, not Markdown parsing.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..core.phrases import SUPERSEDED_LABEL
from ..core.safe_markdown import is_safe_url
from ..core.text import plural
from .highlight import CODE_CSS, highlight_code
from .toolbar import TOOLBAR_CSS

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

    from ..core.page import Page
    from ..core.records import Message, ReasoningStep, ToolCall

#: Attributes markdown-it emits that carry no behaviour; all others are dropped.
SAFE_ATTRIBUTES = frozenset({"href", "src", "alt", "title", "class", "start", "style"})
_SAFE_STYLE = re.compile(r"text-align:(left|right|center)")

TOOL_RESULT_LIMIT = 4000
ROLE_TITLES = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}

STYLE = (
    """<style>
.jido-scroll{display:flex;flex-direction:column-reverse;max-height:32em;overflow-y:auto;
padding-right:4px}
.jido-msg{margin:0 0 .6em 0;padding:.35em .6em;border-left:3px solid #9e9e9e;border-radius:3px}
.jido-msg.jido-user{border-color:#1976d2;background:rgba(25,118,210,.06)}
.jido-msg.jido-assistant{border-color:#388e3c;background:rgba(56,142,60,.05)}
.jido-msg.jido-tool,.jido-msg.jido-system{border-color:#757575}
.jido-msg.jido-error{border-color:#d32f2f}
.jido-head{font-weight:600;font-size:.9em}
.jido-meta{font-weight:400;opacity:.65;margin-left:.5em}
.jido-body p{margin:.25em 0}
.jido-body pre,.jido-tools pre{white-space:pre-wrap;word-break:break-word}
.jido-body img{max-width:100%}
.jido-notice,.jido-empty{font-style:italic;opacity:.75;margin:.3em 0 .6em 0}
.jido-msg details{margin:.25em 0;font-size:.9em}
"""
    + TOOLBAR_CSS
    + CODE_CSS
    + "</style>"
)


# -- Markdown ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """The one CommonMark parser (tables and strikethrough on, raw HTML off, fenced code with
    a language highlighted by :func:`.highlight.highlight_code`)."""
    from markdown_it import MarkdownIt

    options = {"html": False, "linkify": False, "typographer": False, "highlight": highlight_code}
    parser = MarkdownIt("commonmark", options)
    parser.enable(["table", "strikethrough"])
    # Replace markdown-it's block-list (it lets some data: images through) by an allow-list.
    parser.validateLink = is_safe_url  # type: ignore[method-assign]
    return parser


def _sanitize_tokens(tokens: Iterable[Token]) -> None:
    for token in tokens:
        if token.attrs:
            for name in list(token.attrs):
                value = str(token.attrs[name])
                keep = name in SAFE_ATTRIBUTES
                if name in ("href", "src"):
                    keep = is_safe_url(value)
                elif name == "style":
                    keep = _SAFE_STYLE.fullmatch(value) is not None
                if not keep:
                    del token.attrs[name]
            if token.type == "link_open" and "href" in token.attrs:
                token.attrs["rel"] = "noopener noreferrer nofollow"
                token.attrs["target"] = "_blank"
        if token.children:
            _sanitize_tokens(token.children)


def render_markdown(text: str) -> str:
    """``text`` as HTML; raw HTML in it is shown as text, unsafe links as plain text."""
    parser = markdown_parser()
    env: dict[str, Any] = {}
    tokens = parser.parse(text, env)
    _sanitize_tokens(tokens)
    return parser.renderer.render(tokens, parser.options, env)


# -- cache ---------------------------------------------------------------------------------


class RenderCache:
    """A small thread-safe LRU of rendered fragments, keyed by everything they depend on."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._items: OrderedDict[Hashable, str] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: str) -> str:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# -- a page --------------------------------------------------------------------------------


def render_page(page: Page, cache: RenderCache | None = None) -> str:
    """One page as HTML: the dropped notice on the oldest page, then each message with its
    role header, folded reasoning, body and folded tool calls, oldest first."""
    parts = [STYLE, '<div class="jido-scroll"><div class="jido-conv">']
    if page.dropped.get("messages") and not page.has_older:
        dropped = plural(page.dropped["messages"], "earlier message")
        parts.append(
            f'<div class="jido-notice">{dropped} dropped '
            "(the session keeps its newest messages up to the cap).</div>"
        )
    if not page.entries:
        parts.append('<div class="jido-empty">No messages yet: type below and press Send.</div>')
    for entry in page.entries:
        parts.append(
            render_message(
                entry.message, entry.reasoning_steps, entry.tool_calls, cache, entry.number
            )
        )
    if page.unattached_reasoning:
        parts.append(render_reasoning(page.unattached_reasoning, cache))
    if page.unattached_tool_calls:
        parts.append(render_tool_calls(page.unattached_tool_calls))
    parts.append("</div></div>")
    return "".join(parts)


def render_empty(text: str) -> str:
    return f'{STYLE}<div class="jido-empty">{html.escape(text)}</div>'


def render_message(
    message: Message,
    reasoning: Sequence[ReasoningStep] = (),
    tool_calls: Sequence[ToolCall] = (),
    cache: RenderCache | None = None,
    number: int | None = None,
) -> str:
    """One message; ``number`` (1 = the oldest kept) is shown in its head, for Fork."""
    role = html.escape(message.role, quote=True)
    classes = f"jido-msg jido-{role}" + (" jido-error" if message.status == "error" else "")
    head = _message_head(message, number)
    body = _message_body(message, cache)
    if message.status == "superseded":
        summary = html.escape(SUPERSEDED_LABEL)
        body = f'<details class="jido-superseded"><summary>{summary}</summary>{body}</details>'
    folded_reasoning = render_reasoning(reasoning, cache) if reasoning else ""
    folded_calls = render_tool_calls(tool_calls) if tool_calls else ""
    return (
        f'<div class="{classes}"><div class="jido-head">{head}</div>'
        f"{folded_reasoning}{body}{folded_calls}</div>"
    )


def _message_head(message: Message, number: int | None = None) -> str:
    title = ROLE_TITLES.get(message.role, message.role.title())
    if number is not None:
        title = f"#{number} {title}"
    meta = [message.created_at[11:19]]
    if message.model:
        meta.append(message.model)
    if message.status != "complete":
        meta.append({"streaming": "streaming…"}.get(message.status, message.status))
    stamp = html.escape(message.created_at, quote=True)
    details = html.escape(" · ".join(meta))
    return f'{html.escape(title)}<span class="jido-meta" title="{stamp}">{details}</span>'


def _message_body(message: Message, cache: RenderCache | None) -> str:
    key = ("message", message.id, message.role, message.content)
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return cached
    if message.role == "tool":
        body = (
            '<details class="jido-tool-result"><summary>Tool result</summary>'
            f"<pre>{_escape_limited(message.content)}</pre></details>"
        )
    else:
        body = f'<div class="jido-body">{render_markdown(message.content)}</div>'
    return cache.put(key, body) if cache is not None else body


def render_reasoning(steps: Sequence[ReasoningStep], cache: RenderCache | None = None) -> str:
    summary = f"Reasoning ({plural(len(steps), 'step')})"
    inner = []
    for step in steps:
        key = ("reasoning", step.id, step.content)
        cached = cache.get(key) if cache is not None else None
        if cached is None:
            cached = f'<div class="jido-step">{render_markdown(step.content)}</div>'
            if cache is not None:
                cache.put(key, cached)
        inner.append(cached)
    return f'<details class="jido-reasoning"><summary>{summary}</summary>{"".join(inner)}</details>'


def render_tool_calls(calls: Sequence[ToolCall]) -> str:
    noun = "call" if len(calls) == 1 else "calls"
    inner = []
    for call in calls:
        try:
            arguments = json.dumps(call.arguments, ensure_ascii=False, indent=1, default=str)
        except (RecursionError, ValueError):  # only arguments given through the Python API
            arguments = "(arguments too deeply nested to show)"
        result = (
            f"<div>Result:</div><pre>{_escape_limited(call.result)}</pre>"
            if call.result is not None
            else ""
        )
        inner.append(
            f'<div class="jido-call"><code>{html.escape(call.name)}</code> '
            f'<span class="jido-meta">{html.escape(call.status)}</span>'
            f"<pre>{_escape_limited(arguments)}</pre>{result}</div>"
        )
    summary = f"Tool {noun} ({len(calls)})"
    return f'<details class="jido-tools"><summary>{summary}</summary>{"".join(inner)}</details>'


def _escape_limited(text: str) -> str:
    if len(text) <= TOOL_RESULT_LIMIT:
        return html.escape(text)
    more = len(text) - TOOL_RESULT_LIMIT
    return html.escape(text[:TOOL_RESULT_LIMIT]) + html.escape(f"\n… {more} more characters")


def count_messages(page_html: str) -> int:
    """How many message blocks a rendered page holds (for tests and checks)."""
    return page_html.count('<div class="jido-msg ')
