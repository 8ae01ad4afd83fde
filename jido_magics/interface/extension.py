"""What the extension holds for one shell (``load``/``unload`` are in ``loading``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.records import DEFAULT_PROVIDER, SessionConfig
from ..core.registry import Registry
from .extension_settings import ExtensionSettings

if TYPE_CHECKING:
    from IPython.core.magic import Magics

    from ..persistence.background_index import BackgroundIndexer
    from ..persistence.store import SessionStore
    from .autosave import Autosave
    from .last_error import LastError

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
        #: What the magics' traitlets say; ``SessionMagics`` keeps it current.
        self.settings = ExtensionSettings()
        #: The ``SessionMagics`` registered on the shell (``loading.unload`` removes them).
        self.magics: Magics | None = None
        #: The ``%session ui`` widget (a ``jido_magics.ui.view.SessionView``), made on first use.
        self.session_view: Any = None
        self.autosave: Autosave | None = None
        #: The last exception a cell raised (``%chat --error``), watched from load on.
        self.last_error: LastError | None = None
        #: Keeps the search index current after loads and saves (set by ``loading.load``).
        self.indexer: BackgroundIndexer | None = None
        self._cleanups: list[Callable[[], None]] = []
        self._stores_cwd: Path | None = None
        #: Each session's home: the store it was loaded from or first saved to, kept for the
        #: kernel's life even if the notebook is renamed (see ``interface.saving``).
        self.homes: dict[str, SessionStore] = {}
        #: The notebook last found for this kernel (kept when it is renamed away).
        self._notebook: Path | None = None

    def default_config(self) -> SessionConfig:
        """Settings of a new session: the magics' settings, then the environment, then
        the offline provider. An API key in the environment alone never switches provider."""
        provider = self.settings.default_provider or os.environ.get(PROVIDER_ENV, "")
        model = self.settings.default_model or os.environ.get(MODEL_ENV, "")
        return SessionConfig(
            provider=provider.strip() or DEFAULT_PROVIDER, model=model.strip() or None
        )

    @property
    def sessions_folder(self) -> Path:
        """``SessionMagics.sessions_dir`` when set, else the folder beside the notebook (see
        ``persistence.location``)."""
        from ..persistence.location import folder_for_notebook, notebook_path, sessions_folder

        if not self.settings.sessions_dir:
            found = notebook_path(None, getattr(self.shell, "user_ns", None))
            if found is not None:
                self._notebook = found
            # Kept when renamed or moved while this kernel runs: Jupyter does not tell the
            # kernel its new name, so new sessions go where this notebook's sessions already
            # are rather than to the folder every notebook-less kernel shares.
            if self._notebook is not None:
                return folder_for_notebook(self._notebook)
        return sessions_folder(folder=self.settings.sessions_dir, cwd=self.cwd)

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
        # Imported here, not at the top: ``get_registry`` imports this module in any IPython
        # shell, loaded extension or not.
        from ..persistence.keys import default_key_path
        from ..persistence.store import SessionStore

        key = (folder, default_key_path())
        store = _stores.get(key)
        if store is None:
            store = _stores.setdefault(key, SessionStore(folder))
        return store

    def index_later(self, store: SessionStore) -> None:
        """Have ``store``'s folder indexed for search in the background, unless
        ``SessionMagics.background_index`` is off."""
        if self.indexer is not None and self.settings.background_index:
            self.indexer.request(store)

    def add_cleanup(self, cleanup: Callable[[], None]) -> None:
        self._cleanups.append(cleanup)

    def close(self) -> None:
        while self._cleanups:
            self._cleanups.pop()()


def extension_for(shell: Any) -> Extension | None:
    return _extensions.get(id(shell))


def attach(shell: Any, extension: Extension) -> None:
    """Make ``extension`` the one :func:`extension_for` finds for ``shell``."""
    _extensions[id(shell)] = extension


def detach(shell: Any) -> Extension | None:
    """Forget ``shell``'s extension; returns it (None if there was none)."""
    return _extensions.pop(id(shell), None)


def extension_for_current_shell() -> Extension | None:
    from IPython import get_ipython

    shell = get_ipython()
    return None if shell is None else extension_for(shell)
