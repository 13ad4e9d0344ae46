"""What the polling HTTP sources (Datadog, Splunk, ThousandEyes) share: their common config keys,
a client with explicit timeouts, failures as the project's typed errors, the in-place retry of one
page of a paged read, and the time boundary their cursors keep.

Each system throttles its own way, so callers pass the wait their system names (`reset_wait`); a
`Retry-After`, when a server sends one anyway, wins, as the generic client rule asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from connectors.openai_errors import retry_after
from connectors.sources.base import Emitter, Producer, SourceConfig
from streamapp.clock import Clock, SystemClock
from streamapp.errors import AuthFailed, ConfigError, ExternalAPIError, RateLimited, TransientError

log = logging.getLogger(__name__)

T = TypeVar("T")
# The wait assumed for a 429 that names none.
DEFAULT_WAIT_SEC = 1.0
# Connecting never needs the whole read timeout; a dead host should fail fast.
MAX_CONNECT_SEC = 10.0


# --- config ---------------------------------------------------------------------------------------
# A ConfigError's message starts with the failing field: the admin API answers 422 naming it.
def url_option(config: dict[str, Any], key: str, default: str | None = None) -> str:
    """An `http(s)://host[:port][/path]` value without its trailing slash."""
    value = str(config.get(key) or default or "").rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key}: must be an http(s) URL (got {value!r})")
    return value


def number_option(
    config: dict[str, Any], key: str, default: float, low: float, high: float, *, integer: bool = False
) -> Any:
    """The value of ``key`` (or ``default``) if it is a number in [low, high] (an int if ``integer``)."""
    value = config.get(key, default)
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{key}: must be {kind} in [{low:g}, {high:g}] (got {value!r})")
    return value


def http_options(config: dict[str, Any]) -> dict[str, Any]:
    """The config with the keys every HTTP source has checked and filled: `interval_sec` (between
    polls, default 30), `timeout_sec` (connect and each read, default 30), `verify_tls` (default
    true) and `ca_bundle` (a CA file for self-signed servers, e.g. Splunk's management port)."""
    out = dict(config)
    out["interval_sec"] = number_option(config, "interval_sec", 30.0, 1, 86_400)
    out["timeout_sec"] = number_option(config, "timeout_sec", 30.0, 0.1, 600)
    out["verify_tls"] = config.get("verify_tls", True)
    if not isinstance(out["verify_tls"], bool):
        raise ConfigError("verify_tls: must be true or false")
    if not isinstance(config.get("ca_bundle", ""), str):
        raise ConfigError("ca_bundle: must be a file path")
    return out


# --- the producer ---------------------------------------------------------------------------------
class HttpProducer(Producer):
    """A producer that polls an HTTP API: its config validated and filled once, an injected clock
    for its time windows, and a fresh client per poll (no connection outlives a failed poll)."""

    def __init__(self, source: SourceConfig, emitter: Emitter, *, clock: Clock | None = None, **kwargs: Any) -> None:
        super().__init__(source, emitter, **kwargs)
        self.config = self.validate(source.config)
        self.clock = clock or SystemClock()

    def secret(self, name: str) -> str:
        value = self.source.secrets.get(name)
        if not value:
            raise ConfigError(f"{name}: missing secret of this {self.type} source")
        return value

    def client(self, base_url: str, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        timeout = float(self.config["timeout_sec"])
        ca_bundle = self.config.get("ca_bundle")
        verify = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else self.config["verify_tls"]
        return httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, MAX_CONNECT_SEC)),
            verify=verify,
        )


