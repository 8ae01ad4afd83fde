"""``%session show|export``: reading a conversation in the notebook and exporting it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.errors import AmbiguousTarget, JidoError, SessionNotFound, shorten
from ...core.paths import display_path
from ...core.show import ConversationPage, conversation_page, page_of_message
from ...core.text import plural
from ...export import FORMATS, export_session, format_for
from ...persistence.errors import NoSavedSession
from ...persistence.location import notebook_path
from .command import AT_MESSAGE, OPTIONAL_TARGET, Arg, Command
from .saved import find_saved

if TYPE_CHECKING:
    from ..extension import Extension


def _run_show(ext: Extension, args: argparse.Namespace) -> ConversationPage:
    try:
        session = ext.registry.get(args.target)
    except SessionNotFound:
        if args.target is not None:
            _say_if_saved(ext, args)
        raise
    number = args.page
    if args.at is not None:
        if args.page is not None:
            raise JidoError("%session show: give --page or --at, not both.")
        number = page_of_message(session, args.at)
    names = {s.id: s.name for s in ext.registry.sessions}  # for the note of a resumed fork
    return conversation_page(session, number, names)


def _say_if_saved(ext: Extension, args: argparse.Namespace) -> None:
    """Raise the one line that tells how to open it when the session to show is not open
    but saved beside this notebook (a search lists hits in saved sessions too)."""
    try:
        saved_id = find_saved(ext.store, args.target)
    except (NoSavedSession, AmbiguousTarget):
        return
    name = next((s.name for s in ext.store.saved() if s.id == saved_id and s.name), saved_id)
    then = " --at " + str(args.at) if args.at is not None else ""
    then += " --page " + str(args.page) if args.page is not None else ""
    raise SessionNotFound(
        f"'{shorten(name, 40)}' is saved, not open: %session resume {saved_id} opens it "
        f"(then %session show{then})."
    )


def export_folder(ext: Extension) -> Path:
    """Where exports go by default: the running notebook's folder, else the current one."""
    notebook = notebook_path(None, getattr(ext.shell, "user_ns", None))
    return notebook.parent if notebook is not None else Path.cwd()


def _run_export(ext: Extension, args: argparse.Namespace) -> None:
    session = ext.registry.get(args.target)
    fmt = format_for(args.output, args.fmt)
    path = export_session(
        session, fmt, output=args.output, folder=export_folder(ext), force=args.force
    )
    count = plural(len(session.messages), "message")
    print(f"Exported '{session.name}' ({count}) to {display_path(path)}.")


COMMANDS = [
    Command(
        "show",
        (
            *OPTIONAL_TARGET,
            Arg("--page", metavar="N", type=int),
            AT_MESSAGE,
        ),
        "show the conversation as Markdown, 50 messages a page (1 = oldest; default newest)",
        _run_show,
        details=(
            "Reasoning steps and tool calls are folded; dropped messages are counted.\n"
            "--at N: the page holding message N (1 = oldest kept), as search numbers them."
        ),
    ),
    Command(
        "export",
        (
            *OPTIONAL_TARGET,
            Arg("--format", dest="fmt", choices=tuple(FORMATS)),
            Arg("--output", metavar="PATH"),
            Arg("--force", flag=True),
        ),
        "write the conversation to a file: Markdown, a notebook (a cell a message) or JSON",
        _run_export,
        details=(
            "Default PATH: the session's name beside the notebook (format from --format,\n"
            "else PATH's suffix, else md). An existing file is kept unless --force;\n"
            "a symlink, FIFO, device or folder at PATH is never replaced."
        ),
    ),
]
