"""The finished look, in JupyterLab with headless Chromium: a finished %%chat reply shows
rendered; the session row stays one tidy row with the active session unmistakable, at six
sessions (buttons) and at ten (a dropdown); fenced code in the widget is highlighted.

Screenshots (``rendered-reply.png``, ``ten-sessions.png``, ``highlighted-code.png``,
``toolbar.png``) go to the folder the run names at its end.
Chromium missing skips the test, unless ``JIDO_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import re

import pytest
from jupyterlab_harness import ARTIFACTS, Lab, browser_page, open_and_run_all, run_all_cells

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CODE_REPLY = (
    "Here:\n\n```python\ndef total(xs):\n    return sum(x * 2 for x in xs)  # doubled\n```\n"
)
CELLS = [
    "%load_ext jido_magics\nimport jido_magics",
    # Idempotent: "Run All" may run twice when the first try raced the kernel's start.
    "registry = jido_magics.get_registry()\n"
    "if not registry.sessions:\n"
    "    for i in range(1, 10):\n"
    "        registry.create(f'session-{i}')\n"
    "    code = registry.create('code')\n"
    "    code.add_message('user', 'Show me a loop')\n"
    f"    code.add_message('assistant', {CODE_REPLY!r})\n"
    "%session switch code",
    "%%chat\nPlease **render** `this` for me",
    "%session ui",
    "print('DONE')",
]
SIX = 6


def test_ten_sessions_one_row_and_the_active_one_stands_out(lab: Lab) -> None:
    from playwright.sync_api import expect

    url = lab.open("polish.ipynb", CELLS)
    with browser_page("polish", width=1000, height=1200) as page:
        cells = open_and_run_all(page, url, len(CELLS))
        expect(cells.nth(len(CELLS) - 1).locator(".jp-OutputArea")).to_contain_text("DONE")
        reply = cells.nth(2).locator(".jp-OutputArea-output").last
        _check_rendered_reply(reply)
        reply.screenshot(path=str(ARTIFACTS / "rendered-reply.png"))
        view = page.locator(".jido-view")
        _check_ten(view)
        view.scroll_into_view_if_needed()
        view.screenshot(path=str(ARTIFACTS / "ten-sessions.png"))
        code = view.locator(".jido-conversation pre").first
        _check_highlighted(code)
        code.screenshot(path=str(ARTIFACTS / "highlighted-code.png"))
        # Four closed: six buttons, the active one filled, bold and checked.
        run_in_new_cell(
            page,
            cells,
            "for s in registry.sessions[:4]:\n    %session close {s.id} --no-save\nprint('SIX')",
            "SIX",
        )
        _check_six(view)
        view.scroll_into_view_if_needed()
        view.locator(".jido-toolbar").screenshot(path=str(ARTIFACTS / "toolbar.png"))


def _one_row(view, choosers: list) -> None:
    """Every chooser and every action share a line, none cut off at the right."""
    buttons = choosers + [view.locator(f"button.jido-{name}") for name in ("new", "save", "close")]
    boxes = [b.bounding_box() for b in buttons]
    assert all(box is not None for box in boxes)
    tops = {round(box["y"] + box["height"] / 2) for box in boxes}
    assert max(tops) - min(tops) <= 3, tops
    toolbar = view.locator(".jido-toolbar").bounding_box()
    assert toolbar is not None and toolbar["height"] < 2 * boxes[-1]["height"]
    close = boxes[-1]
    assert close["x"] + close["width"] <= toolbar["x"] + toolbar["width"] + 1


def _check_ten(view) -> None:
    from playwright.sync_api import expect

    expect(view.locator(".jido-tabs")).to_be_hidden()
    menu = view.locator(".jido-menu select")
    expect(menu).to_be_visible()
    expect(menu.locator("option")).to_have_count(10)
    expect(menu).to_have_value(menu.locator("option", has_text="code").get_attribute("value"))
    assert menu.evaluate("el => el.options[el.selectedIndex].text") == "code"
    assert int(menu.evaluate("el => getComputedStyle(el).fontWeight")) >= 700
    _one_row(view, [menu])


def _check_six(view) -> None:
    from playwright.sync_api import expect

    expect(view.locator(".jido-menu")).to_be_hidden()
    tabs = view.locator(".jido-tabs button")
    expect(tabs).to_have_count(SIX)
    expect(tabs.nth(SIX - 1)).to_have_text("code")
    _one_row(view, [tabs.nth(i) for i in range(SIX)])
    # The active one: filled, bold and checked; the others are none of these.
    active, other = tabs.nth(SIX - 1), tabs.nth(0)
    expect(active).to_have_class(_has("mod-active"))
    assert active.locator("i.fa-check").count() == 1
    assert other.locator("i.fa-check").count() == 0
    style = "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).fontWeight]"
    active_bg, active_weight = active.evaluate(style)
    other_bg, other_weight = other.evaluate(style)
    assert active_bg != other_bg and int(active_weight) >= 700 > int(other_weight)
    assert "active" in (active.get_attribute("title") or "")
    # The active one is never cut to an ellipsis: its whole name and the check show.
    assert active.evaluate("el => el.scrollWidth <= el.clientWidth")
    shown, row = active.bounding_box(), view.locator(".jido-tabs").bounding_box()
    assert shown is not None and row is not None
    assert row["x"] - 1 <= shown["x"] and shown["x"] + shown["width"] <= row["x"] + row["width"] + 1


def _check_rendered_reply(reply) -> None:
    """The finished %%chat reply is rendered Markdown, not the streamed plain text."""
    from playwright.sync_api import expect

    expect(reply.locator("strong", has_text="render")).to_have_count(1)
    expect(reply.locator("code", has_text="this")).to_have_count(1)
    expect(reply.locator("code", has_text="%session config provider=openai")).to_have_count(1)
    assert "**" not in reply.inner_text() and "`" not in reply.inner_text()
    assert reply.locator("img, script").count() == 0


def _check_highlighted(code) -> None:
    """The widget's code block has a background and coloured tokens, and only spans in it."""
    from playwright.sync_api import expect

    expect(code.locator("span.k", has_text="def")).to_have_count(1)
    assert code.locator("*:not(code):not(span)").count() == 0
    colour = "el => getComputedStyle(el).color"
    keyword = code.locator("span.k").first.evaluate(colour)
    name = code.locator("span.n").first.evaluate(colour)
    comment = code.locator("span.c1").first.evaluate(colour)
    assert len({keyword, name, comment}) == 3, (keyword, name, comment)
    page_bg = code.evaluate("el => getComputedStyle(el.closest('.jido-msg')).backgroundColor")
    assert code.evaluate("el => getComputedStyle(el).backgroundColor") not in (page_bg, "")


