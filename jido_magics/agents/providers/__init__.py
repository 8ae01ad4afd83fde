"""Providers by name, so more can be added with :func:`register_provider`.

Factories are called on each lookup, which keeps providers free of shared state and lets the
``openai`` and ``litellm`` ones import their SDK only when used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..errors import UnknownProvider
from .base import ChatRequest, Provider

__all__ = [
    "ChatRequest",
    "Provider",
    "check_installed",
    "get_provider",
    "provider_names",
    "register_provider",
]

ProviderFactory = Callable[[], Provider]


def _offline() -> Provider:
    from .offline import OfflineProvider

    return OfflineProvider()


def _openai() -> Provider:
    from .openai_provider import OpenAIProvider

    return OpenAIProvider()


def _litellm() -> Provider:
    from .litellm_provider import LiteLLMProvider

    return LiteLLMProvider()


_lock = threading.Lock()
_factories: dict[str, ProviderFactory] = {
    "offline": _offline,
    "openai": _openai,
    "litellm": _litellm,
}


def check_installed(name: str) -> None:
    """Raise ``ChatError`` (one line naming the pip command) when provider ``name`` needs a
    package that is not installed; checked without importing it."""
    if name.strip().lower() == "litellm":
        from .litellm_provider import require

        require()


def register_provider(name: str, factory: ProviderFactory) -> Callable[[], None]:
    """Make ``factory()`` the provider called ``name``; returns a function that restores
    what was registered before."""
    key = name.strip().lower()
    with _lock:
        previous = _factories.get(key)
        _factories[key] = factory

    def restore() -> None:
        with _lock:
            if previous is None:
                _factories.pop(key, None)
            else:
                _factories[key] = previous

    return restore


def provider_names() -> tuple[str, ...]:
    with _lock:
        return tuple(_factories)


def get_provider(name: str) -> Provider:
    with _lock:
        factory = _factories.get(name.strip().lower())
    if factory is None:
        raise UnknownProvider(
            f"Unknown provider '{name[:40]}': use one of {', '.join(provider_names())} "
            "(%session config provider=NAME)."
        )
    return factory()
