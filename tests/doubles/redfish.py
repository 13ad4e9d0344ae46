"""A local Redfish BMC for tests: our own thin Starlette server over the DMTF `public-rackmount1`
mockup files (read from the shared folder, never copied), with what a real BMC adds:

- auth: the service root (and `/redfish`, `$metadata`, `odata`) open; everything else needs Basic or
  an `X-Auth-Token`; 401 with a Redfish error body (`Base.1.8.NoValidSession`) otherwise;
- sessions: `POST /redfish/v1/SessionService/Sessions` -> 201 + `X-Auth-Token` + `Location`,
  `DELETE <Location>` logs out, tokens expire after `session_timeout_sec` idle;
- log entries paged (`page_size` per page, `Members@odata.nextLink`, or the top-level
  `@odata.nextLink` the DMTF mockup writes), `add_entry` appends SEL entries during a test;
- `$expand=.($levels=1)` on collections, as the root advertises;
- switchable readings and health, a disabled sensor without `Reading`, a hidden link (to force the
  legacy Thermal/Power path);
- scenarios: `busy` (503 + `Retry-After`), `slow` (answers after `slow_sec`).

    with RedfishDouble(mockup_dir) as bmc:
        bmc.set_health("/redfish/v1/Systems/437XR1138R2", "Critical")
        bmc.enqueue("busy")          # the next request only
        bmc.calls                    # (method, path, auth) of every request
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.doubles.serving import Scenarios, ServedApp

V1 = "/redfish/v1"
SEL = f"{V1}/Systems/437XR1138R2/LogServices/Log1/Entries"
OPEN = (V1, "/redfish", f"{V1}/$metadata", f"{V1}/odata")
SCENARIOS = ("ok", "busy", "slow")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    auth: str  # "token", "basic" or "" (none)


class RedfishDouble(Scenarios[Call], ServedApp):
    """The server in a background thread on a loopback port; a context manager (or start/stop)."""

    name = "redfish"
    scenarios = frozenset(SCENARIOS)

    def __init__(self, mockup_dir: Path, *, username: str = "admin", password: str = "redfish-pass-1",
                 session_timeout_sec: float = 30.0, page_size: int = 2, retry_after_sec: int = 1,
                 slow_sec: float = 3.0, history: int = 3) -> None:
        super().__init__()
        self.username, self.password = username, password
        self.session_timeout_sec, self.page_size = session_timeout_sec, page_size
        self.retry_after_sec, self.slow_sec = retry_after_sec, slow_sec
        self.next_link_key = "Members@odata.nextLink"
        self.resources = _load(mockup_dir)
        self.resources[SEL].pop("@odata.nextLink", None)  # the mockup's link leads nowhere; we page ourselves
        self.sessions: dict[str, tuple[str, float]] = {}  # token -> (session path, last use)
        self._session_ids = iter(range(1, 10**6))
        for _ in range(history):  # a log longer than one page from the start
            self.add_entry("OK", "System boot completed", sensor_type="System Event", entry_code="Assertion")

    # --- test-facing controls --------------------------------------------------------------------
    def add_entry(self, severity: str, message: str, *, sensor_type: str = "Temperature",
                  entry_code: str = "Upper Critical - going high") -> str:
        """Append a SEL entry (Created now, or just after the newest); returns its Id."""
        members = self.resources[SEL]["Members"]
        entry_id = str(max((int(m["Id"]) for m in members), default=0) + 1)
        members.append({
            "@odata.id": f"{SEL}/{entry_id}", "@odata.type": "#LogEntry.v1_14_0.LogEntry", "Id": entry_id,
            "Name": f"Log Entry {entry_id}", "EntryType": "SEL", "Severity": severity,
            "Created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "EntryCode": entry_code,
            "SensorType": sensor_type, "Message": message, "MessageId": "0x000000",
        })
        self.resources[SEL]["Members@odata.count"] = len(members)
        return entry_id

    def set_health(self, path: str, health: str, *, member: tuple[str, int] | None = None) -> None:
        """Status.Health of a resource, or of `member` = (array, index) inside it (e.g. Thermal Fans)."""
        target = self.resources[path]
        if member is not None:
            target = target[member[0]][member[1]]
        target.setdefault("Status", {})["Health"] = health

    def set_reading(self, path: str, value: float) -> None:
        self.resources[path]["Reading"] = value

    def disable(self, path: str) -> None:
        """A sensor switched off: State Disabled, no Health, no Reading (as BMCs show it)."""
        self.resources[path]["Status"] = {"State": "Disabled"}
        self.resources[path].pop("Reading", None)

    def hide(self, path: str, link: str) -> None:
        """Drop a link from a resource, e.g. a chassis' `Sensors`, as older BMCs lack it."""
        self.resources[path].pop(link, None)

    # --- the server ------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [Route("/{path:path}", self._handle, methods=["GET", "POST", "DELETE", "PATCH"])]

    async def _handle(self, request: Request) -> Response:
        path = "/" + request.path_params["path"].rstrip("/")
        auth = self._auth(request)
        self._log(Call(request.method, path, auth))
        scenario = self._take()
        if scenario == "busy":
            response = _error(503, "Base.1.8.ServiceTemporarilyUnavailable",
                              f"The service is temporarily unavailable. Retry in {self.retry_after_sec} seconds.")
            response.headers["Retry-After"] = str(self.retry_after_sec)
            return response
        if scenario == "slow":
            await asyncio.sleep(self.slow_sec)
        if request.method == "POST" and path == f"{V1}/SessionService/Sessions":
            return await self._login(request)
        if path not in OPEN and not auth:
            return _unauthorized()
        if request.method == "DELETE":
            return self._logout(request, path)
        if request.method != "GET":
            return _error(405, "Base.1.8.ActionNotSupported", f"{request.method} is not supported here.")
        return self._get(path, request.query_params)

    def _auth(self, request: Request) -> str:
        token = request.headers.get("x-auth-token")
        if token in self.sessions:
            session, last = self.sessions[token]
            if time.monotonic() - last > self.session_timeout_sec:
                del self.sessions[token]  # expired after idling
                return ""
            self.sessions[token] = (session, time.monotonic())
            return "token"
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode(errors="replace").partition(":")
            if (user, password) == (self.username, self.password):
                return "basic"
        return ""

    async def _login(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return _error(400, "Base.1.8.MalformedJSON", "The request body submitted was malformed JSON.")
        if (body.get("UserName"), body.get("Password")) != (self.username, self.password):
            return _unauthorized()
        session_id = str(next(self._session_ids))
        path, token = f"{V1}/SessionService/Sessions/{session_id}", secrets.token_hex(16)
        self.sessions[token] = (path, time.monotonic())
        doc = {"@odata.id": path, "@odata.type": "#Session.v1_3_0.Session", "Id": session_id,
               "Name": "User Session", "UserName": self.username}
        self.resources[path] = doc
        return JSONResponse(doc, status_code=201, headers={"X-Auth-Token": token, "Location": path})

    def _logout(self, request: Request, path: str) -> Response:
        for token, (session, _) in list(self.sessions.items()):
            if session == path:
                del self.sessions[token]
                self.resources.pop(path, None)
                return Response(status_code=204)
        return _missing(path)

    def _get(self, path: str, query: Any) -> Response:
        if path == "/redfish":
            return JSONResponse({"v1": f"{V1}/"})
        doc = self.resources.get(path)
        if doc is None:
            return _missing(path)
        doc = copy.deepcopy(doc)
        if "Members" in doc and path.endswith("/Entries"):
            skip = int(query.get("$skip", 0))
            members, doc["Members"] = doc["Members"], doc["Members"][skip:skip + self.page_size]
            if skip + self.page_size < len(members):
                doc[self.next_link_key] = f"{path}?$skip={skip + self.page_size}"
        if "Members" in doc and query.get("$expand") == ".($levels=1)":
            doc["Members"] = [copy.deepcopy(self.resources.get(m["@odata.id"], m)) for m in doc["Members"]]
        return JSONResponse(doc)


def _load(root: Path) -> dict[str, Any]:
    """URL path -> resource: `<root>/<path>/index.json` is `GET /redfish/v1/<path>`."""
    out = {}
    for file in root.rglob("index.json"):
        rel = file.parent.relative_to(root).as_posix()
        out[V1 if rel == "." else f"{V1}/{rel}"] = json.loads(file.read_text())
    return out


def _error(status: int, message_id: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {
        "code": "Base.1.8.GeneralError",
        "message": "A general error has occurred. See ExtendedInfo for more information.",
        "@Message.ExtendedInfo": [{"@odata.type": "#Message.v1_1_1.Message", "MessageId": message_id,
                                   "Message": message, "Severity": "Critical", "Resolution": "None."}],
    }}, status_code=status)


def _unauthorized() -> JSONResponse:
    response = _error(401, "Base.1.8.NoValidSession",
                      "There is no valid session established with the implementation.")
    response.headers["WWW-Authenticate"] = 'Basic realm="Redfish"'
    return response


def _missing(path: str) -> JSONResponse:
    return _error(404, "Base.1.8.ResourceMissingAtURI", f"The resource at the URI {path} was not found.")