def run_in_new_cell(page, cells, code: str, expected: str) -> None:
    """Type ``code`` into a new cell at the end, run it, and wait for ``expected``."""
    from playwright.sync_api import expect

    count = cells.count()
    cells.nth(count - 1).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new cell below, in command mode
    expect(cells).to_have_count(count + 1)
    editor = cells.nth(count).locator(".jp-InputArea-editor")
    editor.click()
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    expect(cells.nth(count).locator(".jp-OutputArea")).to_contain_text(expected)


def _has(name: str):
    import re

    return re.compile(rf"(^|\s){name}(\s|$)")


RESTART_CELLS = [
    "%load_ext jido_magics\nimport jido_magics",
    "if not jido_magics.get_registry().sessions:\n    %session new after-restart",
    "%session ui",
    "import os\nprint('READY in', os.getpid())",
]


def test_session_ui_works_at_once_after_a_kernel_restart(lab: Lab) -> None:
    """Restart the kernel, run the cells again: the new widget is live at once (its buttons
    switch sessions in the new kernel), and no disconnected widget is left in its place."""
    from playwright.sync_api import expect

    url = lab.open("restart.ipynb", RESTART_CELLS)
    with browser_page("restart") as page:
        cells = open_and_run_all(page, url, len(RESTART_CELLS))
        done = cells.nth(len(RESTART_CELLS) - 1).locator(".jp-OutputArea")
        expect(done).to_contain_text("READY")
        expect(page.locator(".jido-view .jido-tabs button")).to_have_count(1)
        old = done.inner_text().split()[-1]  # the first kernel's process id

        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Kernel$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Restart Kernel…$")).click()
        page.locator(".jp-Dialog-button.jp-mod-accept").click()
        # The old widget's kernel side is gone: nothing can mend that output.
        page.screenshot(path=str(ARTIFACTS / "restarted-before-rerun.png"))
        cells.nth(len(RESTART_CELLS) - 1).locator(".jp-InputArea-editor").click()
        page.keyboard.press("Escape")
        in_new_kernel = re.compile(rf"READY in (?!{old}\b)\d+")
        run_all_cells(
            page, cells, lambda: expect(done).to_contain_text(in_new_kernel, timeout=30_000)
        )

        view = page.locator(".jido-view")
        expect(view).to_have_count(1)
        expect(view.locator(".jido-tabs button")).to_have_text(["after-restart"])
        view.locator("button.jido-new").click()  # the kernel answers: it is live
        expect(view.locator(".jido-tabs button")).to_have_count(2)
        expect(view.locator(".jido-status")).not_to_contain_text("Error")
        assert page.locator(".jupyter-widgets-disconnected").count() == 0
        view.screenshot(path=str(ARTIFACTS / "after-restart.png"))
