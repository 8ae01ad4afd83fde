"""The schema of a saved session: the exact fields of a payload and of every record in it,
checked before any record is built (:func:`build`), or without building any (:func:`validate`,
for a listing): both run the same checks, so both refuse the same payloads with the same words.
The hot loop of a load is here (:func:`_messages`), kept plain."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..core.clock import UTC_TIMESTAMP, is_utc_timestamp
from ..core.errors import InvalidConfig, InvalidName
from ..core.ids import is_valid_session_id
from ..core.names import check_name
from ..core.records import (
    MAX_COUNT,
    MESSAGE_STATUSES,
    ROLES,
    TOOL_CALL_STATUSES,
    Caps,
    Message,
    Parent,
    ReasoningStep,
    SessionConfig,
    ToolCall,
    Usage,
)
from ..core.session import Session

#: The keys of a version 1 payload; version 2 may add ``parent``.
PAYLOAD_KEYS = frozenset(
    (
        "format_version",
        "session_id",
        "generation",
        "saved_at",
        "name",
        "created_at",
        "updated_at",
        "config",
        "messages",
        "reasoning_steps",
        "tool_calls",
        "usage",
        "dropped",
    )
)
PAYLOAD_KEYS_V2 = PAYLOAD_KEYS | {"parent"}
PARENT_KEYS = frozenset(("session_id", "message"))
MESSAGE_KEYS = frozenset(
    ("id", "role", "content", "created_at", "model", "usage", "tool_call_id", "status")
)
REASONING_KEYS = frozenset(("id", "content", "created_at", "message_id"))
TOOL_CALL_KEYS = frozenset(
    ("id", "name", "arguments", "result", "status", "created_at", "message_id")
)
USAGE_KEYS = frozenset(("input_tokens", "output_tokens"))
USAGE_KEYS_WITH_COST = USAGE_KEYS | {"cost_usd"}
DROPPED_KEYS = frozenset(("messages", "reasoning_steps", "tool_calls"))
CONFIG_KEYS = frozenset(SessionConfig().to_dict())
#: Largest generation or count accepted: exact in every JSON reader (JavaScript included), and
#: far from orjson's 64-bit limit, so a loaded session can always be saved again.
# Records are checked with this (fast) pattern; the few top-level times with the full check.
_TIMESTAMP = UTC_TIMESTAMP
# Every line of "\n".join(stamps) + "\n" with digits mapped to 0, when all are utc_now's form
# (one line per stamp: the count of newlines must match, so no stamp can hide one).
_UTC_NOW_SHAPE = b"0000-00-00T00:00:00.000000Z\n"
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_DEFAULT_CAPS = Caps()
_MESSAGE_FIELDS = len(MESSAGE_KEYS)


class Invalid(Exception):
    """Where a payload breaks the schema (the codec turns it into ``InvalidPayload``)."""


def build(data: dict[str, Any], caps: Caps | None, version: int) -> Session:
    """The session ``data`` holds, after every check of the schema."""
    session_id, name, generation = _header(data, version)
    messages = _messages(_list(data, "messages"), build=True)
    steps = _reasoning_steps(_list(data, "reasoning_steps"), build=True)
    calls = _tool_calls(_list(data, "tool_calls"), build=True)
    usage, dropped, config, parent = _rest(data, version)
    if caps is None:  # keep everything saved; the registry applies its own caps when opening
        caps = _DEFAULT_CAPS  # frozen: one object serves every session
        if (
            len(messages) > caps.max_messages
            or len(steps) > caps.max_reasoning_steps
            or len(calls) > caps.max_tool_calls
        ):
            caps = Caps(
                max(caps.max_messages, len(messages)),
                max(caps.max_reasoning_steps, len(steps)),
                max(caps.max_tool_calls, len(calls)),
            )
    return Session(
        name,
        id=session_id,
        config=config,
        caps=caps,
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        messages=messages,
        reasoning_steps=steps,
        tool_calls=calls,
        usage=usage,
        dropped=dropped,
        generation=generation,
        parent=parent,
    )


def validate(data: dict[str, Any], version: int) -> None:
    """Every check of :func:`build`, in the same order, without building the records: what
    a listing needs to give a file the status its load would."""
    _header(data, version)
    _messages(_list(data, "messages"), build=False)
    _reasoning_steps(_list(data, "reasoning_steps"), build=False)
    _tool_calls(_list(data, "tool_calls"), build=False)
    _rest(data, version)


def _header(data: dict[str, Any], version: int) -> tuple[str, str, int]:
    """(session id, name, generation) after checking the payload's keys and plain fields."""
    keys = data.keys()
    if keys != PAYLOAD_KEYS and (version == 1 or keys != PAYLOAD_KEYS_V2):
        known = PAYLOAD_KEYS if version == 1 else PAYLOAD_KEYS_V2
        missing = sorted(PAYLOAD_KEYS - keys)
        extra = sorted(k[:20] for k in keys - known)
        raise Invalid(f"missing {missing[:3]}" if missing else f"unknown fields {extra[:3]}")
    session_id = data["session_id"]
    if not is_valid_session_id(session_id):
        raise Invalid("bad session_id")
    generation = data["generation"]
    if type(generation) is not int or not 1 <= generation <= MAX_COUNT:
        raise Invalid("bad generation")
    for key in ("saved_at", "created_at", "updated_at"):
        if not is_utc_timestamp(data[key]):
            raise Invalid(f"bad {key}")
    name = data["name"]
    try:
        if check_name(name) != name:
            raise Invalid("bad name")
    except InvalidName:
        raise Invalid("bad name") from None
    return session_id, name, generation


