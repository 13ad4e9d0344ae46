"""The alert endpoints, all behind the admin token:

    GET  /alerts                  newest first, filtered, paged by stream entry id (`before`)
    GET  /alerts/{id}             one alert hash
    POST /alerts/{id}/feedback    an operator's verdict (see `streamapp.feedback`)
    POST /alerts/{id}/persist     keep the alert beyond its TTL

Bad input is a 4xx with a reason, never a 5xx.
"""

from __future__ import annotations

import functools
import json
import re
import time
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.alert_store import AlertStore
from streamapp.api.bodies import BodyTooLarge, capped_body
from streamapp.api.errors import ApiError, error
from streamapp.auth import admin_ok, bearer
from streamapp.feedback import FeedbackBody, InvalidFeedback, feedback_for
from streamapp.records import Alert, decode_value
from streamapp.taxonomy import FailureType, Severity

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
SCAN_BUDGET = 5000  # stream entries one listing request may read while filtering
MAX_BODY_BYTES = 16 * 1024
MAX_FILTER = 256  # characters of a free-text filter value
# Equality filters on the stream fields; values each closed filter accepts.
FILTERS: dict[str, frozenset[str] | None] = {
    "failure_type": frozenset(FailureType),
    "severity": frozenset(Severity),
    "type": frozenset({"issue", "cluster"}),
    "host": None,
    "classifier": None,
}
_STREAM_ID = re.compile(r"(\d{1,20})(?:-(\d{1,20}))?")
_U64 = 2**64 - 1
_HINTS = {name: typing.get_type_hints(Alert)[name] for name in Alert._options.fields}

Endpoint = Callable[[Request], Awaitable[Response]]


