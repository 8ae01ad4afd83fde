"""The ``%session`` subcommands as a table: each module of this package lists its ``COMMANDS``.

The magic dispatches on the first word; its docstring (the manual shown by ``%session?``) is
built from the same table, so the two cannot drift apart.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..parsing import CommandParser

if TYPE_CHECKING:
    from ..extension import Extension

#: Modules whose ``COMMANDS`` make up ``%session``, and the order of the manual.
COMMAND_MODULES: tuple[str, ...] = (
    "sessions",
    "saved",
    "trash",
    "conversation",
    "branching",
    "search",
    "settings",
    "models",
    "widget",
)

MANUAL_ORDER: tuple[str, ...] = (
    "new",
    "list",
    "switch",
    "rename",
    "close",
    "save",
    "resume",
    "delete",
    "undelete",
    "trust",
    "show",
    "fork",
    "retry",
    "undo",
    "search",
    "ui",
    "export",
    "config",
    "models",
    "where",
)


@dataclass(frozen=True)
class Command:
    """One subcommand: ``usage`` is the words after ``%session NAME`` (may be empty),
    ``summary`` one line of help, ``details`` optional further lines for the manual."""

    name: str
    usage: str
    summary: str
    configure: Callable[[CommandParser], None]
    run: Callable[[Extension, argparse.Namespace], Any]
    details: str = ""

    @property
    def synopsis(self) -> str:
        return f"%session {self.name} {self.usage}".rstrip()

    def parser(self) -> CommandParser:
        """This command's parser, built once: argparse set-up (gettext look-ups) costs more
        than the command itself, and parsing leaves the parser unchanged."""
        parser = self.__dict__.get("_parser")
        if parser is None:
            parser = CommandParser(f"session {self.name}", self.usage)
            self.configure(parser)
            self.__dict__["_parser"] = parser  # outside the frozen fields: eq/hash unchanged
        return parser


_table: dict[str, Command] | None = None


def command_table() -> dict[str, Command]:
    """All subcommands by name, in manual order."""
    global _table
    if _table is None:
        found: dict[str, Command] = {}
        for module_name in COMMAND_MODULES:
            module = importlib.import_module(f"{__name__}.{module_name}")
            for command in module.COMMANDS:
                found[command.name] = command
        order = {name: i for i, name in enumerate(MANUAL_ORDER)}
        _table = dict(sorted(found.items(), key=lambda item: order.get(item[0], len(order))))
    return _table
