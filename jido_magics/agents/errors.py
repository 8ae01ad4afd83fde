"""Typed errors of the agents layer; each carries one line for the user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import JidoError, SessionBusy

if TYPE_CHECKING:
    from ..core.records import Message


class ChatError(JidoError):
    """A chat request that cannot start (nothing to send, bad settings)."""


class UnknownProvider(ChatError):
    pass


class ChatBusy(ChatError, SessionBusy):
    """The session is still answering another message."""


class ProviderError(JidoError):
    """A provider failed mid-exchange: network, timeout, HTTP error, malformed stream."""


class ChatFailed(JidoError):
    """An exchange failed after it started. The session is already consistent: the user
    message is kept and ``message`` (the assistant reply so far) has status ``error``."""

    def __init__(self, reason: str, message: Message | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
