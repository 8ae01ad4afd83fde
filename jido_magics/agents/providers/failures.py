"""What a provider says when a request fails: one sentence per kind of failure, the same for
every provider, naming the server (``where``) and what to do."""

from __future__ import annotations

#: Seconds to wait for the next bytes of a reply (a slow local model may need long).
TIMEOUT_ENV = "JIDO_MAGICS_TIMEOUT"
CUT_OFF = "The reply stream was cut off before the model finished."


def no_answer(where: str, seconds: float) -> str:
    return (
        f"No answer from {where} within {seconds:g} s (timeout); try again, or raise {TIMEOUT_ENV}."
    )


def key_refused(where: str, key_hint: str) -> str:
    return (
        f"{where} refused the API key (HTTP 401): check {key_hint} or %session config api_key=..."
    )


def http_status(where: str, status: int, detail: str) -> str:
    return f"{where} answered HTTP {status}: {detail}"


def unreachable(where: str, cause: BaseException) -> str:
    return f"Cannot reach {where}: {type(cause).__name__}: {cause}"


def broke_during_reply(where: str, cause: object) -> str:
    return f"The connection to {where} broke during the reply: {cause}"


def malformed(where: str, error: BaseException) -> str:
    return f"{where} sent a malformed stream (not JSON): {error}"


def unreadable(where: str, exc: BaseException, detail: object) -> str:
    return f"The reply from {where} could not be read: {type(exc).__name__}: {detail}"
