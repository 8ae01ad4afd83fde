"""One ``%session`` subcommand: its name, its arguments, its help and what it runs.

Each argument is declared once, as an :class:`Arg`: the parser, the usage text of the manual
and of error messages, and tab completion all read that declaration.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..parsing import CommandParser

if TYPE_CHECKING:
    from ..extension import Extension


@dataclass(frozen=True)
class Arg:
    """One argument: a positional (``"target"``) or an option (``"--format"``).

    ``metavar`` is what the usage shows for its value (``N``, ``PATH``; a positional defaults
    to its name in capitals); ``nargs`` is a positional's ``None`` (required), ``"?"`` or
    ``"*"``; ``flag`` marks an option without a value. ``hidden`` arguments take part in
    parsing but not in the usage (the words past the last one a command takes).
    """

    name: str
    metavar: str = ""
    nargs: str | None = None
    flag: bool = False
    dest: str | None = None
    type: Callable[[str], Any] | None = None
    default: Any = None
    choices: Sequence[str] | None = None
    hidden: bool = False

    @property
    def is_option(self) -> bool:
        return self.name.startswith("-")

    @property
    def value_name(self) -> str:
        """What stands for the value: ``md|ipynb|json`` for choices, else the metavar."""
        if self.choices is not None:
            return "|".join(self.choices)
        return self.metavar or self.name.upper()

    @property
    def usage(self) -> str:
        """``[--page N]``, ``[--force]``, ``TARGET``, ``[TARGET]``; a ``*`` positional shows
        its metavar as written (``QUERY``, ``[KEY=VALUE ...]``)."""
        if self.is_option:
            return f"[{self.name}]" if self.flag else f"[{self.name} {self.value_name}]"
        if self.nargs == "?":
            return f"[{self.value_name}]"
        return self.value_name

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        keys = ("dest",) if self.flag else ("dest", "nargs", "type", "default", "choices")
        options = {key: getattr(self, key) for key in keys if getattr(self, key) is not None}
        if self.flag:
            options["action"] = "store_true"
        if self.hidden:
            options["help"] = argparse.SUPPRESS
        parser.add_argument(self.name, **options)


@dataclass(frozen=True)
class Command:
    """One subcommand: ``arguments`` in the order the usage shows them, ``summary`` one line
    of help, ``details`` optional further lines for the manual. ``intermixed``: positionals
    may sit on both sides of options (``fork a --at 2 name``). ``dash_words``: words that
    start with one "-" are positionals, not unknown options (``search walrus -kelp``)."""

    name: str
    arguments: tuple[Arg, ...]
    summary: str
    run: Callable[[Extension, argparse.Namespace], Any]
    details: str = ""
    intermixed: bool = False
    dash_words: bool = False

    @property
    def usage(self) -> str:
        """The words after ``%session NAME`` (may be empty)."""
        return " ".join(arg.usage for arg in self.arguments if not arg.hidden)

    @property
    def synopsis(self) -> str:
        return f"%session {self.name} {self.usage}".rstrip()

    @property
    def options(self) -> dict[str, Arg]:
        return {arg.name: arg for arg in self.arguments if arg.is_option}

    @property
    def positionals(self) -> list[Arg]:
        return [arg for arg in self.arguments if not arg.is_option and not arg.hidden]

    def parser(self) -> CommandParser:
        """This command's parser, built once: argparse set-up (gettext look-ups) costs more
        than the command itself, and parsing leaves the parser unchanged."""
        parser = self.__dict__.get("_parser")
        if parser is None:
            parser = CommandParser(f"session {self.name}", self.usage)
            parser.intermixed = self.intermixed
            parser.dash_words = self.dash_words
            for arg in self.arguments:
                arg.add_to(parser)
            self.__dict__["_parser"] = parser  # outside the frozen fields: eq/hash unchanged
        return parser


#: The usual TARGET: a session, required (``switch``) or the active one by default.
TARGET = (Arg("target"),)
OPTIONAL_TARGET = (Arg("target", nargs="?"),)
#: ``--session TARGET``: a session other than the active one.
SESSION_OPTION = Arg("--session", metavar="TARGET", dest="target")
#: ``--at N``: a message's number (1 = the oldest kept).
AT_MESSAGE = Arg("--at", metavar="N", type=int)
