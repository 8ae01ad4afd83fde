"""``%session ui``: the session widget, one per kernel."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ...core.errors import JidoError
from ...persistence.errors import display_path
from . import Command

if TYPE_CHECKING:
    from ...core.session import Session
    from ...ui.view import SessionView
    from ..extension import Extension


def session_view(ext: Extension) -> SessionView:
    """The extension's widget, made on first use (ipywidgets loads only then). Displaying it
    again shows the same widget, so every copy on the page shows the same state."""
    view: SessionView | None = getattr(ext, "session_view", None)
    if view is None or view.closed:
        from ...ui.view import SessionView

        view = SessionView(
            ext.registry,
            new_session=lambda registry: registry.create(config=ext.default_config()),
            save=lambda session: _save(ext, session),
            namespace=getattr(ext.shell, "user_ns", None),
        )
        ext.session_view = view
        ext.add_cleanup(view.close)
    return view


def _save(ext: Extension, session: Session) -> Any:
    store = getattr(ext, "store", None)
    if store is None:
        from ...ui.view import SAVE_UNAVAILABLE

        raise JidoError(SAVE_UNAVAILABLE)
    store.save(session)
    aside = store.take_set_aside(session.id)
    if aside is None:
        return None
    return f"The file there could not be verified; it was kept as {display_path(aside)}."


def _run_ui(ext: Extension, args: argparse.Namespace) -> None:
    from IPython.display import display

    display(session_view(ext).widget)


COMMANDS = [
    Command(
        "ui",
        "",
        "show the session widget: a button per session, the conversation, a message box",
        lambda parser: None,
        _run_ui,
        details=(
            "Clicking a session switches the one the magics use; %session switch moves the\n"
            "selection. Showing it again shows the same widget."
        ),
    ),
]
