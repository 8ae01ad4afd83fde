"""What the extension holds for one shell, and ``load``/``unload``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.records import DEFAULT_PROVIDER, SessionConfig
from ..core.registry import Registry

if TYPE_CHECKING:
    from ..persistence.store import SessionStore
    from .autosave import Autosave
    from .last_error import LastError
    from .magics import SessionMagics

PROVIDER_ENV = "JIDO_MAGICS_PROVIDER"
MODEL_ENV = "JIDO_MAGICS_MODEL"

_extensions: dict[int, Extension] = {}
#: Stores by (folder, key file) for the life of the process, i.e. the kernel: what a store
#: remembers (generations seen, files it wrote) must outlive an unload and reload.
_stores: dict[tuple[Path, Path], SessionStore] = {}


class Extension:
    """The registry and services of one shell. Services register a cleanup that
    :meth:`close` runs (in reverse order) when the extension is unloaded."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.registry = Registry(config_factory=self.default_config)
        self.magics: SessionMagics | None = None
        #: The ``%session ui`` widget (a ``jido_magics.ui.view.SessionView``), made on first use.
        self.session_view: Any = None
        self.autosave: Autosave | None = None
        #: The last exception a cell raised (``%chat --error``), watched from load on.
        self.last_error: LastError | None = None
        self._cleanups: list[Callable[[], None]] = []
        self._stores_cwd: Path | None = None
        #: Each session's home: the store it was loaded from or first saved to, kept for the
        #: kernel's life even if the notebook is renamed (see ``interface.saving``).
        self.homes: dict[str, SessionStore] = {}

    def default_config(self) -> SessionConfig:
        """Settings of a new session: the magics' settings, then the environment, then
        the offline provider. An API key in the environment alone never switches provider."""
        magics = self.magics
        provider = (magics.default_provider if magics else "") or os.environ.get(PROVIDER_ENV, "")
        model = (magics.default_model if magics else "") or os.environ.get(MODEL_ENV, "")
        return SessionConfig(
            provider=provider.strip() or DEFAULT_PROVIDER, model=model.strip() or None
        )

    @property
    def sessions_folder(self) -> Path:
        """``magics.sessions_dir`` when set, else the folder beside the notebook (see
        ``persistence.location``)."""
        from ..persistence.location import sessions_folder

        return sessions_folder(
            folder=self.magics.sessions_dir if self.magics else None,
            user_ns=getattr(self.shell, "user_ns", None),
            cwd=self.cwd,
        )

    @property
    def store(self) -> SessionStore:
        """The store of this notebook's sessions (in :attr:`sessions_folder`), made on first
        use."""
        return self.store_at(self.sessions_folder)

    @property
    def cwd(self) -> Path:
        """The folder relative paths start from: pinned at first use, so ``%cd`` does not
        move the sessions of a kernel."""
        if self._stores_cwd is None:
            self._stores_cwd = Path.cwd()
        return self._stores_cwd

    def store_at(self, folder: Path) -> SessionStore:
        """The store of ``folder`` (one per folder and key file for the process's life)."""
        from ..persistence.keys import default_key_path
        from ..persistence.store import SessionStore

        key = (folder, default_key_path())
        store = _stores.get(key)
        if store is None:
            store = _stores.setdefault(key, SessionStore(folder))
        return store

    def add_cleanup(self, cleanup: Callable[[], None]) -> None:
        self._cleanups.append(cleanup)

    def close(self) -> None:
        while self._cleanups:
            self._cleanups.pop()()


def extension_for(shell: Any) -> Extension | None:
    return _extensions.get(id(shell))


def extension_for_current_shell() -> Extension | None:
    from IPython import get_ipython

    shell = get_ipython()
    return None if shell is None else extension_for(shell)


def load(shell: Any) -> Extension:
    """Register the magics on ``shell`` (again loading is a no-op)."""
    existing = extension_for(shell)
    if existing is not None:
        return existing
    from .magics import SessionMagics

    extension = Extension(shell)
    magics = SessionMagics(shell, extension)
    extension.magics = magics
    shell.register_magics(magics)
    _extensions[id(shell)] = extension
    from .completion import install_completer

    install_completer(extension)
    from .chat import install_input_transform

    extension.add_cleanup(install_input_transform(shell))
    from .last_error import install as watch_errors

    extension.last_error, stop_watching = watch_errors(shell)
    extension.add_cleanup(stop_watching)
    from .autosave import Autosave

    extension.autosave = Autosave(extension)
    extension.add_cleanup(extension.autosave.stop)
    from .startup_hint import startup_hint

    hint = startup_hint(extension)
    if hint:
        print(hint)
    return extension


def unload(shell: Any) -> None:
    """Remove the magics and run every cleanup, leaving nothing registered."""
    extension = _extensions.pop(id(shell), None)
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
