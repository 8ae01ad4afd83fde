"""``%%chat`` / ``%chat``: send the cell as the next user message and stream the reply.

The reply is written to stdout as it arrives in a terminal; in a kernel it streams into one
display that shows the rendered Markdown once the reply is complete (:mod:`.rendered_reply`).
Failures reach the user as one line (a ``ChatFailed`` that the magic turns into a
``UsageError``); the session stays consistent either way.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..agents.errors import ChatError
from ..agents.events import Event
from ..agents.exchange import send_message
from ..agents.prompts import DEFAULT_ERROR_QUESTION, ask_for_code, code_of, error_message
from ..core.controls import visible_controls
from ..core.errors import did_you_mean, shorten
from ..core.records import Message
from ..core.session import Session
from .parsing import CommandUsageError
from .rendered_reply import RenderedReply, StreamPrinter, in_kernel

if TYPE_CHECKING:
    from .extension import Extension

DEFAULT_SESSION_NAME = "chat"
#: The options of ``%chat``/``%%chat`` and what each takes (the usage and completion read it).
CHAT_OPTIONS = {"--session": "TARGET", "--interpolate": "", "--code": "", "--error": ""}
USAGE = (
    "%%chat "
    + " ".join(f"[{option} {value}]".replace(" ]", "]") for option, value in CHAT_OPTIONS.items())
    + "  (or %chat [OPTIONS] TEXT)"
)

_OPTION = re.compile(
    r"""\s*(?:
        (?P<interpolate>--interpolate)(?=\s|$)
      | (?P<code>--code)(?=\s|$)
      | (?P<error>--error)(?=\s|$)
      | --session(?:=|\s+)(?P<target>"[^"]*"|'[^']*'|[^\s"']+)(?=\s|$)
      | (?P<other>--?\S+)
    )""",
    re.VERBOSE,
)
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\}")


@dataclass(frozen=True)
class ChatOptions:
    target: str | None
    interpolate: bool
    text: str
    #: Ask for code only and put the reply's code in a new cell.
    code: bool = False
    #: Send the notebook's last exception (``text`` is the question, may be empty).
    error: bool = False


def parse_chat(line: str, cell: str | None) -> ChatOptions:
    """Leading options from ``line``; the message is the cell body, or the rest of the line.

    The line form is not split like a shell, so apostrophes and quotes in the text are safe.
    """
    target: str | None = None
    interpolate = False
    flags: set[str] = set()
    rest = line
    while True:
        match = _OPTION.match(rest)
        if match is None or not match.group(0).strip():
            break
        if match.group("other") is not None:
            if match.group("other") == "--session" or match.group("other").startswith("--session="):
                raise CommandUsageError(f"%chat: --session needs a TARGET. Usage: {USAGE}")
            if cell is None and not match.group("other").startswith("--"):
                break  # "-" starting the text of a line, e.g. "%chat -1 is odd?"
            other = match.group("other")
            hint = did_you_mean(other.partition("=")[0], list(CHAT_OPTIONS))
            raise CommandUsageError(
                f"%chat: unknown option '{shorten(other, 30)}'.{hint} Usage: {USAGE}"
            )
        if match.group("interpolate"):
            interpolate = True
        elif match.group("code") or match.group("error"):
            flags.add(match.group(0).strip()[2:])
        else:
            target = shlex.split(match.group("target"))[0] if match.group("target") else None
        rest = rest[match.end() :]
    if cell is None:
        text = rest.strip()
    else:
        if rest.strip():
            raise CommandUsageError(
                f"%%chat: write the message in the cell, not after the options "
                f"('{shorten(rest.strip(), 30)}'). Usage: {USAGE}"
            )
        text = cell.strip()
    if not text and "error" not in flags:
        raise ChatError(
            "Nothing to send: write the message after %chat, or in the cell below %%chat."
        )
    return ChatOptions(target, interpolate, text, "code" in flags, "error" in flags)


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace ``{name}`` (or ``{name.attr}``) with the value's ``repr``; ``{{``/``}}`` give
    literal braces. Only names and attributes are looked up, nothing is evaluated."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        head, *attributes = match.group(1).split(".")
        if head not in namespace:
            raise ChatError(
                f"--interpolate: no variable named '{shorten(head, 40)}' in the notebook "
                "(write {{ and }} for literal braces)."
            )
        value = namespace[head]
        for attribute in attributes:
            try:
                value = getattr(value, attribute)
            except Exception as exc:
                raise ChatError(
                    f"--interpolate: cannot read '{shorten(match.group(1), 60)}': "
                    f"{type(exc).__name__}."
                ) from None
        return repr(value)

    return _PLACEHOLDER.sub(replace, text)


_CHAT_LINE = re.compile(r"([ \t]*)%chat(?=[ \t]|$)(.*)")
_STRING_OR_COMMENT = re.compile(r"[\"'#]")


def protect_chat_lines(lines: list[str]) -> list[str]:
    """An IPython input transform: ``%chat TEXT`` lines become explicit magic calls, before
    IPython reads a trailing ``?`` (``%chat Any missing values?``) as a request for help.
    A cell run by a cell magic (``%%chat``, ``%%bash``...) is left alone."""
    if not lines or lines[0].lstrip().startswith("%%"):
        return lines
    if not any("%chat" in line for line in lines):
        return lines  # most cells: no scan of their code
    changed = []
    open_string: str | None = None  # the quotes of a triple-quoted string left open
    for line in lines:
        body = line.rstrip("\r\n")
        match = None if open_string else _CHAT_LINE.fullmatch(body)
        if match is None:
            open_string = _open_triple_quote(body, open_string)
            changed.append(line)
            continue
        indent, rest = match.groups()
        ending = line[len(body) :] or ""
        changed.append(f"{indent}get_ipython().run_line_magic('chat', {rest.strip()!r}){ending}")
    return changed


def _open_triple_quote(line: str, open_string: str | None) -> str | None:
    """The triple quote still open at the end of ``line`` of Python code, given the one open
    at its start: lines inside a multi-line string are text, never a ``%chat`` line."""
    i, end = 0, len(line)
    while i < end:
        if open_string:
            close = line.find(open_string, i)
            while close > 0 and _escaped(line, close):
                close = line.find(open_string, close + 1)
            if close < 0:
                return open_string
            i, open_string = close + 3, None
            continue
        found = _STRING_OR_COMMENT.search(line, i)
        if found is None:
            return None
        i = found.start()
        char = line[i]
        if char == "#":
            return None
        if char in "'\"":
            if line.startswith(char * 3, i):
                open_string, i = char * 3, i + 3
                continue
            close = line.find(char, i + 1)
            while close > 0 and _escaped(line, close):
                close = line.find(char, close + 1)
            if close < 0:
                return None  # an unterminated one-line string ends with its line
            i = close
        i += 1
    return open_string


def _escaped(line: str, index: int) -> bool:
    """Whether the character at ``index`` follows an odd number of backslashes."""
    count = 0
    while index - count > 0 and line[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def install_input_transform(shell: Any) -> Callable[[], None]:
    """Add :func:`protect_chat_lines` to ``shell``; returns the function that removes it."""
    transforms = shell.input_transformers_cleanup
    if protect_chat_lines not in transforms:
        transforms.append(protect_chat_lines)

    def remove() -> None:
        while protect_chat_lines in shell.input_transformers_cleanup:
            shell.input_transformers_cleanup.remove(protect_chat_lines)

    return remove


def chat_session(ext: Extension, target: str | None) -> Session:
    """The named session, else the active one; with none open, a new one named 'chat'."""
    registry = ext.registry
    if target is not None:
        return registry.get(target)
    session = registry.active
    if session is None:
        session = registry.create(DEFAULT_SESSION_NAME)
        print(f"(Created session '{session.name}', provider {session.config.provider}.)")
    return session


def run_chat(ext: Extension, line: str, cell: str | None) -> None:
    options = parse_chat(line, cell)
    namespace = ext.shell.user_ns
    text = interpolate(options.text, namespace) if options.interpolate else options.text
    if options.error:
        text = _error_message(ext, text)
    if options.code:
        text = ask_for_code(text)
    session = chat_session(ext, options.target)
    reply = stream_reply(
        ext,
        session,
        lambda on_event: send_message(session, text, namespace=namespace, on_event=on_event),
    )
    if options.code and reply is not None:
        put_code_below(ext.shell, reply.content)


def stream_reply(
    ext: Extension, session: Session, send: Callable[[Callable[[Event], None]], Message]
) -> Message | None:
    """Run ``send`` (an exchange with ``session``, given the event callback) streaming into
    the output: plain text in a terminal, in a kernel a display that shows the rendered reply
    once complete. None when interrupted, after saying what the interrupt did."""
    rendered = RenderedReply() if in_kernel(ext.shell) else None  # a terminal keeps plain text
    printer = rendered.printer if rendered is not None else StreamPrinter()
    with session.lock:
        before = len(session.messages) + session.dropped["messages"]
    try:
        return send(rendered or printer)
    except KeyboardInterrupt:
        printer.end()
        print(after_interrupt(ext, session, before))
        return None
    finally:
        printer.end()
        if rendered is not None:
            rendered.finish()


def after_interrupt(ext: Extension, session: Session, before: int) -> str:
    """What a Ctrl-C during ``%chat`` really did, to the reply and to its autosave.
    ``before`` counts the messages the session ever had when the message was sent."""
    with session.lock:
        new = list(session.messages[max(0, before - session.dropped["messages"]) :])
    if not new:
        return "Interrupted before the message was sent: nothing was added."
    if new[-1].role == "assistant" and new[-1].status == "complete":
        line = "Interrupted after the reply was complete: all of it is kept"
    elif any(m.role == "assistant" and m.status == "interrupted" for m in new):
        line = "Interrupted: the partial reply is kept, marked 'interrupted'"
    else:
        line = "Interrupted during the tool calls: what ran is kept, the rest is marked not run"
    autosave = ext.autosave
    if autosave is not None and autosave.retry_later(session):
        return f"{line}. Autosave did not finish: it is retried when this cell ends."
    if autosave is not None and autosave.enabled:
        return f"{line}, and saved."
    return f"{line}."


def put_code_below(shell: Any, reply: str) -> None:
    """The code of ``reply`` in a new cell below this one (in a kernel), else printed."""
    code = code_of(reply)
    if not code:
        print("The reply holds no code block: no cell was added.")
    elif getattr(shell, "kernel", None) is not None:
        shell.set_next_input(code, replace=False)
    else:
        print(f"Code from the reply:\n{visible_controls(code)}")


def _error_message(ext: Extension, question: str) -> str:
    found = ext.last_error.get() if ext.last_error is not None else None
    if found is None:
        raise ChatError(
            "No exception yet in this kernel: %chat --error explains the last error a cell raised."
        )
    return error_message(*found, question or DEFAULT_ERROR_QUESTION)
