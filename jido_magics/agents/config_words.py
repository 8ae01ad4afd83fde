"""Session settings from ``KEY=VALUE`` words (``%session config`` and the widget's model
picker): all or nothing, every pair read and checked first (``SessionConfig.updated``)."""

from __future__ import annotations

from typing import Any

from ..core.errors import InvalidConfig, unknown_choice
from ..core.records import SessionConfig
from ..core.session import Session
from .providers import check_installed, provider_names

#: Shown key -> SessionConfig field, in display order.
KEYS: dict[str, str] = {
    "provider": "provider",
    "model": "model",
    "base_url": "base_url",
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "system": "system_prompt",
    "context_budget": "context_budget",
    "api_key": "api_key",
}
ALIASES = {"system_prompt": "system", "base-url": "base_url", "max-tokens": "max_tokens"}
_NUMBERS = {"temperature": float, "max_tokens": int, "context_budget": int}


def parse_pairs(words: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` words as SessionConfig changes; ``KEY=`` resets a setting to its default."""
    changes: dict[str, Any] = {}
    for number, word in enumerate(words, 1):
        key, equals, raw = word.partition("=")
        key = ALIASES.get(key.strip().lower(), key.strip().lower())
        if not equals or not key:
            # A bare word may be a value cut off by a space (api_key= sk-...): quote it only
            # when it is a setting's name, so an API key never reaches the output.
            shown = f"'{key}'" if key in KEYS and not equals else f"word {number}"
            raise InvalidConfig(
                f"Cannot read {shown}: write KEY=VALUE (no spaces around '='), "
                "e.g. temperature=0.2."
            )
        if key not in KEYS:
            raise InvalidConfig(unknown_choice("setting", key, KEYS))
        changes[KEYS[key]] = _value(key, raw)
    return changes


def checked_provider(raw: str) -> str:
    """The registered provider called ``raw`` (any case), else a one-line error."""
    name = raw.strip().lower()
    if name not in provider_names():
        raise InvalidConfig(unknown_choice("provider", raw.strip(), provider_names()))
    check_installed(name)
    return name


def _value(key: str, raw: str) -> Any:
    if raw == "":
        return SessionConfig.__dataclass_fields__[KEYS[key]].default
    if key == "provider":
        return checked_provider(raw)
    kind = _NUMBERS.get(key)
    if kind is not None:
        try:
            return kind(raw)
        except ValueError:
            # let the core give its usual sentence for this setting
            return raw
    return raw


def apply_settings(session: Session, pairs: list[str]) -> tuple[SessionConfig, dict[str, Any]]:
    """Set ``KEY=VALUE`` words on ``session``, all or nothing (``%session config`` and the
    widget's model picker); returns the new settings and the fields changed."""
    changes = parse_pairs(pairs)
    with session.lock:
        config = session.config.updated(changes)  # checks every value before changing any
        session.set_config(config)
    return config, changes
