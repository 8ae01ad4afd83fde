"""``%session show|export|config``."""

from __future__ import annotations

from . import Command

COMMANDS: list[Command] = []
