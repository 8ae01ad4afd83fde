"""Shared fixtures: a real IPython shell with the extension loaded, in a fresh folder."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

RUN_BROWSER_TESTS = (
    "To run them: apt-get install chromium (Debian's; set JIDO_CHROMIUM if it lives elsewhere), "
    "then JIDO_REQUIRE_BROWSER=1 bash scripts/test.sh, which fails instead of skipping."
)


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


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verifications happen 'later': files written now count as settled (as a folder saved
    a while ago is), so listings keep them in the cache and their text counts as indexed. A
    file must never change within the same clock tick afterwards (see
    tests/persistence/test_saved_cache._changed)."""
    import time

    from jido_magics.persistence import catalog

    real = time.time_ns
    monkeypatch.setattr(catalog.time, "time_ns", lambda: real() + 10 * catalog.SETTLE_NS)


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
    from magic_helpers import extension_loaded

    ipython_shell.user_ns.pop("__session__", None)
    with extension_loaded(ipython_shell):
        yield ipython_shell


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


@pytest.fixture(scope="session")
def jupyterlab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """One JupyterLab server for the run (see ``tests/jupyterlab_harness.py``)."""
    from jupyterlab_harness import running_lab

    with running_lab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator:
    """The run's JupyterLab server, its kernels shut down after the test. Skips, saying why,
    when Chromium, playwright or JupyterLab is missing (fails under JIDO_REQUIRE_BROWSER=1)."""
    from jupyterlab_harness import require_browser

    require_browser()
    server = request.getfixturevalue("jupyterlab_server")
    try:
        yield server
    finally:
        server.close_notebooks()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say plainly when the browser tests did not run and how to run them, and where this
    run's screenshots are (a temporary folder, never the source tree)."""
    from jupyterlab_harness import SKIP_PREFIX

    reasons = []
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        if SKIP_PREFIX in str(reason):
            reasons.append(str(reason).split(f"{SKIP_PREFIX}: ", 1)[-1])
    if reasons:
        terminalreporter.write_sep("=", "browser tests skipped", yellow=True)
        terminalreporter.write_line(f"{len(reasons)} browser test(s) did not run: {reasons[0]}.")
        terminalreporter.write_line(RUN_BROWSER_TESTS)
    harness = sys.modules.get("jupyterlab_harness")
    folder = getattr(harness, "ARTIFACTS", None)
    if folder is None or not folder.is_dir():
        return
    shots = sorted(path.name for path in folder.iterdir())
    if shots:
        terminalreporter.write_line(f"Browser test screenshots in {folder}: {', '.join(shots)}")
    else:
        folder.rmdir()  # made at import, unused: leave no trace
