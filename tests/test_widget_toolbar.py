"""The widget's session row, kernel-side: the active session is marked by more than a shade of
grey (icon, tooltip; the CSS makes it bold and filled), and the row is built to stay one row."""

from __future__ import annotations

from test_widget import show_view

from jido_magics.ui.render import STYLE
from jido_magics.ui.toolbar import ACTIVE_ICON, TAB_LIMIT


def test_active_session_has_the_check_icon_and_says_so(shell, registry) -> None:
    alpha = registry.create("alpha")
    beta = registry.create("beta")
    view = show_view(shell)
    assert list(view.tabs.icons) == ["", ACTIVE_ICON]
    assert list(view.tabs.tooltips) == [
        f"alpha (id {alpha.id})",
        f"beta (id {beta.id}) · active",
    ]
    view.tabs.value = alpha.id  # a click in the browser
    assert registry.active is alpha
    assert list(view.tabs.icons) == [ACTIVE_ICON, ""]
    registry.close(alpha.id)
    assert list(view.tabs.icons) == [ACTIVE_ICON]
    registry.close(beta.id)
    assert list(view.tabs.icons) == []


def test_past_six_sessions_one_dropdown_names_the_active_one(shell, registry) -> None:
    """At any count up to max_sessions the row holds one chooser and the actions: buttons up
    to TAB_LIMIT, then a dropdown (the buttons would wrap or scroll the active one away)."""
    view = show_view(shell)
    toolbar = view.widget.children[0]
    assert toolbar.children == (view.tabs, view.menu, view.actions)
    assert view.actions.children == (view.new_button, view.save_button, view.close_button)
    assert "jido-toolbar" in toolbar._dom_classes and "jido-actions" in view.actions._dom_classes
    assert view.conversation.value.startswith(STYLE)  # the row's CSS reaches the page
    assert ".jido-toolbar{flex-wrap:nowrap!important" in STYLE
    sessions = [registry.create(f"session-{i}") for i in range(TAB_LIMIT)]
    assert len(view.tabs.options) == TAB_LIMIT and view.menu.options == ()
    assert (view.tabs.layout.display, view.menu.layout.display) == ("", "none")
    seventh = registry.create("seventh")  # becomes active
    assert view.tabs.options == () and view.tabs.value is None
    assert [label for label, _ in view.menu.options][-1] == "seventh"
    assert view.menu.value == seventh.id
    assert (view.tabs.layout.display, view.menu.layout.display) == ("none", "")
    view.menu.value = sessions[2].id  # a choice in the browser
    assert registry.active is sessions[2]
    while len(registry.sessions) < registry.max_sessions:
        registry.create()
    assert len(view.menu.options) == 10 == registry.max_sessions
    registry.switch(seventh.id)
    assert view.menu.value == seventh.id
    for session in registry.sessions[TAB_LIMIT:]:
        registry.close(session.id)
    assert len(view.tabs.options) == TAB_LIMIT and view.menu.options == ()
    assert view.tabs.value == registry.active.id
    assert (view.tabs.layout.display, view.menu.layout.display) == ("", "none")


def test_a_session_that_is_answering_is_marked_until_its_reply_ends(shell, registry) -> None:
    from jido_magics.agents.events import TextDelta
    from jido_magics.agents.exchange import send_message
    from jido_magics.ui.toolbar import ANSWERING_ICON

    alpha = registry.create("alpha")
    beta = registry.create("beta")  # active
    view = show_view(shell)
    seen: list[tuple[list[str], list[str]]] = []

    def look(event) -> None:
        if isinstance(event, TextDelta) and not seen:
            seen.append((list(view.tabs.icons), list(view.tabs.tooltips)))

    send_message(alpha, "hello from another cell", on_event=look)  # as %chat --session alpha
    ((icons, tooltips),) = seen
    assert icons == [ANSWERING_ICON, ACTIVE_ICON]
    assert tooltips[0].endswith(" · answering") and tooltips[1].endswith(" · active")
    assert list(view.tabs.icons) == ["", ACTIVE_ICON]  # the reply ended: the mark is gone
    assert registry.active is beta
