"""Neutralizing untrusted Markdown (model output, prompts) before a notebook renders it.

A notebook renders Markdown outputs with raw HTML enabled, and outputs of a cell the user just
ran are trusted, so a reply containing ``<img src=x onerror=...>`` or ``[x](javascript:...)``
would run script. :func:`neutralize_markdown` keeps the Markdown readable (emphasis, lists,
links, code) but makes it inert:

- every ``<`` becomes ``&lt;``, so no raw HTML or autolink can form; a code span holding a
  ``<`` is written as ``<code>`` HTML with escaped content instead (a code span would show
  ``&lt;`` literally), the only markup this module emits;
- a link or reference definition whose destination has a scheme other than http, https or
  mailto (after the decoding a renderer does: backslash escapes, entities, tabs and newlines)
  loses its link syntax;
- fenced code blocks are written back as fences at column 0 longer than any backtick run
  inside, so their extent is the same for every renderer, whatever list item or quote held
  them in the input (which at worst changes how they are laid out), and an unclosed fence is
  closed so it cannot swallow what follows.

Safety does not rest on guessing the renderer's parse: outside fences the only ``<`` left is
in the ``<code>`` tags written here, and every link destination is checked wherever it is.
"""

from __future__ import annotations

import html
import re

_FENCE_OPEN = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_BACKTICK_RUN = re.compile(r"`+")
_LINK_OPEN = re.compile(r"\]\(")
_DEFINITION = re.compile(r"^ {0,3}\[(?:[^\]\\]|\\.){0,999}\]:", re.MULTILINE)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_ESCAPED_PUNCT = re.compile(r"\\([!-/:-@\[-`{-~])")
# Browsers drop tabs and line breaks anywhere in a URL and controls and blanks at its ends;
# dropping all of them anywhere before reading the scheme is stricter, never laxer.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]+")
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


def neutralize_markdown(text: str) -> str:
    """``text`` made safe to render as Markdown in a notebook (see the module docstring)."""
    out: list[str] = []
    prose: list[str] = []
    block: _CodeBlock | None = None
    for line in text.split("\n"):
        if block is not None:
            if block.closed_by(line):
                out.append(block.markdown())
                block = None
            else:
                block.add(line)
            continue
        opening = _FENCE_OPEN.fullmatch(line)
        if opening and not (opening.group(2)[0] == "`" and "`" in opening.group(3)):
            if prose:
                out.append(_neutralize_prose("\n".join(prose)))
                prose.clear()
            block = _CodeBlock(*opening.groups())
            continue
        prose.append(line)
    if prose:
        out.append(_neutralize_prose("\n".join(prose)))
    if block is not None:
        out.append(block.markdown())  # closed, so it cannot swallow what follows
    return "\n".join(out)


# The marks that can start inline Markdown or HTML mid-line (CommonMark lets any ASCII
# punctuation be backslash-escaped; escaping only these keeps the source readable).
_INLINE_SPECIAL = frozenset("\\`*_[]<>!|~&#$")


def markdown_inline(text: str) -> str:
    """``text`` as literal inline Markdown (not at a line start): its special marks are
    backslash-escaped and line breaks become spaces."""
    flat = " ".join(text.split())
    return "".join("\\" + c if c in _INLINE_SPECIAL else c for c in flat)


def code_block(text: str, info: str = "text") -> str:
    """``text`` in a fence longer than any backtick run inside it, so it stays verbatim."""
    fence = code_fence(text)
    return f"{fence}{info}\n{text}\n{fence}"


def folded(summary: str, body: str) -> str:
    """A ``<details>`` block; ``summary`` is plain text (escaped here), ``body`` Markdown.
    The blank lines let Markdown inside the block render."""
    return f"<details><summary>{html.escape(summary)}</summary>\n\n{body}\n\n</details>"


def code_fence(body: str) -> str:
    """A backtick fence longer than any backtick run in ``body``, so ``body`` stays verbatim."""
    longest = max((len(m.group()) for m in _BACKTICK_RUN.finditer(body)), default=0)
    return "`" * max(3, longest + 1)


class _CodeBlock:
    """A fenced code block of the input, written back as a fence at column 0 that is longer
    than any backtick run inside: its extent is then the same for every renderer, whatever
    container (list item, quote) the input had it in."""

    def __init__(self, indent: str, marks: str, info: str) -> None:
        self.indent = len(indent)
        self.char = marks[0]
        self.length = len(marks)
        self.info = info.strip().replace("`", "")
        self.lines: list[str] = []

    def closed_by(self, line: str) -> bool:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        return indent <= 3 and len(stripped) >= self.length and set(stripped) == {self.char}

    def add(self, line: str) -> None:
        # A fence's content loses up to the opening fence's indentation.
        blanks = len(line) - len(line.lstrip(" "))
        self.lines.append(line[min(blanks, self.indent) :])

    def markdown(self) -> str:
        fence = code_fence("\n".join(self.lines))
        return "\n".join([fence + self.info, *self.lines, fence])


