"""The original system's telemetry status routes, behind the admin token, answered from the same
toggles, statuses and streams the rest of the API reads:

    GET /telemetry/export/status        OTLP export: the `otel_export` toggle, where to, and each
                                        worker's exporter counters (published every few seconds)
    GET /telemetry/automations/status   the `automations` toggle, ENABLE_AUTOMATIONS, the mode that
                                        follows, and the recent decisions on `automation_events`
    GET /telemetry/redfish/status       the `redfish_polling` toggle and each Redfish source's status
    GET /telemetry/metrics?limit&name   the contract streams' lengths and the newest normalised
                                        metrics (`metrics` stream), newest first
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.toggles import Toggles
from streamapp.api.alerts import admin_only, limit_param
from streamapp.api.errors import ApiError
from streamapp.api.sources import source_store
from streamapp.records import Metric

RECENT_EVENTS = 1000  # automation decisions counted by the status (the newest ones)
STREAMS = ("logs", "metrics", "issues_candidates", "clusters_candidates", "alerts", "deadletter",
           "automation_events")


def _redis(request: Request) -> Any:
    return request.app.state.alerts.client


async def _toggles(request: Request) -> dict[str, bool]:
    return await Toggles(_redis(request), request.app.state.settings).read()


@admin_only
async def export_status(request: Request) -> Response:
    s = request.app.state.settings
    client = _redis(request)
    keys = [k async for k in client.scan_iter(match=s.redis_key("telemetry:export:*"), count=100)]
    workers = [json.loads(raw) for raw in await client.mget(keys) if raw] if keys else []
    return JSONResponse({
        "enabled": (await _toggles(request))["otel_export"], "default": s.enable_otel_export,
        "endpoint": s.otel_exporter_otlp_endpoint, "protocol": s.otel_exporter_otlp_protocol,
        "service_name": s.otel_service_name, "workers": sorted(workers, key=lambda w: str(w.get("worker"))),
    })


@admin_only
async def automations_status(request: Request) -> Response:
    s = request.app.state.settings
    client = _redis(request)
    toggle = (await _toggles(request))["automations"]
    stream = s.redis_key(s.stream_automation_events)
    recent = await client.xrevrange(stream, count=RECENT_EVENTS)
    decisions = Counter((fields.get(b"decision") or b"?").decode() for _, fields in recent)
    last = float(recent[0][1].get(b"at") or 0) if recent else None
    execute = toggle and s.enable_automations and bool(s.automation_task_key.get_secret_value())
    return JSONResponse({
        "enabled": toggle, "default": s.enable_automations, "mode": "execute" if execute else "dry_run",
        "events": await client.xlen(stream), "recent": {"count": len(recent), **decisions}, "last_event_at": last,
    })


@admin_only
async def redfish_status(request: Request) -> Response:
    s = request.app.state.settings
    store = await source_store(request)
    redfish = [d for d in await store.all() if d.type == "dcim_http" and d.config.get("mode", "redfish") == "redfish"]
    raw = await _redis(request).mget([s.redis_key(f"source:{d.id}:status") for d in redfish]) if redfish else []
    sources = []
    for d, status in zip(redfish, raw, strict=True):
        state = json.loads(status) if status else {"state": "not running"}
        sources.append({"id": d.id, "name": d.name, "enabled": d.enabled, "url": d.config.get("url"), **state})
    return JSONResponse({"polling": (await _toggles(request))["redfish_polling"], "sources": sources})


@admin_only
async def metrics(request: Request) -> Response:
    s = request.app.state.settings
    unknown = set(request.query_params) - {"limit", "name"}
    if unknown:
        raise ApiError(422, f"unknown parameter {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    limit = limit_param(request.query_params.get("limit"))
    prefix = request.query_params.get("name", "")
    client = _redis(request)
    async with client.pipeline(transaction=False) as pipe:
        for name in STREAMS:
            pipe.xlen(s.redis_key(getattr(s, f"stream_{name}")))
        lengths = dict(zip(STREAMS, await pipe.execute(), strict=True))
    latest: list[dict] = []
    # Newest first, a bounded read: at most ten times the page, filtered by the name prefix.
    for _, fields in await client.xrevrange(s.redis_key(s.stream_metrics), count=limit * (10 if prefix else 1)):
        metric = Metric.from_redis(fields)
        if metric.name.startswith(prefix):
            latest.append(metric.asdict())
        if len(latest) >= limit:
            break
    return JSONResponse({"streams": lengths, "metrics": latest})


routes = [
    Route("/telemetry/export/status", export_status, methods=["GET"]),
    Route("/telemetry/automations/status", automations_status, methods=["GET"]),
    Route("/telemetry/redfish/status", redfish_status, methods=["GET"]),
    Route("/telemetry/metrics", metrics, methods=["GET"]),
]
