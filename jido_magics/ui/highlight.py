"""Syntax highlighting of fenced code in the widget's pages (Pygments, which IPython brings).

The highlighted HTML goes into the page unparsed by markdown-it, so it is checked, not trusted:
it may hold only ``<span class="...">`` and ``</span>`` tags around escaped text, the one
attribute on the renderer's allow-list that carries no behaviour; anything else falls back to
the plain escaped code. Colours come from JupyterLab's editor theme variables, so code looks
the same as in a cell, in light and dark themes alike.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

#: The only markup highlighted code may hold; the text between is escaped by Pygments.
_SAFE_TAG = re.compile(r'<span class="[A-Za-z0-9 _-]*">|</span>')
_MAX_CODE = 100_000  # characters; longer blocks stay plain (highlighting is linear, still)

_COLOURS = {
    "keyword": ("k kc kd kn kp kr kt ow", "#008000", "font-weight:bold"),
    "string": ("s sa sb sc dl sd s2 se sh si sx sr s1 ss", "#ba2121", ""),
    "number": ("m mb mf mh mi il mo", "#080", ""),
    "comment": ("c ch cm cp cpf c1 cs", "#408080", "font-style:italic"),
    "def": ("nf fm nc nn ne", "#00f", ""),
    "builtin": ("nb bp", "#008000", ""),
    "operator": ("o", "#a2f", "font-weight:bold"),
    "meta": ("nd", "#a2f", ""),
    "error": ("err", "#f00", ""),
}

#: CSS for highlighted code and code blocks in the pages.
CODE_CSS = (
    ".jido-body pre{background:var(--jp-cell-editor-background,#f7f7f7);"
    "border:1px solid var(--jp-cell-editor-border-color,#e0e0e0);border-radius:3px;"
    "padding:.45em .65em}\n"
    + "".join(
        ",".join(f".jido-body pre .{name}" for name in names.split())
        + f"{{color:var(--jp-mirror-editor-{role}-color,{fallback});{extra}}}\n"
        for role, (names, fallback, extra) in _COLOURS.items()
    )
)


def is_safe_highlight(markup: str) -> bool:
    """True when ``markup`` is spans with a class around escaped text, and nothing else."""
    text = _SAFE_TAG.sub("", markup)
    return "<" not in text and ">" not in text


@lru_cache(maxsize=64)
def _lexer(language: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def highlight_code(code: str, language: str, _attributes: str = "") -> str:
    """``code`` as highlighted HTML spans (no ``<pre>``: the renderer wraps it), or ``""``
    for the renderer's plain escaped code: no or unknown language, too long, or unsafe."""
    if not language or len(code) > _MAX_CODE or len(language) > 40:
        return ""
    lexer = _lexer(language.lower())
    if lexer is None:
        return ""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    markup = highlight(code, lexer, HtmlFormatter(nowrap=True))
    return markup if is_safe_highlight(markup) else ""
