"""The widget's session row: which session is active and which are answering, at a glance, on
one row at any count up to ``max_sessions``.

Up to :data:`TAB_LIMIT` sessions are buttons (one ``ToggleButtons``); ipywidgets gives the
selected one only a slightly darker grey, so the active one also gets a filled brand colour, a
bold label and a check icon (not colour alone), and never shrinks to an ellipsis as the others
may; a session whose reply is streaming gets a speech-bubble icon. Past that count one dropdown
names the active session instead, so the row never wraps and the active one never scrolls out
of sight. The New / Save / Close actions keep their own place on the right, icons only when
the widget is narrow (their tooltips name them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

TAB_LIMIT = 6
ACTIVE_ICON = "check"
ANSWERING_ICON = "commenting"
ANSWERING_MARK = " \u2026 answering"

#: CSS for the row; it sits in the conversation page's <style> (one style block per widget).
TOOLBAR_CSS = """
.jido-toolbar{flex-wrap:nowrap!important;align-items:center;width:100%}
.jido-toolbar>.jido-tabs{flex:1 1 auto;min-width:0;overflow-x:auto;overflow-y:hidden}
.jido-tabs>div{display:flex;flex-wrap:nowrap;min-width:0}
.jido-tabs .jupyter-button{flex:0 1 auto;min-width:4.5em;max-width:14em}
.jido-tabs .jupyter-button.mod-active{background-color:var(--jp-brand-color1,#1976d2);
color:var(--jp-ui-inverse-font-color0,#fff);font-weight:700;flex-shrink:0}
.jido-tabs .jupyter-button i.fa{margin-left:.35em}
.jido-menu{flex:0 1 auto;min-width:8em}
.jido-menu select{font-weight:700;border:2px solid var(--jp-brand-color1,#1976d2)!important}
.jido-actions{flex:0 0 auto;flex-wrap:nowrap!important;margin-left:auto}
.jido-view{container-type:inline-size}
@container (max-width:760px){.jido-actions .jupyter-button{font-size:0;padding:0 9px;
display:inline-flex;align-items:center}
.jido-actions .jupyter-button i{font-size:var(--jp-widgets-font-size,13px)}}
"""


def session_marks(sessions: Sequence[Any], active: Any) -> tuple[list[str], list[str]]:
    """``(icons, tooltips)`` for the session buttons, one per session: the active one is
    checked, one that is answering shows a speech bubble (that wins: it is news)."""
    icons: list[str] = []
    tooltips: list[str] = []
    for session in sessions:
        states = []
        icon = ""
        if session is active:
            states.append("active")
            icon = ACTIVE_ICON
        if getattr(session, "answering", False):
            states.append("answering")
            icon = ANSWERING_ICON
        icons.append(icon)
        tooltips.append(" · ".join([f"{session.name} (id {session.id})", *states]))
    return icons, tooltips


def sync_session_row(
    tabs: widgets.ToggleButtons, menu: widgets.Dropdown, sessions: Sequence[Any], active: Any
) -> None:
    """Show ``sessions`` as buttons (up to :data:`TAB_LIMIT`) or in the dropdown, with
    ``active`` selected. Traits are assigned only when they change."""
    many = len(sessions) > TAB_LIMIT
    value = active.id if active is not None else None
    options = tuple((s.name, s.id) for s in sessions) if not many else ()
    if tuple(tabs.options) != options:
        tabs.options = options
    icons, tooltips = session_marks(sessions, active) if not many else ([], [])
    if list(tabs.icons) != icons or list(tabs.tooltips) != tooltips:
        tabs.icons, tabs.tooltips = icons, tooltips
    tabs.value = None if many else value
    labels = tuple(
        (s.name + (ANSWERING_MARK if getattr(s, "answering", False) else ""), s.id)
        for s in sessions
    )
    menu_options = labels if many else ()
    if tuple(menu.options) != menu_options:
        menu.options = menu_options
    menu.value = value if many else None
    # No session: no buttons either (ipywidgets 8 does not redraw an emptied ToggleButtons,
    # so the browser would keep the closed session's button lit).
    for widget, shown in ((tabs, bool(sessions) and not many), (menu, many)):
        display = "" if shown else "none"
        if widget.layout.display != display:
            widget.layout.display = display
