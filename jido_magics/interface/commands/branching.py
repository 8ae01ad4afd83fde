"""``%session fork|retry|undo``: branch a conversation, ask again, take an exchange back."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ...agents.exchange import retry_reply
from ...agents.prompts import typed_text
from ...core.branching import fork, undo_last_exchange
from ...core.errors import shorten
from ...core.names import check_new_name
from ...core.text import plural
from ..chat import stream_reply
from ..parsing import CommandParser, CommandUsageError
from .command import Command

if TYPE_CHECKING:
    from ..extension import Extension


def _configure_fork(parser: CommandParser) -> None:
    parser.intermixed = True
    parser.add_argument("words", nargs="*", metavar="[TARGET] [NAME]")  # split in _run_fork
    parser.add_argument("--at", type=int)


def _run_fork(ext: Extension, args: argparse.Namespace) -> None:
    if len(args.words) > 2:
        raise CommandUsageError(
            f"%session fork takes a TARGET and a NAME, not {len(args.words)} words (quote a "
            'name with spaces: "my fork"). Usage: %session fork [TARGET] [--at N] [NAME]'
        )
    target, name = [*args.words, None, None][:2]
    registry = ext.registry
    source = registry.get(target)
    name = check_new_name(name) if name is not None else None
    copy = fork(source, name or registry.unique_name(f"{source.name} (fork)"), args.at)
    registry.add(copy)
    print(
        f"Forked '{source.name}' at message {len(copy.messages)} into '{copy.name}' "
        f"({copy.id}), now active; '{source.name}' is unchanged."
    )


def _configure_target(parser: CommandParser) -> None:
    parser.add_argument("target", nargs="?")


def _run_retry(ext: Extension, args: argparse.Namespace) -> None:
    session = ext.registry.get(args.target)
    namespace = ext.shell.user_ns
    stream_reply(
        ext,
        session,
        lambda printer: retry_reply(session, namespace=namespace, on_event=printer),
    )


def _run_undo(ext: Extension, args: argparse.Namespace) -> None:
    session = ext.registry.get(args.target)
    removed = undo_last_exchange(session)
    replies = len(removed) - 1
    print(
        f"Removed the last exchange of '{shorten(session.name, 40)}' (your message and "
        f"{plural(replies, 'reply', 'replies')}). Your message was:"
    )
    print(typed_text(removed[0].content))


COMMANDS = [
    Command(
        "fork",
        "[TARGET] [--at N] [NAME]",
        "copy messages 1..N (default all) into a new active session; the original is unchanged",
        _configure_fork,
        _run_fork,
        details=(
            "The fork keeps reasoning steps, tool calls and settings, and records its parent.\n"
            "Default NAME: '<name> (fork)'. Numbers count from the oldest message kept."
        ),
    ),
    Command(
        "retry",
        "[TARGET]",
        "ask again for the last message; the old reply is kept, folded as superseded",
        _configure_target,
        _run_retry,
        details="A superseded reply is never sent to the model as context.",
    ),
    Command(
        "undo",
        "[TARGET]",
        "remove the last exchange (your message and its replies) and print your message",
        _configure_target,
        _run_undo,
    ),
]
