"""``%%chat`` / ``%chat``: send the cell as the next user message and stream the reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.errors import JidoError

if TYPE_CHECKING:
    from .extension import Extension


def run_chat(ext: Extension, line: str, cell: str | None) -> Any:
    raise JidoError("%chat is not available yet.")
