"""Splitting and parsing magic arguments into one-line errors instead of argparse exits."""

from __future__ import annotations

import argparse
import re
import shlex
from itertools import islice
from typing import NoReturn

from ..core.errors import JidoError, did_you_mean

_UNRECOGNIZED = re.compile(r"unrecognized arguments: (.*)")
_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


class CommandUsageError(JidoError):
    """Bad words on a magic's line; the magics turn it into a one-line ``UsageError``."""


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises :class:`CommandUsageError` rather than exiting."""

    def __init__(self, command: str, usage: str) -> None:
        super().__init__(
            prog=f"%{command}", usage=usage, add_help=False, allow_abbrev=False, exit_on_error=False
        )
        self._one_line_usage = usage
        #: Positionals may sit on both sides of options (``fork a --at 2 name``).
        self.intermixed = False
        #: Words starting with one "-" are positionals (``search walrus -kelp``).
        self.dash_words = False

    def error(self, message: str) -> NoReturn:
        raise CommandUsageError(
            f"{self.prog}: {message}.{self._suggestion(message)} "
            f"Usage: {self.prog} {self._one_line_usage}"
        )

    def _suggestion(self, message: str) -> str:
        """The closest option to a mistyped one, or the closest choice to a bad value."""
        unknown = _UNRECOGNIZED.match(message)
        if unknown is not None:
            options = [o for o in self._option_string_actions if o.startswith("--")]
            for word in unknown.group(1).split():
                if word.startswith("-"):
                    hint = did_you_mean(word.partition("=")[0], options)
                    if self.dash_words:  # the word may be meant as a word
                        hint += f" {self.prog} -- {word} takes it as a word."
                    return hint
            return ""
        choice = _INVALID_CHOICE.search(message)
        if choice is not None:
            choices = [c.strip().strip("'\"") for c in choice.group(2).split(",")]
            return did_you_mean(choice.group(1), choices)
        return ""

    def parse(self, words: list[str]) -> argparse.Namespace:
        if self.dash_words:
            words = self._positionals_last(words)
        try:
            if self.intermixed:
                return self.parse_intermixed_args(words)
            return self.parse_args(words)
        except argparse.ArgumentError as exc:
            self.error(str(exc))

    def _positionals_last(self, words: list[str]) -> list[str]:
        """``words`` with the options (``--x``, with the value a known one takes) first,
        then ``--`` and every other word in order: argparse reads those as positionals
        even when they start with "-". An unknown ``--x`` stays an option, for its error."""
        options: list[str] = []
        positionals: list[str] = []
        rest = iter(words)
        for word in rest:
            if word == "--":
                positionals.extend(rest)
            elif word.startswith("--"):
                options.append(word)
                action = self._option_string_actions.get(word)
                if action is not None and action.nargs != 0:
                    options.extend(islice(rest, 1))
            else:
                positionals.append(word)
        return [*options, "--", *positionals]


def split_words(line: str) -> list[str]:
    """Split a magic's line like a shell does, so ``"my chat"`` is one word."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise CommandUsageError(
            f"Cannot read the line ({exc}): close the quote and try again."
        ) from exc
