"""``%session models [PROVIDER]``: the model names known for a provider (they also feed the
completion of ``--model`` and ``config model=``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...agents.providers import check_installed, provider_names
from ...core.errors import InvalidConfig, shorten
from ..text_table import ShownAsText
from .command import Arg, Command

if TYPE_CHECKING:
    from ..extension import Extension


@dataclass(frozen=True, repr=False)  # the text is its repr
class ModelListing(ShownAsText):
    """What ``%session models`` returns: ``names`` (a tuple) and a heading; printed one name a
    line so it can be searched."""

    heading: str
    names: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join([self.heading, *self.names])

    def __len__(self) -> int:
        return len(self.names)


def list_models(provider: str) -> ModelListing:
    """The listing for one of our providers, or for a LiteLLM provider prefix (``anthropic``)."""
    from ...agents.providers.catalog import by_family, known_models  # reads a file: on use

    name = provider.strip().lower()
    if name == "offline":
        return ModelListing("The offline provider needs no model: any name is accepted.", ())
    if name in provider_names():
        check_installed(name)
        family = None
    elif name in by_family():
        name, family = "litellm", name
    else:
        check_installed("litellm")  # without LiteLLM no prefix is known: say what to install
        raise InvalidConfig(
            f"Unknown provider '{shorten(provider, 40)}': use one of "
            f"{', '.join(provider_names())}, or a LiteLLM prefix such as anthropic or gemini."
        )
    names = known_models(name, family)
    if name == "openai":
        where = "in LiteLLM's price list for openai; a local server serves its own names"
    elif family is not None:
        where = f"to LiteLLM for {family} (use as --model or model=)"
    else:
        where = "to LiteLLM (use as --model or model=; %session models PREFIX narrows)"
    return ModelListing(f"{len(names)} chat models known {where}:", names)


def _run_models(ext: Extension, args: argparse.Namespace) -> ModelListing:
    provider = args.provider
    if provider is None:
        active = ext.registry.active
        provider = active.config.provider if active is not None else "litellm"
    return list_models(provider)


COMMANDS = [
    Command(
        "models",
        (Arg("provider", nargs="?"),),
        "model names known for a provider (the active session's by default)",
        _run_models,
        details=(
            "PROVIDER: litellm, openai, or a LiteLLM prefix (anthropic, gemini, bedrock,\n"
            "mistral, ollama_chat…) to list only its names. From LiteLLM's price list."
        ),
    ),
]
