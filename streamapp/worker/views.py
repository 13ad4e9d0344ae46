"""Worker web views (Faust, on WEB_PORT): inspect the tables. Admin token required (Bearer).

    GET /issues/?offset=0&limit=50          open issues this worker owns (summaries)
    GET /issues/{key}/                      one issue (routed to the worker that owns the key)
    GET /prototypes/?offset&limit           prototypes this worker owns (summaries)
    GET /prototypes/{os}/{id}/              one prototype with its templates and exemplars (routed to
                                            the worker that clusters that OS)
    GET /patterns/                          the OSes whose template counts this worker keeps
    GET /patterns/?os=&host=&status=new|rising|falling|steady|all&offset&limit
                                            one OS's patterns, new first, then rising, falling, steady
                                            (of one host with `host`; routed to the worker counting
                                            that OS); 400 with a JSON reason on a bad parameter
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import faust
from aiokafka.errors import KafkaError
from faust import web

from streamapp.auth import admin_ok
from streamapp.clock import Clock
from streamapp.clustering import Prototype
from streamapp.issues import OpenIssue, contract_issue_key, issue_id
from streamapp.patterns import STATUSES, OsBook, PatternPolicy, book_key, pattern_query, pattern_rows, template_key
from streamapp.settings import Settings
from streamapp.worker.topics import Topics

MAX_LIMIT = 500
ROUTE_WAIT_SEC = 5.0


def issue_summary(issue: OpenIssue) -> dict[str, Any]:
    return {
        "key": issue.key, "id": issue_id(issue.key, issue.first_line_id), "issue_key": contract_issue_key(issue),
        "state": issue.state, "line_count": issue.line_count, "severity": issue.severity,
        "interesting": issue.interesting, "first_t": issue.first_t, "last_t": issue.last_t,
        "updated_at": issue.updated_at, "templates": len(issue.template_counts),
    }


def prototype_summary(proto: Prototype) -> dict[str, Any]:
    top = sorted(proto.template_counts.items(), key=lambda kv: -kv[1])[:3]
    return {
        "id": proto.id, "os": proto.os, "member_count": proto.member_count, "label": proto.label,
        "failure_type": proto.failure_type, "confidence": proto.confidence,
        "top_templates": [proto.templates.get(t, t) for t, _ in top], "updated_at": proto.updated_at,
    }


def page(items: Iterable[Any], request: web.Request) -> tuple[list[Any], int | None]:
    """One page of an iterator (offset/limit query parameters), and the next offset if any."""
    try:
        offset = max(0, int(request.query.get("offset", 0)))
        limit = min(MAX_LIMIT, max(1, int(request.query.get("limit", 50))))
    except ValueError:
        raise web.View.ValidationError("offset and limit must be integers") from None
    chunk = list(itertools.islice(items, offset, offset + limit + 1))
    return chunk[:limit], (offset + limit if len(chunk) > limit else None)


def admin_guard(settings: Settings) -> Callable[[Callable], Callable]:
    """A decorator for view methods: 401 unless the request carries the admin token."""

    def guarded(handler: Callable) -> Callable:
        async def get(self: web.View, request: web.Request, **kw: Any) -> web.Response:
            if not admin_ok(request.headers.get("Authorization"), settings.admin_token):
                return self.json({"error": "admin token required (Authorization: Bearer ...)"}, status=401)
            return await handler(self, request, **kw)

        return get

    return guarded


def routable(app: faust.App, topic: faust.TopicT) -> Callable[[Callable], Callable]:
    """For views routed by a topic's key: Faust finds the key's partition in its producer's
    metadata, which loses a topic until the next refresh whenever the broker answered a refresh
    with an error for it (a busy broker). Wait for it as a send would (503 if it does not come)."""

    def decorate(handler: Callable) -> Callable:
        async def get(self: web.View, request: web.Request, **kw: Any) -> web.Response:
            try:
                await asyncio.wait_for(app.producer._ensure_producer().partitions_for(topic.get_topic_name()),
                                       ROUTE_WAIT_SEC)
            except (TimeoutError, KafkaError) as exc:
                return self.json({"error": f"cannot route the request now ({type(exc).__name__})"}, status=503)
            return await handler(self, request, **kw)

        return get

    return decorate


def register(app: faust.App, settings: Settings, tables: dict[str, faust.Table], topics: Topics,
             clock: Clock) -> None:
    """Add the views of the tables this worker has. Views of tables keyed by OS are routed to the
    worker that owns the OS's partition of the topic feeding them."""
    guarded = admin_guard(settings)
    if (issues := tables.get("open_issues")) is not None:
        _issue_views(app, guarded, issues)
    if (protos := tables.get("prototypes")) is not None:
        _prototype_views(app, guarded, protos, topics.closed_issues)
    if (counts := tables.get("patterns")) is not None:
        _pattern_views(app, guarded, counts, topics.pattern_counts, PatternPolicy.from_settings(settings), clock)


