"""ServiceNow Table API: open an incident (API contracts, section 9).

The correlation id goes into the incident's `correlation_id`; an insert with an unknown outcome
queries open incidents by it before inserting again. Auth is Basic, or the OAuth password grant
when a client id is configured: the token is renewed before it expires and once more on a 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any

import httpx

from connectors.automations.http import ProviderClient, ProviderHTTP, Sleep, json_body, with_slash
from streamapp.automations.config import AutomationConfig
from streamapp.errors import AuthFailed, ExternalAPIError

SYSTEM = "servicenow"
INCIDENTS = "table/incident"
RETURNED_FIELDS = "sys_id,number,state,urgency,impact,correlation_id"
TOKEN_MARGIN_SEC = 60  # renew this long before the token's stated expiry


def detail(response: httpx.Response) -> str:
    """`{"error": {"message", "detail"}, "status": "failure"}`."""
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return ": ".join(str(error[k]) for k in ("message", "detail") if error.get(k))
    return response.text[:200] or response.reason_phrase


def reset_after(headers: httpx.Headers) -> float | None:
    """`X-RateLimit-Reset` is a Unix time here."""
    try:
        return max(0.0, float(headers["x-ratelimit-reset"]) - time.time())
    except (KeyError, ValueError):
        return None


class PasswordGrant(httpx.Auth):
    """OAuth password grant against `/oauth_token.do`, with refresh; secrets never leave it."""

    requires_response_body = True

    def __init__(
        self, token_url: str, client_id: str, client_secret: str, username: str, password: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url, self.clock = token_url, clock
        self._client = {"client_id": client_id, "client_secret": client_secret}
        self._user = {"username": username, "password": password}
        self._access = self._refresh = ""
        self._expires = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self._access or self.clock() >= self._expires:
            yield from self._renew()
        request.headers["Authorization"] = f"Bearer {self._access}"
        response = yield request
        if response.status_code == 401:  # revoked or expired early: renew once
            yield from self._renew()
            request.headers["Authorization"] = f"Bearer {self._access}"
            yield request

    def _renew(self) -> Generator[httpx.Request, httpx.Response, None]:
        if self._refresh:
            grant = {"grant_type": "refresh_token", "refresh_token": self._refresh}
            response = yield httpx.Request("POST", self.token_url, data={**grant, **self._client})
            if response.status_code == 200:
                self._store(response)
                return
        response = yield httpx.Request("POST", self.token_url, data={"grant_type": "password", **self._user,
                                                                       **self._client})
        if response.status_code != 200:
            raise AuthFailed(SYSTEM, response.status_code, f"token request refused: {detail(response)}")
        self._store(response)

    def _store(self, response: httpx.Response) -> None:
        body = json_body(response) or {}
        self._access = str(body.get("access_token", ""))
        self._refresh = str(body.get("refresh_token", "")) or self._refresh
        self._expires = self.clock() + float(body.get("expires_in", 1799)) - TOKEN_MARGIN_SEC


class ServiceNow(ProviderClient):
    provider = SYSTEM

    @classmethod
    def from_config(
        cls, config: AutomationConfig, *, transport: httpx.AsyncBaseTransport | None = None, sleep: Sleep | None = None,
    ) -> ServiceNow | None:
        if not config.servicenow_url:
            return None
        base = with_slash(config.servicenow_url)
        auth: httpx.Auth
        password = config.servicenow_password.get_secret_value()
        if config.servicenow_client_id:
            token_url = str(httpx.URL(base).copy_with(path="/oauth_token.do", query=None))
            secret = config.servicenow_client_secret.get_secret_value()
            auth = PasswordGrant(token_url, config.servicenow_client_id, secret, config.servicenow_username, password)
        else:
            auth = httpx.BasicAuth(config.servicenow_username, password)
        return cls(ProviderHTTP.build(SYSTEM, base, config, detail=detail, auth=auth, reset=reset_after,
                                      transport=transport, sleep=sleep))

    async def execute(self, action: dict[str, Any], correlation_id: str, *, look_first: bool = False) -> dict[str, Any]:
        if look_first and (found := await self.find(correlation_id)) is not None:
            return self._summary(found, recovered=True)
        body = {**action["fields"], "correlation_id": correlation_id, "correlation_display": "streamapp"}
        params = {"sysparm_fields": RETURNED_FIELDS, "sysparm_exclude_reference_link": "true"}
        created = await self.http.create(INCIDENTS, body, lambda: self.find(correlation_id), params=params)
        return self._summary(created.body, created.recovered)

    async def find(self, correlation_id: str) -> dict[str, Any] | None:
        """The open incident with this correlation id, shaped like an insert's answer. The id has
        only safe characters (no `^`), so it cannot widen the encoded query."""
        page = await self.http.get(INCIDENTS, params={
            "sysparm_query": f"correlation_id={correlation_id}^active=true", "sysparm_fields": RETURNED_FIELDS,
            "sysparm_limit": 1,
        })
        rows = page.get("result") if isinstance(page, dict) else None
        return {"result": rows[0]} if rows else None

    async def follow(self, response: dict[str, Any]) -> None:
        """An incident is done once opened: nothing to follow."""
        return None

    @staticmethod
    def _summary(body: dict[str, Any], recovered: bool) -> dict[str, Any]:
        row = body.get("result")
        if not isinstance(row, dict) or not row.get("sys_id"):
            raise ExternalAPIError(SYSTEM, 200, f"no incident in the answer: {str(body)[:200]}")
        return {
            "sys_id": row["sys_id"], "number": row.get("number", ""), "state": row.get("state", ""),
            "recovered": recovered,
        }
