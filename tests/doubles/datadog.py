"""A local Datadog Logs API (v2 search) for tests.

    with DatadogDouble() as dd:
        config = {"base_url": dd.url, ...}; secrets = {"api_key": dd.api_key, "app_key": dd.app_key}
        dd.add(message="late line")             # a new event (timestamp: now)
        dd.scenario = "rate_limit"              # or enqueue(...) for the next requests only

Routes: `POST /api/v2/logs/events/search` and `GET /api/v2/logs/events`, over a fixed corpus of
25 events spread over the last ten minutes (three share one instant, two another; one is
structured, without a message). As Datadog does: both `DD-API-KEY` and `DD-APPLICATION-KEY` or
403 `{"errors":["Forbidden"]}`; `page.limit` 1..1000 (default 10) else 400; `from`/`to` as
ISO-8601, epoch ms or `now-15m` date math (from inclusive, to exclusive); `sort` `timestamp` or
`-timestamp` (the default); opaque base64 cursors (search-after, bound to the filter) in
`meta.page.after` and `links.next`, none on the last page; `X-RateLimit-*` on every answer, 429
when the budget is spent, never a `Retry-After`.

Scenarios: `ok`, `slow`, `rate_limit` (429, `X-RateLimit-Reset` = `retry_after_sec`),
`server_error` (500), `unavailable` (503), `timeout` (200, `meta.status: "timeout"`, half a page,
no cursor).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import time
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.doubles.http_double import Call, HttpDouble

_DATE_MATH = re.compile(r"now(?:-(\d+)([smhdw]))?")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_STATUSES = ("info", "warn", "error", "info", "critical")


class DatadogDouble(HttpDouble):
    name = "datadog"
    scenarios = frozenset({"ok", "slow", "rate_limit", "server_error", "unavailable", "timeout"})
    default_budget: ClassVar[tuple[int, float]] = (300, 3600.0)  # log search: a small hourly bucket

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_key, self.app_key = "dd-api-0123456789abcdef", "dd-app-fedcba9876543210"
        self.events: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        """The fixed corpus again (relative to now), `ok`, nothing logged."""
        super().reset()
        start = round(time.time() * 1000) - 600_000
        self.events = []
        for i in range(25):
            at = start + i * 20_000
            at = {8: start + 7 * 20_000, 9: start + 7 * 20_000, 16: start + 15 * 20_000}.get(i, at)
            if i == 12:
                self.add(at=at, message="", attributes={"http": {"status_code": 504, "url": "/api/orders"}})
            else:
                self.add(at=at, message=f"request {i} to upstream orders-{i % 3} took {100 + i} ms",
                         status=_STATUSES[i % len(_STATUSES)])

    def add(self, *, message: str, at: int | None = None, status: str = "error", host: str = "web-01",
            service: str = "web", attributes: dict[str, Any] | None = None) -> str:
        """A new event (default timestamp: now); returns its id."""
        n = len(self.events)
        event_id = "AQAAAY" + hashlib.sha1(f"{n}:{message}".encode()).hexdigest()[:24]
        self.events.append({"id": event_id, "ms": round(time.time() * 1000) if at is None else at,
                            "host": host, "service": service, "status": status, "message": message,
                            "attributes": attributes or {"duration": n}})
        return event_id

    def routes(self) -> list[Route]:
        return [Route("/api/v2/logs/events/search", self._post, methods=["POST"]),
                Route("/api/v2/logs/events", self._get, methods=["GET"])]

    async def _post(self, request: Request) -> JSONResponse:
        call = await self.receive(request)
        try:
            body = json.loads(call.body or b"{}")
        except ValueError:
            return self._answer(call, 400, {"errors": ["Malformed JSON in request body"]})
        return self._search(call, body.get("filter") or {}, body.get("sort", "-timestamp"), body.get("page") or {})

    async def _get(self, request: Request) -> JSONResponse:
        call = await self.receive(request)
        q = call.query
        query = {"query": q.get("filter[query]", "*"), "from": q.get("filter[from]", "now-15m"),
                 "to": q.get("filter[to]", "now")}
        if "filter[indexes]" in q:
            query["indexes"] = q["filter[indexes]"].split(",")
        page = {k: q[f"page[{k}]"] for k in ("limit", "cursor") if f"page[{k}]" in q}
        return self._search(call, query, q.get("sort", "-timestamp"), page)

    # --- the search --------------------------------------------------------------------------------
    def _search(self, call: Call, query: dict[str, Any], sort: str, page: dict[str, Any]) -> JSONResponse:
        refused = self._refuse(call)
        if refused is not None:
            return refused
        try:
            limit = int(page.get("limit", 10))
        except (TypeError, ValueError):
            limit = -1
        if not 1 <= limit <= 1000:
            return self._answer(call, 400, {"errors": ["page[limit] must be between 1 and 1000"]})
        if sort not in ("timestamp", "-timestamp"):
            return self._answer(call, 400, {"errors": [f"invalid sort: {sort}"]})
        now = round(time.time() * 1000)
        lo, hi = _when(query.get("from", "now-15m"), now), _when(query.get("to", "now"), now)
        if lo is None or hi is None:
            return self._answer(call, 400, {"errors": ["Invalid time: use ISO-8601, epoch ms or date math"]})
        text = str(query.get("query", "*"))
        found = sorted((e for e in self.events if lo <= e["ms"] < hi and _matches(e, text)),
                       key=lambda e: (e["ms"], e["id"]), reverse=sort == "-timestamp")
        scope = hashlib.sha1(json.dumps([text, lo, hi, sort]).encode()).hexdigest()[:12]
        if page.get("cursor"):
            after = _decode_cursor(str(page["cursor"]), scope)
            if after is None:
                return self._answer(call, 400, {"errors": ["Invalid page cursor"]})
            past = (lambda k: k < after) if sort == "-timestamp" else (lambda k: k > after)
            found = [e for e in found if past((e["ms"], e["id"]))]
        chunk, more = found[:limit], len(found) > limit
        meta: dict[str, Any] = {"elapsed": 12, "request_id": f"pddv1{len(self._calls)}", "status": "done"}
        if call.scenario == "timeout":
            chunk, more, meta["status"] = chunk[: len(chunk) // 2], False, "timeout"
        unknown = [i for i in query.get("indexes") or [] if i not in ("*", "main")]
        if unknown:
            meta["warnings"] = [{"code": "unknown_index", "title": "Unknown index",
                                 "detail": f"indexes {', '.join(unknown)} do not exist"}]
        body: dict[str, Any] = {"data": [_render(e) for e in chunk], "meta": meta}
        if more:
            cursor = base64.b64encode(json.dumps([scope, chunk[-1]["ms"], chunk[-1]["id"]]).encode()).decode()
            meta["page"] = {"after": cursor}
            params = {"filter[query]": text, "filter[from]": str(lo), "filter[to]": str(hi), "sort": sort,
                      "page[limit]": str(limit), "page[cursor]": cursor}
            body["links"] = {"next": f"{self.url}/api/v2/logs/events?{urlencode(params)}"}
        return self._answer(call, 200, body)

    def _refuse(self, call: Call) -> JSONResponse | None:
        h = call.headers
        if h.get("dd-api-key") != self.api_key or h.get("dd-application-key") != self.app_key:
            return self._answer(call, 403, {"errors": ["Forbidden"]})
        if call.scenario == "server_error":
            return self._answer(call, 500, {"errors": ["Internal Server Error"]})
        if call.scenario == "unavailable":
            return self._answer(call, 503, {"errors": ["Service Unavailable"]})
        return None

    def _answer(self, call: Call, status: int, body: dict[str, Any]) -> JSONResponse:
        """Every answer carries the bucket's `X-RateLimit-*`; a spent bucket (or `rate_limit`) is a 429."""
        now = time.time()
        allowed, remaining, reset_at = self.budget.take(now)
        wait = math.ceil(reset_at - now)
        if call.scenario == "rate_limit":
            allowed, remaining, wait = False, 0, math.ceil(self.retry_after_sec)
        if not allowed:
            status, body = 429, {"errors": ["Too many requests"]}
        headers = {"X-RateLimit-Limit": str(self.budget.limit), "X-RateLimit-Period": f"{self.budget.period_sec:g}",
                   "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(wait),
                   "X-RateLimit-Name": "logs_query"}
        return JSONResponse(body, status, headers=headers)


