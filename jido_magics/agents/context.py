"""What is sent to the model: the system prompt plus the newest messages that fit the
session's context budget, in the OpenAI chat format. The display history may hold 1000
messages; this walks back from the newest and stops as soon as the budget is spent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..core.records import Message, SessionConfig, ToolCall
from ..core.session import Session
from .errors import ChatError

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful assistant inside a Jupyter notebook. When tools are offered you may "
    "use them to look at the user's variables and recent cells; they are read-only."
)

#: Tokens counted for a message's role and framing, beside its text.
MESSAGE_OVERHEAD = 4
TRUNCATION_MARK = "[…earlier part cut to fit the context budget…]\n"


def estimate_tokens(text: str) -> int:
    """A cheap, provider-independent estimate: about four characters a token."""
    return (len(text) + 3) // 4


def system_prompt(config: SessionConfig) -> str:
    return DEFAULT_SYSTEM_PROMPT if config.system_prompt is None else config.system_prompt


def build_context(session: Session, config: SessionConfig | None = None) -> list[dict[str, Any]]:
    """The wire messages for the next request (system prompt first, then chronological)."""
    with session.lock:
        config = config or session.config
        messages = session.messages
        calls_by_message: dict[str, list[ToolCall]] = {}
        for call in session.tool_calls:
            if call.message_id is not None:
                calls_by_message.setdefault(call.message_id, []).append(call)
        system = system_prompt(config)
        budget = config.context_budget - system_cost(config)
        # The newest user message is the question: it is always sent whole, its cost set
        # aside first (send_message refuses one that cannot fit).
        question = _newest_user_message(messages)
        if question is not None:
            budget -= _cost(messages[question], [])
        picked: list[tuple[Message, list[ToolCall]]] = []
        for index in range(len(messages) - 1, -1, -1):
            message = messages[index]
            if index == question:
                picked.append((message, []))
                continue
            calls = calls_by_message.get(message.id, [])
            if not _worth_sending(message, calls):
                continue
            cost = _cost(message, calls)
            if cost > budget:
                if question is not None and index > question:
                    # newer than the question: this exchange's replies and tool results
                    if not picked:  # the newest of them is too long: send its end, and
                        # keep room for the replies that asked for it (a tool result alone
                        # is refused by chat APIs)
                        asking = [
                            (m, calls_by_message.get(m.id, []))
                            for m in messages[question + 1 : index]
                            if m.role == "assistant"
                        ]
                        reserve = sum(_cost(m, c) for m, c in asking if _worth_sending(m, c))
                        picked.append((_cut(message, max(budget - reserve, 16)), calls))
                        budget = reserve
                    continue
                if not picked:  # no question to keep, and the newest message is too long
                    picked.append((_cut(message, max(budget, 16)), calls))
                break
            budget -= cost
            picked.append((message, calls))
    picked.reverse()
    wire: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    wire.extend(_paired(picked))
    return wire


def system_cost(config: SessionConfig) -> int:
    """Tokens the system prompt takes from the context budget."""
    system = system_prompt(config)
    return estimate_tokens(system) + MESSAGE_OVERHEAD if system else 0


def check_fits(text: str, config: SessionConfig) -> None:
    """Refuse, before anything is added, a new user message that alone exceeds the context
    budget: it is never cut, so the question at its start cannot be lost."""
    need = estimate_tokens(text) + MESSAGE_OVERHEAD
    room = config.context_budget - system_cost(config)
    if need > room:
        raise ChatError(
            f"Not sent: this message is about {need:,} tokens, more than the context budget "
            f"of {config.context_budget:,} tokens ({room:,} beside the system prompt). Send a "
            f"shorter message, or raise the budget if the model accepts that much: "
            f"%session config context_budget={need + system_cost(config)}"
        )


def _newest_user_message(messages: Sequence[Message]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role == "user" and _worth_sending(message, []):
            return index
    return None


def _worth_sending(message: Message, calls: list[ToolCall]) -> bool:
    if message.status in ("streaming", "error", "superseded"):
        # a reply being written, one that failed, or one replaced by retry is no context
        return False
    if message.role == "assistant" and not message.content and not calls:
        return False
    return True


def _cost(message: Message, calls: list[ToolCall]) -> int:
    cost = estimate_tokens(message.content) + MESSAGE_OVERHEAD
    for call in calls:
        cost += (
            estimate_tokens(call.name) + estimate_tokens(_arguments_json(call)) + MESSAGE_OVERHEAD
        )
    return cost


def _cut(message: Message, budget: int) -> Message:
    keep = max(0, budget * 4 - len(TRUNCATION_MARK))
    return replace(message, content=TRUNCATION_MARK + message.content[-keep:] if keep else "")


def _arguments_json(call: ToolCall) -> str:
    return json.dumps(call.arguments, ensure_ascii=False, separators=(",", ":"))


def _paired(picked: list[tuple[Message, list[ToolCall]]]) -> list[dict[str, Any]]:
    """Wire messages where every tool result follows the assistant message that asked for it
    and every tool call offered has its result; the budget cut or the caps may have split a
    pair, and chat APIs reject an unpaired one."""
    answered = {m.tool_call_id for m, _ in picked if m.role == "tool"}
    wire: list[dict[str, Any]] = []
    open_calls: set[str] = set()
    for message, calls in picked:
        if message.role == "tool":
            if message.tool_call_id in open_calls:
                wire.append(
                    {
                        "role": "tool",
                        "tool_call_id": message.tool_call_id,
                        "content": message.content,
                    }
                )
            continue
        entry: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.role == "assistant":
            kept = [call for call in calls if call.id in answered]
            open_calls = {call.id for call in kept}
            if kept:
                if not message.content:
                    entry["content"] = None  # what chat APIs expect beside tool calls
                entry["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": _arguments_json(call)},
                    }
                    for call in kept
                ]
            elif not message.content:
                continue
        else:
            open_calls = set()
        wire.append(entry)
    return wire
