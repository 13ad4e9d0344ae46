"""The alert pages.

    GET  /console/alerts                 newest first, filtered, paged by stream entry id (`before`)
    GET  /console/alerts/{id}            one alert: summary, hypothesis, action, evidence with the
                                         template parameters marked, neighbours, prototype, automations
    POST /console/alerts/{id}/feedback   an operator's verdict (same rules as the API's feedback)
    POST /console/alerts/{id}/persist    keep the alert beyond its TTL
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from connectors.alert_store import AlertStore
from streamapp.api import alerts as api_alerts
from streamapp.api.alerts import alert_json
from streamapp.api.errors import ApiError
from streamapp.automations.config import AutomationConfig
from streamapp.console import reads
from streamapp.console.highlight import segments
from streamapp.console.web import as_dict, as_list, base_path, page, redirect, render, settings_of
from streamapp.console.worker import worker_get
from streamapp.feedback import FeedbackBody, InvalidFeedback, feedback_for
from streamapp.taxonomy import FailureType, Severity

PAGE_SIZE = 50
MAX_EVIDENCE = 50
MAX_HOSTS = 500  # rows of an alert's host list (the pipeline lists at most 200)
OPTIONS = {
    "failure_type": [str(f) for f in FailureType],
    "severity": [str(s) for s in Severity],
    "type": ["issue", "cluster"],
}


def _store(request: Request) -> AlertStore:
    return request.app.state.alerts


def _filters(request: Request) -> tuple[dict[str, str], list[str]]:
    """The valid filters of the query, and what was wrong with the others (ignored)."""
    where, problems = {}, []
    for name, allowed in api_alerts.FILTERS.items():
        value = request.query_params.get(name, "").strip()
        if not value:
            continue
        if (allowed is not None and value not in allowed) or len(value) > api_alerts.MAX_FILTER:
            problems.append(f"{name}: {value[:80]!r} is not a valid value (ignored)")
            continue
        where[name] = value
    return where, problems


@page
async def alerts(request: Request) -> Response:
    where, problems = _filters(request)
    try:
        before = api_alerts.before_id(request.query_params.get("before") or None)
    except ApiError as exc:
        problems.append(exc.reason)
        before = None
    if before == "0-0":
        items, next_before, scanned = [], None, 0
    else:
        found = await _store(request).page(before=before, limit=PAGE_SIZE, where=where, budget=api_alerts.SCAN_BUDGET)
        items, next_before, scanned = found.items, found.next_before, found.scanned
    rows = []
    for entry_id, fields, verdict in items:
        alert = alert_json(fields)
        alert["stream_id"] = entry_id
        alert["feedback"] = _feedback(verdict)
        rows.append(alert)
    base = base_path(request)
    context: dict[str, Any] = {
        "rows": rows, "where": where, "problems": problems, "options": OPTIONS, "scanned": scanned, "first": not before,
        "next_url": f"{base}/alerts?{urlencode({**where, 'before': next_before})}" if next_before else "",
        "newest_url": f"{base}/alerts?{urlencode(where)}" if where else f"{base}/alerts",
    }
    if request.headers.get("x-console-partial") == "rows":  # the live refresh of the first page
        return render(request, "alerts_rows.html", **context)
    return render(request, "alerts.html", **context)


def _feedback(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    value = alert_json({"feedback": raw})["feedback"]
    return value if isinstance(value, dict) else {"verdict": str(value)}


async def _evidence(request: Request, alert: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Evidence lines, each cut into text and parameter pieces, and a note when templates are unknown."""
    settings, client = settings_of(request), _store(request).client
    cited = [str(i) for i in as_list(alert.get("log_ids")) if isinstance(i, str | int)]
    items: list[dict[str, Any]] = []
    note = ""
    if as_list(alert.get("evidence_logs")):
        items = [i for i in as_list(alert.get("evidence_logs")) if isinstance(i, dict)]
    elif alert.get("type") == "issue":
        candidate_id = str(alert.get("id", "")).removeprefix("alert-")
        created = alert.get("created_at")
        candidate = await reads.find_candidate(client, settings, candidate_id,
                                               float(created) if isinstance(created, int | float) else 0.0)
        logs = candidate.get("logs") if candidate else None
        if isinstance(logs, list):
            by_id = {str(i.get("id")): i for i in logs if isinstance(i, dict)}
            items = [by_id[i] for i in cited if i in by_id] or list(by_id.values())[:10]
        else:
            lines = await reads.log_lines(client, settings, cited)
            items = [{"id": i, "raw": f.get("line", ""), "source": f.get("source", ""), "templated": ""}
                     for i, f in lines.items()]
            note = "The issue behind this alert is no longer stored: lines are shown without their templates."
            if not items:
                note = "The evidence lines are no longer stored (their streams were trimmed)."
    shown = []
    for item in items[:MAX_EVIDENCE]:
        raw, template = str(item.get("raw", "")), str(item.get("templated", ""))
        shown.append({"id": str(item.get("id", item.get("env_id", ""))), "template": template,
                      "source": str(item.get("source", "")), "pieces": segments(template, raw)})
    return shown, note


