"""Hostile model output is inert wherever it becomes HTML: the widget's Markdown renderer, every
part of a widget page (bodies, reasoning, tool names, arguments and results, model names,
session names, the status line) and the session's HTML repr. The output is parsed with
html.parser: no script or other active element, no on* attribute, no URL with a scheme but
http, https or mailto (after the decoding browsers do), no style but table alignment."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_widget import show_view

from jido_magics.ui.render import render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<img src=x:alert(1) onerror=eval(src)>",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    "<iframe src='javascript:alert(1)'></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<object data='javascript:alert(1)'></object>",
    "<embed src='javascript:alert(1)'>",
    "<form action='javascript:alert(1)'><button formaction='javascript:alert(1)'>x</button></form>",
    "<meta http-equiv='refresh' content='0;url=javascript:alert(1)'>",
    "<base href='javascript:alert(1)//'>",
    "<link rel=stylesheet href='javascript:alert(1)'>",
    "<style>@import 'javascript:alert(1)';*{display:none}</style>",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    '<p style="x:expression(alert(1))">x</p>',
    '<a href="javascript:alert(1)">x</a>',
    "<a href='jAvAsCrIpT:alert(1)'>x</a>",
    "<x onclick=alert(1)>click</x>",
    "<details open ontoggle=alert(1)>",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](<java\tscript:alert(1)>)",
    "[x](java\\\nscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](&#0000106;&#0000097;vascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](java&NewLine;script:alert(1))",
    "[x](\\javascript:alert(1))",
    "[x](javascript://%0Aalert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "![x](javascript:alert(1))",
    '![" onerror="alert(1)](x.png)',
    '![x](x.png "\\" onerror=\\"alert(1)")',
    '[x](http://a.example "\\" onmouseover=\\"alert(1)")',
    "[x](http://a.example' onmouseover='alert(1))",
    '<http://a.example" onmouseover="alert(1)>',
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    '[ref]\n\n[ref]: <javascript:alert(1)> "title"',
    "[x][r]\n\n[r]: &#106;avascript:alert(1)",
    '```"><script>alert(1)</script>\ncode\n```',
    "`<script>alert(1)</script>`",
    "# <script>alert(1)</script>",
    "| a | <img src=x onerror=alert(1)> |\n|:-:|--|\n| [x](javascript:alert(1)) | 2 |",
    "**<img src=x onerror=alert(1)>**",
    "> <iframe src=javascript:alert(1)>",
    "- [x](javascript:alert(1))\n- <svg/onload=alert(1)>",
    "\u202e<script>alert(1)</script>",
    "＜script＞alert(1)＜/script＞",
]
ALLOWED_TAGS = {
    "style", "div", "span", "p", "strong", "em", "code", "pre", "a", "img", "ul", "ol", "li",
    "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br", "table", "thead", "tbody",
    "tr", "th", "td", "s", "details", "summary", "button", "b", "i", "small", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"href", "src", "alt", "title", "class", "start", "rel", "target", "style"}
SAFE_STYLE = re.compile(r"text-align:(left|right|center)")
IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []
        self.other: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag

    def handle_comment(self, data) -> None:
        self.comments.append(data)

    def handle_decl(self, decl) -> None:
        self.other.append(decl)

    def unknown_decl(self, data) -> None:
        self.other.append(data)

    def handle_pi(self, data) -> None:
        self.other.append(data)


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see in an attribute value (already entity-decoded)."""
    squeezed = IGNORED_IN_SCHEME.sub("", html.unescape(value)).lower()
    match = re.match(r"([a-z][a-z0-9+.\-]*):", squeezed)
    return match.group(1) if match else None


