"""The extension's own settings: what ``SessionMagics``' traitlets hold, pushed here by the
magics, so the parts that read them (autosave, the start-up hint, new sessions' defaults, the
sessions folder) need not know the magics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ExtensionSettings:
    """The traitlets of the same names on ``SessionMagics``, which take their defaults from
    here; the limits go to the registry instead."""

    autosave: bool = True
    default_provider: str = ""
    default_model: str = ""
    sessions_dir: str = ""
    startup_hint: bool = True
    background_index: bool = True
