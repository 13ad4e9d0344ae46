"""Worker web views (Faust, on WEB_PORT): inspect the tables. Admin token required (Bearer).

    GET /issues/?offset=0&limit=50          open issues this worker owns (summaries)
    GET /issues/{key}/                      one issue (routed to the worker that owns the key)
    GET /prototypes/?offset&limit           prototypes this worker owns (summaries)
    GET /prototypes/{os}/{id}/              one prototype with its templates and exemplars (routed to
                                            the worker that clusters that OS)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

import faust
from faust import web

from streamapp.auth import admin_ok
from streamapp.clustering import Prototype
from streamapp.issues import OpenIssue, contract_issue_key, issue_id
from streamapp.settings import Settings

MAX_LIMIT = 500


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


def register(app: faust.App, settings: Settings, tables: dict[str, faust.Table], by_os: faust.TopicT) -> None:
    """Add the views of the tables this worker has; `by_os` is the topic whose partition (keyed by
    OS) decides which worker holds an OS's prototypes."""
    guarded = admin_guard(settings)
    if (issues := tables.get("open_issues")) is not None:
        _issue_views(app, guarded, issues)
    if (protos := tables.get("prototypes")) is not None:
        _prototype_views(app, guarded, protos, by_os)


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
        @app.topic_route(topic=by_os, match_info="os")
        async def get(self, request: web.Request, os: str, pid: str) -> web.Response:
            proto = protos.get(pid)
            if proto is None or proto.os != os:
                return self.json({"error": f"no prototype {pid!r}"}, status=404)
            body = proto.asdict()
            body.pop("centroid", None)
            return self.json(body)
