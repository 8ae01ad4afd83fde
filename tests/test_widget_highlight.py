"""Fenced code in the widget's pages is highlighted by Pygments, and what Pygments returns is
checked against the allow-list before it reaches the page (it bypasses markdown-it's tokens)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from jido_magics.ui import highlight
from jido_magics.ui.highlight import CODE_CSS, highlight_code, is_safe_highlight
from jido_magics.ui.render import STYLE, render_markdown

CODE = 'def total(xs):\n    return sum(x * 2 for x in xs) < 3  # "<img src=x onerror=alert(1)>"\n'


class Tags(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, attrs))


def fenced(code: str, info: str) -> str:
    return render_markdown(f"Here:\n\n```{info}\n{code}```\n")


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", markup)).rstrip("\n") + "\n"


def test_python_is_highlighted_with_classes_only() -> None:
    page = fenced(CODE, "python")
    assert '<span class="k">def</span>' in page and '<span class="nf">total</span>' in page
    tags = Tags(page).tags
    assert {tag for tag, _ in tags} == {"p", "pre", "code", "span"}
    assert all(name == "class" for _, attrs in tags for name, _ in attrs)
    assert text_of(page) == "Here:\n" + CODE  # the code itself is unchanged


@pytest.mark.parametrize("info", ["", "nosuchlanguage", '"><script>x</script>', "x" * 50])
def test_other_fences_stay_plain_and_escaped(info: str) -> None:
    page = fenced(CODE, info)
    assert "<span" not in page and "<img" not in page and "<script" not in page
    assert text_of(page).endswith(CODE)


@pytest.mark.parametrize(
    "markup",
    [
        '<span class="k">def</span> <img src=x onerror=alert(1)>',
        '<span class="k" onclick="alert(1)">def</span>',
        '<span style="background:url(x)">a</span>',
        '<span class="k">a</span> > b',
        "<a href='javascript:alert(1)'>x</a>",
    ],
)
def test_the_allow_list_refuses_anything_but_class_spans(markup: str) -> None:
    assert not is_safe_highlight(markup)


def test_unsafe_highlighter_output_falls_back_to_plain_code(monkeypatch) -> None:
    import pygments

    monkeypatch.setattr(pygments, "highlight", lambda *a: "<img src=x onerror=alert(1)>")
    highlight._lexer.cache_clear()
    assert highlight_code("x = 1\n", "python") == ""
    page = fenced("<img src=x onerror=alert(1)>\n", "python")
    assert "<img" not in page and "&lt;img" in page


def test_code_blocks_get_a_background_and_theme_colours() -> None:
    assert CODE_CSS in STYLE
    assert ".jido-body pre{background:var(--jp-cell-editor-background" in CODE_CSS
    assert ".jido-body pre .k," in CODE_CSS and "--jp-mirror-editor-keyword-color" in CODE_CSS
