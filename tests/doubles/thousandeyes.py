"""A local ThousandEyes API v7 (list alerts) for tests.

    with ThousandEyesDouble() as te:
        config = {"base_url": te.base_url, "aid": te.aid, ...}; secrets = {"token": te.token}
        te.add(severity="critical")          # a new active alert (startDate: now)
        te.budget = Budget(3, 1.0)           # 429 after three requests a second

Route: `GET /v7/alerts` over a fixed corpus: ten active alerts over the last hour (two starting in
the same second, one of a type no client knows) and two cleared ones, each with the deprecated
duplicates (`alertId`, `dateStart`, `ruleId`, `state`, `severity`, `permalink`, `apiLinks`). As
ThousandEyes does: a bearer token or 401 `invalid_token`; an `aid` the token cannot use is a 403;
`window` with `startDate`/`endDate` (or a bad value) is a 400 problem+json; `state` `trigger`
(default, filtered by start date) or `clear` (by clear date); newest first, `max` per page, an
opaque `cursor` in the absolute `_links.next.href`, none on the last page;
`X-Organization-Rate-Limit-*` on every answer, 429 problem+json with `Reset` (epoch seconds) and
no `Retry-After` when the budget is spent.

Scenarios: `ok`, `slow`, `rate_limit` (429, Reset = now + `retry_after_sec`), `server_error` (500).
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.doubles.http_double import Call, HttpDouble

API = "https://api.thousandeyes.com/v7"
_WINDOW = re.compile(r"(\d+)([smhdw]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_TYPES = ("http-server", "page-load", "end-to-end-server", "dns-server", "path-trace", "bgp", "agent")
_SEVERITIES = ("major", "minor", "critical", "info")


class ThousandEyesDouble(HttpDouble):
    name = "thousandeyes"
    scenarios = frozenset({"ok", "slow", "rate_limit", "server_error"})
    default_budget: ClassVar[tuple[int, float]] = (240, 60.0)  # per organization and minute

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token, self.aid = "te-token-0123456789abcdef", "1234"
        self.alerts: list[dict[str, Any]] = []
        self.reset()

    @property
    def base_url(self) -> str:
        return f"{self.url}/v7"

    def reset(self) -> None:
        """The fixed corpus again (relative to now)."""
        super().reset()
        now = int(time.time())
        self.alerts = []
        for i in range(10):
            start = now - 3000 + i * 300 - (300 if i == 4 else 0)  # alerts 3 and 4 start in the same second
            self.add(start=start, kind="brand-new-test-type" if i == 6 else _TYPES[i % len(_TYPES)],
                     severity=_SEVERITIES[i % len(_SEVERITIES)])
        for i in range(2):
            self.add(start=now - 3300 + i * 600, end=now - 600 + i * 120, kind="agent", severity="minor")

    def add(self, *, start: int | None = None, end: int | None = None, kind: str = "http-server",
            severity: str = "major") -> str:
        """An alert (start default: now; cleared at ``end`` if given); returns its id."""
        alert_id, n = str(uuid.uuid4()), len(self.alerts)
        start = int(time.time()) if start is None else start
        test, rule = 281474976710000 + n, str(127000 + n)
        alert: dict[str, Any] = {
            "id": alert_id, "alertType": kind, "startDate": _iso(start), "violationCount": 1 + n % 3,
            "duration": 60 * (1 + n), "suppressed": False, "alertState": "clear" if end else "trigger",
            "alertSeverity": severity, "alertRuleId": rule, "meta": {"version": 1},
            "_links": {"self": {"href": f"{API}/alerts/{alert_id}"}, "test": {"href": f"{API}/tests/{test}"},
                       "rule": {"href": f"{API}/alerts/rules/{rule}"},
                       "appLink": {"href": f"https://app.thousandeyes.com/alerts/list?alertId={alert_id}"}},
            # Deprecated duplicates a client must ignore.
            "alertId": alert_id, "dateStart": _iso(start).replace("T", " ").rstrip("Z"), "ruleId": int(rule),
            "state": "CLEARED" if end else "ACTIVE", "severity": severity.upper(),
            "permalink": f"https://app.thousandeyes.com/alerts/list?alertId={alert_id}",
            "apiLinks": [{"rel": "data", "href": f"{API}/tests/{test}"}],
        }
        if end:
            alert["endDate"] = _iso(end)
        self.alerts.append(alert)
        return alert_id

    def routes(self) -> list[Route]:
        return [Route("/v7/alerts", self._alerts, methods=["GET"])]

    async def _alerts(self, request: Request) -> JSONResponse:
        call = await self.receive(request)
        if call.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"error": "invalid_token", "error_description": "Invalid access token"}, 401,
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        throttled, headers = self._limits(call)
        if throttled:
            return _problem(429, "Too Many Requests", "Organization rate limit exceeded", headers)
        if call.scenario == "server_error":
            return _problem(500, "Internal Server Error", "An unexpected error occurred", headers)
        q = call.query
        if "cursor" in q:
            try:
                query = json.loads(base64.urlsafe_b64decode(q["cursor"]))
            except ValueError:
                return _problem(400, "Bad Request", "Invalid cursor", headers)
        else:
            query, problem = _query(q, time.time())
            if problem:
                return _problem(400, "Bad Request", problem, headers)
        if query["aid"] not in (None, self.aid):
            return _problem(403, "Forbidden", f"User does not have access to account group {query['aid']}", headers)
        size = int(q["max"]) if q.get("max", "50").isdigit() else 0
        if size < 1:
            return _problem(400, "Bad Request", "max must be a positive integer", headers)
        return JSONResponse(self._page(query, size), headers=headers, media_type="application/hal+json")

    def _page(self, query: dict[str, Any], size: int) -> dict[str, Any]:
        date = "endDate" if query["state"] == "clear" else "startDate"
        found = sorted((a for a in self.alerts if a["alertState"] == query["state"]
                        and query["lo"] <= _epoch(a[date]) <= query["hi"]), key=lambda a: a[date], reverse=True)
        offset = query.get("offset", 0)
        body: dict[str, Any] = {"alerts": found[offset : offset + size],
                                "_links": {"self": {"href": f"{API}/alerts"}}}
        if offset + size < len(found):
            cursor = base64.urlsafe_b64encode(json.dumps({**query, "offset": offset + size}).encode()).decode()
            body["_links"]["next"] = {"href": f"{self.base_url}/alerts?{urlencode({'cursor': cursor, 'max': size})}"}
        return body

    def _limits(self, call: Call) -> tuple[bool, dict[str, str]]:
        """Spend one request of the budget: whether it is throttled, and the headers every answer carries."""
        now = time.time()
        allowed, remaining, reset_at = self.budget.take(now)
        if call.scenario == "rate_limit":
            allowed, remaining, reset_at = False, 0, now + self.retry_after_sec
        return not allowed, {"X-Organization-Rate-Limit-Limit": str(self.budget.limit),
                             "X-Organization-Rate-Limit-Remaining": str(remaining),
                             "X-Organization-Rate-Limit-Reset": str(math.ceil(reset_at))}


def _problem(status: int, title: str, detail: str, headers: dict[str, str]) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": "/v7/alerts"}
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


def _query(q: dict[str, str], now: float) -> tuple[dict[str, Any], str]:
    """The filter a first page asks for, or the problem with it."""
    state = q.get("state", "trigger")
    if state not in ("trigger", "clear"):
        return {}, f"state must be trigger or clear, not {state!r}"
    if "window" in q and ("startDate" in q or "endDate" in q):
        return {}, "window cannot be combined with startDate or endDate"
    lo, hi = now - 90 * 86_400, now
    if "window" in q:
        match = _WINDOW.fullmatch(q["window"])
        if not match:
            return {}, f"invalid window {q['window']!r}: use <number>[s|m|h|d|w]"
        lo = now - int(match.group(1)) * _UNITS[match.group(2)]
    for key in ("startDate", "endDate"):
        if key in q:
            try:
                value = datetime.strptime(q[key], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
            except ValueError:
                return {}, f"{key} must be ISO-8601 UTC like 2022-07-17T22:00:54Z, not {q[key]!r}"
            lo, hi = (value, hi) if key == "startDate" else (lo, value)
    if lo > hi:
        return {}, "startDate must be before endDate"
    return {"state": state, "lo": lo, "hi": hi, "aid": q.get("aid")}, ""


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
