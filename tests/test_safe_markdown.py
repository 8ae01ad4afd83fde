"""Untrusted Markdown stays inert when a notebook renders it (raw HTML on, any link scheme)."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from jido_magics.core.safe_markdown import neutralize_markdown

UNSAFE_HREF = re.compile(r"^[\x00-\x20<]*(javascript|vbscript|data|file)\s*:", re.IGNORECASE)


def renderer() -> MarkdownIt:
    """Like a notebook's renderer: raw HTML allowed, GFM tables, and (worse than most) no
    filter on link schemes."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    md.validateLink = lambda url: True
    md.normalizeLink = lambda url: url  # keep the destination as the browser would get it
    return md


OUR_TAGS = ("<code>", "</code>")  # the only markup neutralize_markdown writes


def unsafe_tokens(markdown: str) -> list[str]:
    found = []
    stack = list(renderer().parse(markdown))
    while stack:
        token = stack.pop()
        if token.type in ("html_block", "html_inline") and token.content not in OUR_TAGS:
            found.append(f"{token.type}: {token.content!r}")
        for attr in ("href", "src"):
            value = token.attrGet(attr) if token.attrs else None
            if value is not None:
                browser_sees = re.sub(r"[\t\n\r]", "", html.unescape(str(value)))
                if UNSAFE_HREF.match(browser_sees):
                    found.append(f"{attr}={value!r}")
        stack.extend(token.children or [])
    return found


ATTACKS = {
    "raw html": "<script>alert(1)</script>",
    "img onerror": "Look: <img src=x onerror=alert(1)>",
    "html block": "<div onmouseover=alert(1)>\nhi\n</div>",
    "autolink": "<javascript:alert(1)>",
    "inline link": "[click](javascript:alert(1))",
    "image": "![x](javascript:alert(1))",
    "mixed case and blanks": "[click]( JaVaScRiPt:alert(1))",
    "angle destination": "[click](<javascript:alert(1)>)",
    "destination on the next line": "[click](\njavascript:alert(1))",
    "entity in the scheme": "[click](javascript&#58;alert(1))",
    "named entity": "[click](javascript&colon;alert(1))",
    "escaped colon": "[click](javascript\\:alert(1))",
    "tab entity inside": "[click](java&Tab;script:alert(1))",
    "data url": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "vbscript": "[x](vbscript:msgbox)",
    "reference definition": "[ref]: javascript:alert(1)\n\n[ref]",
    "definition on the next line": "[ref]:\n  javascript:alert(1)\n\n[ref]",
    "multi-line label": "[a\nb]: javascript:alert(1)\n\n[a b]",
    "unclosed fence": "```\n<b>code</b>",
    "fence closed by a list item's end": "- item\n  ```\n<img src=x onerror=alert(1)>\n",
    "escaped backtick": "\\`<img src=x onerror=alert(1)>`",
    "double escape": "\\\\`<b>code</b>` \\\\\\`<img src=x onerror=alert(1)>`",
    "code span over two lines": "`a\nb` x `c<img src=x onerror=alert(1)>`",
    "heading then paragraph": "# a `\nb` x `c<img src=x onerror=alert(1)>`",
    "table cell split": "| a | b |\n|---|---|\n| `x | <img src=x onerror=alert(1)> | y` |",
    "details injection": "</details><script>alert(1)</script>",
    "backslash in span": "`a\\`<img src=x onerror=alert(1)>`",
    "tilde fence with backticks": "~~~ `x`\n<b>in code</b>\n~~~\n<img src=x onerror=alert(1)>",
    "indented fence ends at less indent": "  ```\n <img src=x onerror=alert(1)>",
}


NAIVE_TRAPS = {"unclosed fence", "code span over two lines", "indented fence ends at less indent"}


@pytest.mark.parametrize("name", ATTACKS)
def test_attacks_render_inert(name: str) -> None:
    text = ATTACKS[name]
    # Each is a real attack on the raw text, except traps for a naive neutralizer.
    assert bool(unsafe_tokens(text)) != (name in NAIVE_TRAPS)
    assert unsafe_tokens(neutralize_markdown(text)) == []


@pytest.mark.parametrize(
    ("text", "html_part"),
    [
        ("Use `a < b` here", "<code>a &lt; b</code>"),
        ("```python\nif a < b:\n    pass\n```", "if a &lt; b:"),
        ("~~~\n<b>x</b>\n~~~", "&lt;b&gt;x&lt;/b&gt;"),
        ("``code with ` inside <x>``", "<code>code with ` inside &lt;x&gt;</code>"),
        ("[docs](https://example.org/a?b=1)", '<a href="https://example.org/a?b=1">docs</a>'),
        ("[mail](mailto:me@example.org)", '<a href="mailto:me@example.org">mail</a>'),
        ("[rel](notes/page.md)", '<a href="notes/page.md">rel</a>'),
        ("**bold** and *it* and 3 < 4", "<strong>bold</strong> and <em>it</em> and 3 &lt; 4"),
    ],
)
def test_ordinary_markdown_still_renders(text: str, html_part: str) -> None:
    assert html_part in renderer().render(neutralize_markdown(text))


def test_plain_text_is_unchanged() -> None:
    text = "Outliers: values beyond 1.5 * IQR.\n\n- one\n- two\n\n# Title\n\n> quote & more"
    assert neutralize_markdown(text) == text


def test_code_spans_with_a_less_than_become_escaped_code_html() -> None:
    out = neutralize_markdown("call `f(*a, **k) -> list[int] < x_1` & `plain`")
    html_out = renderer().render(out)
    assert "<code>f(*a, **k) -&gt; list[int] &lt; x_1</code>" in html_out
    assert "<code>plain</code>" in html_out and "<em>" not in html_out
    assert out.endswith("& `plain`")


def test_an_unclosed_fence_is_closed() -> None:
    out = neutralize_markdown("```\ncode")
    assert out == "```\ncode\n```"
    assert "after" in renderer().render(out + "\n\nafter").split("</code></pre>")[1]


LINE_PARTS = st.sampled_from(
    [
        # single marks
        *"<>/`\\[]():|-#&~ \n",
        # pieces of Markdown structure
        "``",
        "```",
        "~~~",
        "\n\n",
        "  ",
        "- ",
        "> ",
        "1. ",
        "# ",
        "|---|---|\n",
        "](",
        "]:",
        "[x](",
        "[r]: ",
        "\\`",
        "\n  ```\n",
        # pieces of attacks
        "<img src=x onerror=alert(1)>",
        "<b>",
        "javascript:alert(1))",
        "JaVaScRiPt",
        "java&Tab;script:",
        "&#58;",
        "&colon;",
        "\\:",
        "data:",
        "a",
        "b",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(LINE_PARTS, max_size=30).map("".join))
def test_random_markdown_never_renders_html_or_script_links(text: str) -> None:
    assert unsafe_tokens(neutralize_markdown(text)) == [], repr(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_handled(text: str) -> None:
    out = neutralize_markdown(text)
    assert unsafe_tokens(out) == [], repr(text)
    if not any(mark in text for mark in ("<", "](", "]:", "```", "~~~")):
        assert out == text
