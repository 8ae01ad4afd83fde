"""The ``%session`` subcommands as a table: each module of this package lists its ``COMMANDS``.

The magic dispatches on the first word; its docstring (the manual shown by ``%session?``) is
built from the same table, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .command import Command

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
