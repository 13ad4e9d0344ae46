"""A local Splunk search head (management port) for tests: the streaming export search.

    with SplunkDouble() as splunk:
        config = {"base_url": splunk.url, "search": "search index=main", ...}
        secrets = {"token": splunk.token}       # or username/password for basic and session auth
        splunk.add("May  1 ... late line")      # a new event (_time: now)
        splunk.scenario = "cut"                 # or enqueue(...) for the next requests only

Routes: `POST /services/search/v2/jobs/export` (GET is refused), the legacy
`/services/search/jobs/export`, and `POST /services/auth/login` (`{"sessionKey": ...}`). As Splunk
does: `Bearer <token>`, `Splunk <session key>` or Basic, else 401 `call not properly
authenticated`; a search not starting with `search ` or `|` is a 400 FATAL message; the answer is
NDJSON streamed in chunks (`line_delay_sec` between lines), events newest first, string values
(`tag` multivalue), `lastrow: true` on the last result, then a `messages` line. `| stats count by
<field>` answers interim `preview: true` rows before the final ones. `earliest_time` (inclusive) and
`latest_time` (exclusive) take epoch seconds, `-15m`-style offsets, `now` or ISO-8601.

Scenarios: `ok`, `slow`, `cut` (the connection drops after half the rows, no lastrow),
`error_message` (an ERROR message after half the rows, then the stream ends), `busy` (503,
too many concurrent searches), `server_error` (500), `huge` (`huge_rows` extra rows, no delay).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.doubles.http_double import Call, HttpDouble

_OFFSET = re.compile(r"-(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_STATS = re.compile(r"\|\s*stats\s+count\s+by\s+(\w+)")
_BUSY = ("Search not executed: The maximum number of concurrent historical searches on this instance has been "
         'reached., concurrency_category="historical", concurrency_context="instance-wide", '
         "current_concurrency=50, concurrency_limit=50")
_PROGRAMS = (("nginx", "upstream timed out while reading response header"), ("sshd", "Failed password for root"),
             ("kernel", "EXT4-fs error (device sda1): ext4_find_entry"))


class CutStream(Exception):
    """Raised mid-stream: uvicorn then drops the connection without ending the chunked body."""


class SplunkDouble(HttpDouble):
    name = "splunk"
    scenarios = frozenset({"ok", "slow", "cut", "error_message", "busy", "server_error", "huge"})
    default_budget: ClassVar[tuple[int, float]] = (1_000_000, 60.0)  # Splunk limits concurrency, not rate

    def __init__(self, *, line_delay_sec: float = 0.002, huge_rows: int = 20_000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.line_delay_sec, self.huge_rows = line_delay_sec, huge_rows
        self.token, self.username, self.password = "eyJraWQiOiJzcGx1bmsuc2VjcmV0In0.double", "admin", "changeme-dbl"
        self.sessions: set[str] = set()
        self.events: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        """The fixed corpus again (20 events over the last ten minutes, relative to now)."""
        super().reset()
        self.sessions.clear()
        start = round(time.time() * 1000) - 600_000
        self.events = []
        for i in range(20):
            at = {6: start + 5 * 30_000, 14: start + 13 * 30_000}.get(i, start + i * 30_000)
            program, text = _PROGRAMS[i % 3]
            self.add(f"{program}[{1000 + i}]: {text} (event {i})", at=at, host=f"web-0{i % 3 + 1}")

    def add(self, text: str, *, at: int | None = None, host: str = "web-01") -> str:
        """A new event (default _time: now); returns its `_raw` (a syslog line)."""
        ms = round(time.time() * 1000) if at is None else at
        when = datetime.fromtimestamp(ms / 1000, UTC)
        raw = f"{when:%b} {when.day:2d} {when:%H:%M:%S} {host} {text}"
        self.events.append({
            "_time": when.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}+00:00", "_raw": raw, "host": host,
            "source": "/var/log/syslog", "sourcetype": "syslog", "index": "main", "splunk_server": "idx-1",
            "_cd": f"0:{1000 + len(self.events)}", "linecount": "1",
            "tag": ["error", "web"] if "error" in text or "timed out" in text else "web", "_ms": ms,
        })
        return raw

    def expire_sessions(self) -> None:
        """Session keys expire with inactivity; this expires them all now."""
        self.sessions.clear()

    def routes(self) -> list[Route]:
        return [Route("/services/search/v2/jobs/export", self._export, methods=["POST"]),
                Route("/services/search/jobs/export", self._export, methods=["GET", "POST"]),
                Route("/services/auth/login", self._login, methods=["POST"])]

    async def _login(self, request: Request) -> Response:
        call = await self.receive(request)
        form = _form(call)
        if form.get("username") != self.username or form.get("password") != self.password:
            return _messages(401, "WARN", "Login failed", code="incorrect_username_or_password")
        key = secrets.token_hex(16)
        self.sessions.add(key)
        return JSONResponse({"sessionKey": key})

    async def _export(self, request: Request) -> Response:
        call = await self.receive(request)
        if not self._authorized(call.headers.get("authorization", "")):
            return _messages(401, "WARN", "call not properly authenticated")
        if call.scenario == "busy":
            return _messages(503, "ERROR", _BUSY)
        if call.scenario == "server_error":
            return _messages(500, "ERROR", "Internal error: the search process exited unexpectedly")
        form = {**call.query, **_form(call)}
        search = form.get("search", "").strip()
        if not search.startswith(("search ", "|")):
            command = search.split("=")[0].split()[0] if search else ""
            return _messages(400, "FATAL", f"Unknown search command '{command}'.")
        now = time.time()
        lo, hi = _when(form.get("earliest_time", "0"), now), _when(form.get("latest_time", "now"), now)
        if lo is None or hi is None:
            return _messages(400, "FATAL", "Invalid earliest_time or latest_time.")
        if form.get("output_mode") != "json":
            return _messages(400, "FATAL", "This double streams output_mode=json only.")
        rows = sorted((e for e in self.events if lo <= e["_ms"] < hi and _matches(e, search)),
                      key=lambda e: e["_ms"], reverse=True)
        if call.scenario == "huge":
            rows += [self._synthetic(j, lo, hi) for j in range(self.huge_rows)]
        stats = _STATS.search(search)
        lines = _stats_lines(rows, stats.group(1)) if stats else self._event_lines(rows, call)
        return StreamingResponse(lines, media_type="application/json")

    def _authorized(self, header: str) -> bool:
        kind, _, value = header.partition(" ")
        if kind == "Bearer":
            return value == self.token
        if kind == "Splunk":
            return value in self.sessions
        if kind == "Basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
            return (user, password) == (self.username, self.password)
        return False

    async def _event_lines(self, rows: list[dict[str, Any]], call: Call) -> AsyncIterator[str]:
        delay, half = 0 if call.scenario == "huge" else self.line_delay_sec, len(rows) // 2
        for i, row in enumerate(rows):
            if i == half and call.scenario == "cut":
                raise CutStream("the double drops the connection mid-stream")
            if i == half and call.scenario == "error_message":
                yield _line({"preview": False, "messages": [{"type": "ERROR", "text": "Search auto-canceled"}]})
                return
            result = {k: v for k, v in row.items() if k != "_ms"}
            last = {"lastrow": True} if i == len(rows) - 1 else {}
            yield _line({"preview": False, "offset": i, "result": result} | last)
            if delay:
                await asyncio.sleep(delay)
        yield _line({"preview": False, "messages": [{"type": "INFO", "text": f"{len(rows)} events matched"}]})

    def _synthetic(self, j: int, lo: int, hi: int) -> dict[str, Any]:
        ms = lo + (hi - lo) * j // self.huge_rows
        when = datetime.fromtimestamp(ms / 1000, UTC)
        return {"_time": when.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}+00:00", "_ms": ms,
                "_raw": f"{when:%b} {when.day:2d} {when:%H:%M:%S} bulk-01 app[7]: bulk row {j} " + "x" * 150,
                "host": "bulk-01", "index": "main", "splunk_server": "idx-1", "_cd": f"9:{j}"}


async def _stats_lines(rows: list[dict[str, Any]], field: str) -> AsyncIterator[str]:
    """A transforming search: interim `preview: true` tables as results come in, then the final one."""
    seen: collections.Counter[str] = collections.Counter()
    for n, row in enumerate(rows, 1):
        seen[str(row.get(field, ""))] += 1
        if n % 5 == 0:
            for i, (value, count) in enumerate(sorted(seen.items())):
                yield _line({"preview": True, "offset": i, "result": {field: value, "count": str(count)}})
    final = sorted(seen.items())
    for i, (value, count) in enumerate(final):
        last = {"lastrow": True} if i == len(final) - 1 else {}
        yield _line({"preview": False, "offset": i, "result": {field: value, "count": str(count)}} | last)


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":")) + "\n"


def _messages(status: int, kind: str, text: str, **extra: str) -> JSONResponse:
    return JSONResponse({"messages": [{"type": kind, **extra, "text": text}]}, status)


def _form(call: Call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.body.decode()).items()}


def _when(text: str, now: float) -> int | None:
    """Epoch seconds, `now`, `-<n><unit>` or ISO-8601 as epoch ms."""
    text = text.strip()
    offset = _OFFSET.fullmatch(text)
    try:
        if text == "now":
            seconds = now
        elif offset:
            seconds = now - int(offset.group(1)) * _UNITS[offset.group(2)]
        elif re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        else:
            seconds = datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None
    return round(seconds * 1000)


def _matches(event: dict[str, Any], search: str) -> bool:
    """The `search` command's terms (before any pipe): `field=value` and bare words in `_raw`."""
    terms = search.split("|")[0].split()[1:] if search.startswith("search ") else []
    for term in terms:
        field, sep, value = term.partition("=")
        if sep and event.get(field, "") != value.strip('"'):
            return False
        if not sep and term.lower() not in event["_raw"].lower():
            return False
    return True
