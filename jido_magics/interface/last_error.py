"""The last exception a cell of this kernel raised, with that cell's source, for
``%chat --error``.

IPython keeps only ``sys.last_value``, which a later mistake in a magic (a ``UsageError``)
overwrites; so each cell's outcome is watched (``post_run_cell``) and the last real error is
kept. Before the extension was loaded, ``sys.last_value`` is all there is.
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError


class LastError:
    """Registered on a shell's ``post_run_cell`` event; see :func:`install`."""

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.source: str | None = None

    def __call__(self, result: Any) -> None:
        error = result.error_in_exec or result.error_before_exec
        if error is None or isinstance(error, UsageError):
            return  # a mistake typed in a magic is not the notebook's error
        info = getattr(result, "info", None)
        self.error, self.source = error, getattr(info, "raw_cell", None)

    def get(self) -> tuple[BaseException, str | None] | None:
        """The last error and the source of the cell that raised it, or None."""
        if self.error is not None:
            return self.error, self.source
        error = getattr(sys, "last_value", None)
        if error is None or isinstance(error, UsageError):
            return None
        return error, _cell_source(error)


def install(shell: Any) -> tuple[LastError, Callable[[], None]]:
    """A :class:`LastError` watching ``shell``, and the function that stops it."""
    recorder = LastError()
    shell.events.register("post_run_cell", recorder)

    def remove() -> None:
        try:
            shell.events.unregister("post_run_cell", recorder)
        except ValueError:
            pass  # already gone

    return recorder, remove


def _cell_source(error: BaseException) -> str | None:
    """The source IPython cached for the first cell frame of ``error``'s traceback."""
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not tb.tb_frame.f_globals.get("__name__", "").startswith("IPython.") and (
            filename.startswith("<") or not os.path.exists(filename)
        ):
            lines = linecache.getlines(filename)
            return "".join(lines) if lines else None
        tb = tb.tb_next
    return None
