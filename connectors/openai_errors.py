"""Failures of OpenAI-compatible APIs (OpenAI, Ollama's `/v1`) as the project's typed errors.

Shared by the chat and the embeddings connectors so both read throttling alike. The wait asked for
comes from `retry-after-ms`, then `Retry-After` (seconds or an HTTP date), then OpenAI's
`x-ratelimit-reset-*` durations of the exhausted limit. A 429 `insufficient_quota` is billing, not
throttling: it is a plain `ExternalAPIError`, so nobody retries it.
"""

from __future__ import annotations

import email.utils
import re
import time

import httpx
import openai

from streamapp.errors import AuthFailed, ExternalAPIError, RateLimited, StreamAppError, TransientError

# Statuses where asking again may succeed; every other error repeats itself.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# The wait assumed for a 429 that names none.
DEFAULT_WAIT_SEC = 1.0
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def typed_error(system: str, exc: openai.APIError) -> StreamAppError:
    """`TransientError` for connection failures and timeouts, `RateLimited` for throttling (with the
    wait asked for), `AuthFailed` for 401/403, `ExternalAPIError` with the server's message otherwise."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return TransientError(f"{system}: {exc.message}")
    if not isinstance(exc, openai.APIStatusError):  # e.g. a 200 whose body does not fit the API
        return ExternalAPIError(system, getattr(exc, "status_code", 200), exc.message)
    status, detail = exc.status_code, error_message(exc)
    if status == 429 and "insufficient_quota" in (exc.code, exc.type):
        return ExternalAPIError(system, status, f"insufficient_quota: {detail}")
    wait = retry_after(exc.response.headers)
    if status == 429:
        wait = wait if wait is not None else ratelimit_reset(exc.response.headers)
        return RateLimited(system, status, detail, retry_after=DEFAULT_WAIT_SEC if wait is None else wait)
    if status == 503 and wait is not None:
        return RateLimited(system, status, detail, retry_after=wait)
    if status in (401, 403):
        return AuthFailed(system, status, detail)
    return ExternalAPIError(system, status, detail)


def is_retryable(error: StreamAppError) -> bool:
    """Whether the same request may succeed later (throttling, 5xx, timeouts, refused connections)."""
    if isinstance(error, RateLimited | TransientError):
        return True
    return isinstance(error, ExternalAPIError) and error.status in RETRYABLE_STATUSES - {429}


def error_message(exc: openai.APIStatusError) -> str:
    """The server's own message (`error.message`, or Ollama's bare `error` string), not the SDK's dump."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return body if isinstance(body, str) and body else exc.message


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds or HTTP date); None if absent or unreadable."""
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def ratelimit_reset(headers: httpx.Headers) -> float | None:
    """Seconds until OpenAI's exhausted limit (requests or tokens) resets, from `x-ratelimit-reset-*`."""
    waits = [
        _duration(headers.get(f"x-ratelimit-reset-{kind}", ""))
        for kind in ("requests", "tokens")
        if headers.get(f"x-ratelimit-remaining-{kind}") == "0"
    ]
    return max((w for w in waits if w is not None), default=None)


def _number(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _duration(text: str) -> float | None:
    """`"6m0s"`, `"1.5s"`, `"12ms"` -> seconds."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)
