"""``%load_ext``/``%unload_ext``: put the magics, the completer, the ``%chat`` input
transform, the error watch and autosave on a shell, and take them all off again."""

from __future__ import annotations

from typing import Any

from ..persistence.background_index import BackgroundIndexer
from .autosave import Autosave
from .chat import install_input_transform
from .completion import install_completer
from .extension import Extension, attach, detach, extension_for
from .last_error import install as watch_errors
from .magics import SessionMagics
from .saving import autosave_session
from .startup_hint import startup_hint


def load(shell: Any) -> Extension:
    """Register the magics on ``shell`` (again loading is a no-op)."""
    existing = extension_for(shell)
    if existing is not None:
        return existing
    extension = Extension(shell)
    magics = SessionMagics(shell, extension)
    extension.magics = magics
    shell.register_magics(magics)
    attach(shell, extension)
    install_completer(extension)
    extension.add_cleanup(install_input_transform(shell))
    extension.last_error, stop_watching = watch_errors(shell)
    extension.add_cleanup(stop_watching)
    extension.autosave = Autosave(
        extension.registry,
        extension.settings,
        lambda session: autosave_session(extension, session),
        getattr(shell, "events", None),
    )
    extension.add_cleanup(extension.autosave.stop)
    extension.indexer = BackgroundIndexer()
    extension.add_cleanup(extension.indexer.stop)
    hint = startup_hint(lambda: extension.sessions_folder)
    if hint:
        if extension.settings.startup_hint:
            print(hint)
        extension.index_later(extension.store)  # ready for a first search
    return extension


def unload(shell: Any) -> None:
    """Remove the magics and run every cleanup, leaving nothing registered."""
    extension = detach(shell)
    if extension is None:
        return
    try:
        extension.close()
    finally:
        manager = shell.magics_manager
        for kind, name in (("line", "session"), ("line", "chat"), ("cell", "chat")):
            manager.magics[kind].pop(name, None)
        manager.registry.pop(type(extension.magics).__name__, None)
        if extension.magics is not None:
            shell.configurables = [c for c in shell.configurables if c is not extension.magics]