def assert_inert(page: str, *, own_styles: int = 0) -> None:
    assert not re.search(r"<\s*/?\s*(script|iframe|svg|math|object|embed|form|base|meta|link)\b",
                         page, re.I), page  # fmt: skip
    collector = _Collector()
    collector.feed(page)
    collector.close()
    assert collector.comments == [] and collector.other == [], page
    styles = 0
    for tag, attrs in collector.tags:
        assert tag in ALLOWED_TAGS, (tag, page)
        styles += tag == "style"
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES and not name.startswith("on"), (tag, name, page)
            value = value or ""
            if name in ("href", "src"):
                assert url_scheme(value) in (None, "http", "https", "mailto"), (tag, value)
            if name == "style":
                assert SAFE_STYLE.fullmatch(value), (tag, value)
    assert styles == own_styles, page


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_of_hostile_text_is_inert(payload: str) -> None:
    rendered = render_markdown(payload)
    assert_inert(rendered)
    if "script" in payload.lower() and "<script" in payload.lower():
        assert "&lt;script" in rendered.lower() or "script" not in rendered.lower()


def test_safe_links_survive() -> None:
    rendered = render_markdown(
        "[a](https://example.com/x?y=1) [b](./rel.md) [c](mailto:a@example.com) "
        "[d](HTTPS://EXAMPLE.COM) [e](//example.com/p)"
    )
    assert_inert(rendered)
    for href in ("https://example.com/x?y=1", "./rel.md", "mailto:a@example.com"):
        assert f'href="{href}"' in rendered
    assert rendered.count("<a ") == 5


FRAGMENT = st.sampled_from(
    [*PAYLOADS, "\n", "\n\n", " ", "*", "_", "`", "```", "[", "]", "(", ")", "<", ">", "&", '"']
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENT, min_size=1, max_size=8).map("".join))
def test_mixed_hostile_fragments_are_inert(text: str) -> None:
    assert_inert(render_markdown(text))


def test_every_part_of_the_widget_is_inert(shell, registry) -> None:
    hostile_name = "<img src=x onerror=alert(1)>"
    session = registry.create(hostile_name)
    session.set_config(session.config.updated({"model": "<svg onload=alert(1)>"}))
    for payload in PAYLOADS:
        reply = session.add_message("assistant", payload, model=payload[:40])
        session.add_reasoning_step(payload, reply.id)
        call = session.add_tool_call(payload[:60], {payload: [payload, {"k": payload}]}, reply.id)
        session.update_tool_call(call, "completed", result=payload)
    session.add_message("tool", "</pre><script>alert(1)</script>", tool_call_id="<x onclick=1>")
    session.add_reasoning_step("<script>alert('loose')</script>")  # attached to no message
    view = show_view(shell)
    pages = [view.conversation.value]
    view.older()  # the oldest messages are on the page before
    pages.append(view.conversation.value)
    assert pages[1] != pages[0]
    for page in pages:
        assert_inert(page, own_styles=1)  # only the widget's own <style>
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    for part in (view.status.value, view.page_label.value):
        assert_inert(part)
    assert_inert(session._repr_html_())


def test_session_html_repr_is_inert(shell, registry) -> None:
    session = registry.create("<script>alert(1)</script>")
    for payload in PAYLOADS:
        session.add_message("assistant", payload)
    assert_inert(session._repr_html_())


def test_notebook_markdown_outputs_are_inert_with_raw_html_on() -> None:
    """A notebook renders Markdown outputs with raw HTML allowed: the session's Markdown repr
    and transcript must stay inert under such a renderer too."""
    from markdown_it import MarkdownIt

    from jido_magics.core import Session, transcript
    from jido_magics.core.page import take_page
    from jido_magics.core.safe_markdown import neutralize_markdown

    notebook = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    for payload in PAYLOADS:
        assert_inert(notebook.render(neutralize_markdown(payload)))
    session = Session("<img src=x onerror=alert(1)>")
    for payload in PAYLOADS:
        reply = session.add_message("assistant", payload, model=payload[:30])
        session.add_reasoning_step(payload, reply.id)
        call = session.add_tool_call(payload[:40], {payload: payload}, reply.id)
        session.update_tool_call(call, "completed", payload)
    assert_inert(notebook.render(session._repr_markdown_()))
    document = transcript.transcript_markdown(take_page(session, 0, None))
    assert_inert(notebook.render(document))
