"""Switches an operator flips.

    GET  /console/sources                   data sources with their producers' status
    POST /console/sources/{id}/enable       /disable
    GET  /console/toggles                   OTLP export, automations, Redfish polling
    POST /console/toggles                   name=<toggle>&value=true|false
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from connectors.datasources import DataSourceStore
from connectors.sources.registry import PUSH_TYPES
from connectors.toggles import FIELDS, InvalidToggles, Toggles
from streamapp.console import reads
from streamapp.console.web import base_path, page, redirect, render, settings_of
from streamapp.errors import TransientError

TOGGLES = {
    "automations": "Automations execute their actions (off: every matching rule is only dry-run).",
    "otel_export": "Metrics are exported over OTLP.",
    "redfish_polling": "Redfish sources (dcim_http in redfish mode) are polled; off pauses them.",
}


async def _sources(request: Request) -> DataSourceStore:
    """The API's data-source store, connected on first use (as the sources API does)."""
    state = request.app.state
    if getattr(state, "sources", None) is None:
        try:
            state.sources = await DataSourceStore.connect(state.settings)
        except (OSError, asyncpg.PostgresError) as exc:
            raise TransientError(f"PostgreSQL unavailable: {exc}") from exc
    return state.sources


def _decoded_status(raw: bytes | None, source_type: str) -> dict[str, Any]:
    if raw is None:
        return {"state": "push" if source_type in PUSH_TYPES else "not running"}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return {"state": "unreadable status"}
    return value if isinstance(value, dict) else {"state": str(value)}


@page
async def sources(request: Request) -> Response:
    store = await _sources(request)
    try:
        rows = await store.all()
    except (OSError, asyncpg.PostgresError) as exc:
        raise TransientError(f"PostgreSQL unavailable: {exc}") from exc
    settings = settings_of(request)
    statuses: list[Any] = []
    if rows:
        with reads.unavailable("source status"):
            statuses = await request.app.state.alerts.client.mget(
                [settings.redis_key(f"source:{s.id}:status") for s in rows]
            )
    items = [{"source": s, "status": _decoded_status(raw, s.type)} for s, raw in zip(rows, statuses, strict=False)]
    return render(request, "sources.html", items=items, saved=request.query_params.get("saved", ""))


async def _switch(request: Request, enabled: bool) -> Response:
    store = await _sources(request)
    source_id = request.path_params["id"]
    try:
        changed = await store.update(source_id, enabled=enabled)
    except (OSError, asyncpg.PostgresError) as exc:
        raise TransientError(f"PostgreSQL unavailable: {exc}") from exc
    if changed is None:
        return render(request, "error.html", status=404, message=f"No source {source_id!r}.")
    return redirect(f"{base_path(request)}/sources?saved={quote(changed.id, safe='')}")


@page
async def enable_source(request: Request) -> Response:
    return await _switch(request, True)


@page
async def disable_source(request: Request) -> Response:
    return await _switch(request, False)


def _toggles(request: Request) -> Toggles:
    return Toggles(request.app.state.alerts.client, settings_of(request))


@page
async def toggles(request: Request) -> Response:
    values = await _toggles(request).read()
    saved = request.query_params.get("saved", "")
    return render(request, "toggles.html", values=values, descriptions=TOGGLES, fields=FIELDS,
                  saved=saved if saved in FIELDS else "", error="")


@page
async def set_toggle(request: Request) -> Response:
    form: dict[str, str] = request.state.form
    name, value = form.get("name", ""), form.get("value", "")
    try:
        if value not in ("true", "false"):
            raise InvalidToggles("value", "value: true or false")
        await _toggles(request).update({name: value == "true"})
    except InvalidToggles as exc:
        values = await _toggles(request).read()
        return render(request, "toggles.html", status=422, values=values, descriptions=TOGGLES, fields=FIELDS,
                      saved="", error=str(exc))
    return redirect(f"{base_path(request)}/toggles?saved={quote(name, safe='')}")
