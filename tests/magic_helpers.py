"""Running ``%session`` in the test shell and checking that a mistake is one plain line."""

from __future__ import annotations

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
