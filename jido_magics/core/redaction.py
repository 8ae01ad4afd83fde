"""Hiding API keys in text before it reaches a model, a session, a file or an error message."""

from __future__ import annotations

import re
from collections.abc import Iterable

#: What an API key usually looks like ("sk-..." keys of OpenAI and compatible servers).
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_*\-]{6,}")
KEY_HIDDEN = "[key hidden]"
#: A shorter "key" is a placeholder: hiding it would hide ordinary words.
MIN_KEY_LENGTH = 8


def hide_keys(text: str, keys: Iterable[str | None]) -> str:
    """``text`` with each of ``keys``, and anything shaped like an API key, replaced by
    :data:`KEY_HIDDEN`."""
    for key in keys:
        if key and len(key) >= MIN_KEY_LENGTH:
            text = text.replace(key, KEY_HIDDEN)
    return _KEY_LIKE.sub(KEY_HIDDEN, text)
