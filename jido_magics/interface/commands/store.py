"""``%session save|resume|delete|trust|where`` (persistence)."""

from __future__ import annotations

from . import Command

COMMANDS: list[Command] = []