def _when(text: str, now_ms: int) -> int | None:
    """ISO-8601, epoch ms or `now[-<n><unit>]` as epoch ms."""
    text = str(text).strip()
    if text.isdigit():
        return int(text)
    math_ = _DATE_MATH.fullmatch(text)
    if math_:
        return now_ms - int(math_.group(1) or 0) * _UNITS.get(math_.group(2) or "s", 1) * 1000
    try:
        return round(datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError:
        return None


def _matches(event: dict[str, Any], query: str) -> bool:
    """`*`, `key:value` terms (service, host, status) and bare words (in the message), all required."""
    for term in query.split():
        key, sep, value = term.partition(":")
        if term == "*":
            continue
        if sep and key in ("service", "host", "status"):
            if event[key] != value:
                return False
        elif term.lower() not in event["message"].lower():
            return False
    return True


def _decode_cursor(text: str, scope: str) -> tuple[int, str] | None:
    try:
        bound, ms, event_id = json.loads(base64.b64decode(text, validate=True))
    except (ValueError, TypeError):
        return None
    return (int(ms), str(event_id)) if bound == scope else None


def _render(event: dict[str, Any]) -> dict[str, Any]:
    when = datetime.fromtimestamp(event["ms"] / 1000, UTC)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S") + f".{event['ms'] % 1000:03d}Z"
    return {"id": event["id"], "type": "log", "attributes": {
        "timestamp": stamp, "host": event["host"], "service": event["service"], "status": event["status"],
        "message": event["message"], "tags": [f"service:{event['service']}", "env:test"],
        "attributes": event["attributes"]}}
