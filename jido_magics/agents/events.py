"""What a provider streams, and what ``send_message`` passes to ``on_event``.

Providers yield ``TextDelta``, ``ReasoningDelta``, ``ToolCallRequest``, ``UsageEvent``,
``Done`` and ``ErrorEvent``. The exchange adds ``ToolResult`` after it runs a tool call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.records import ToolCall


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply's text."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning (kept as a ReasoningStep, not in the reply)."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """The model asks to run a tool. ``error`` is set when its arguments could not be read."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """Tokens of one request; ``cost_usd`` when the provider knows the price (else None)."""

    input_tokens: int
    output_tokens: int
    cost_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Done:
    """The stream ended normally."""

    finish_reason: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """The exchange failed; ``message`` is the one line shown to the user."""

    message: str


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A tool call finished (status ``completed`` or ``error``); emitted by the exchange."""

    call: ToolCall


ProviderEvent = TextDelta | ReasoningDelta | ToolCallRequest | UsageEvent | Done | ErrorEvent
Event = ProviderEvent | ToolResult
