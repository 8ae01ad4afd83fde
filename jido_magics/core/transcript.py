"""A conversation as text for a reader: each message as Markdown (``%session show``, the
notebook export), the whole conversation as one Markdown transcript, and a plain JSON document
for ``%session export`` (stdlib only).

Message content is Markdown written by a user or a model, so before it is placed in Markdown
that a notebook renders it is neutralized (:mod:`.safe_markdown`). Reasoning steps and tool
calls are folded in ``<details>`` blocks whose text sits in code fences.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .clock import display_time, utc_now
from .controls import visible_controls
from .page import Entry, Page
from .phrases import ROLE_LABELS, SUPERSEDED_LABEL, dropped_note, model_label
from .records import ReasoningStep, ToolCall
from .safe_markdown import code_block, folded, markdown_inline, neutralize_markdown
from .text import plural

EXPORT_FORMAT = "jido_magics.transcript"
EXPORT_VERSION = 1


# -- Markdown --------------------------------------------------------------------------------


def entry_heading(entry: Entry) -> str:
    """``**#3 · Assistant** · 2026-11-24 12:43:49 UTC · gpt-4o · error``"""
    message = entry.message
    parts = [f"**#{entry.number} · {ROLE_LABELS.get(message.role, message.role.title())}**"]
    parts.append(display_time(message.created_at))
    if message.model:
        parts.append(markdown_inline(message.model))
    if message.status != "complete":
        parts.append(f"*{message.status}*")
    return " · ".join(parts)


def reasoning_markdown(steps: Sequence[ReasoningStep]) -> str:
    body = "\n\n".join(code_block(step.content) for step in steps)
    return folded(f"Reasoning ({plural(len(steps), 'step')})", body)


def tool_call_markdown(call: ToolCall) -> str:
    arguments = json.dumps(call.arguments, indent=2, ensure_ascii=False, sort_keys=True)
    body = "Arguments:\n\n" + code_block(arguments, "json")
    if call.result is not None:
        body += "\n\nResult:\n\n" + code_block(call.result)
    return folded(f"Tool call: {call.name} ({call.status})", body)


def entry_markdown(entry: Entry) -> str:
    """One message as Markdown: a heading line, the content, then folded extras."""
    message = entry.message
    blocks = [entry_heading(entry)]
    if entry.reasoning_steps:
        blocks.append(reasoning_markdown(entry.reasoning_steps))
    if message.role == "tool":
        label = f"Tool result ({message.tool_call_id})" if message.tool_call_id else "Tool result"
        blocks.append(folded(label, code_block(message.content)))
    elif message.status == "superseded":
        blocks.append(folded(SUPERSEDED_LABEL, neutralize_markdown(message.content)))
    elif message.content:
        blocks.append(neutralize_markdown(message.content))
    elif message.status == "streaming":
        blocks.append("*…*")
    blocks.extend(tool_call_markdown(call) for call in entry.tool_calls)
    return "\n\n".join(blocks)


def unattached_markdown(page: Page) -> list[str]:
    """The folded reasoning steps and tool calls of no message on ``page``."""
    blocks = []
    if page.unattached_reasoning:
        blocks.append(reasoning_markdown(page.unattached_reasoning))
    blocks.extend(tool_call_markdown(call) for call in page.unattached_tool_calls)
    return blocks


def transcript_markdown(page: Page, exported_at: str | None = None) -> str:
    """The conversation on ``page`` (the whole history, for an export) as one Markdown
    document, oldest message first."""
    lines = [
        f"# {markdown_inline(page.name)}",
        "",
        f"Session `{page.session_id}` · {markdown_inline(model_label(page.provider, page.model))}"
        f" · {plural(page.total, 'message')} · exported {display_time(exported_at or utc_now())}",
    ]
    for note in (page.fork, dropped_note(page.dropped)):
        if note:
            lines += ["", f"*{markdown_inline(note[0].upper() + note[1:])}.*"]
    blocks = ["\n".join(lines)]
    blocks += [entry_markdown(entry) for entry in page.entries]
    blocks += unattached_markdown(page)
    return visible_controls("\n\n---\n\n".join(blocks) + "\n")


def message_cells(page: Page) -> list[tuple[str, str]]:
    """``(message id, Markdown)`` of each message (one notebook cell each), oldest first."""
    return [(entry.message.id, visible_controls(entry_markdown(entry))) for entry in page.entries]


# -- JSON ------------------------------------------------------------------------------------


def transcript_document(session: Any, exported_at: str | None = None) -> dict[str, Any]:
    """The session as a plain, chronological JSON document (settings without secrets)."""
    with session.lock:
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": exported_at or utc_now(),
            "session": {
                "id": session.id,
                "name": session.name,
                "created_at": session.created_at,
                "updated_at": session.updated_at,
                "config": session.config.to_dict(),
                "usage": session.usage.to_dict(),
                "dropped": dict(session.dropped),
            },
            "messages": [m.to_dict() for m in session.messages],
            "reasoning_steps": [s.to_dict() for s in session.reasoning_steps],
            "tool_calls": [c.to_dict() for c in session.tool_calls],
        }
