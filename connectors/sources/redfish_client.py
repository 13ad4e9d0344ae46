"""One BMC over Redfish: session login (`X-Auth-Token`, re-login once on 401, logout on close) or
HTTP Basic, explicit timeouts, requests serialised per BMC (BMCs are slow and allow few concurrent
sessions), collection paging, and failures as the project's typed errors.

Every URL the BMC hands us (the sessions link, a member's or a next page's `@odata.id`, a session's
`Location`) is requested only on the BMC's own origin: the requests carry its token or Basic
credentials, and a link to another host would send them there."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx

from connectors.openai_errors import retry_after
from streamapp.errors import AuthFailed, ExternalAPIError, RateLimited, TransientError

ROOT = "/redfish/v1/"
SESSIONS = "/redfish/v1/SessionService/Sessions"
EXPAND = {"$expand": ".($levels=1)"}


class RedfishClient:
    """`await get(path)` returns the JSON of a resource; `members(path)` the resources of a
    collection, all pages; `close()` logs out."""

    # One lock per BMC base URL, shared by every client of it (weak: gone with the last client).
    _locks: ClassVar[weakref.WeakValueDictionary[str, asyncio.Lock]] = weakref.WeakValueDictionary()

    def __init__(self, base_url: str, username: str, password: str, *, auth: str = "session",
                 timeout_sec: float = 10.0, verify_tls: bool = True, max_pages: int = 20) -> None:
        self.base_url, self.auth, self.max_pages = base_url, auth, max_pages
        self.username, self._password = username, password
        self.timeout_sec = timeout_sec
        self.http = httpx.AsyncClient(
            base_url=base_url, verify=verify_tls, timeout=httpx.Timeout(timeout_sec, connect=min(timeout_sec, 10.0)),
            headers={"Accept": "application/json", "OData-Version": "4.0"},
            auth=httpx.BasicAuth(username, password) if auth == "basic" else None,
        )
        self.lock = self._locks.setdefault(base_url, asyncio.Lock())
        self.sessions_url = SESSIONS
        self.session_url: str | None = None
        self.expand = False  # set from the service root's ProtocolFeaturesSupported

    async def root(self) -> dict[str, Any]:
        """The service root (readable without credentials); learns the sessions URL and $expand."""
        async with self.lock:
            doc = self._json(await self._send("GET", ROOT), ROOT)
        self.sessions_url = ((doc.get("Links") or {}).get("Sessions") or {}).get("@odata.id") or SESSIONS
        expand = (doc.get("ProtocolFeaturesSupported") or {}).get("ExpandQuery") or {}
        self.expand = bool(expand.get("Levels")) and int(expand.get("MaxLevels") or 0) >= 1
        return doc

    async def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        async with self.lock:
            if self.auth == "session" and self.session_url is None:
                await self._login()
            response = await self._send("GET", path, params=params)
            if response.status_code == 401 and self.auth == "session":
                await self._login()  # the session expired (idle timeout, BMC reboot): once
                response = await self._send("GET", path, params=params)
            return self._json(response, path)

    async def members(self, path: str) -> list[dict[str, Any]]:
        """Every member of a collection as a full resource: expanded when the service can, else one
        GET per member; pages followed by `Members@odata.nextLink` (or a top-level `@odata.nextLink`)."""
        out = []
        async for page in self.pages(path, EXPAND if self.expand else None):
            for member in page.get("Members") or []:
                expanded = len(member) > 1 or "@odata.id" not in member
                out.append(member if expanded else await self.get(member["@odata.id"]))
        return out

    async def pages(self, path: str, params: dict[str, str] | None = None) -> AsyncIterator[dict[str, Any]]:
        """The pages of a collection, at most `max_pages` (a bound on a wrapping or huge log)."""
        url: str | None = path
        for _ in range(self.max_pages):
            if url is None:
                return
            page = await self.get(url, params if url == path else None)
            yield page
            url = page.get("Members@odata.nextLink") or page.get("@odata.nextLink")

    async def close(self) -> None:
        """Log out (best effort: a session left behind expires on the BMC) and close connections."""
        if self.session_url is not None:
            with contextlib.suppress(TransientError, TimeoutError):
                async with self.lock:
                    await self._send("DELETE", self.session_url)
            self.session_url = None
            self.http.headers.pop("X-Auth-Token", None)
        await self.http.aclose()

    async def _login(self) -> None:
        self.http.headers.pop("X-Auth-Token", None)
        response = await self._send("POST", self.sessions_url,
                                    json={"UserName": self.username, "Password": self._password})
        self._json(response, self.sessions_url, body=False)
        token = response.headers.get("X-Auth-Token")
        if not token:
            raise ExternalAPIError("redfish", response.status_code, f"{self.base_url}: session created without a token")
        self.http.headers["X-Auth-Token"] = token
        self.session_url = response.headers.get("Location") or f"{self.sessions_url}/{response.json().get('Id')}"

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        target = httpx.URL(url)
        if target.scheme or target.host:  # absolute (or scheme-relative): it must be the BMC's own
            ours = self.http.base_url
            if (target.scheme, target.host, target.port) != (ours.scheme, ours.host, ours.port):
                raise ExternalAPIError("redfish", 0, f"{self.base_url}: link to another origin not followed "
                                                     f"(it would carry our credentials): {url[:200]}")
        try:
            return await self.http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise TimeoutError(f"redfish {self.base_url}: {method} {url} timed out after {self.timeout_sec:g} s") \
                from exc
        except httpx.TransportError as exc:
            raise TransientError(f"redfish {self.base_url}: {method} {url}: {type(exc).__name__}: {exc}") from exc

    def _json(self, response: httpx.Response, path: str, *, body: bool = True) -> dict[str, Any]:
        status = response.status_code
        if status < 300:
            try:
                return response.json() if body and response.content else {}
            except ValueError as exc:
                raise ExternalAPIError("redfish", status, f"{self.base_url}{path}: not JSON") from exc
        detail = f"{self.base_url}{path}: {_message(response)}"
        if status in (401, 403):
            raise AuthFailed("redfish", status, detail)
        wait = retry_after(response.headers)
        if status in (429, 503) and wait is not None:
            raise RateLimited("redfish", status, detail, wait)
        raise ExternalAPIError("redfish", status, detail)


def _message(response: httpx.Response) -> str:
    """The MessageId and message of a Redfish error body, else the start of the body."""
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return response.text[:200]
    info = (error.get("@Message.ExtendedInfo") or [{}])[0]
    return f"{info.get('MessageId') or error.get('code')}: {info.get('Message') or error.get('message')}"
