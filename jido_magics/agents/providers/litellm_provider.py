"""Anthropic, Gemini, Bedrock, Azure, Mistral, Ollama… through LiteLLM (``jido_magics[litellm]``).

LiteLLM is imported here only, when the provider is first used, with its price map read from
the copy it ships (no network) and its help banners off. Model names are in LiteLLM's form
(``anthropic/claude-sonnet-4-5``); keys come from each provider's usual variable or the
session's ``api_key``; ``base_url`` becomes LiteLLM's ``api_base``. LiteLLM streams chunks in
OpenAI's form, read by the same code as the ``openai`` provider; each request's cost comes
from LiteLLM's price map when it knows the model (unknown: no cost, never 0).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

# a module import: ``from . import failures`` would count as importing the package too
import jido_magics.agents.providers.failures as failures

from ...core.errors import shorten
from ...core.records import SessionConfig
from ..errors import ChatError, ProviderError
from ..events import ProviderEvent
from .base import ChatRequest, chat_body
from .keys import environment_keys, family, key_hint
from .openai_provider import PLACEHOLDER_KEY, read_timeout, redact, stream_events

PACKAGE = "litellm"
INSTALL = "pip install 'jido_magics[litellm]'"
MISSING = f"The litellm provider needs the LiteLLM package: install it with {INSTALL}"
EXAMPLE_MODEL = "anthropic/claude-sonnet-4-5"
#: Read by LiteLLM at import: use the price map it ships instead of fetching one.
LOCAL_COST_MAP_ENV = "LITELLM_LOCAL_MODEL_COST_MAP"

_import_lock = threading.Lock()
_MESSAGE_FIELD = re.compile(r"""["']message["']\s*:\s*["']((?:[^"'\\]|\\.)*)["']""")


def installed() -> bool:
    """True when LiteLLM can be imported (checked without importing it)."""
    if PACKAGE in sys.modules:
        return sys.modules[PACKAGE] is not None
    try:
        return importlib.util.find_spec(PACKAGE) is not None
    except (ImportError, ValueError):
        return False


def require() -> None:
    if not installed():
        raise ChatError(MISSING)


def load() -> ModuleType:
    """LiteLLM, imported once with no network at import and no banners."""
    require()
    with _import_lock:
        # LiteLLM's pydantic models warn (at import and as its parts load lazily while
        # streaming) about a typing detail; nothing a notebook user can act on
        warnings.filterwarnings(
            "ignore", message=r".*`ReadOnly` qualifier", category=UserWarning, module="pydantic"
        )
        os.environ.setdefault(LOCAL_COST_MAP_ENV, "True")
        import litellm

        litellm.suppress_debug_info = True
    return litellm


class LiteLLMProvider:
    name = "litellm"

    def check(self, config: SessionConfig) -> None:
        require()
        model = config.model
        if not model:
            raise ChatError(
                f"The litellm provider needs a model in LiteLLM's form: %session config "
                f"model={EXAMPLE_MODEL} (%session models litellm lists known names)."
            )
        litellm = load()
        try:
            litellm.get_llm_provider(model, api_base=config.base_url)
        except Exception:
            raise ChatError(
                f"LiteLLM cannot tell which provider serves '{shorten(model, 60)}': write "
                f"PROVIDER/MODEL, e.g. {EXAMPLE_MODEL} or ollama_chat/llama3.2."
            ) from None
        if config.api_key is None and config.base_url is None:
            missing = _missing_keys(litellm, model)
            if missing:
                raise ChatError(
                    f"{shorten(model, 60)} needs an API key: set {' or '.join(missing)}, "
                    "or %session config api_key=..."
                )

    def stream(self, request: ChatRequest) -> Iterator[ProviderEvent]:
        config = request.config
        self.check(config)
        litellm = load()
        arguments = _arguments(litellm, request)
        where = _where(config)
        secret = arguments.get("api_key")

        def price(usage: Any) -> float | None:
            return cost_of(litellm, config.model or "", usage)

        try:
            stream = litellm.completion(**arguments)
        except Exception as exc:
            raise ProviderError(describe(exc, where, config.model, secret)) from None
        try:
            yield from stream_events(stream, price)
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(
                describe(exc, where, config.model, secret, during_reply=True)
            ) from None
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                try:
                    close()  # also on interrupt, cancel or an early close of this generator
                except Exception:  # closing a broken stream may fail again: nothing to keep
                    pass


def _arguments(litellm: ModuleType, request: ChatRequest) -> dict[str, Any]:
    config = request.config
    arguments: dict[str, Any] = {
        **chat_body(request),
        "timeout": read_timeout(),
        "num_retries": 0,  # a failure is reported at once; the user decides to retry
        "max_retries": 0,
        "drop_params": True,  # a setting one provider lacks is left out, not an error
    }
    if config.base_url:
        arguments["api_base"] = config.base_url
    if config.api_key:
        arguments["api_key"] = config.api_key
    elif config.base_url and _missing_keys(litellm, config.model or ""):
        arguments["api_key"] = PLACEHOLDER_KEY  # a local server needs none; LiteLLM wants one
    return arguments


def _missing_keys(litellm: ModuleType, model: str) -> list[str]:
    """API key variables LiteLLM needs for ``model`` and finds unset (none for providers
    that authenticate otherwise, e.g. Bedrock or Vertex AI)."""
    try:
        found = litellm.validate_environment(model)
    except Exception:
        return []
    if found.get("keys_in_environment"):
        return []
    return [name for name in found.get("missing_keys", ()) if name.endswith("_API_KEY")]


def cost_of(litellm: ModuleType, model: str, usage: Any) -> float | None:
    """The request's cost in USD from LiteLLM's price map, or None for an unpriced model."""
    try:
        prompt, completion = litellm.cost_per_token(model=model, usage_object=usage)
        cost = float(prompt) + float(completion)
    except Exception:  # LiteLLM raises for a model it has no price for
        return None
    return cost if math.isfinite(cost) and cost >= 0 else None


def _where(config: SessionConfig) -> str:
    if config.base_url:
        return config.base_url.rstrip("/")
    return family(config.model) or shorten(config.model or "the model", 60)


def describe(
    exc: BaseException,
    where: str,
    model: str | None,
    secret: str | None,
    *,
    during_reply: bool = False,
) -> str:
    """One line naming what went wrong and what to do, with no secret in it. LiteLLM wraps
    transport failures in HTTP-looking errors (a refused connection is its "500"), so the
    cause chain is read first."""
    chain = _chain(exc)
    names = {type(e).__name__ for e in chain}
    # the provider's own error, deepest in the chain, keeps the real status (e.g. 529)
    codes = [e.status_code for e in chain if isinstance(getattr(e, "status_code", None), int)]
    status = codes[-1] if codes else None
    text = _transport(chain, names, where, during_reply)
    if text is None:
        text = _by_status(exc, names, status, where, model)
    text = " ".join(text.split())
    for key in (secret, *environment_keys()):  # the key LiteLLM took from the environment too
        text = redact(text, key)
    return text


def _by_status(
    exc: BaseException, names: set[str], status: int | None, where: str, model: str | None
) -> str:
    if "Timeout" in names or status == 408:
        return failures.no_answer(where, read_timeout())
    if "MidStreamFallbackError" in names:
        detail = _detail(exc)
        if "finish_reason" in detail:
            return failures.CUT_OFF
        return failures.broke_during_reply(where, detail)
    if status == 401 or "AuthenticationError" in names:
        return failures.key_refused(where, key_hint(model))
    if status == 429 or "RateLimitError" in names:
        wait = _retry_after(exc)
        later = f"try again in {wait}" if wait else "try again later"
        return f"{where} is limiting requests (HTTP 429): {_detail(exc).rstrip('.')}; {later}."
    if isinstance(status, int) and 400 <= status < 600:
        return failures.http_status(where, status, _detail(exc))
    return failures.unreadable(where, exc, _detail(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 20:
        found.append(current)
        current = current.__cause__ or current.__context__
        original = getattr(found[-1], "original_exception", None)
        if current is None and isinstance(original, BaseException):
            current = original
    return found


def _transport(
    chain: list[BaseException], names: set[str], where: str, during_reply: bool
) -> str | None:
    for error in chain:
        if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
            return failures.malformed(where, error)
    if names & {"ReadTimeout", "ConnectTimeout", "WriteTimeout", "PoolTimeout", "TimeoutError"}:
        return failures.no_answer(where, read_timeout())
    refused = [
        e for e in chain if isinstance(e, ConnectionError) or type(e).__name__ == "ConnectError"
    ]
    if refused:
        return failures.unreachable(where, refused[-1])
    broken = {"RemoteProtocolError", "ReadError"} & names
    if broken and during_reply:
        cause = next(e for e in chain if type(e).__name__ in broken)
        return failures.broke_during_reply(where, cause)
    return None


def _detail(exc: BaseException) -> str:
    """The server's own message when the error carries one, else LiteLLM's, shortened."""
    text = str(getattr(exc, "message", "") or exc)
    match = _MESSAGE_FIELD.search(text)
    if match:
        return shorten(match.group(1).encode().decode("unicode_escape", "replace"), 200)
    text = re.sub(r"^((litellm\.)?\w+(Error|Exception)(:| -)\s*)+", "", text)
    text = re.sub(r"\s*Handle with `litellm\.\w+`\.?", "", text)
    text = text.split(" Original exception:", 1)[0]
    return shorten(text.strip(), 200)


def _retry_after(exc: BaseException) -> str:
    """The server's ``retry-after`` as "N s" (or its date), when it sent one."""
    for holder in (exc, getattr(exc, "response", None)):
        for attribute in ("litellm_response_headers", "headers"):
            headers = getattr(holder, attribute, None)
            if not headers:
                continue
            try:
                value = headers.get("retry-after") or headers.get("Retry-After")
                milliseconds = headers.get("retry-after-ms")
            except Exception:
                continue
            if value:
                value = str(value).strip()
                return f"{value} s" if value.replace(".", "", 1).isdigit() else value[:40]
            if milliseconds and str(milliseconds).replace(".", "", 1).isdigit():
                return f"{float(milliseconds) / 1000:g} s"
    return ""
