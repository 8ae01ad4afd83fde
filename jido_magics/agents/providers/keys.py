"""Where model providers' API keys usually live: environment variables by LiteLLM provider.

Used for the hints in error messages, for ``%session config`` and to hide these keys from
what the notebook tools return. Providers not listed here still work through LiteLLM; their
messages then say "the provider's API key variable".
"""

from __future__ import annotations

import os

#: LiteLLM provider prefix -> its key variables (the first is the one to suggest).
KEY_VARIABLES: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "bedrock": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "azure": ("AZURE_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY",),
    "fireworks_ai": ("FIREWORKS_AI_API_KEY",),
    "huggingface": ("HUGGINGFACE_API_KEY",),
    "ollama": (),
    "ollama_chat": (),
}


def family(model: str | None) -> str:
    """The LiteLLM provider prefix of ``model`` (``anthropic/claude-…`` -> ``anthropic``)."""
    head, slash, _ = (model or "").partition("/")
    return head.strip().lower() if slash else ""


def key_variables(model: str | None) -> tuple[str, ...]:
    return KEY_VARIABLES.get(family(model), ())


def key_hint(model: str | None) -> str:
    """``ANTHROPIC_API_KEY`` (or the generic words) for a sentence like "check X"."""
    names = key_variables(model)
    return " or ".join(names[:2]) if names else "the provider's API key variable"


def environment_keys() -> list[str]:
    """The values of every known key variable that is set (to hide them wherever shown)."""
    names = {name for names in KEY_VARIABLES.values() for name in names}
    return [value for name in sorted(names) if (value := os.environ.get(name, "").strip())]
