"""Model names known for each provider, from the price list LiteLLM ships, read as a JSON file
without importing LiteLLM (about 50 ms once, instead of seconds): ``%session models`` prints
them and completion offers them. Chat models only; ``litellm`` names are in LiteLLM's form
(``anthropic/claude-sonnet-4-5``), ``openai`` names bare (``gpt-4o-mini``).
"""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

from .litellm_provider import PACKAGE

PRICE_FILE = "model_prices_and_context_window_backup.json"
#: LiteLLM's price list files some models under a provider name that is not a model prefix.
_PREFIXES = {"bedrock_converse": "bedrock"}

_lock = threading.Lock()
_by_family: dict[str, tuple[str, ...]] | None = None


def price_file() -> Path | None:
    """The price list inside the installed LiteLLM package, or None without it."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / PRICE_FILE
        if path.is_file():
            return path
    return None


def _prefix(provider: str) -> str:
    return _PREFIXES.get(provider, provider.split("-", 1)[0])


def by_family() -> dict[str, tuple[str, ...]]:
    """LiteLLM provider prefix -> its chat models in LiteLLM's form, sorted; {} without it."""
    global _by_family
    with _lock:
        if _by_family is None:
            found: dict[str, set[str]] = {}
            path = price_file()
            try:
                data = json.loads(path.read_bytes()) if path is not None else {}
            except (OSError, ValueError):
                data = {}
            for key, entry in data.items():
                if not isinstance(entry, dict) or entry.get("mode") != "chat":
                    continue
                family = _prefix(str(entry.get("litellm_provider", "")))
                if family:
                    name = key if key.startswith(f"{family}/") else f"{family}/{key}"
                    found.setdefault(family, set()).add(name)
            _by_family = {family: tuple(sorted(names)) for family, names in sorted(found.items())}
        return _by_family


def known_models(provider: str, family: str | None = None) -> tuple[str, ...]:
    """Model names for our ``provider`` (``offline``: none); ``family`` narrows ``litellm``."""
    families = by_family()
    if provider == "openai":
        return tuple(
            name.removeprefix("openai/")
            for name in families.get("openai", ())
            if not name.startswith("openai/ft:")
        )
    if provider != "litellm":
        return ()
    if family is not None:
        return families.get(family, ())
    return tuple(name for names in families.values() for name in names)