def _neutralize_prose(text: str) -> str:
    """Text outside fences: unlink unsafe links, escape ``<``, and write code spans that hold
    a ``<`` as ``<code>`` with escaped content (a code span cannot show ``&lt;`` as ``<``)."""
    backslash_at = _unsafe_link_positions(text)
    pieces: list[str] = []
    position = 0
    for start, end, ticks in _code_spans(text):
        content = text[start + ticks : end - ticks]
        if "<" in content:
            pieces.append(_escape(text, position, start, backslash_at))
            pieces.append(code_html(content))
            position = end
    pieces.append(_escape(text, position, len(text), backslash_at))
    return "".join(pieces)


def _escape(text: str, start: int, end: int, backslash_at: list[int]) -> str:
    pieces = []
    position = start
    for at in backslash_at:
        if start <= at < end:
            pieces.append(text[position:at].replace("<", "&lt;"))
            pieces.append("\\")
            position = at
    pieces.append(text[position:end].replace("<", "&lt;"))
    return "".join(pieces)


_PUNCTUATION = frozenset("!\"#$%'()*+,-./:;=>?@[\\]^_`{|}~")


def code_html(content: str) -> str:
    """A code span's content as ``<code>`` HTML whose text every renderer shows literally:
    ``<`` and ``&`` become entities, other punctuation is backslash-escaped (Markdown is
    still parsed between inline HTML tags), line breaks become spaces as in a code span."""
    flat = content.replace("\r\n", " ").replace("\n", " ")
    if len(flat) > 2 and flat[0] == flat[-1] == " " and flat.strip(" "):
        flat = flat[1:-1]
    escaped = []
    for char in flat:
        if char == "<":
            escaped.append("&lt;")
        elif char == "&":
            escaped.append("&amp;")
        elif char in _PUNCTUATION:
            escaped.append("\\" + char)
        else:
            escaped.append(char)
    return "<code>" + "".join(escaped) + "</code>"


# -- code spans -------------------------------------------------------------------------------


def _code_spans(text: str) -> list[tuple[int, int, int]]:
    """Code spans as ``(start, end, backtick count)``, paired as CommonMark does within each
    paragraph: an opener (not escaped by a backslash) closes at the next run of exactly its
    length; inside a span backslashes are literal. Safety does not depend on this pairing
    matching the renderer's: it only decides where ``<code>`` replaces a span."""
    spans: list[tuple[int, int, int]] = []
    offset = 0
    for paragraph in re.split(r"(\n[ \t]*\n)", text):
        runs = [(m.start(), m.end()) for m in _BACKTICK_RUN.finditer(paragraph)]
        index = 0
        while index < len(runs):
            start, end = runs[index]
            before = start
            while before > 0 and paragraph[before - 1] == "\\":
                before -= 1
            if (start - before) % 2:
                start += 1  # the first backtick is escaped
            length = end - start
            closer = next(
                (j for j in range(index + 1, len(runs)) if runs[j][1] - runs[j][0] == length),
                None,
            )
            if length == 0 or closer is None:
                index += 1
                continue
            spans.append((offset + start, offset + runs[closer][1], length))
            index = closer + 1
        offset += len(paragraph)
    return spans


# -- links ------------------------------------------------------------------------------------


def _unsafe_link_positions(text: str) -> list[int]:
    """Positions where a backslash breaks a link to an unsafe destination: before the ``(``
    of ``](`` or the ``[`` of a reference definition."""
    positions = []
    for match in _LINK_OPEN.finditer(text):
        if _unsafe_destination(text, match.end()):
            positions.append(match.start() + 1)
    for match in _DEFINITION.finditer(text):
        bracket = match.group().index("[") + match.start()
        if _unsafe_destination(text, match.end()):
            positions.append(bracket)
    return sorted(positions)


def _unsafe_destination(text: str, start: int) -> bool:
    """Whether the link destination starting at ``start`` (after blanks and at most one line
    break) would be a URL with a scheme other than http, https or mailto."""
    rest = text[start : start + 400].lstrip(" \t")
    if rest.startswith("\n"):
        rest = rest[1:].lstrip(" \t")
    if rest.startswith("<"):
        rest = rest[1:]
    destination = re.split(r"[ )>\n]", rest, maxsplit=1)[0]
    return not is_safe_url(_ESCAPED_PUNCT.sub(r"\1", destination))


def is_safe_url(url: str) -> bool:
    """True for a relative URL or one whose scheme is in :data:`SAFE_SCHEMES`, as a browser
    would read it once character references are decoded (``java&#9;script:`` is not)."""
    squeezed = _URL_IGNORED.sub("", html.unescape(url)).lstrip("<")
    scheme = _SCHEME.match(squeezed)
    return scheme is None or scheme.group(1).lower() in SAFE_SCHEMES
