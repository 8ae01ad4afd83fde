"""The quick start passes Run All in JupyterLab (headless Chromium): its cells that show a
mistake on purpose carry the ``raises-exception`` tag, so Run All goes on past them and the
last cell runs. The notebook runs unrun (outputs stripped) in a temporary copy.

The screenshot (``quickstart-end.png``) goes to the folder the run names at its end.
Chromium missing skips the test, unless ``JIDO_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jupyterlab_harness import ARTIFACTS, Lab, browser_page, wait_for_kernel

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUICKSTART = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"


def test_run_all_runs_the_quick_start_to_its_last_cell(lab: Lab) -> None:
    from playwright.sync_api import expect

    url = lab.open("quickstart.ipynb", QUICKSTART)
    with browser_page("quickstart") as page:
        page.goto(url, wait_until="domcontentloaded")
        code = page.locator(".jp-NotebookPanel .jp-Notebook .jp-CodeCell")
        expect(code.first).to_be_visible()
        count = _code_cells()
        assert count >= 20
        expect(code).to_have_count(count)
        _run_all_once(page, code)
        last = code.last
        expect(last.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"))
        expect(last.locator(".jp-OutputArea")).to_contain_text("Closed session")
        assert "Error" not in last.locator(".jp-OutputArea").inner_text()
        errors = code.filter(has_text="UsageError:")
        assert errors.count() >= 3  # the deliberate mistakes ran and showed
        # Every cell ran, but the cells %chat --code put below its own (new, not run).
        inserted = 0
        for i in range(code.count()):
            prompt = code.nth(i).locator(".jp-InputPrompt").inner_text().strip()
            if re.fullmatch(r"\[\d+\]:?", prompt):
                continue
            above = code.nth(i - 1).locator(".jp-InputArea-editor").inner_text()
            assert i > 0 and "--code" in above, (i, prompt)
            inserted += 1
        assert code.count() == count + inserted
        last.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "quickstart-end.png"))


def _code_cells() -> int:
    notebook = json.loads(QUICKSTART.read_text(encoding="utf-8"))
    return sum(cell["cell_type"] == "code" for cell in notebook["cells"])


def _run_all_once(page, code) -> None:
    """Run > Run All Cells once the kernel is idle (the quick start is not idempotent)."""
    from playwright.sync_api import expect

    wait_for_kernel(page)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    expect(code.first.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[(\d+|\*)\]"))
