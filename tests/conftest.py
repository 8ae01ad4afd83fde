"""Shared fixtures: a real IPython shell with the extension loaded, in a fresh folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh cache folder per test (never the user's), its database closed afterwards.
    Its own patch: a test's ``monkeypatch.undo()`` leaves it in place."""
    from jido_magics.persistence import cache

    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(cache.CACHE_ENV, str(folder))
        try:
            yield folder
        finally:
            cache.close_all()


@pytest.fixture(scope="session")
def ipython_shell():
    """The process's real ``InteractiveShell`` (IPython allows one per process)."""
    from IPython.testing.globalipapp import start_ipython

    return start_ipython()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current folder, so plain-IPython sessions save to ``tmp_path/.sessions``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return tmp_path


@pytest.fixture
def shell(ipython_shell, workdir: Path) -> Iterator:
    """The real shell with ``jido_magics`` freshly loaded; unloaded afterwards."""
    ipython_shell.user_ns.pop("__session__", None)
    ipython_shell.run_line_magic("load_ext", "jido_magics")
    try:
        yield ipython_shell
    finally:
        ipython_shell.run_line_magic("unload_ext", "jido_magics")


@pytest.fixture
def registry(shell):
    import jido_magics

    return jido_magics.get_registry()


@pytest.fixture
def chat_server() -> Iterator:
    """A real chat-completions server on 127.0.0.1 (see ``tests/sse_server.py``)."""
    from sse_server import ScriptedServer

    with ScriptedServer() as server:
        yield server
