"""`GET /deadletters?limit&before`: the dead-letter stream, newest first, with reasons (admin)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.deadletters import DeadLetters
from streamapp.api.alerts import admin_only, before_id, limit_param


@admin_only
async def list_deadletters(request: Request) -> Response:
    letters = DeadLetters(request.app.state.alerts.client, request.app.state.settings)
    items, nxt = await letters.page(before_id(request.query_params.get("before") or None),
                                    limit_param(request.query_params.get("limit")))
    return JSONResponse({"items": items, "next_before": nxt})


routes = [Route("/deadletters", list_deadletters, methods=["GET"])]
