"""Small widget helpers the session widget and its rows share: a button, stable class names,
and closing a whole widget tree."""

from __future__ import annotations

from collections.abc import Iterable

import ipywidgets as widgets


def button(description: str, icon: str, tooltip: str = "") -> widgets.Button:
    """A button as wide as its label."""
    return widgets.Button(
        description=description, icon=icon, tooltip=tooltip, layout=widgets.Layout(width="auto")
    )


def add_classes(parts: Iterable[tuple[widgets.DOMWidget, str]]) -> None:
    """Give each widget its stable class name: the browser tests and user CSS find the parts
    by them."""
    for part, name in parts:
        part.add_class(name)


def close_tree(widget: widgets.Widget) -> None:
    """Close ``widget``, its children and their layout and style models, so an unloaded
    extension leaves no widget behind in the kernel."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if isinstance(part, widgets.Widget):
            part.close()
    widget.close()
