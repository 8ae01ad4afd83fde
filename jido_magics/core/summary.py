"""A short summary of a session for notebook display (``Session._repr_markdown_`` and
``_repr_html_``): name, id, counts, provider/model and the newest few messages.

Pure string building. Everything taken from the session is escaped (``html.escape`` for HTML,
backslash escapes for Markdown), so a name or a message cannot inject markup.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from .clock import display_time
from .page import take_page
from .phrases import ROLE_LABELS, dropped_note, model_label, saved_state, tokens_text
from .records import Message
from .safe_markdown import markdown_inline
from .text import plural, preview

NEWEST = 3
PREVIEW_CHARS = 120


@dataclass(frozen=True, slots=True)
class Summary:
    name: str
    session_id: str
    model: str
    counts: str
    tokens: str
    state: str
    dropped: str
    #: The newest messages (copies), oldest first.
    newest: tuple[Message, ...]


def summarize(session: Any, newest: int = NEWEST) -> Summary:
    """Read what the summary shows, consistently, under the session's lock (``newest`` >= 1)."""
    with session.lock:
        config = session.config
        count = len(session.messages)
        summary = Summary(
            name=session.name,
            session_id=session.id,
            model=model_label(config.provider, config.model),
            counts=", ".join(
                (
                    plural(count, "message"),
                    plural(len(session.reasoning_steps), "reasoning step"),
                    plural(len(session.tool_calls), "tool call"),
                )
            ),
            tokens=tokens_text(session.usage),
            state=saved_state(session),
            dropped=dropped_note(session.dropped),
            newest=take_page(session, None, newest).messages,
        )
    return summary


def _label(message: Message) -> str:
    label = ROLE_LABELS.get(message.role, message.role)
    return label if message.status == "complete" else f"{label}, {message.status}"


def _preview(message: Message) -> str:
    return preview(message.content, PREVIEW_CHARS)


def session_markdown(session: Any, newest: int = NEWEST) -> str:
    s = summarize(session, newest)
    lines = [
        f"**{markdown_inline(s.name)}** · `{s.session_id}` · {markdown_inline(s.model)}",
        "",
        f"{s.counts} · {s.tokens} · {s.state}"
        + (f" · {markdown_inline(s.dropped)}" if s.dropped else ""),
    ]
    if s.newest:
        lines += ["", "Newest messages:", ""]
        lines += [
            f"- **{_label(m)}** ({display_time(m.created_at)}): {markdown_inline(_preview(m))}"
            for m in s.newest
        ]
    return "\n".join(lines) + "\n"


def session_html(session: Any, newest: int = NEWEST) -> str:
    s = summarize(session, newest)
    e = html.escape
    parts = [
        '<div class="jido-session">',
        f"<strong>{e(s.name)}</strong> · <code>{e(s.session_id)}</code> · {e(s.model)}<br>",
        f"{e(s.counts)} · {e(s.tokens)} · {e(s.state)}"
        + (f" · {e(s.dropped)}" if s.dropped else ""),
    ]
    if s.newest:
        parts.append("<ul>")
        parts += [
            f"<li><b>{e(_label(m))}</b> ({e(display_time(m.created_at))}): {e(_preview(m))}</li>"
            for m in s.newest
        ]
        parts.append("</ul>")
    parts.append("</div>")
    return "\n".join(parts)
