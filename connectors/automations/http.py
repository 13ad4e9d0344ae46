"""HTTP for the automation providers.

Every request has an explicit timeout. Errors are the project's typed errors carrying the system's
own message: `RateLimited` for 429 (and 503 with a wait), with the wait from `Retry-After`, then
the system's reset header; `AuthFailed` for 401/403; `ExternalAPIError` otherwise. Retryable
failures (throttling, 5xx, timeouts, refused connections) are retried with backoff and jitter
(`RetryPolicy`, shared with the LLM connector), never sooner than the system asked.

A remediation POST (AWX launch, Terraform run, ServiceNow insert) is never repeated blindly: when
its outcome is unknown (timed out after sending, or a 5xx) the provider's lookup by correlation id
runs first, and only if it finds nothing is the POST sent again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.llm import RetryPolicy
from connectors.openai_errors import DEFAULT_WAIT_SEC, is_retryable, retry_after
from streamapp.automations.config import AutomationConfig
from streamapp.errors import AuthFailed, ExternalAPIError, RateLimited, StreamAppError, TransientError

Detail = Callable[[httpx.Response], str]
Reset = Callable[[httpx.Headers], float | None]
Lookup = Callable[[], Awaitable[dict[str, Any] | None]]
Sleep = Callable[[float], Awaitable[None]]


class OutcomeUnknown(TransientError):
    """A create was sent but its answer never came (or was a 5xx): it may have been applied."""


class ActionRefused(StreamAppError):
    """We did not send the action: the target would ignore or misuse part of it."""


@dataclass(frozen=True)
class Created:
    """A create's answer body; `recovered` when it was found by lookup after an unknown outcome."""

    body: dict[str, Any]
    recovered: bool = False


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _ambiguous(error: StreamAppError) -> bool:
    if isinstance(error, OutcomeUnknown):
        return True
    return isinstance(error, ExternalAPIError) and not isinstance(error, RateLimited) and error.status >= 500


class ProviderHTTP:
    """One provider's client: base URL, auth, timeouts, error mapping and retries."""

    def __init__(
        self, system: str, client: httpx.AsyncClient, *, detail: Detail, policy: RetryPolicy,
        reset: Reset | None = None, sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.system, self.client, self.detail, self.policy = system, client, detail, policy
        self.reset = reset or (lambda headers: None)
        self.sleep = sleep

    @classmethod
    def build(
        cls, system: str, base_url: str, config: AutomationConfig, *, detail: Detail,
        headers: dict[str, str] | None = None, auth: httpx.Auth | None = None, reset: Reset | None = None,
        transport: httpx.AsyncBaseTransport | None = None, sleep: Sleep | None = None,
    ) -> ProviderHTTP:
        timeout = config.automation_timeout_sec
        client = httpx.AsyncClient(
            base_url=base_url, headers={"Accept": "application/json", **(headers or {})}, auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)), transport=transport, follow_redirects=False,
        )
        base = config.automation_backoff_sec
        policy = RetryPolicy(tries=config.automation_max_tries, base_sec=base, cap_sec=max(60.0, base))
        return cls(system, client, detail=detail, policy=policy, reset=reset, sleep=sleep or asyncio.sleep)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        """A GET's JSON body, retried while retrying may help."""
        response = await self._attempts("GET", url, None, params=params)
        assert isinstance(response, httpx.Response)
        return json_body(response)

    async def create(
        self, url: str, body: Any, lookup: Lookup, *, params: dict[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> Created:
        """POST a remediation; on an unknown outcome, `lookup` (which returns what a POST would
        have answered, or None) decides whether it is sent again."""
        result = await self._attempts("POST", url, lookup, params=params, **_encoded(body, content_type))
        if isinstance(result, Created):
            return result
        answer = json_body(result)
        return Created(answer if isinstance(answer, dict) else {})

    async def _attempts(self, method: str, url: str, lookup: Lookup | None, **kw: Any) -> httpx.Response | Created:
        tried = 0
        while True:
            tried += 1
            try:
                return self._checked(await self.client.request(method, url, **kw))
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                error: StreamAppError = TransientError(f"{self.system}: cannot connect: {exc!r}")
            except httpx.TransportError as exc:  # sent, but no (complete) answer
                error = (OutcomeUnknown if lookup else TransientError)(f"{self.system}: {method} {url}: {exc!r}")
            except ExternalAPIError as exc:
                error = exc
            if not is_retryable(error) or tried >= self.policy.tries:
                raise error
            await self.sleep(self.policy.wait(tried, error))
            if lookup is not None and _ambiguous(error):
                found = await lookup()
                if found is not None:
                    return Created(found, recovered=True)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        status, detail = response.status_code, self.detail(response)[:500]
        if status in (429, 503):
            wait = retry_after(response.headers)
            wait = wait if wait is not None else self.reset(response.headers)
            if status == 429 or wait is not None:
                raise RateLimited(self.system, status, detail, retry_after=DEFAULT_WAIT_SEC if wait is None else wait)
        if status in (401, 403):
            raise AuthFailed(self.system, status, detail)
        raise ExternalAPIError(self.system, status, detail)


def _encoded(body: Any, content_type: str) -> dict[str, Any]:
    if body is None:
        return {}
    return {"content": json.dumps(body).encode(), "headers": {"Content-Type": content_type}}


def with_slash(url: str) -> str:
    """A base URL that relative paths extend (`https://awx/api/v2` + `jobs/` keeps `v2`)."""
    return url if url.endswith("/") else url + "/"


class ProviderClient:
    """What every provider's client shares: its HTTP client, closed with it."""

    provider: str

    def __init__(self, http: ProviderHTTP) -> None:
        self.http = http

    async def aclose(self) -> None:
        await self.http.aclose()
