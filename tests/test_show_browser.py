"""``%session show`` and a session's summary in a real browser: JupyterLab renders the Markdown
(its own renderer, raw HTML on, outputs of a cell just run are trusted) in headless Chromium.

Hostile message content must stay inert there, reasoning and tool calls must be folded, and
code must keep its ``<``. The screenshot (``show.png``) goes to the folder the run names at its
end.
"""

from __future__ import annotations

import pytest
from jupyterlab_harness import ARTIFACTS, Lab, browser_page, open_and_run_all

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = (
    "Keep `a < b` and **bold**.\n\n```python\nif a < b:\n    pass\n```\n\n"
    "Look <img src=x onerror=\"window.jidoXss='img'\"> here.\n\n"
    "[click me](javascript:window.jidoXss='link') and "
    "[also](java&Tab;script:window.jidoXss='entity')\n\n"
    "<script>window.jidoXss='script'</script>\n\n"
    "\\`<img src=z onerror=\"window.jidoXss='backtick'\">`\n\n"
    # Last: a fence in a list item, which a renderer closes at the next unindented line.
    "- item\n  ```\n<img src=y onerror=\"window.jidoXss='fence'\">\n\nafter"
)

CELLS = [
    "%load_ext jido_magics\nimport jido_magics",
    "registry = jido_magics.get_registry()\n"
    "if not registry.sessions:\n"
    "    s = registry.create('show <b>me</b>')\n"
    "    s.add_message('user', 'What is in df?')\n"
    f"    answer = s.add_message('assistant', {HOSTILE!r})\n"
    "    s.add_reasoning_step('<img src=r onerror=\"window.jidoXss=1\"> thinking', answer.id)\n"
    "    call = s.add_tool_call('list_variables', {'x': '<b>'}, answer.id)\n"
    "    s.update_tool_call(call, 'completed', 'df: DataFrame <script>x</script>')",
    "%session show",
    "registry.active",
    "print('XSS:', 'none')",
]


def test_show_renders_inert_and_folded_in_jupyterlab(lab: Lab) -> None:
    from playwright.sync_api import expect

    url = lab.open("show.ipynb", CELLS)
    with browser_page("show", height=1400) as page:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        cells = open_and_run_all(page, url, len(CELLS))
        expect(cells.nth(len(CELLS) - 1).locator(".jp-OutputArea")).to_contain_text("XSS: none")
        shown = cells.nth(2).locator(".jp-OutputArea-output")
        expect(shown).to_contain_text("#2 · Assistant")
        _check_show(shown)
        summary = cells.nth(3).locator(".jp-OutputArea-output")
        expect(summary).to_contain_text("show <b>me</b>")
        assert summary.locator("b:text-is('me')").count() == 0
        page.wait_for_timeout(1000)  # give any injected handler time to fire
        assert page.evaluate("window.jidoXss") is None
        assert dialogs == []
        shown.screenshot(path=str(ARTIFACTS / "show.png"))


def _check_show(shown) -> None:
    # Nothing hostile became an element or a script link.
    assert shown.locator("img, script, iframe").count() == 0
    hrefs = [a.get_attribute("href") or "" for a in shown.locator("a").all()]
    assert not [h for h in hrefs if "script" in h.lower()], hrefs
    # Reasoning and the tool call are folded, closed by default.
    details = shown.locator("details")
    assert details.count() == 2
    assert details.nth(0).locator("summary").inner_text() == "Reasoning (1 step)"
    assert "Tool call: list_variables (completed)" in details.nth(1).inner_text()
    assert all(details.nth(i).get_attribute("open") is None for i in range(2))
    # Markdown still renders: emphasis, code spans and blocks keep "<".
    assert shown.locator("strong:text-is('bold')").count() == 1
    assert "a < b" in [c.inner_text() for c in shown.locator("code").all()]
    assert any("if a < b:" in (pre.text_content() or "") for pre in shown.locator("pre").all())
