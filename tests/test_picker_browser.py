"""The widget's provider and model picker in a real browser: JupyterLab on 127.0.0.1 driven by
headless Chromium. The picker shows the active session's provider and model; choosing
another provider, typing a model and clicking Apply changes the kernel's session (read back
from a cell). The screenshot (``picker.png``) goes to the folder the run names at its end."""

from __future__ import annotations

import pytest
from jupyterlab_harness import ARTIFACTS, Lab, browser_page, open_and_run_all

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


def test_picker_in_jupyterlab(lab: Lab) -> None:
    url = lab.open("picker.ipynb", CELLS)
    with browser_page("picker") as page:
        _drive(page, url)


def _drive(page, url: str) -> None:
    from playwright.sync_api import expect

    cells = open_and_run_all(page, url, len(CELLS))
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
