"""The pure core: sessions, caps, targets, the registry and typed errors (stdlib only)."""

from .clock import utc_now
from .errors import (
    AmbiguousTarget,
    DuplicateName,
    InvalidConfig,
    InvalidName,
    InvalidSessionId,
    JidoError,
    NoActiveSession,
    SessionError,
    SessionLimitReached,
    SessionNotFound,
)
from .ids import check_session_id, is_valid_session_id, new_id
from .names import check_name
from .page import Page
from .records import Caps, Message, Parent, ReasoningStep, SessionConfig, ToolCall, Usage
from .registry import Registry, RegistryEvent
from .session import Session
from .targets import resolve_target

__all__ = [
    "AmbiguousTarget",
    "Caps",
    "DuplicateName",
    "InvalidConfig",
    "InvalidName",
    "InvalidSessionId",
    "JidoError",
    "Message",
    "NoActiveSession",
    "Page",
    "Parent",
    "ReasoningStep",
    "Registry",
    "RegistryEvent",
    "Session",
    "SessionConfig",
    "SessionError",
    "SessionLimitReached",
    "SessionNotFound",
    "ToolCall",
    "Usage",
    "check_name",
    "check_session_id",
    "is_valid_session_id",
    "new_id",
    "resolve_target",
    "utc_now",
]
