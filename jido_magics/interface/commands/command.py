"""One ``%session`` subcommand: its name, syntax, help and what it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..parsing import CommandParser

if TYPE_CHECKING:
    from ..extension import Extension


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
