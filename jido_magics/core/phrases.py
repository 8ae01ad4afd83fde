"""How a session is described to people, one wording each: its provider/model, saved state,
dropped entries, tokens and cost, the session it was forked from, and role names.

``%session list``, the notebook summary, ``show``, exports and the widget's status line all
take their words from here, so one state is never said two ways.
"""

from __future__ import annotations

from typing import Any

from .records import Usage
from .text import plural, usd

ROLE_LABELS = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool"}
#: The summary of a reply replaced by ``%session retry`` (folded wherever it is shown).
SUPERSEDED_LABEL = "Superseded reply (replaced by retry)"


def model_label(provider: str, model: str | None) -> str:
    """``openai/gpt-4o``, or the provider alone when no model is set."""
    return provider + (f"/{model}" if model else "")


def saved_state(session: Any) -> str:
    """``saved (gen 3)``, ``unsaved changes``, ``not saved`` or ``empty`` (read the
    session's ``dirty`` and ``generation`` under its lock when they must agree with more)."""
    if session.dirty:
        return "unsaved changes" if session.generation else "not saved"
    return f"saved (gen {session.generation})" if session.generation else "empty"


def dropped_note(dropped: dict[str, int]) -> str:
    """``"120 earlier messages dropped"`` (and steps/calls), or ``""`` when nothing dropped."""
    parts = []
    if dropped.get("messages"):
        parts.append(f"{plural(dropped['messages'], 'earlier message')} dropped")
    if dropped.get("reasoning_steps"):
        parts.append(f"{plural(dropped['reasoning_steps'], 'reasoning step')} dropped")
    if dropped.get("tool_calls"):
        parts.append(f"{plural(dropped['tool_calls'], 'tool call')} dropped")
    return ", ".join(parts)


def tokens_text(usage: Usage) -> str:
    """``tokens 50 in / 24 out``, and the cost when it is known (never "$0" for unknown)."""
    text = f"tokens {usage.input_tokens} in / {usage.output_tokens} out"
    return text if usage.cost_usd is None else f"{text} · {usd(usage.cost_usd)}"


def fork_note(session: Any, name_of_id: dict[str, str] | None = None) -> str:
    """``forked from 'analysis' at message 4`` for a fork, else ``""``. The parent's name
    is the one it had at the fork, else its name among ``name_of_id`` (open sessions), else
    its id."""
    parent = session.parent
    if parent is None:
        return ""
    name = parent.name or (name_of_id or {}).get(parent.session_id)
    label = f"'{name}'" if name else f"session {parent.session_id}"
    return f"forked from {label} at message {parent.message}"
