"""The widget in a real browser: JupyterLab on 127.0.0.1 driven by headless Debian Chromium.

A notebook loads the extension, creates two sessions and shows ``%session ui``. The test runs
every cell, checks both session buttons appear, clicks the second one and reads the kernel's
active session back from a cell's output, then sends a message from the widget and waits for
the offline reply, then clicks Retry, Fork and Undo. The screenshot (``widget.png``) goes to
the folder the run names at its end.

Chromium missing skips the test, unless ``JIDO_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import pytest
from jupyterlab_harness import ARTIFACTS, Lab, browser_page, open_and_run_all

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MESSAGE = "Hello from the browser test"

CELLS = [
    "%load_ext jido_magics\nimport jido_magics",
    # Idempotent, so running all cells again (when the first "Run All" raced the kernel's
    # start) changes nothing.
    "registry = jido_magics.get_registry()\n"
    "if not registry.sessions:\n"
    "    %session new alpha\n"
    "    %session new beta\n"
    "    registry.get('beta').add_message('user', 'beta was here first')\n"
    "%session switch alpha",
    "%session ui",
    "print('ACTIVE:', jido_magics.get_registry().active.name)",
]


def test_widget_in_jupyterlab(lab: Lab) -> None:
    url = lab.open("widget.ipynb", CELLS)
    with browser_page("widget") as page:
        _drive(page, url)


def _drive(page, url: str) -> None:
    from playwright.sync_api import expect

    cells = open_and_run_all(page, url, len(CELLS))

    view = page.locator(".jido-view")
    tabs = view.locator(".jido-tabs button")
    expect(tabs).to_have_count(2)
    expect(tabs.nth(0)).to_have_text("alpha")
    expect(tabs.nth(1)).to_have_text("beta")
    active_output = cells.nth(len(CELLS) - 1).locator(".jp-OutputArea")
    expect(active_output).to_contain_text("ACTIVE: alpha")

    # A click switches the kernel's registry: the kernel renders beta's page, and a cell run
    # afterwards reads beta as the active session.
    tabs.nth(1).click()
    conversation = view.locator(".jido-conversation")
    expect(conversation).to_contain_text("beta was here first")
    cells.nth(len(CELLS) - 1).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    expect(active_output).to_contain_text("ACTIVE: beta")

    view.locator(".jido-input textarea").fill(MESSAGE)
    view.locator("button.jido-send").click()
    expect(conversation).to_contain_text(MESSAGE)
    expect(conversation).to_contain_text("offline provider")
    expect(view.locator(".jido-status")).to_contain_text("3/1000 messages")
    expect(view.locator(".jido-input textarea")).to_have_value("")

    # Retry keeps the old reply folded; Fork at message 2 opens an active copy; Undo in the
    # original puts the message back in the box.
    view.locator("button.jido-retry").click()
    expect(conversation.locator("details.jido-superseded")).to_have_count(1)
    expect(view.locator(".jido-status")).to_contain_text("4/1000 messages")
    view.locator(".jido-fork-at input").fill("2")
    view.locator(".jido-fork-at input").press("Enter")  # ipywidgets syncs a number on Enter
    view.locator("button.jido-fork").click()
    expect(tabs).to_have_count(3)
    expect(tabs.nth(2)).to_have_text("beta (fork)")
    expect(view.locator(".jido-status")).to_contain_text("forked from 'beta' at message 2")
    tabs.nth(1).click()
    expect(view.locator(".jido-status")).to_contain_text("4/1000 messages")
    view.locator("button.jido-undo").click()
    expect(view.locator(".jido-input textarea")).to_have_value(MESSAGE)
    expect(view.locator(".jido-status")).to_contain_text("1/1000 messages")

    view.scroll_into_view_if_needed()
    view.screenshot(path=str(ARTIFACTS / "widget.png"))
