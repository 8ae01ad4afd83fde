"""Talking to models: providers, streaming events, notebook tools and the context window.

Imports only the core and the standard library; provider SDKs load when a provider is used.
The entry point is :func:`jido_magics.agents.exchange.send_message`.
"""

from __future__ import annotations

from .errors import ChatBusy, ChatError, ChatFailed, ProviderError, UnknownProvider

__all__ = ["ChatBusy", "ChatError", "ChatFailed", "ProviderError", "UnknownProvider"]