# --- errors ---------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def transport_errors(system: str) -> AsyncIterator[None]:
    """httpx timeouts and connection failures (refused, reset, a body cut short) as TransientError."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransientError(f"{system}: timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"{system}: {type(exc).__name__}: {exc}") from exc


def status_error(
    system: str, response: httpx.Response, detail: str, reset_wait: float | None = None
) -> ExternalAPIError:
    """RateLimited for 429 (and a 503 that names a wait), AuthFailed for 401/403, else ExternalAPIError."""
    status = response.status_code
    wait = retry_after(response.headers)
    wait = reset_wait if wait is None else wait
    if status == 429 or (status == 503 and wait is not None):
        return RateLimited(system, status, detail, retry_after=DEFAULT_WAIT_SEC if wait is None else wait)
    if status in (401, 403):
        return AuthFailed(system, status, detail)
    return ExternalAPIError(system, status, detail)


def json_body(system: str, response: httpx.Response) -> Any:
    """The decoded body of a 200, or ExternalAPIError when it is not JSON."""
    try:
        return response.json()
    except ValueError as exc:
        raise ExternalAPIError(system, response.status_code, f"unreadable JSON body: {exc}") from exc


def header_number(headers: httpx.Headers, name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, ValueError):
        return None


async def resume(
    call: Callable[[], Awaitable[T]], *, attempts: int = 4, max_wait_sec: float = 30.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Retry one page of a paged read in place: a throttle asking at most ``max_wait_sec``, a 5xx or
    a transport failure, with backoff and jitter, waiting with ``sleep`` (a producer passes its own).
    Failing back to the poll loop would throw the pages already read away, and read them again from
    the same throttled budget."""
    attempt, delay = 1, 1.0
    while True:
        try:
            return await call()
        except (TransientError, ExternalAPIError) as exc:
            wait = _retry_wait(exc, delay)
            if wait is None or wait > max_wait_sec or attempt >= attempts:
                raise
            log.info("%s; retrying this page in %.1f s", exc, wait)
        await sleep(wait)
        attempt, delay = attempt + 1, delay * 2


def _retry_wait(exc: Exception, delay: float) -> float | None:
    if isinstance(exc, RateLimited):
        return exc.retry_after
    if isinstance(exc, TransientError) or (isinstance(exc, ExternalAPIError) and exc.status >= 500):
        return delay * (1 + random.random() * 0.25)
    return None


# --- cursors --------------------------------------------------------------------------------------
class Boundary:
    """Where a time-ordered read stopped: the newest time read (epoch ms) and the keys of the items
    at that instant. The next read starts at `ms` inclusive and skips those keys, so items sharing
    the instant are neither lost nor repeated whatever order a page lists them in."""

    def __init__(self, ms: int, keys: Iterable[str] = ()) -> None:
        self.ms = ms
        self.keys = set(keys)

    @classmethod
    def load(cls, raw: Any) -> Boundary | None:
        """From `dump()`'s dict (or its JSON text); None for no cursor yet."""
        if raw is None:
            return None
        data = load_cursor(raw) if isinstance(raw, str) else raw
        try:
            return cls(int(data["ms"]), data.get("keys", ()))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ConfigError(f"cursor: the stored cursor is unreadable: {str(raw)[:80]!r}") from exc

    def dump(self) -> dict[str, Any]:
        return {"ms": self.ms, "keys": sorted(self.keys)}

    def copy(self) -> Boundary:
        return Boundary(self.ms, self.keys)

    def is_new(self, ms: int, key: str) -> bool:
        return ms > self.ms or (ms == self.ms and key not in self.keys)

    def note(self, ms: int, key: str) -> None:
        """Move to an item read (items older than the boundary leave it as it is)."""
        if ms > self.ms:
            self.ms, self.keys = ms, {key}
        elif ms == self.ms:
            self.keys.add(key)


def load_cursor(text: str) -> Any:
    """A stored JSON cursor; ConfigError if it is not JSON (someone must reset it, retrying cannot help)."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"cursor: the stored cursor is not JSON: {text[:80]!r}") from exc


def iso_ms(text: str) -> int | None:
    """ISO-8601 (`...Z`, `...+00:00`, with or without fractions) as epoch ms; None if unreadable."""
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return round(when.timestamp() * 1000)


def ms_iso(ms: int, *, millis: bool = True) -> str:
    """Epoch ms as ISO-8601 UTC with a `Z` (to the second unless ``millis``)."""
    when = datetime.fromtimestamp(ms / 1000, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ms % 1000:03d}Z" if millis else "Z")
