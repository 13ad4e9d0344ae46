"""What the pipeline holds right now.

    GET /console/issues[?state=all]            open issues (the worker's table view; `all`: with the closed
                                               ones awaiting purge) and recent candidates
    GET /console/prototypes                    prototypes (the worker's table view) and alerts and
                                               lines per minute over the last half hour
    GET /console/prototypes/{os}/{id}          one prototype: templates, exemplars
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from streamapp.api import alerts as api_alerts
from streamapp.api.errors import ApiError
from streamapp.console import reads
from streamapp.console.chart import Chart, per_minute_chart
from streamapp.console.highlight import segments
from streamapp.console.web import as_dict, as_list, page, render, settings_of
from streamapp.console.worker import worker_get

PAGE_SIZE = 50
WORKER_PAGE = 500  # issues asked of the worker at once while looking for open ones
WORKER_PAGES = 4
CANDIDATES = 20
CHART_MINUTES = 30
CHART_BUDGET = 2000  # stream entries one chart may read per series
CHART_CACHE_SEC = 15.0


def _offset(request: Request) -> int:
    raw = request.query_params.get("offset", "0")
    return min(int(raw), 10**6) if raw.isdecimal() else 0


def _client(request: Request) -> Any:
    return request.app.state.alerts.client


async def _issues(request: Request, offset: int, *, closed_too: bool) -> tuple[list[dict], int | None, str, int]:
    """A page of the worker's issues table from `offset`: every issue, or only the open ones (the
    table also holds closed issues until they are purged), reading at most WORKER_PAGES pages of
    WORKER_PAGE entries. Returns the issues, the offset to continue from, an error and entries read."""
    settings, read = settings_of(request), 0
    found: list[dict] = []
    for _ in range(1 if closed_too else WORKER_PAGES):
        limit = PAGE_SIZE if closed_too else WORKER_PAGE
        answer = await worker_get(settings, "/issues/", {"offset": offset, "limit": limit})
        data = as_dict(answer.data)
        if answer.error:
            return found, None, answer.error, read
        items = [i for i in as_list(data.get("items")) if isinstance(i, dict)]
        read += len(items)
        for n, item in enumerate(items):
            if closed_too or item.get("state") == "open":
                found.append(item)
            if len(found) == PAGE_SIZE:
                return found, offset + n + 1, "", read
        nxt = data.get("next_offset")
        if not isinstance(nxt, int):
            return found, None, "", read
        offset = nxt
    return found, offset, "", read


@page
async def issues(request: Request) -> Response:
    settings = settings_of(request)
    offset = _offset(request)
    closed_too = request.query_params.get("state") == "all"
    open_issues, next_offset, worker_error, read = await _issues(request, offset, closed_too=closed_too)
    problems = []
    try:
        before = api_alerts.before_id(request.query_params.get("candidates_before") or None)
    except ApiError as exc:
        problems.append(exc.reason)
        before = None
    found = await reads.recent_candidates(_client(request), settings, before=before, limit=CANDIDATES)
    candidates = []
    for entry_id, c in found.items:
        logs = [i for i in as_list(c.get("logs")) if isinstance(i, dict)]
        lines = [{"id": str(i.get("id", "")), "pieces": _line(i)} for i in logs[:5]]
        candidates.append({**c, "stream_id": entry_id, "lines": lines})
    return render(
        request, "issues.html", open_issues=open_issues, worker_error=worker_error, offset=offset,
        next_offset=next_offset, read=read, closed_too=closed_too, candidates=candidates,
        candidates_next=found.next_before, problems=problems,
    )


async def _chart(request: Request) -> tuple[Chart, str]:
    """The per-minute chart, recomputed at most every CHART_CACHE_SEC (bounded reads either way)."""
    state = request.app.state
    cached = getattr(state, "console_chart", None)
    now = time.time()
    if cached is not None and now - cached[0] < CHART_CACHE_SEC:
        return cached[1], cached[2]
    settings = settings_of(request)
    last_minute = int(now // 60)
    since = (last_minute - CHART_MINUTES + 1) * 60
    alerts = await reads.per_minute(_client(request), settings.redis_key(settings.stream_alerts), since=since,
                                    budget=CHART_BUDGET)
    lines = await reads.per_minute(_client(request), settings.redis_key(settings.stream_issues_closed), since=since,
                                   budget=CHART_BUDGET, weight="line_count")
    note = ""
    if not (alerts.complete and lines.complete):
        start = max(alerts.covered_from if not alerts.complete else 0, lines.covered_from if not lines.complete else 0)
        note = f"Busy streams: only minutes from {time.strftime('%H:%M', time.gmtime(start * 60))} UTC are counted."
    chart = per_minute_chart(alerts.counts, lines.counts, last_minute=last_minute, minutes=CHART_MINUTES)
    state.console_chart = (now, chart, note)
    return chart, note


@page
async def prototypes(request: Request) -> Response:
    settings = settings_of(request)
    offset = _offset(request)
    answer = await worker_get(settings, "/prototypes/", {"offset": offset, "limit": PAGE_SIZE})
    data = answer.data if isinstance(answer.data, dict) else {}
    chart, chart_note = await _chart(request)
    return render(
        request, "prototypes.html", prototypes=[p for p in data.get("items") or [] if isinstance(p, dict)],
        worker_error=answer.error, offset=offset, next_offset=data.get("next_offset"), chart=chart,
        chart_note=chart_note,
    )


@page
async def prototype(request: Request) -> Response:
    os_name, proto_id = request.path_params["os"], request.path_params["id"]
    path = f"/prototypes/{quote(os_name, safe='')}/{quote(proto_id, safe='')}/"
    answer = await worker_get(settings_of(request), path)
    proto = answer.data if isinstance(answer.data, dict) else None
    templates: list[tuple[str, str, Any]] = []
    exemplars: list[dict[str, Any]] = []
    if proto is not None:
        counts, texts = as_dict(proto.get("template_counts")), as_dict(proto.get("templates"))
        templates = sorted(((str(t), str(texts.get(t, "")), n) for t, n in counts.items()),
                           key=lambda x: -x[2] if isinstance(x[2], int | float) else 0)
        for ex in as_list(proto.get("exemplars")):
            if isinstance(ex, dict):
                exemplars.append({**ex, "lines": [_line(x) for x in as_list(ex.get("lines"))[:10]]})
    return render(request, "prototype.html", os_name=os_name, proto_id=proto_id, proto=proto, error=answer.error,
                  templates=templates, exemplars=exemplars)


def _line(item: Any) -> list[tuple[str, bool]]:
    if isinstance(item, dict):
        return segments(str(item.get("templated", "")), str(item.get("raw", "")))
    return [(str(item), False)]
