"""Autosave: write changed sessions after every completed exchange, at kernel shutdown and
when the extension is unloaded, while ``SessionMagics.autosave`` is on, and before every close
(``--no-save`` skips it). Only dirty sessions are written. A Ctrl-C during an autosave waits
for the save (a second one stops it); an autosave after an exchange that an interrupt cut
short is retried when the cell ends."""

from __future__ import annotations

import atexit
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.controls import visible_controls
from ..core.errors import JidoError, shorten
from ..core.registry import Registry, RegistryEvent
from ..core.session import CHANGE_EXCHANGE, Session
from ..persistence.errors import SaveBeforeCloseFailed
from .interrupts import interrupt_deferred

if TYPE_CHECKING:
    from .extension_settings import ExtensionSettings


class Autosave:
    """Hooks into one extension's registry; :meth:`stop` removes every hook. ``save`` saves a
    session where it belongs and returns what to warn about (``saving.autosave_session`` for
    the extension); ``events`` is the shell's event manager (None in a shell without one)."""

    def __init__(
        self,
        registry: Registry,
        settings: ExtensionSettings,
        save: Callable[[Session], list[str]],
        events: Any,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self._save_where_it_belongs = save
        self._unsubscribe = registry.subscribe(self._on_event)
        self._remove_close_hook = registry.add_close_hook(self._before_close)
        #: Ids of sessions whose autosave an interrupt cut short, retried after the cell.
        self._pending: set[str] = set()
        self._events = events
        if self._events is not None:
            self._events.register("post_run_cell", self._retry)
        atexit.register(self._at_exit)

    @property
    def enabled(self) -> bool:
        return self.settings.autosave

    def stop(self) -> None:
        """Remove every hook. Unloading the extension drops its open sessions, so changed
        ones are saved first, as at a close or at exit."""
        try:
            self._at_exit()
        finally:
            self._unsubscribe()
            self._remove_close_hook()
            atexit.unregister(self._at_exit)
            if self._events is not None:
                self._events.unregister("post_run_cell", self._retry)

    def retry_later(self, session: Session) -> bool:
        """Retry the autosave of ``session`` when the cell ends, if it is due (autosave on,
        unsaved changes); returns whether it is."""
        if self.enabled and session.dirty:
            self._pending.add(session.id)
            return True
        return False

    def _save(self, session: Session) -> None:
        with interrupt_deferred():  # a save cut midway would look like another kernel's file
            for warning in self._save_where_it_belongs(session):
                _warn(warning)

    def _on_event(self, event: RegistryEvent) -> None:
        session = event.session
        if event.kind != CHANGE_EXCHANGE or session is None:
            return
        if self.enabled and session.dirty:
            session_id = session.id  # a conflict copy gets a new one
            self._pending.add(session_id)  # until the save is done: an interrupt may cut it
            try:
                self._save(session)
                self._pending.discard(session_id)
            except JidoError as exc:  # the exchange itself succeeded: warn, keep going
                self._pending.discard(session_id)
                _warn(f"Autosave of session '{shorten(session.name, 50)}' failed: {exc}")

    def _retry(self, result: object = None) -> None:
        """After each cell: the autosaves an interrupt cut short, reported either way."""
        pending, self._pending = self._pending, set()
        for session_id in sorted(pending):
            session = self.registry.find_by_id(session_id)
            if session is None or not (self.enabled and session.dirty):
                continue  # closed (its close saved it), or saved meanwhile
            name = shorten(session.name, 50)
            try:
                self._save(session)
            except JidoError as exc:
                _warn(f"Autosave of session '{name}' failed after the interrupt: {exc}")
                continue
            except KeyboardInterrupt:  # the cell is over: nothing else to stop
                if session.dirty:
                    self._pending.add(session_id)
                    _warn(
                        f"Autosave of session '{name}' was interrupted again: it is retried "
                        "after the next cell (or run %session save)."
                    )
                    continue
            print(f"Saved session '{name}' after the interrupt (generation {session.generation}).")

    def _before_close(self, session: Session) -> None:
        """Save before a close, autosave on or off (a close drops the session from the
        kernel: only ``--no-save`` may lose its changes); a failure vetoes the close."""
        if not session.dirty:
            return
        try:
            self._save(session)
        except JidoError as exc:
            raise SaveBeforeCloseFailed(
                f"Session '{shorten(session.name, 50)}' stays open because saving it failed: "
                f"{exc} To close it without saving, use %session close --no-save."
            ) from exc

    def _at_exit(self) -> None:
        if not self.enabled:
            return
        for session in self.registry.sessions:
            if session.dirty:
                try:
                    self._save(session)
                except Exception as exc:  # at exit nothing may stop the others being saved
                    _warn(f"Autosave of session '{shorten(session.name, 50)}' failed: {exc}")


def _warn(message: str) -> None:
    print(visible_controls(message.replace("\n", " ")), file=sys.stderr)
