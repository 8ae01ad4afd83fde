"""One exchange: the user's message in, the assistant's reply streamed into the session.

``send_message`` is the public entry point the magics and the widget build on. Whatever
happens, the session ends consistent: the user message stays, the reply keeps the text that
arrived and ends ``complete``, ``interrupted`` or ``error``, no tool call stays ``pending`` or
``running``, and ``mark_exchange_complete`` is called last (autosave listens for it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from ..core.branching import supersede_last_reply
from ..core.errors import JidoError, SessionBusy, shorten
from ..core.ids import new_id
from ..core.records import Message, ReasoningStep, SessionConfig, ToolCall, Usage
from ..core.redaction import hide_keys
from ..core.session import Session
from .context import build_context, check_fits
from .errors import ChatBusy, ChatError, ChatFailed, ProviderError
from .events import (
    Done,
    ErrorEvent,
    Event,
    ReasoningDelta,
    TextDelta,
    ToolCallRequest,
    ToolResult,
    UsageEvent,
)
from .providers import ChatRequest, Provider, get_provider
from .providers.keys import environment_keys
from .tools import TOOL_SPECS, run_tool

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11 on

logger = logging.getLogger("jido_magics")

#: Tool rounds per exchange; the round after the last one offers no tools, so the model answers.
MAX_TOOL_ROUNDS = 5

_CALL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOOL_LIMIT_RESULT = f"Not run: the limit of {MAX_TOOL_ROUNDS} tool rounds per message was reached."


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


EventCallback = Callable[[Event], None]


class ExchangeOptions(TypedDict, total=False):
    """What :func:`send_message` and :func:`retry_reply` take besides the session.

    ``namespace`` (the notebook's variables) enables the read-only notebook tools; without it
    no tools are offered. ``on_event`` is called with every event as it arrives, in this
    thread. ``cancel`` (e.g. a ``threading.Event``) is checked between chunks; once set, the
    reply stops and is kept as ``interrupted``.
    """

    namespace: Mapping[str, Any] | None
    on_event: EventCallback | None
    cancel: CancelFlag | None


def send_message(session: Session, text: str, **options: Unpack[ExchangeOptions]) -> Message:
    """Send ``text`` as the user's next message and stream the reply into ``session``
    (``options``: see :class:`ExchangeOptions`).

    Returns the final assistant message. Raises :class:`ChatError` before anything is added
    when the request cannot start, :class:`ChatFailed` (after the session is consistent) when
    the provider fails, and re-raises ``KeyboardInterrupt`` after keeping the partial reply as
    ``interrupted``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ChatError("Nothing to send: write a message first.")
    return _answer(session, text, options)


def retry_reply(session: Session, **options: Unpack[ExchangeOptions]) -> Message:
    """Ask the model again for the newest user message: the replies after it are kept,
    marked ``superseded`` (never sent as context), and a new reply streams in as with
    :func:`send_message`."""
    return _answer(session, None, options)


def _answer(session: Session, text: str | None, options: ExchangeOptions) -> Message:
    """One exchange for ``text``, or for the newest user message again when None (retry)."""
    unknown = options.keys() - ExchangeOptions.__annotations__.keys()
    if unknown:  # a mistyped option must not be ignored
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    config = session.config
    provider = get_provider(config.provider)
    provider.check(config)
    if text is not None:
        check_fits(text, config)
    with _exclusive(session):
        if text is None:
            supersede_last_reply(session)
        run = _Exchange(
            session,
            config,
            provider,
            options.get("namespace"),
            options.get("on_event"),
            options.get("cancel"),
        )
        return run.run(text)


@contextmanager
def _exclusive(session: Session) -> Iterator[None]:
    try:
        session.begin_answer()
    except SessionBusy:
        raise ChatBusy(session.name) from None
    try:
        yield
    finally:
        session.end_answer()


def is_busy(session: Session) -> bool:
    """True while an exchange is streaming into ``session``."""
    return session.answering


class _Cancelled(Exception):
    pass


@dataclass
class _Round:
    """What one request to the provider produced."""

    message: Message
    step: ReasoningStep | None = None
    requests: list[ToolCallRequest] = field(default_factory=list)
    usage: Usage | None = None
    done: Done | None = None


@dataclass
class _Exchange:
    session: Session
    config: SessionConfig
    provider: Provider
    namespace: Mapping[str, Any] | None
    on_event: EventCallback | None
    cancel: CancelFlag | None
    current: Message | None = None
    open_calls: list[ToolCall] = field(default_factory=list)

    def run(self, text: str | None) -> Message:
        """One exchange for ``text``; None: answer the newest user message again (retry)."""
        session = self.session
        failure: ChatFailed | None = None
        try:
            if text is not None:
                session.add_message("user", text)
            for round_number in range(MAX_TOOL_ROUNDS + 1):
                offer_tools = self.namespace is not None and round_number < MAX_TOOL_ROUNDS
                result = self._round(offer_tools)
                if not result.requests:
                    break
                self._run_tools(result, allowed=offer_tools)
                if not offer_tools:
                    break
        except _Cancelled:
            self._settle("interrupted", "Cancelled before it ran.")
        except KeyboardInterrupt:
            self._settle("interrupted", "Interrupted before it ran.")
            raise
        except Exception as exc:
            reason = _reason(exc)
            self._settle("error", f"Not run: {reason}")
            self._emit(ErrorEvent(reason))
            failure = ChatFailed(reason, self.current)
        finally:
            session.mark_exchange_complete()
        if failure is not None:
            raise failure
        assert self.current is not None
        return self.current

    # -- one request -------------------------------------------------------------------------

    def _round(self, offer_tools: bool) -> _Round:
        session = self.session
        request = ChatRequest(
            self.config, build_context(session, self.config), TOOL_SPECS if offer_tools else []
        )
        message = session.add_message(
            "assistant", "", model=self.config.model or self.provider.name, status="streaming"
        )
        self.current = message
        result = _Round(message)
        self._check_cancel()
        events = self.provider.stream(request)
        try:
            for event in events:
                self._check_cancel()
                self._apply(result, event)
                self._emit(event)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()  # releases the HTTP response when we stop early
        if result.done is None:
            raise ProviderError("The reply stream ended before it was complete.")
        session.finish_message(
            message, "complete", usage=result.usage, model=result.done.model or None
        )
        return result

    def _apply(self, result: _Round, event: Any) -> None:
        session = self.session
        if isinstance(event, TextDelta):
            session.append_text(result.message, event.text)
        elif isinstance(event, ReasoningDelta):
            if result.step is None:
                result.step = session.add_reasoning_step(event.text, result.message.id)
            else:
                session.append_reasoning(result.step, event.text)
        elif isinstance(event, ToolCallRequest):
            result.requests.append(event)
        elif isinstance(event, UsageEvent):
            # Usage bounds its counts and keeps only a real cost
            usage = Usage(event.input_tokens, event.output_tokens, event.cost_usd)
            session.add_usage(usage)
            if result.usage is None:
                result.usage = usage
            else:
                result.usage.add(usage)
        elif isinstance(event, Done):
            result.done = event
        elif isinstance(event, ErrorEvent):
            raise ProviderError(event.message)

    # -- tools -------------------------------------------------------------------------------

    def _run_tools(self, result: _Round, *, allowed: bool) -> None:
        session = self.session
        taken = {call.id for call in session.tool_calls}
        calls = []
        for request in result.requests:
            call_id = request.id
            if not _CALL_ID.fullmatch(call_id or "") or call_id in taken:
                call_id = f"call_{new_id(6)}"  # the id is echoed back; it must be unique
            taken.add(call_id)
            calls.append(
                (
                    request,
                    session.add_tool_call(
                        request.name, request.arguments, result.message.id, call_id=call_id
                    ),
                )
            )
        self.open_calls = [call for _, call in calls]
        for request, call in calls:
            self._check_cancel()
            if not allowed:
                self._finish_call(call, False, TOOL_LIMIT_RESULT)
            elif request.error is not None:
                self._finish_call(call, False, request.error)
            else:
                session.update_tool_call(call, "running")
                assert self.namespace is not None
                outcome = run_tool(call.name, call.arguments, self.namespace)
                keys = (self.config.api_key, *environment_keys())
                self._finish_call(call, outcome.ok, hide_keys(outcome.text, keys))

    def _finish_call(self, call: ToolCall, ok: bool, text: str) -> None:
        self.session.update_tool_call(call, "completed" if ok else "error", text)
        self.session.add_message("tool", text, tool_call_id=call.id)
        if call in self.open_calls:
            self.open_calls.remove(call)
        self._emit(ToolResult(call))

    # -- endings -----------------------------------------------------------------------------

    def _settle(self, status: str, call_result: str) -> None:
        """Make the session consistent after a stop: the reply keeps its text and gets
        ``status``; tool calls that did not run end as errors with a tool message each."""
        message = self.current
        if message is not None and message.status == "streaming":
            self.session.finish_message(message, status)  # type: ignore[arg-type]
        for call in list(self.open_calls):
            self._finish_call(call, False, call_result)

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise _Cancelled

    def _emit(self, event: Event) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a display bug must not lose the reply
            logger.exception("jido_magics: an on_event callback failed")


def _reason(exc: BaseException) -> str:
    """One line for the user."""
    if isinstance(exc, JidoError):
        text = str(exc)
    else:
        text = f"Unexpected {type(exc).__name__}: {exc}"
    return shorten(" ".join(text.split()), 300)
