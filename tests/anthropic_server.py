"""A real Anthropic Messages API server on 127.0.0.1 for tests, speaking SSE over HTTP/1.1.

It is :class:`sse_server.ScriptedServer` answering ``POST /v1/messages`` with Anthropic's event
stream (``message_start``, ``content_block_start`` / ``content_block_delta`` /
``content_block_stop``, ``message_delta`` with usage, ``message_stop``) and Anthropic's error
bodies. Point LiteLLM at it with ``model="anthropic/..."`` and ``api_base=server.root``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sse_server import ScriptedServer, Stall, Status, Stream

__all__ = ["AnthropicServer", "Stall", "Status", "Stream"]

MODEL = "claude-sonnet-4-5"

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def anthropic_error(status: Status) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status.code, "api_error")
    return {"type": "error", "error": {"type": kind, "message": status.message}}


@dataclass
class AnthropicServer(ScriptedServer):
    """A scripted server that speaks the Messages API."""

    route: str = "/v1/messages"
    error_body: Callable[[Status], dict[str, Any]] = anthropic_error


# -- events --------------------------------------------------------------------------------


def event(kind: str, **data: Any) -> str:
    """One SSE event in Anthropic's form: an ``event:`` line and a ``data:`` line."""
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}"


def message_start(input_tokens: int = 25, model: str = MODEL) -> str:
    message = {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1},
    }
    return event("message_start", message=message)


def text_block(index: int, *pieces: str) -> list[str]:
    return [
        event("content_block_start", index=index, content_block={"type": "text", "text": ""}),
        *(
            event("content_block_delta", index=index, delta={"type": "text_delta", "text": p})
            for p in pieces
        ),
        event("content_block_stop", index=index),
    ]


def thinking_block(index: int, *pieces: str) -> list[str]:
    start = {"type": "thinking", "thinking": "", "signature": ""}
    return [
        event("content_block_start", index=index, content_block=start),
        *(
            event(
                "content_block_delta", index=index, delta={"type": "thinking_delta", "thinking": p}
            )
            for p in pieces
        ),
        event(
            "content_block_delta",
            index=index,
            delta={"type": "signature_delta", "signature": "c2lnbmF0dXJl"},
        ),
        event("content_block_stop", index=index),
    ]


def tool_use_block(index: int, call_id: str, name: str, *json_pieces: str) -> list[str]:
    start = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
    return [
        event("content_block_start", index=index, content_block=start),
        *(
            event(
                "content_block_delta",
                index=index,
                delta={"type": "input_json_delta", "partial_json": p},
            )
            for p in json_pieces
        ),
        event("content_block_stop", index=index),
    ]


def message_end(stop_reason: str = "end_turn", output_tokens: int = 15) -> list[str]:
    return [
        event(
            "message_delta",
            delta={"stop_reason": stop_reason, "stop_sequence": None},
            usage={"output_tokens": output_tokens},
        ),
        event("message_stop"),
    ]


def reply(
    *pieces: str,
    thinking: tuple[str, ...] = (),
    input_tokens: int = 25,
    output_tokens: int = 15,
) -> Stream:
    """A streamed answer: optional thinking, then the text in ``pieces``, then usage."""
    blocks: list[str] = [message_start(input_tokens)]
    if thinking:
        blocks += thinking_block(0, *thinking)
    blocks += text_block(1 if thinking else 0, *pieces)
    blocks += message_end("end_turn", output_tokens)
    return Stream(blocks, done=False)


def tool_round(call_id: str, name: str, arguments: str, *, text: str = "") -> Stream:
    """A reply that asks for one tool call (its JSON arguments sent in two pieces)."""
    blocks: list[str] = [message_start()]
    index = 0
    if text:
        blocks += text_block(0, text)
        index = 1
    half = len(arguments) // 2
    blocks += tool_use_block(index, call_id, name, arguments[:half], arguments[half:])
    blocks += message_end("tool_use", 9)
    return Stream(blocks, done=False)
