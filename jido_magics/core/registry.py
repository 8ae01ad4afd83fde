"""The registry of open sessions: create, switch, close, rename, and observers of every change."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import (
    NO_SESSION_OPEN,
    DuplicateName,
    InvalidConfig,
    NoActiveSession,
    SessionLimitReached,
    shorten,
)
from .ids import new_id
from .names import MAX_NAME_LENGTH, check_name, check_new_name
from .records import Caps, Parent, SessionConfig
from .session import Session
from .targets import resolve_target

logger = logging.getLogger("jido_magics")

#: How many sessions may be open at once unless the extension says otherwise.
DEFAULT_MAX_SESSIONS = 10

EVENT_CREATED = "created"
EVENT_ADDED = "added"  # an existing session (e.g. resumed from disk) was opened
EVENT_SWITCHED = "switched"
EVENT_CLOSED = "closed"
EVENT_RENAMED = "renamed"


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """What changed. ``kind`` is an ``EVENT_*`` name or a session change kind (``"message"``,
    ``"message_text"``, ``"exchange"``, ...); ``session`` is the session concerned."""

    kind: str
    session: Session | None


Observer = Callable[[RegistryEvent], None]
CloseHook = Callable[[Session], None]


class Registry:
    """Open sessions in creation order and the active one.

    All operations are safe from several threads (widget callbacks, streaming). Observers are
    called after the change, outside the lock, in the thread that made it; an observer that
    raises is logged and does not undo the change. Close hooks run before a session is removed
    and may veto the close by raising (autosave uses this so a failed save keeps the session).
    """

    def __init__(
        self,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        caps: Caps | None = None,
        config_factory: Callable[[], SessionConfig] = SessionConfig,
    ) -> None:
        #: Settings of a session created without ``config=``; the extension makes it follow
        #: its ``default_provider``/``default_model`` settings and environment.
        self.config_factory = config_factory
        self._lock = threading.RLock()
        self._sessions: list[Session] = []
        self._active: Session | None = None
        self._observers: list[Observer] = []
        self._close_hooks: list[CloseHook] = []
        self._max_sessions = _check_max_sessions(max_sessions)
        self._caps = caps or Caps()

    # -- settings --------------------------------------------------------------------------

    @property
    def max_sessions(self) -> int:
        return self._max_sessions

    @max_sessions.setter
    def max_sessions(self, value: int) -> None:
        self._max_sessions = _check_max_sessions(value)

    @property
    def caps(self) -> Caps:
        return self._caps

    @caps.setter
    def caps(self, caps: Caps) -> None:
        with self._lock:
            self._caps = caps
            sessions = list(self._sessions)
        for session in sessions:
            session.set_caps(caps)

    # -- reading ---------------------------------------------------------------------------

    @property
    def sessions(self) -> tuple[Session, ...]:
        """Open sessions in creation order."""
        with self._lock:
            return tuple(self._sessions)

    @property
    def active(self) -> Session | None:
        return self._active

    def require_active(self) -> Session:
        session = self._active
        if session is None:
            raise NoActiveSession(NO_SESSION_OPEN)
        return session

    def get(self, target: int | str | None = None) -> Session:
        """The session ``target`` names, or the active one when ``target`` is None."""
        if target is None:
            return self.require_active()
        with self._lock:
            return resolve_target(target, self._sessions)

    def index_of(self, session: Session) -> int:
        """1-based position of ``session`` among open sessions."""
        with self._lock:
            return self._sessions.index(session) + 1

    def find_by_id(self, session_id: str) -> Session | None:
        with self._lock:
            for session in self._sessions:
                if session.id == session_id:
                    return session
        return None

    def __len__(self) -> int:
        return len(self._sessions)

    def __repr__(self) -> str:
        active = self._active.name if self._active else None
        return f"<Registry sessions={len(self._sessions)} active={active!r}>"

    # -- changing --------------------------------------------------------------------------

    def create(
        self,
        name: str | None = None,
        *,
        config: SessionConfig | None = None,
        activate: bool = True,
        **settings: Any,
    ) -> Session:
        """Create a session (named ``session-N`` when no name is given) and make it active.

        ``settings`` are :class:`SessionConfig` fields (``provider=``, ``model=``, ...).
        """
        config = config or self.config_factory()
        if settings:
            config = config.updated(settings)
        with self._lock:
            self._check_room()
            name = self._free_default_name() if name is None else check_new_name(name)
            self._check_unique(name)
            session = Session(name, config=config, caps=self._caps)
            while self.find_by_id(session.id) is not None:  # 2**32 ids: a clash is rare
                session.id = new_id()
            self._insert(session, activate)
        self._emit(EVENT_CREATED, session)
        if activate:
            self._emit(EVENT_SWITCHED, session)
        return session

    def add(self, session: Session, *, activate: bool = True) -> Session:
        """Open an existing session object (one loaded from disk)."""
        with self._lock:
            if self.find_by_id(session.id) is not None:
                raise DuplicateName(f"Session id {session.id} is already open.")
            self._check_room()
            self._check_unique(session.name)
            session.set_caps(self._caps)
            self._insert(session, activate)
        self._emit(EVENT_ADDED, session)
        if activate:
            self._emit(EVENT_SWITCHED, session)
        return session

    def switch(self, target: int | str) -> Session:
        """Make the session ``target`` names active. O(1) beyond the lookup; no I/O."""
        with self._lock:
            session = resolve_target(target, self._sessions)
            changed = session is not self._active
            self._active = session
        if changed:
            self._emit(EVENT_SWITCHED, session)
        return session

    def rename(self, new_name: str, target: int | str | None = None) -> Session:
        with self._lock:
            session = self.get(target)
            session.refuse_while_answering()
            name = check_new_name(new_name)
            self._check_unique(name, ignore=session)
            session._set_name(name)
        self._emit(EVENT_RENAMED, session)
        return session

    def make_copy(self, session: Session, name: str, parent: Parent) -> Session:
        """Turn the open ``session`` into a copy of itself: a new id, ``name`` and ``parent``,
        never saved (a conflict copy keeps a kernel's changes this way)."""
        with self._lock:
            name = check_name(name)
            self._check_unique(name, ignore=session)
            copy_id = new_id()
            while self.find_by_id(copy_id) is not None:
                copy_id = new_id()
            session._become_copy(copy_id, name, parent)
        self._emit(EVENT_RENAMED, session)
        return session

    def close(self, target: int | str | None = None, *, run_hooks: bool = True) -> Session:
        """Close a session (the active one by default). Close hooks run first and may veto.
        A session that is answering is not closed (:class:`SessionBusy`): its reply would be
        saved half-written and never finished.

        The next active session is the neighbour that followed it, else the one before.
        """
        session = self.get(target)
        session.refuse_while_answering()
        if run_hooks:
            for hook in list(self._close_hooks):
                hook(session)
        with self._lock:
            if session not in self._sessions:
                return session
            session.refuse_while_answering()  # a reply may have started during the hooks
            position = self._sessions.index(session)
            self._sessions.remove(session)
            switched = session is self._active
            if switched:
                remaining = self._sessions
                self._active = remaining[min(position, len(remaining) - 1)] if remaining else None
            session._set_listener(None)
            new_active = self._active
        self._emit(EVENT_CLOSED, session)
        if switched:
            self._emit(EVENT_SWITCHED, new_active)
        return session

    def close_all(self, *, run_hooks: bool = True) -> None:
        for session in self.sessions:
            self.close(session.id, run_hooks=run_hooks)

    # -- observers -------------------------------------------------------------------------

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer(event)`` after every change; returns a function that unsubscribes."""
        with self._lock:
            self._observers = [*self._observers, observer]

        def unsubscribe() -> None:
            with self._lock:
                self._observers = [o for o in self._observers if o is not observer]

        return unsubscribe

    def add_close_hook(self, hook: CloseHook) -> Callable[[], None]:
        with self._lock:
            self._close_hooks = [*self._close_hooks, hook]

        def remove() -> None:
            with self._lock:
                self._close_hooks = [h for h in self._close_hooks if h is not hook]

        return remove

    # -- internals ---------------------------------------------------------------------------

    def _insert(self, session: Session, activate: bool) -> None:
        session._set_listener(self._session_changed)
        self._sessions.append(session)
        if activate or self._active is None:
            self._active = session

    def _check_room(self) -> None:
        if len(self._sessions) >= self._max_sessions:
            raise SessionLimitReached(
                f"{self._max_sessions} sessions are open, the most allowed: "
                "close one first (%session close NAME)."
            )

    def _check_unique(self, name: str, ignore: Session | None = None) -> None:
        folded = name.casefold()
        for session in self._sessions:
            if session is not ignore and session.name.casefold() == folded:
                raise DuplicateName(
                    f"A session named '{shorten(session.name, 50)}' is already open: "
                    "choose another name or switch to it."
                )

    def unique_name(self, base: str) -> str:
        """``base`` when no open session has that name, else ``base 2``, ``base 3``...; cut
        to fit the 50-character limit."""
        with self._lock:
            taken = {s.name.casefold() for s in self._sessions}
            number = 1
            while True:
                suffix = "" if number == 1 else f" {number}"
                name = base[: MAX_NAME_LENGTH - len(suffix)].rstrip() + suffix
                if name.casefold() not in taken:
                    return name
                number += 1

    def _free_default_name(self) -> str:
        taken = {s.name.casefold() for s in self._sessions}
        number = 1
        while f"session-{number}" in taken:
            number += 1
        return f"session-{number}"

    def _session_changed(self, session: Session, kind: str) -> None:
        self._emit(kind, session)

    def _emit(self, kind: str, session: Session | None) -> None:
        event = RegistryEvent(kind, session)
        for observer in self._observers:
            try:
                observer(event)
            except Exception:  # an observer's bug must not break the registry
                logger.exception("jido_magics: a registry observer failed on %s", kind)


def _check_max_sessions(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidConfig("max_sessions must be a whole number of at least 1.")
    return value
