"""The widget's provider and model picker in a real browser: JupyterLab on 127.0.0.1 driven by
headless Chromium. The picker shows the active session's provider and model; choosing
another provider, typing a model and clicking Apply changes the kernel's session (read back
from a cell). Screenshot:
``test-artifacts/picker.png``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyterlab_harness import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    UI_TIMEOUT_MS,
    run_all_cells,
    running_lab,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MODEL = "anthropic/claude-sonnet-4-5"

CELLS = [
    "%load_ext jido_magics\nimport jido_magics",
    "registry = jido_magics.get_registry()\n"
    "if not registry.sessions:\n"
    "    %session new picked --model first-model",
    "%session ui",
    "c = jido_magics.get_registry().active.config\nprint('CONFIG:', c.provider, c.model)",
]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with running_lab(tmp_path, "picker.ipynb", CELLS) as served:
        yield served


def test_picker_in_jupyterlab(lab: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    url, _root = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            try:
                _drive(page, url)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "picker-failure.png"))
                raise
        finally:
            browser.close()


def _drive(page, url: str) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=UI_TIMEOUT_MS)
    page.goto(url, wait_until="domcontentloaded")
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    expect(cells).to_have_count(len(CELLS))
    run_all_cells(page, cells)
    last = cells.nth(len(CELLS) - 1)
    expect(last.locator(".jp-OutputArea")).to_contain_text("CONFIG: offline first-model")

    view = page.locator(".jido-view")
    provider = view.locator(".jido-provider select")
    model = view.locator(".jido-model input")
    expect(provider).to_have_value("offline")
    expect(model).to_have_value("first-model")

    provider.select_option("litellm")
    model.fill(MODEL)
    model.press("Tab")  # the box sends its value when it loses focus
    view.locator("button.jido-apply-model").click()
    expect(view.locator(".jido-status")).to_contain_text(f"litellm/{MODEL}")
    last.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    expect(last.locator(".jp-OutputArea")).to_contain_text(f"CONFIG: litellm {MODEL}")

    view.scroll_into_view_if_needed()
    view.screenshot(path=str(ARTIFACTS / "picker.png"))
