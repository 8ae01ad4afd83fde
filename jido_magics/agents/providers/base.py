"""The provider interface: a request in, a stream of events out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...core.records import SessionConfig
from ..events import ProviderEvent


@dataclass(frozen=True)
class ChatRequest:
    """What one round sends: the session's settings, the wire messages (OpenAI chat format,
    system prompt first) and the tools offered (OpenAI function specs; empty for none)."""

    config: SessionConfig
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)


def chat_body(request: ChatRequest) -> dict[str, Any]:
    """The chat-completions body of ``request`` (OpenAI's form, which LiteLLM takes too): a
    streamed reply with its usage, and only the settings the session sets."""
    config = request.config
    body: dict[str, Any] = {
        "model": config.model,
        "messages": request.messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if config.temperature is not None:
        body["temperature"] = config.temperature
    if config.max_tokens is not None:
        body["max_tokens"] = config.max_tokens
    if request.tools:
        body["tools"] = request.tools
    return body


class Provider(Protocol):
    """Turns a :class:`ChatRequest` into events. ``stream`` raises
    :class:`~jido_magics.agents.errors.ProviderError` (or yields ``ErrorEvent``) on failure
    and ends with ``Done``; closing the iterator early must release its connection."""

    name: str

    def check(self, config: SessionConfig) -> None:
        """Raise ``ChatError`` when ``config`` cannot work, before anything is sent."""

    def stream(self, request: ChatRequest) -> Iterator[ProviderEvent]: ...