async def _alert_context(request: Request, alert_id: str) -> dict[str, Any] | None:
    stored = await _store(request).get(alert_id)
    if stored is None:
        return None
    alert = alert_json(stored.fields)
    result = as_dict(alert.get("result"))
    extra = as_dict(result.get("extra"))
    evidence, note = await _evidence(request, alert)
    settings = settings_of(request)
    created = alert.get("created_at")
    events = await reads.automation_events(
        _store(request).client,
        settings.redis_key(AutomationConfig.from_settings(settings).stream_automation_events),
        alert_id, float(created) if isinstance(created, int | float) else 0.0,
    )
    prototype: dict[str, Any] = {}
    proto_id, os_name = str(alert.get("prototype_id", "")), str(alert.get("os", ""))
    if proto_id and os_name:
        answer = await worker_get(settings, f"/prototypes/{_seg(os_name)}/{_seg(proto_id)}/")
        prototype = {"id": proto_id, "os": os_name, "error": answer.error,
                     "data": answer.data if isinstance(answer.data, dict) else None}
    return {
        "alert": alert, "result": result, "extra": extra, "evidence": evidence, "evidence_note": note,
        "events": events, "prototype": prototype, "ttl_sec": stored.ttl_sec, "persisted": stored.persisted,
        "feedback": alert.get("feedback") if isinstance(alert.get("feedback"), dict) else None,
        "failure_types": OPTIONS["failure_type"], "saved": request.query_params.get("saved", ""), "error": "",
        "neighbours": [str(n) for n in as_list(extra.get("neighbours")) if isinstance(n, str | int)],
        "hosts": [h for h in as_list(alert.get("hosts"))[:MAX_HOSTS] if isinstance(h, dict)],
    }


def _seg(value: str) -> str:
    return quote(value, safe="")


@page
async def alert(request: Request) -> Response:
    alert_id = request.path_params["id"]
    context = await _alert_context(request, alert_id)
    if context is None:
        return render(request, "error.html", status=404, message=f"No alert {alert_id!r} (never written, or expired).")
    return render(request, "alert.html", **context)


@page
async def feedback(request: Request) -> Response:
    alert_id = request.path_params["id"]
    form: dict[str, str] = request.state.form
    body: dict[str, Any] = {"verdict": form.get("verdict", ""), "note": form.get("note", "")}
    if form.get("failure_type"):
        body["failure_type"] = form["failure_type"]
    problem = ""
    try:
        submitted = FeedbackBody.model_validate(body)
        recorded = await _store(request).record_feedback(
            alert_id, lambda fields: feedback_for(alert_id, alert_json(fields), submitted, time.time())
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        problem = f"{'.'.join(map(str, first['loc'])) or 'form'}: {first['msg']}"
    except InvalidFeedback as exc:
        problem = str(exc)
    else:
        if recorded is not None:
            return redirect(f"{base_path(request)}/alerts/{_seg(alert_id)}?saved=feedback")
    context = await _alert_context(request, alert_id)
    if context is None:
        return render(request, "error.html", status=404, message=f"No alert {alert_id!r} (never written, or expired).")
    context["error"] = problem
    return render(request, "alert.html", status=422, **context)


@page
async def persist(request: Request) -> Response:
    alert_id = request.path_params["id"]
    if not await _store(request).persist(alert_id):
        return render(request, "error.html", status=404, message=f"No alert {alert_id!r} (never written, or expired).")
    return redirect(f"{base_path(request)}/alerts/{_seg(alert_id)}?saved=persisted")
