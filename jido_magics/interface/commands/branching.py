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
from ..parsing import CommandUsageError
from .command import AT_MESSAGE, OPTIONAL_TARGET, Arg, Command

if TYPE_CHECKING:
    from ..extension import Extension


def _run_fork(ext: Extension, args: argparse.Namespace) -> None:
    if args.extra:
        raise CommandUsageError(
            f"%session fork takes a TARGET and a NAME, not {2 + len(args.extra)} words (quote a "
            'name with spaces: "my fork"). Usage: %session fork [TARGET] [--at N] [NAME]'
        )
    target, name = args.target, args.name
    registry = ext.registry
    source = registry.get(target)
    name = check_new_name(name) if name is not None else None
    copy = fork(source, name or registry.unique_name(f"{source.name} (fork)"), args.at)
    registry.add(copy)
    print(
        f"Forked '{source.name}' at message {len(copy.messages)} into '{copy.name}' "
        f"({copy.id}), now active; '{source.name}' is unchanged."
    )


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
        (
            *OPTIONAL_TARGET,
            AT_MESSAGE,
            Arg("name", nargs="?"),
            Arg("extra", nargs="*", hidden=True),  # refused in _run_fork, in words
        ),
        "copy messages 1..N (default all) into a new active session; the original is unchanged",
        _run_fork,
        intermixed=True,
        details=(
            "The fork keeps reasoning steps, tool calls and settings, and records its parent.\n"
            "Default NAME: '<name> (fork)'. Numbers count from the oldest message kept."
        ),
    ),
    Command(
        "retry",
        OPTIONAL_TARGET,
        "ask again for the last message; the old reply is kept, folded as superseded",
        _run_retry,
        details="A superseded reply is never sent to the model as context.",
    ),
    Command(
        "undo",
        OPTIONAL_TARGET,
        "remove the last exchange (your message and its replies) and print your message",
        _run_undo,
    ),
]
