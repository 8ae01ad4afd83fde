"""Running ``%session`` in the test shell, checking that a mistake is one plain line, and
loading the extension for a while (as a kernel's life, or one of its restarts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from IPython.core.error import UsageError


def run(shell: Any, line: str) -> Any:
    return shell.run_line_magic("session", line)


def one_line_usage_error(shell: Any, line: str) -> str:
    """The message of the plain ``UsageError`` that ``%session LINE`` raises: one line."""
    with pytest.raises(UsageError) as info:
        run(shell, line)
    message = str(info.value)
    assert type(info.value) is UsageError
    assert message and "\n" not in message and "Traceback" not in message
    return message


@contextmanager
def extension_loaded(shell: Any) -> Iterator[None]:
    """``%load_ext jido_magics`` for the body of the ``with``; ``%unload_ext`` after it."""
    shell.run_line_magic("load_ext", "jido_magics")
    try:
        yield
    finally:
        shell.run_line_magic("unload_ext", "jido_magics")
