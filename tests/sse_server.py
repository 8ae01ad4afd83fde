"""A real chat-completions server on 127.0.0.1 for tests, speaking SSE over HTTP/1.1.

Each test scripts the responses in order (``server.push(...)``); the server records every
request body in ``server.requests``. Responses: a stream of chunks (optionally with a garbage
line, a cut connection or a missing end), an HTTP error, or a stall for timeouts.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "test-model"


@dataclass
class Stream:
    """An SSE reply. ``chunks`` are dicts (sent as JSON) or raw ``str`` lines (sent as is).
    ``drop_after``: close the socket abruptly after that many chunks. ``done``: send
    ``data: [DONE]`` at the end."""

    chunks: list[dict[str, Any] | str]
    done: bool = True
    drop_after: int | None = None
    stall_after: int | None = None
    #: ``(n, gate)``: after ``n`` chunks, wait until ``gate`` (a ``threading.Event``) is set,
    #: then send the rest: a reply held mid-stream for as long as a test needs.
    hold_after: tuple[int, threading.Event] | None = None


@dataclass
class Status:
    """An HTTP error with a JSON body (the server's ``error_body``) and extra ``headers``
    (e.g. ``retry-after``)."""

    code: int
    message: str = "scripted error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stall:
    """Accept the request, then send nothing for ``seconds`` (or until the server stops)."""

    seconds: float = 30.0


def openai_error(status: Status) -> dict[str, Any]:
    return {"error": {"message": status.message, "type": "test", "code": status.code}}


@dataclass
class ScriptedServer:
    """``route``: the one path that answers (another gets 404); ``error_body``: the JSON of a
    scripted :class:`Status` in the protocol's own form."""

    responses: deque[Stream | Status | Stall] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    route: str = "/v1/chat/completions"
    error_body: Callable[[Status], dict[str, Any]] = openai_error

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def root(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    def push(self, *responses: Stream | Status | Stall) -> None:
        self.responses.extend(responses)

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (after a timeout, or a scripted drop) is expected here."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handle_error(request, client_address)


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            server.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path != server.route:
                self._status(Status(404, f"no route {self.path}"))
                return
            server.requests.append(json.loads(raw))
            response = server.responses.popleft() if server.responses else Status(500, "unscripted")
            if isinstance(response, Status):
                self._status(response)
            elif isinstance(response, Stall):
                server._stop.wait(response.seconds)
                self.close_connection = True
            else:
                self._stream(response)

        def _status(self, status: Status) -> None:
            body = json.dumps(server.error_body(status)).encode()
            self.send_response(status.code)
            self.send_header("Content-Type", "application/json")
            for name, value in status.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _stream(self, stream: Stream) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for number, chunk in enumerate(stream.chunks):
                if stream.drop_after is not None and number == stream.drop_after:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if stream.stall_after is not None and number == stream.stall_after:
                    server._stop.wait(30)
                    self.close_connection = True
                    return
                if stream.hold_after is not None and number == stream.hold_after[0]:
                    while not stream.hold_after[1].wait(0.05) and not server._stop.is_set():
                        pass
                line = chunk if isinstance(chunk, str) else "data: " + json.dumps(chunk)
                self._chunk(line + "\n\n")
            if stream.done:
                self._chunk("data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _chunk(self, text: str) -> None:
            data = text.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


# -- chunk builders ------------------------------------------------------------------------


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def content(text: str) -> dict[str, Any]:
    return _chunk({"role": "assistant", "content": text})


def reasoning(text: str, field_name: str = "reasoning_content") -> dict[str, Any]:
    return _chunk({"role": "assistant", "content": None, field_name: text})


def tool_call(index: int, call_id: str | None, name: str | None, arguments: str) -> dict:
    function: dict[str, Any] = {"arguments": arguments}
    if name is not None:
        function["name"] = name
    call: dict[str, Any] = {"index": index, "function": function}
    if call_id is not None:
        call["id"] = call_id
        call["type"] = "function"
    return _chunk({"role": "assistant", "tool_calls": [call]})


def finish(reason: str = "stop") -> dict[str, Any]:
    return _chunk({}, reason)


def usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def reply(*pieces: str, prompt_tokens: int = 11, completion_tokens: int = 7) -> Stream:
    """A plain streamed answer in ``pieces``, with a finish and a usage chunk."""
    return Stream(
        [*(content(p) for p in pieces), finish("stop"), usage(prompt_tokens, completion_tokens)]
    )
