"""jido_magics: named LLM conversation sessions in a Jupyter kernel.

``%load_ext jido_magics`` adds ``%session`` and ``%%chat``. From Python::

    import jido_magics
    registry = jido_magics.get_registry()
    s = registry.create("analysis")
    s.add_message("user", "hello")

Importing this package is cheap: IPython, ipywidgets and provider SDKs load only when used.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from .core import (
    Caps,
    JidoError,
    Message,
    Page,
    ReasoningStep,
    Registry,
    Session,
    SessionConfig,
    ToolCall,
    Usage,
)

__version__ = "0.1.0"

__all__ = [
    "Caps",
    "JidoError",
    "Message",
    "Page",
    "ReasoningStep",
    "Registry",
    "Session",
    "SessionConfig",
    "ToolCall",
    "Usage",
    "get_registry",
    "load_ipython_extension",
    "unload_ipython_extension",
]

_default_registry: Registry | None = None
_default_lock = threading.Lock()


def get_registry() -> Registry:
    """The registry of the running IPython shell where the extension is loaded, else a
    process-wide default registry (created on first use)."""
    if "IPython" in sys.modules:
        from .interface.extension import extension_for_current_shell

        extension = extension_for_current_shell()
        if extension is not None:
            return extension.registry
    global _default_registry
    with _default_lock:
        if _default_registry is None:
            _default_registry = Registry()
        return _default_registry


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext jido_magics``."""
    from .interface.loading import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Called by ``%unload_ext jido_magics``: removes everything the extension registered."""
    from .interface.loading import unload

    unload(ipython)
