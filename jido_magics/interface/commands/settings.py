"""``%session config``: show or set the active session's model settings.

Setting is all or nothing: every pair is read and checked first (``SessionConfig.updated``),
so one bad pair changes none.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from ...agents.context import DEFAULT_SYSTEM_PROMPT
from ...agents.providers import check_installed, provider_names
from ...agents.providers.keys import key_variables
from ...core.errors import InvalidConfig, shorten, unknown_choice
from ...core.records import SessionConfig
from ...core.session import Session
from ...core.text import usd
from ..parsing import CommandParser
from .command import Command

if TYPE_CHECKING:
    from ..extension import Extension

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


def describe_settings(session: Session) -> str:
    config = session.config
    # LiteLLM finds each provider's endpoint itself; OPENAI_BASE_URL is the openai provider's
    env_url = None if config.provider == "litellm" else os.environ.get("OPENAI_BASE_URL")
    system = config.system_prompt
    shown = {
        "provider": config.provider,
        "model": config.model or "(the provider's default)",
        "base_url": config.base_url
        or (f"(from OPENAI_BASE_URL: {env_url})" if env_url else "(the provider's default)"),
        "temperature": "(the model's default)"
        if config.temperature is None
        else config.temperature,
        "max_tokens": "(the model's default)" if config.max_tokens is None else config.max_tokens,
        "system": repr(shorten(DEFAULT_SYSTEM_PROMPT, 60)) + " (default)"
        if system is None
        else repr(shorten(system, 200)),
        "context_budget": f"{config.context_budget} tokens",
        "api_key": "set" if config.api_key else f"unset ({_environment_key(config)})",
    }
    cost = session.usage.cost_usd
    if cost is not None:  # only a known price: an unknown one shows nothing, never $0
        shown["cost"] = f"{usd(cost)} so far (LiteLLM's price list)"
    width = max(len(key) for key in shown)
    lines = [f"Settings of session '{session.name}':"]
    lines += [f"  {key.ljust(width)}  {value}" for key, value in shown.items()]
    lines.append("Change with %session config KEY=VALUE ... (KEY= resets one to its default).")
    return "\n".join(lines)


def _environment_key(config: SessionConfig) -> str:
    """Where the key comes from when the session has none: ``ANTHROPIC_API_KEY is set``."""
    names = key_variables(config.model) if config.provider == "litellm" else ("OPENAI_API_KEY",)
    if not names:
        return "the provider's own variable, or none for a local server"
    return ", ".join(f"{name} is {'set' if os.environ.get(name) else 'unset'}" for name in names)


def _configure_config(parser: CommandParser) -> None:
    parser.add_argument("pairs", nargs="*")
    parser.add_argument("--session", dest="target")


def _run_config(ext: Extension, args: argparse.Namespace) -> None:
    session = ext.registry.get(args.target)
    if not args.pairs:
        print(describe_settings(session))
        return
    config, changes = apply_settings(session, args.pairs)
    shown = ", ".join(
        f"{key}={'(set)' if key == 'api_key' and value else _short(value)}"
        for key, value in ((k, getattr(config, KEYS[k])) for k in KEYS)
        if KEYS[key] in changes
    )
    print(f"Updated session '{session.name}': {shown}.")


def _short(value: Any) -> str:
    return repr(shorten(value, 60)) if isinstance(value, str) else str(value)


COMMANDS = [
    Command(
        "config",
        "[KEY=VALUE ...] [--session TARGET]",
        "show or set the active session's model settings (all or nothing)",
        _configure_config,
        _run_config,
        details=(
            "Keys: provider (offline|openai|litellm), model (for litellm in its form, e.g.\n"
            "anthropic/claude-sonnet-4-5: see %session models), base_url, temperature (0-2),\n"
            "max_tokens, system, context_budget (tokens of history sent), api_key (never\n"
            "saved or shown).\n"
            'Quote values with spaces: system="You are terse."  KEY= resets one to its default.'
        ),
    ),
]
