"""``%session config``: show or set the active session's model settings (set through
``agents.config_words``: all or nothing)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from ...agents.config_words import KEYS, apply_settings
from ...agents.context import DEFAULT_SYSTEM_PROMPT
from ...agents.providers.keys import key_variables
from ...core.errors import shorten
from ...core.records import DEFAULT_PROVIDER, SessionConfig
from ...core.session import Session
from ...core.text import usd
from .command import SESSION_OPTION, Arg, Command

if TYPE_CHECKING:
    from ..extension import Extension


def describe_settings(session: Session) -> str:
    config = session.config
    # LiteLLM finds each provider's endpoint itself; OPENAI_BASE_URL is the openai provider's
    env_url = None if config.provider == "litellm" else os.environ.get("OPENAI_BASE_URL")
    system = config.system_prompt
    shown = {
        "provider": config.provider,
        "model": config.model
        or (
            "(the provider's default)"
            if config.provider == DEFAULT_PROVIDER
            else "(none: %session config model=NAME)"  # openai and litellm need one
        ),
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
        (
            Arg("pairs", nargs="*", metavar="[KEY=VALUE ...]"),
            SESSION_OPTION,
        ),
        "show or set the active session's model settings (all or nothing)",
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