def admin_only(endpoint: Endpoint) -> Endpoint:
    """401 unless the request carries the admin token; checked before anything else is looked at."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        header = request.headers.get("authorization")
        token = request.app.state.settings.admin_token
        if throttled := too_many_failures(request):
            return throttled
        if admin_ok(header, token):
            return await endpoint(request)
        if not token.get_secret_value():
            reason = "admin endpoints are disabled: ADMIN_TOKEN is empty"
        elif bearer(header) is None:
            reason = "admin token required (Authorization: Bearer <token>)"
        else:
            reason = "wrong admin token"
            failed_attempt(request)
        return error(401, reason, headers={"WWW-Authenticate": "Bearer"})

    return guarded


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def too_many_failures(request: Request) -> Response | None:
    """429 with Retry-After while this client address has used up its failed attempts."""
    wait = request.app.state.auth_failures.wait_sec(client_address(request))
    if not wait:
        return None
    return error(429, "too many failed authentications from this address; try again later",
                 headers={"Retry-After": str(wait)})


def failed_attempt(request: Request) -> None:
    request.app.state.auth_failures.failed(client_address(request))


def _store(request: Request) -> AlertStore:
    return request.app.state.alerts


@admin_only
async def list_alerts(request: Request) -> Response:
    """`{"items": [alert + stream_id + feedback], "next_before": id | null, "scanned": n}`."""
    query = request.query_params
    for name in query:
        if name not in FILTERS and name not in ("limit", "before"):
            raise ApiError(422, f"unknown query parameter {name!r}", field=name)
    limit = limit_param(query.get("limit"))
    before = before_id(query.get("before") or None)
    where = {name: _filter(name, query[name]) for name in FILTERS if query.get(name)}
    if before == "0-0":  # nothing is older than the first possible id
        return JSONResponse({"items": [], "next_before": None, "scanned": 0})
    page = await _store(request).page(before=before, limit=limit, where=where, budget=SCAN_BUDGET)
    items = [
        {**alert_json(fields), "stream_id": entry_id, "feedback": _decoded(dict, feedback) if feedback else None}
        for entry_id, fields, feedback in page.items
    ]
    return JSONResponse({"items": items, "next_before": page.next_before, "scanned": page.scanned})


@admin_only
async def get_alert(request: Request) -> Response:
    """The hash decoded, with `feedback` (null if none), `ttl_sec` (null once persisted), `persisted`."""
    alert_id = request.path_params["id"]
    stored = await _store(request).get(alert_id)
    if stored is None:
        return _missing(alert_id)
    return JSONResponse(
        {"feedback": None, **alert_json(stored.fields), "ttl_sec": stored.ttl_sec, "persisted": stored.persisted}
    )


@admin_only
async def post_feedback(request: Request) -> Response:
    """`{"alert_id", "feedback": {verdict, failure_type, note, at}, "entry_id"}` (entry on the feedback stream)."""
    alert_id = request.path_params["id"]
    body = await json_body(request)
    try:
        submitted = FeedbackBody.model_validate(body)
    except ValidationError as exc:
        problems = [{"field": ".".join(map(str, e["loc"])) or "body", "reason": e["msg"]} for e in exc.errors()]
        first = problems[0]
        raise ApiError(422, f"{first['field']}: {first['reason']}", field=first["field"], errors=problems) from None
    try:
        recorded = await _store(request).record_feedback(
            alert_id, lambda fields: feedback_for(alert_id, alert_json(fields), submitted, time.time())
        )
    except InvalidFeedback as exc:
        raise ApiError(422, str(exc), field=exc.field) from None
    if recorded is None:
        return _missing(alert_id)
    feedback, entry_id = recorded
    return JSONResponse({"alert_id": alert_id, "feedback": feedback.stored(), "entry_id": entry_id})


@admin_only
async def post_persist(request: Request) -> Response:
    """`{"id", "persisted": true}`: the alert no longer expires and is listed in `alerts:persisted`."""
    alert_id = request.path_params["id"]
    if not await _store(request).persist(alert_id):
        return _missing(alert_id)
    return JSONResponse({"id": alert_id, "persisted": True})


routes = [
    Route("/alerts", list_alerts, methods=["GET"]),
    Route("/alerts/{id}", get_alert, methods=["GET"]),
    Route("/alerts/{id}/feedback", post_feedback, methods=["POST"]),
    Route("/alerts/{id}/persist", post_persist, methods=["POST"]),
]


def alert_json(fields: Mapping[str, str]) -> dict[str, Any]:
    """Stored alert fields as JSON values, typed as the Alert record declares them (`feedback`: an
    object). A value that does not decode, from an outside writer, stays the stored string."""
    return {
        name: _decoded(_HINTS.get(name) or (dict if name == "feedback" else str), raw) for name, raw in fields.items()
    }


def _decoded(hint: Any, raw: str) -> Any:
    try:
        value = decode_value(hint, raw)
        json.dumps(value, allow_nan=False)  # NaN/Infinity would make the response invalid JSON
    except (ValueError, TypeError, RecursionError):
        return raw
    return value


def _missing(alert_id: str) -> JSONResponse:
    return error(404, f"no alert {alert_id!r} (never written, or expired)")


def limit_param(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(422, f"limit: an integer from 1 to {MAX_LIMIT}", field="limit")
    return int(raw)


def before_id(raw: str | None) -> str | None:
    """A stream entry id (`ms-seq`, or `ms` meaning `ms-0`): only older entries are listed."""
    if raw is None:
        return None
    m = _STREAM_ID.fullmatch(raw)
    if m is None or int(m[1]) > _U64 or int(m[2] or 0) > _U64:
        raise ApiError(422, "before: a stream entry id such as 1712345678901-0", field="before")
    return f"{int(m[1])}-{int(m[2] or 0)}"


def _filter(name: str, value: str) -> str:
    allowed = FILTERS[name]
    if allowed is not None and value not in allowed:
        raise ApiError(422, f"{name}: one of {', '.join(sorted(allowed))}", field=name)
    if len(value) > MAX_FILTER:
        raise ApiError(422, f"{name}: at most {MAX_FILTER} characters", field=name)
    return value


async def json_body(request: Request) -> Any:
    """The body as JSON: 413 past MAX_BODY_BYTES (read no further), 400 when it is not JSON."""
    try:
        body = await capped_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes") from None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, "body is not JSON") from None
