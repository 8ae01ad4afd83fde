"""``%session config``: show or set the active session's model settings."""

from __future__ import annotations

from . import Command

COMMANDS: list[Command] = []