def _rest(
    data: dict[str, Any], version: int
) -> tuple[Usage, dict[str, int], SessionConfig, Parent | None]:
    """(usage, dropped, config, parent), checked after the records; then what version 1
    did not know."""
    usage = _usage(data["usage"], "usage")
    dropped = data["dropped"]
    if type(dropped) is not dict or dropped.keys() != DROPPED_KEYS:
        raise Invalid("bad dropped")
    for key, count in dropped.items():
        _count(count, f"dropped.{key}")
    config = _config(data["config"])
    parent = _parent(data.get("parent"))
    if version == 1:
        _check_version_1(data["messages"], usage)
    return usage, dropped, config, parent


def _parent(value: Any) -> Parent | None:
    if value is None:
        return None
    if (
        type(value) is not dict
        or value.keys() != PARENT_KEYS
        or not is_valid_session_id(value["session_id"])
        or type(value["message"]) is not int
        or not 0 <= value["message"] <= MAX_COUNT
    ):
        raise Invalid("bad parent")
    return Parent(value["session_id"], value["message"])


def _check_version_1(messages: list[dict[str, Any]], usage: Usage) -> None:
    """Version 1 knew no superseded replies and no costs (``messages``: the checked items)."""
    if usage.cost_usd is not None:
        raise Invalid("usage.cost_usd in format 1")
    for index, message in enumerate(messages):
        # a cost, when present, is a float (see _usage): present means known
        if message["status"] == "superseded" or (
            message["usage"] is not None and "cost_usd" in message["usage"]
        ):
            raise Invalid(f"messages[{index}] has a bad value")


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data[key]
    if type(value) is not list:
        raise Invalid(f"{key} is not a list")
    return value


def _messages(items: list[Any], *, build: bool) -> list[Message]:
    """The records of a message list (none unless ``build``), or :class:`Invalid` naming the
    first bad message.

    The hot loop of a load (up to 1000 messages), kept plain: one pass of type checks and one
    ``Message`` per item."""
    # Times are checked together at the end (see _first_bad_time), and any earlier bad time
    # is reported first, as an item-by-item check would. One stamp per good item: the count
    # of stamps is the index of the item at hand (no enumerate in the hot loop).
    built: list[Message] = []
    stamps: list[str] = []
    for item in items:
        try:
            if type(item) is not dict or len(item) != _MESSAGE_FIELDS:
                raise KeyError
            message_id, role, content = item["id"], item["role"], item["content"]
            created_at, model, usage = item["created_at"], item["model"], item["usage"]
            tool_call_id, status = item["tool_call_id"], item["status"]
        except KeyError:
            index = len(stamps)
            _check_times(stamps)
            raise Invalid(f"messages[{index}] has wrong fields") from None
        if (  # _optional_text inlined: two calls per message cost ~10% of a load
            type(message_id) is not str
            or type(content) is not str
            or type(created_at) is not str
            or role not in ROLES
            or status not in MESSAGE_STATUSES
            or (model is not None and type(model) is not str)
            or (tool_call_id is not None and type(tool_call_id) is not str)
        ):
            index = len(stamps)
            _check_times(stamps)
            raise Invalid(f"messages[{index}] has a bad value")
        stamps.append(created_at)
        if usage is not None:
            try:
                usage = _usage(usage, f"messages[{len(stamps) - 1}].usage")
            except Invalid:
                _check_times(stamps)
                raise
        if build:
            built.append(
                Message(message_id, role, content, created_at, model, usage, tool_call_id, status)
            )
    _check_times(stamps)
    return built


