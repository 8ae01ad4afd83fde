"""``%session ui``: the session widget, one per kernel."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from IPython.display import display

from ...core.search import parse_query
from ..saving import save_home, saved_line
from .command import Command
from .saved import open_saved
from .search import find_hits

if TYPE_CHECKING:
    from ...core.search import Hit
    from ...core.session import Session
    from ...ui.search_box import SearchBox
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
            save=lambda session: _save(ext, session),
            namespace=getattr(ext.shell, "user_ns", None),
        )
        view.search_box = _search_box(ext, view)
        ext.session_view = view
        ext.add_cleanup(view.close)
    return view


def _search_box(ext: Extension, view: SessionView) -> SearchBox:
    """The widget's search box, below the view: the search of ``%session search``."""
    from ...ui.search_box import SearchBox

    def open_hit(hit: Hit) -> Session:
        if not hit.open or ext.registry.find_by_id(hit.session_id) is None:
            return open_saved(ext, hit.session_id, hit.session_name)[0]
        ext.registry.switch(hit.session_id)
        return ext.registry.get(hit.session_id)

    box = SearchBox(view, lambda text: find_hits(ext, parse_query(text))[0], open_hit)
    view.widget.children = (*view.widget.children, box.widget)
    return box


def _save(ext: Extension, session: Session) -> str:
    """Save for the widget's button; returns what its status line says."""
    store, saved = save_home(ext, session)
    return saved_line(store, session, saved, widget=True)


def _run_ui(ext: Extension, args: argparse.Namespace) -> None:
    display(session_view(ext).widget)


COMMANDS = [
    Command(
        "ui",
        (),
        "show the session widget: a button per session, the conversation, a message box",
        _run_ui,
        details=(
            "Clicking a session switches the one the magics use; %session switch moves the\n"
            "selection. Showing it again shows the same widget."
        ),
    ),
]
