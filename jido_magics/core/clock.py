"""UTC timestamps as ISO-8601 strings ending in ``Z``, the same in memory and on disk."""

from __future__ import annotations

import re
from datetime import datetime, timezone

#: The form :func:`utc_now` writes (a quick check: :func:`is_utc_timestamp` also checks the date).
UTC_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")
#: A UTC time in a file name, e.g. ``20261124T124349Z`` (no colons: Windows refuses them);
#: the trash and set-aside files carry it.
FILE_STAMP = "%Y%m%dT%H%M%SZ"


def utc_now() -> str:
    """The current UTC time, e.g. ``2026-11-24T12:43:49.123456Z``."""
    return utc_timestamp(datetime.now(timezone.utc))


def utc_timestamp(moment: datetime) -> str:
    """``moment`` (an aware UTC datetime) in the form :func:`utc_now` writes."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def display_time(timestamp: str) -> str:
    """``2026-11-24T12:43:49.123456Z`` -> ``2026-11-24 12:43:49 UTC``."""
    if len(timestamp) >= 19 and timestamp[10] == "T":
        return f"{timestamp[:10]} {timestamp[11:19]} UTC"
    return timestamp


def is_utc_timestamp(value: object) -> bool:
    """True when ``value`` is a timestamp in the format :func:`utc_now` produces."""
    if not isinstance(value, str) or UTC_TIMESTAMP.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value[:-1])
    except ValueError:
        return False
    return True