def _check_times(stamps: list[str]) -> None:
    index = _first_bad_time(stamps)
    if index is not None:
        raise Invalid(f"messages[{index}] has a bad value")


def _all_utc_now_form(stamps: list[str]) -> bool:
    """True when every stamp has the exact form ``utc_now`` writes (ASCII digits, 6
    fractional digits): one join, one translate and one comparison for them all. Every line
    of the joined text must match, and the count of lines too, so no stamp can hide one.
    Raises TypeError when a stamp is not text."""
    try:
        joined = "\n".join(stamps).encode("ascii")
    except UnicodeEncodeError:
        return False
    if not stamps:
        return True
    return (joined + b"\n").translate(_DIGITS_TO_ZERO) == _UTC_NOW_SHAPE * len(stamps)


def _first_bad_time(stamps: list[str]) -> int | None:
    """Index of the first string that is not a timestamp, or None.

    Fast path: :func:`_all_utc_now_form`. Anything else is checked one by one with the full
    pattern, so the result is the same either way.
    """
    if _all_utc_now_form(stamps):
        return None
    for index, stamp in enumerate(stamps):
        if not _is_time(stamp):
            return index
    return None


def _reasoning_steps(items: list[Any], *, build: bool) -> list[ReasoningStep]:
    """The records of a reasoning step list (none unless ``build``), once all are checked."""
    _records(items, "reasoning_steps", REASONING_KEYS, lambda item: type(item["content"]) is str)
    if not build:
        return []
    return [
        ReasoningStep(item["id"], item["content"], item["created_at"], item["message_id"])
        for item in items
    ]


def _tool_calls(items: list[Any], *, build: bool) -> list[ToolCall]:
    """The records of a tool call list (none unless ``build``), once all are checked."""

    def valid(item: dict[str, Any]) -> bool:
        return (
            type(item["name"]) is str
            and type(item["arguments"]) is dict
            and _optional_text(item["result"])
            and item["status"] in TOOL_CALL_STATUSES
        )

    _records(items, "tool_calls", TOOL_CALL_KEYS, valid)
    if not build:
        return []
    return [
        ToolCall(
            item["id"],
            item["name"],
            item["arguments"],
            item["created_at"],
            item["message_id"],
            item["result"],
            item["status"],
        )
        for item in items
    ]


def _records(
    items: list[Any], where: str, keys: frozenset[str], valid: Callable[[dict[str, Any]], bool]
) -> None:
    """Check that each of ``items`` is a record of exactly ``keys`` with a text id, a time, an
    optional message id and what ``valid`` checks; else :class:`Invalid` naming the first bad
    one."""
    for index, item in enumerate(items):
        if (
            type(item) is not dict
            or item.keys() != keys
            or type(item["id"]) is not str
            or not valid(item)
            or not _is_time(item["created_at"])
            or not _optional_text(item["message_id"])
        ):
            raise Invalid(f"{where}[{index}] is malformed")


def _usage(value: Any, where: str) -> Usage:
    if type(value) is not dict or (
        value.keys() != USAGE_KEYS and value.keys() != USAGE_KEYS_WITH_COST
    ):
        raise Invalid(f"bad {where}")
    cost = value.get("cost_usd")  # absent when unknown: an explicit null is refused
    if len(value) == 3 and (type(cost) is not float or not 0 <= cost < math.inf):
        raise Invalid(f"bad {where}.cost_usd")
    return Usage(
        _count(value["input_tokens"], where + ".input_tokens"),
        _count(value["output_tokens"], where + ".output_tokens"),
        cost,
    )


def _config(value: Any) -> SessionConfig:
    if type(value) is not dict or not value.keys() <= CONFIG_KEYS:
        raise Invalid("bad config")
    try:
        return SessionConfig.from_dict(value)
    except InvalidConfig:
        raise Invalid("bad config value") from None


def _count(value: Any, where: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_COUNT:
        raise Invalid(f"bad {where}")
    return value


def _optional_text(value: Any) -> bool:
    return value is None or type(value) is str


def _is_time(value: Any) -> bool:
    return type(value) is str and _TIMESTAMP.fullmatch(value) is not None