def patterns_page(table: Mapping[str, Any], query: dict[str, Any], now: float, policy: PatternPolicy) -> dict[str, Any]:
    """One OS's patterns as `GET /patterns/?os=` answers them (pure over the table's entries)."""
    os_name = query["os"]
    raw = table.get(book_key(os_name))
    book = OsBook(**raw) if raw else None
    prefix = template_key(os_name, "")
    rows = pattern_rows((v for k, v in table.items() if k.startswith(prefix)), now, policy, query["host"])
    counts = {status: sum(r["status"] == status for r in rows) for status in STATUSES}
    if query["status"] != "all":
        rows = [r for r in rows if r["status"] == query["status"]]
    start, end = query["offset"], query["offset"] + query["limit"]
    return {
        "os": os_name, "host": query["host"], "status": query["status"], "known": book is not None,
        "warm": bool(book and book.warm(now, policy)), "warm_at": book.warm_at(policy) if book else None,
        "lines": book.lines if book else 0, "templates": book.templates if book else 0,
        "dropped_templates": book.dropped_templates if book else 0,
        "dropped_host_lines": book.dropped_host_lines if book else 0, "bucket_sec": policy.bucket_sec,
        "counts": counts, "items": rows[start:end], "next_offset": end if len(rows) > end else None,
    }


def _issue_views(app: faust.App, guarded: Callable, issues: faust.Table) -> None:
    @app.page("/issues/")
    class OpenIssues(web.View):
        @guarded
        async def get(self, request: web.Request) -> web.Response:
            items, nxt = page((issue_summary(OpenIssue.from_dict(v)) for _, v in issues.items()), request)
            return self.json({"worker": str(app.conf.canonical_url), "items": items, "next_offset": nxt})

    @app.page("/issues/{key}/")
    class OneIssue(web.View):
        @guarded
        @app.table_route(table=issues, match_info="key")
        async def get(self, request: web.Request, key: str) -> web.Response:
            issue = issues.get(key)
            if issue is None:
                return self.json({"error": f"no open issue {key!r}"}, status=404)
            return self.json(issue)


def _pattern_views(app: faust.App, guarded: Callable, table: faust.Table, by_os: faust.TopicT,
                   policy: PatternPolicy, clock: Clock) -> None:
    @app.page("/patterns/")
    class Patterns(web.View):
        @guarded
        async def get(self, request: web.Request) -> web.Response:
            try:
                query = pattern_query(request.query)
            except ValueError as exc:
                return self.json({"error": str(exc)}, status=400)
            if not query["os"]:
                oses = sorted({k.split("\x00", 1)[0] for k in table if k.endswith("\x00book")})
                return self.json({"worker": str(app.conf.canonical_url), "oses": oses})
            return await self.one_os(request)

        @routable(app, by_os)
        @app.topic_route(topic=by_os, query_param="os")
        async def one_os(self, request: web.Request) -> web.Response:
            body = patterns_page(table, pattern_query(request.query), clock.now(), policy)
            return self.json({"worker": str(app.conf.canonical_url), **body})


def _prototype_views(app: faust.App, guarded: Callable, protos: faust.Table, by_os: faust.TopicT) -> None:
    @app.page("/prototypes/")
    class Prototypes(web.View):
        @guarded
        async def get(self, request: web.Request) -> web.Response:
            items, nxt = page((prototype_summary(p) for _, p in protos.items()), request)
            return self.json({"worker": str(app.conf.canonical_url), "items": items, "next_offset": nxt})

    @app.page("/prototypes/{os}/{pid}/")
    class OnePrototype(web.View):
        @guarded
        @routable(app, by_os)
        @app.topic_route(topic=by_os, match_info="os")
        async def get(self, request: web.Request, os: str, pid: str) -> web.Response:
            proto = protos.get(pid)
            if proto is None or proto.os != os:
                return self.json({"error": f"no prototype {pid!r}"}, status=404)
            body = proto.asdict()
            body.pop("centroid", None)
            return self.json(body)
