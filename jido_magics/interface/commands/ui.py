"""``%session ui``: the session widget."""

from __future__ import annotations

from . import Command

COMMANDS: list[Command] = []
