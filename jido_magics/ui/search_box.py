"""The widget's search box: a query field, the hits newest first, and a jump to the page of a
chosen hit (a saved session is resumed first). The search itself is the one
``%session search`` runs, given as a callable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..core.errors import JidoError, shorten
from ..core.search import Hit, where_found
from ..core.session import Session
from ..core.text import plural
from .parts import add_classes

#: ``search(text) -> hits``: the hits of a query as typed, newest first.
Searcher = Callable[[str], "list[Hit]"]
#: ``open_hit(hit) -> session``: the open session of a hit (resumed when it is saved).
Opener = Callable[[Hit], Session]

QUERY_FORM = 'words or "a phrase"'
PROMPT = f"Search messages: {QUERY_FORM}"


class SearchBox:
    """A text field with Search, a list of hits, and a status line. Choosing a hit switches
    to its session and shows the page holding its message (``view.show_message``)."""

    def __init__(self, view: Any, search: Searcher, open_hit: Opener) -> None:
        self._view = view
        self._search = search
        self._open_hit = open_hit
        self._hits: list[Hit] = []
        self.query = widgets.Text(placeholder=PROMPT, layout=widgets.Layout(width="60%"))
        self.button = widgets.Button(description="Search", icon="search")
        self.results = widgets.Select(options=[], rows=6, layout=widgets.Layout(width="100%"))
        self.note = widgets.HTML()
        self.widget = widgets.VBox(
            [widgets.HBox([self.query, self.button]), self.results, self.note],
            layout=widgets.Layout(width="100%"),
        )
        add_classes(
            (
                (self.widget, "jido-search"),
                (self.query, "jido-search-query"),
                (self.button, "jido-search-button"),
                (self.results, "jido-search-results"),
                (self.note, "jido-search-note"),
            )
        )
        self.button.on_click(lambda _: self.search())
        self.query.continuous_update = False
        self.query.observe(lambda change: self.search(), names="value")
        self.results.observe(self._on_choice, names="value")

    @property
    def hits(self) -> list[Hit]:
        return list(self._hits)

    def search(self, text: str | None = None) -> list[Hit]:
        """Run the query (default: the field's text) and list its hits."""
        text = self.query.value if text is None else text
        if not text.strip():
            self._show([], f"Type what to search for: {QUERY_FORM}.")
            return []
        # Shown while it runs: a first search may index hundreds of saved files for seconds.
        self.note.value = _escaped(f"Searching for '{shorten(text.strip(), 40)}'…")
        try:
            hits = self._search(text)
        except JidoError as exc:
            self._show([], str(exc))
            return []
        if not hits:
            self._show(hits, f"No message matches '{shorten(text.strip(), 40)}'.")
        else:
            self._show(hits, f"{plural(len(hits), 'hit')}, newest first: choose one to go there.")
        return hits

    def choose(self, index: int) -> Session | None:
        """Go to hit ``index`` of the list: switch to its session (resuming a saved one) and
        show the page holding its message."""
        hit = self._hits[index]
        try:
            session = self._open_hit(hit)
            self._view.show_message(hit.number)
        except JidoError as exc:
            self.note.value = _escaped(str(exc))
            return None
        self.note.value = _escaped(f"Message {hit.number} of '{shorten(session.name, 40)}'.")
        return session

    def _show(self, hits: list[Hit], note: str) -> None:
        self._hits = hits
        self.results.unobserve(self._on_choice, names="value")
        try:
            places = where_found(hits, 24)
            self.results.options = [(_label(hit, places[i]), i) for i, hit in enumerate(hits)]
            self.results.value = None
        finally:
            self.results.observe(self._on_choice, names="value")
        self.note.value = _escaped(note)

    def _on_choice(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.choose(change["new"])


def _label(hit: Hit, where: str) -> str:
    when = hit.created_at[:16].replace("T", " ")
    return f"{where} · #{hit.number} · {hit.role} · {when} · {shorten(hit.snippet, 110)}"


def _escaped(text: str) -> str:
    import html

    return html.escape(text)
