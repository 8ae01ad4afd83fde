"""The records a session holds: messages, reasoning steps, tool calls, usage and model settings.

Small slotted dataclasses with ``to_dict``/``from_dict``; dicts are plain JSON-ready values so
persistence can hand them straight to orjson. ``from_dict`` trusts its input's shape: schema
validation of untrusted data lives in persistence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from .errors import InvalidConfig, shorten

Role = Literal["system", "user", "assistant", "tool"]
MessageStatus = Literal["complete", "streaming", "interrupted", "error", "superseded"]
ToolCallStatus = Literal["pending", "running", "completed", "error"]

ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")
#: ``superseded``: a reply replaced by ``retry`` (file format 2); kept and shown folded, never
#: sent to the model as context.
MESSAGE_STATUSES: tuple[str, ...] = ("complete", "streaming", "interrupted", "error", "superseded")
TOOL_CALL_STATUSES: tuple[str, ...] = ("pending", "running", "completed", "error")


#: The largest count a session file stores (JSON readers agree on integers up to here).
MAX_COUNT = 2**53 - 1


def _bounded(count: int) -> int:
    return count if 0 <= count <= MAX_COUNT else min(max(count, 0), MAX_COUNT)


@dataclass(slots=True)
class Usage:
    """Token counts and, when the provider knows the price, the cost in US dollars; on a
    session they accumulate over all exchanges.

    Counts stay within ``0..MAX_COUNT`` (a server reporting absurd numbers must not make the
    session impossible to save or load). ``cost_usd`` is None when unknown, never 0 for
    unknown: a session's cost is the sum of the costs that are known."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None

    def __post_init__(self) -> None:
        self.input_tokens = _bounded(self.input_tokens)
        self.output_tokens = _bounded(self.output_tokens)
        self.cost_usd = _cost(self.cost_usd)

    def add(self, other: Usage) -> None:
        self.input_tokens = _bounded(self.input_tokens + other.input_tokens)
        self.output_tokens = _bounded(self.output_tokens + other.output_tokens)
        if other.cost_usd is not None:
            self.cost_usd = _cost((self.cost_usd or 0.0) + other.cost_usd)

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, Any]:
        """Plain counts; ``cost_usd`` only when known (file format 2)."""
        plain: dict[str, Any] = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }
        if self.cost_usd is not None:
            plain["cost_usd"] = self.cost_usd
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        return cls(
            int(data.get("input_tokens", 0)),
            int(data.get("output_tokens", 0)),
            data.get("cost_usd"),
        )


def _cost(value: float | None) -> float | None:
    """A cost as a finite float of at least 0; anything else (NaN, negative, not a number)
    is unknown."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None


@dataclass(frozen=True, slots=True)
class Parent:
    """Where a fork came from: the parent session's id and the message number (1 = the
    oldest message the parent held then) it was forked at. Saved as ``parent`` (format 2)."""

    session_id: str
    message: int
    #: The parent's name when known in this kernel (not saved: names change).
    name: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "message": self.message}


@dataclass(slots=True)
class Message:
    id: str
    role: Role
    content: str
    created_at: str
    model: str | None = None
    usage: Usage | None = None
    tool_call_id: str | None = None
    status: MessageStatus = "complete"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "content": self.content,
            "created_at": self.created_at,
            "model": self.model,
            "usage": None if self.usage is None else self.usage.to_dict(),
            "tool_call_id": self.tool_call_id,
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        usage = data.get("usage")
        return cls(
            id=data["id"],
            role=data["role"],
            content=data["content"],
            created_at=data["created_at"],
            model=data.get("model"),
            usage=None if usage is None else Usage.from_dict(usage),
            tool_call_id=data.get("tool_call_id"),
            status=data.get("status", "complete"),
        )


@dataclass(slots=True)
class ReasoningStep:
    id: str
    content: str
    created_at: str
    message_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "content": self.content,
            "created_at": self.created_at,
            "message_id": self.message_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReasoningStep:
        return cls(data["id"], data["content"], data["created_at"], data.get("message_id"))


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    created_at: str
    message_id: str | None = None
    result: str | None = None
    status: ToolCallStatus = "pending"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "arguments": self.arguments,
            "result": self.result,
            "status": self.status,
            "created_at": self.created_at,
            "message_id": self.message_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolCall:
        return cls(
            id=data["id"],
            name=data["name"],
            arguments=data["arguments"],
            created_at=data["created_at"],
            message_id=data.get("message_id"),
            result=data.get("result"),
            status=data.get("status", "pending"),
        )


DEFAULT_PROVIDER = "offline"
DEFAULT_CONTEXT_BUDGET = 8192


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """A session's model settings. Immutable: change it with :meth:`updated`.

    ``api_key`` is held for the provider but never shown in ``repr`` nor written by ``to_dict``.
    ``context_budget`` is the number of tokens of history sent to the model.
    """

    provider: str = DEFAULT_PROVIDER
    model: str | None = None
    base_url: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    system_prompt: str | None = None
    context_budget: int = DEFAULT_CONTEXT_BUDGET
    api_key: str | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain settings without secrets."""
        return {
            "provider": self.provider,
            "model": self.model,
            "base_url": self.base_url,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "system_prompt": self.system_prompt,
            "context_budget": self.context_budget,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionConfig:
        known = {f.name for f in fields(cls)} - {"api_key"}
        return cls().updated({k: v for k, v in data.items() if k in known})

    def updated(self, changes: dict[str, Any]) -> SessionConfig:
        """A copy with ``changes`` applied, all validated first: one bad value changes nothing."""
        checked = {key: _check_setting(key, value) for key, value in changes.items()}
        return replace(self, **checked)


SETTING_NAMES: tuple[str, ...] = (
    "provider",
    "model",
    "base_url",
    "temperature",
    "max_tokens",
    "system_prompt",
    "context_budget",
    "api_key",
)


def _check_setting(key: str, value: Any) -> Any:
    if key not in SETTING_NAMES:
        raise InvalidConfig(
            f"Unknown setting '{shorten(str(key), 40)}': "
            f"use one of {', '.join(SETTING_NAMES[:-1])}."
        )
    if key == "provider":
        if not isinstance(value, str) or not value.strip():
            raise InvalidConfig(
                "Setting 'provider' needs a provider name such as 'offline' or 'openai'."
            )
        return value.strip()
    if key in ("model", "system_prompt", "api_key"):
        if value is not None and not isinstance(value, str):
            raise InvalidConfig(f"Setting '{key}' must be text.")
        if key == "model" and value is not None and not value.strip():
            return None
        return value
    if key == "base_url":
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise InvalidConfig("Setting 'base_url' must start with http:// or https://.")
        return value
    if key == "temperature":
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (math.isfinite(value) and 0 <= value <= 2)
        ):
            raise InvalidConfig("Setting 'temperature' must be a number from 0 to 2.")
        return float(value)
    if key == "max_tokens":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
            raise InvalidConfig(
                "Setting 'max_tokens' must be a whole number of at least 1 (and at most 2**53-1)."
            )
        return value
    # context_budget
    if isinstance(value, bool) or not isinstance(value, int) or not 64 <= value <= MAX_COUNT:
        raise InvalidConfig(
            "Setting 'context_budget' must be a whole number of at least 64 tokens "
            "(and at most 2**53-1)."
        )
    return value


@dataclass(frozen=True, slots=True)
class Caps:
    """Hard caps of one session's history; overflow drops the oldest entries and counts them."""

    max_messages: int = 1000
    max_reasoning_steps: int = 100
    max_tool_calls: int = 500

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidConfig(f"Cap '{f.name}' must be a whole number of at least 1.")
