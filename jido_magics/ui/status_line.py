"""The widget's status line: the active session's provider/model, its entries against their
caps, tokens and cost, saved state and fork note, then the last note and error (escaped HTML)."""

from __future__ import annotations

import html
from collections.abc import Iterable

from ..core.phrases import fork_note, model_label, saved_state, tokens_text
from ..core.session import Session


def session_facts(session: Session, open_sessions: Iterable[Session]) -> list[str]:
    """The facts about ``session`` the status line shows, read consistently under its lock."""
    with session.lock:
        config, caps = session.config, session.caps
        counts = (len(session.messages), len(session.reasoning_steps), len(session.tool_calls))
        dropped = session.dropped.get("messages", 0)
        tokens = tokens_text(session.usage)
        saved = saved_state(session)
    messages = f"{counts[0]}/{caps.max_messages} messages"
    if dropped:
        messages += f" ({dropped} dropped)"
    facts = [
        model_label(config.provider, config.model),
        messages,
        f"{counts[1]}/{caps.max_reasoning_steps} reasoning",
        f"{counts[2]}/{caps.max_tool_calls} tool calls",
        tokens,
        saved,
    ]
    note = fork_note(session, {s.id: s.name for s in open_sessions})
    return [*facts, note] if note else facts


def status_html(
    session: Session | None, open_sessions: Iterable[Session], note: str = "", error: str = ""
) -> str:
    """The status line as HTML: the facts of ``session`` (or "no session"), ``note`` and
    ``error``, all escaped."""
    escape = html.escape
    facts = ["no session"] if session is None else session_facts(session, open_sessions)
    line = escape(" · ".join(facts))
    if note:
        line += f" · {escape(note)}"
    if error:
        line += (
            f' · <span class="jido-error-text" style="color:#c62828">Error: {escape(error)}</span>'
        )
    return f'<span class="jido-status-line">{line}</span>'
