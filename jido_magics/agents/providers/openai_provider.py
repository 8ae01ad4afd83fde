"""Any OpenAI-compatible chat-completions endpoint through the official ``openai`` SDK.

The SDK is imported here only, when the provider is first used. Base URL and key come from
the session's settings, else ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``. Every failure becomes
a one-line :class:`ProviderError` that never contains the key.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# a module import: ``from . import failures`` would count as importing the package too
import jido_magics.agents.providers.failures as failures

from ...core.records import SessionConfig
from ...core.redaction import hide_keys
from ..errors import ChatError, ProviderError
from ..events import (
    Done,
    ProviderEvent,
    ReasoningDelta,
    TextDelta,
    ToolCallRequest,
    UsageEvent,
)
from ..tools import arguments_from_json
from .base import ChatRequest, chat_body
from .failures import TIMEOUT_ENV

BASE_URL_ENV = "OPENAI_BASE_URL"
API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_READ_TIMEOUT = 120.0
CONNECT_TIMEOUT = 10.0
OPENAI_URL = "https://api.openai.com/v1"
#: Local servers (Ollama, llama.cpp, vLLM) ignore the key, but the SDK requires one.
PLACEHOLDER_KEY = "not-needed"


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    api_key: str = field(repr=False)
    read_timeout: float


def resolve_endpoint(config: SessionConfig) -> Endpoint:
    """The URL, key and timeout to use; raises ``ChatError`` when they cannot work."""
    base_url = config.base_url or os.environ.get(BASE_URL_ENV, "").strip() or None
    api_key = config.api_key or os.environ.get(API_KEY_ENV, "").strip() or None
    if api_key is None:
        if base_url is None:
            raise ChatError(
                f"The openai provider needs an API key for {OPENAI_URL}: set {API_KEY_ENV}, "
                "or point base_url at a local server (%session config base_url=URL)."
            )
        api_key = PLACEHOLDER_KEY
    return Endpoint((base_url or OPENAI_URL).rstrip("/"), api_key, read_timeout())


def read_timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_READ_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ChatError(f"{TIMEOUT_ENV} must be a number of seconds above 0, not '{raw[:20]}'.")
    return value


class OpenAIProvider:
    name = "openai"

    def check(self, config: SessionConfig) -> None:
        if not config.model:
            raise ChatError(
                "The openai provider needs a model: %session config model=NAME "
                "(e.g. gpt-4o-mini, or llama3.2 on Ollama)."
            )
        resolve_endpoint(config)

    def stream(self, request: ChatRequest) -> Iterator[ProviderEvent]:
        import openai

        config = request.config
        self.check(config)
        endpoint = resolve_endpoint(config)
        client = openai.OpenAI(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            max_retries=0,  # a failure is reported at once; the user decides to retry
            timeout=openai.Timeout(endpoint.read_timeout, connect=CONNECT_TIMEOUT),
        )
        body = chat_body(request)
        try:
            try:
                stream = client.chat.completions.create(**body)
            except Exception as exc:
                raise ProviderError(_describe(exc, endpoint)) from None
            try:
                yield from stream_events(stream)
            except ProviderError:
                raise
            except Exception as exc:
                raise ProviderError(_describe(exc, endpoint, during_reply=True)) from None
            finally:
                stream.close()  # also on interrupt, cancel or an early close of this generator
        finally:
            client.close()


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


def stream_events(
    stream: Any, price: Callable[[Any], float | None] | None = None
) -> Iterator[ProviderEvent]:
    """Events from chat-completions chunks (the OpenAI SDK's, or LiteLLM's in the same form).
    ``price(usage)`` gives the request's cost in USD, or None when unknown."""
    calls: dict[int, _PendingCall] = {}
    finish_reason: str | None = None
    model: str | None = None
    usage: Any = None
    for chunk in stream:
        model = getattr(chunk, "model", None) or model
        # some servers repeat a running total in every chunk: only the last one counts
        usage = getattr(chunk, "usage", None) or usage
        for choice in chunk.choices or ():
            delta = choice.delta
            if delta is not None:
                reasoning = _field(delta, "reasoning_content") or _field(delta, "reasoning")
                if isinstance(reasoning, str) and reasoning:
                    yield ReasoningDelta(reasoning)
                if delta.content:
                    yield TextDelta(delta.content)
                for part in delta.tool_calls or ():
                    pending = calls.setdefault(part.index or 0, _PendingCall())
                    pending.id = part.id or pending.id
                    if part.function is not None:
                        pending.name += part.function.name or ""
                        pending.arguments += part.function.arguments or ""
            if choice.finish_reason:
                finish_reason = choice.finish_reason
    if finish_reason is None:
        raise ProviderError(failures.CUT_OFF)
    if usage is not None:
        cost = None if price is None else price(usage)
        yield UsageEvent(usage.prompt_tokens or 0, usage.completion_tokens or 0, cost)
    for index in sorted(calls):
        yield _request(calls[index], index)
    yield Done(finish_reason, model)


def _field(delta: Any, name: str) -> Any:
    value = getattr(delta, name, None)
    if value is None and getattr(delta, "model_extra", None):
        value = delta.model_extra.get(name)
    return value


def _request(pending: _PendingCall, index: int) -> ToolCallRequest:
    call_id = pending.id or f"call_{index}"
    try:
        arguments = arguments_from_json(pending.arguments)
    except ValueError:
        return ToolCallRequest(
            call_id, pending.name, {}, error="The tool call's arguments were not a JSON object."
        )
    return ToolCallRequest(call_id, pending.name, arguments)


def _describe(exc: BaseException, endpoint: Endpoint, *, during_reply: bool = False) -> str:
    """One line naming what went wrong and what to do, with no secret in it."""
    import openai

    where = endpoint.base_url
    timeouts, transport_errors = _http_errors()
    if isinstance(exc, (openai.APITimeoutError, *timeouts)):
        text = failures.no_answer(where, endpoint.read_timeout)
    elif isinstance(exc, openai.AuthenticationError):
        text = failures.key_refused(where, API_KEY_ENV)
    elif isinstance(exc, openai.APIStatusError):
        text = failures.http_status(where, exc.status_code, _server_message(exc))
    elif isinstance(exc, (openai.APIConnectionError, *transport_errors)):
        cause = exc.__cause__ or exc
        if during_reply:
            text = failures.broke_during_reply(where, cause)
        else:
            text = failures.unreachable(where, cause)
    elif isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        text = failures.malformed(where, exc)
    elif isinstance(exc, openai.APIError):
        text = f"{where} reported an error: {exc.message}"
    else:
        text = failures.unreadable(where, exc, exc)
    return redact(" ".join(text.split()), endpoint.api_key)


def _http_errors() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Timeout and transport error classes of the HTTP libraries the SDK has loaded: openai
    1.x uses ``httpx``, later versions ``httpx2``. Neither is a dependency of ours, so only
    modules already imported are looked at."""
    modules = [sys.modules.get(name) for name in ("httpx2", "httpx")]
    loaded = [m for m in modules if m is not None]
    return (
        tuple(m.TimeoutException for m in loaded if hasattr(m, "TimeoutException")),
        tuple(m.TransportError for m in loaded if hasattr(m, "TransportError")),
    )


def _server_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return str(message)[:200]
    return str(getattr(exc, "message", "") or exc)[:200]


def redact(text: str, api_key: str | None) -> str:
    """``text`` with the key, and anything shaped like a key, replaced."""
    return hide_keys(text, () if api_key == PLACEHOLDER_KEY else (api_key,))
