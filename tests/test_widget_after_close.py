"""The widget's state after the last close and across sessions (issue 11, defect 11); the
browser side is in ``test_browser_last_close.py``."""

from __future__ import annotations

from magic_helpers import run

from jido_magics.ui.view import SessionView


def test_the_tabs_hide_when_the_last_session_closes(shell, registry) -> None:
    run(shell, "new only")
    view = SessionView(registry, prewarm=False)
    try:
        assert view.tabs.layout.display == ""
        view.close_session()
        assert view.tabs.options == () and view.tabs.value is None
        assert view.tabs.layout.display == "none"
        run(shell, "new again")
        assert view.tabs.layout.display == "" and view.tabs.value == registry.active.id
    finally:
        view.close()


def test_an_old_error_does_not_follow_into_another_session(shell, registry) -> None:
    run(shell, "new first")
    view = SessionView(registry, prewarm=False)
    try:
        view.send("")
        assert view.last_error == "Type a message first."
        assert "Type a message first." in view.status.value
        run(shell, "new second")  # made by a magic, not by the widget
        assert view.last_error == ""
        assert "Type a message first." not in view.status.value
        view.send("")
        run(shell, "switch first")
        assert "Type a message first." not in view.status.value
        view.send("")
        run(shell, "rename renamed")  # the same session: its error stays
        assert view.last_error == "Type a message first."
    finally:
        view.close()
