"""A JupyterLab server on 127.0.0.1 and headless Debian Chromium, for the browser tests.

One server serves the whole run (the ``lab`` fixture of ``tests/conftest.py`` starts it for the
first browser test); each test writes its notebook into the server's folder, opens it with
:func:`browser_page` and has its kernels shut down afterwards. Chromium, playwright or
JupyterLab missing skips a browser test, unless ``JIDO_REQUIRE_BROWSER=1`` (CI) makes that a
failure. The server gets the root conftest's environment (key file and Jupyter data in temp)
plus fresh config, runtime and IPython folders, so nothing of the user's setup takes part.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("JIDO_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Screenshots go to a fresh temporary folder (or $JIDO_SCREENSHOTS), never into the source
#: tree; tests/conftest.py names the folder at the end of the run.
ARTIFACTS = Path(os.environ.get("JIDO_SCREENSHOTS") or tempfile.mkdtemp(prefix="jido-screenshots-"))
SKIP_PREFIX = "browser test skipped"
LAB_START_TIMEOUT = 120.0  # seconds; a cold JupyterLab on a busy 2-core machine is slow
UI_TIMEOUT_MS = 120_000


def require_browser() -> None:
    """Skip the test (fail it under ``JIDO_REQUIRE_BROWSER=1``), saying what is missing."""
    required = os.environ.get("JIDO_REQUIRE_BROWSER") == "1"
    missing = None
    if not os.access(CHROMIUM, os.X_OK):
        missing = f"{CHROMIUM} is not installed (apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        missing = "the Python playwright package is not installed"
    elif importlib.util.find_spec("jupyterlab") is None:
        missing = "JupyterLab is not installed (pip install -e '.[test,lab]')"
    if missing:
        if required:
            pytest.fail(f"JIDO_REQUIRE_BROWSER=1 but {missing}.")
        pytest.skip(f"{SKIP_PREFIX}: {missing}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_notebook(path: Path, cells: list[str]) -> None:
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def lab_env(home: Path) -> dict[str, str]:
    """The root conftest's environment (key file and Jupyter data in temp) plus fresh config,
    runtime and IPython folders, so nothing of the user's setup takes part."""
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        folder = home / name.lower()
        folder.mkdir()
        env[name] = str(folder)
    # No "official Jupyter news?" prompt over the page.
    labconfig = env["JUPYTER_CONFIG_DIR"] + "/labconfig"
    os.mkdir(labconfig)
    Path(labconfig, "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    # Every cell in the page, not only those scrolled into view: tests count and read them.
    tracker = Path(env["JUPYTER_CONFIG_DIR"], "lab", "user-settings", "@jupyterlab")
    tracker = tracker / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def copy_unrun(source: Path, path: Path) -> int:
    """Copy the notebook ``source`` to ``path`` without outputs or execution counts (so a run
    in the browser is seen to happen); returns its number of code cells."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    for cell in code:
        cell["outputs"], cell["execution_count"] = [], None
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return len(code)


class Lab:
    """A running JupyterLab server: :meth:`open` a notebook in it, :meth:`close_notebooks`
    after each test."""

    def __init__(self, base: str, token: str, root: Path, workspaces: Path) -> None:
        self.base, self.token, self.root, self.workspaces = base, token, root, workspaces

    def open(self, notebook: str, cells: list[str] | Path) -> str:
        """Write a notebook of ``cells`` (or an unrun copy of the notebook file ``cells``) into
        the server's folder; returns its URL."""
        if isinstance(cells, Path):
            copy_unrun(cells, self.root / notebook)
        else:
            write_notebook(self.root / notebook, cells)
        return f"{self.base}/lab/tree/{notebook}?token={self.token}"

    def close_notebooks(self) -> None:
        """Shut down every kernel the server runs and forget the page layout it saved, so the
        next test's page opens only its own notebook."""
        for session in self._api("GET", "/api/sessions"):
            self._api("DELETE", f"/api/sessions/{session['id']}")
        for path in self.workspaces.iterdir():
            path.unlink()

    def _api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.base}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        return json.loads(body) if body else None


@contextmanager
def running_lab(home: Path) -> Iterator[Lab]:
    """A JupyterLab server serving the new folder ``home/lab``; stops the server (and its
    kernels) after."""
    require_browser()
    root, workspaces = home / "lab", home / "workspaces"
    root.mkdir()
    workspaces.mkdir()
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={workspaces}",
        "--LabApp.news_url=",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: the kernel's state
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = home / "lab.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=lab_env(home),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kernels stop with it
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(process, f"{base}/api/status?token={token}", log)
        yield Lab(base, token, root, workspaces)
    finally:
        stop(process)


@contextmanager
def browser_page(name: str, width: int = 1280, height: int = 1000) -> Iterator[Any]:
    """A page of headless Chromium (UI timeouts set); when the body fails, a screenshot
    ``<name>-failure.png`` goes to :data:`ARTIFACTS` before the error goes on."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(UI_TIMEOUT_MS)
            try:
                yield page
            except Exception:
                page.screenshot(path=str(ARTIFACTS / f"{name}-failure.png"))
                raise
        finally:
            browser.close()


def open_and_run_all(page: Any, url: str, count: int) -> Any:
    """Go to the notebook at ``url``, wait for its ``count`` cells and run them all; returns
    the cells' locator."""
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded")
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    expect(cells).to_have_count(count)
    run_all_cells(page, cells)
    return cells


def wait_until_serving(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + LAB_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(
        f"JupyterLab did not start in {LAB_START_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}"
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_for_kernel(page: Any) -> None:
    """Wait until JupyterLab has the notebook's kernel connected and idle. When its own start
    of the kernel failed (on a loaded machine: a timeout, or the kernel specs not loaded yet),
    JupyterLab asks which kernel to start: take the one it offers, the notebook's."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    ready = (
        "() => { const kernel = window.jupyterapp?.shell.currentWidget?.sessionContext"
        "?.session?.kernel; return kernel?.connectionStatus === 'connected'"
        " && kernel?.status === 'idle'; }"
    )
    offered = page.locator(".jp-Dialog", has_text="Select Kernel").locator(".jp-mod-accept")
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while True:
        try:
            page.wait_for_function(ready, timeout=5_000)
            return
        except PlaywrightTimeout:
            if offered.count():
                offered.click()
            elif time.monotonic() > deadline:
                raise


def run_all_cells(page: Any, cells: Any, ran: Callable[[], None] | None = None) -> None:
    """Run > Run All Cells once the kernel is idle, again if a try still got lost (the cells
    are idempotent), until ``ran`` passes (by default: the first cell has run)."""
    from playwright.sync_api import expect

    def first_cell_ran() -> None:
        prompt = cells.nth(0).locator(".jp-InputPrompt")
        expect(prompt).to_have_text(re.compile(r"\[(\d+|\*)\]"), timeout=30_000)

    for _attempt in range(5):
        wait_for_kernel(page)
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            (ran or first_cell_ran)()
            return
        except AssertionError:
            continue
    pytest.fail("JupyterLab never ran the notebook's cells (Run > Run All Cells).")
