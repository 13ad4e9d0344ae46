"""The runtime toggles, behind the admin token:

    GET /telemetry/toggles      {"automations": bool, "otel_export": bool, "redfish_polling": bool}
    PUT /telemetry/toggles      a JSON object of some of them -> all of them as they now are

An unknown name or a value that is not a boolean is a 422 naming the field (nothing is changed).
Workers pick a change up within about a second (`connectors.toggles`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.toggles import InvalidToggles, Toggles
from streamapp.api.alerts import admin_only, json_body
from streamapp.api.errors import ApiError


def _toggles(request: Request) -> Toggles:
    """On the API's Redis connection (the alert store's): no second pool to open and close."""
    return Toggles(request.app.state.alerts.client, request.app.state.settings)


@admin_only
async def get_toggles(request: Request) -> Response:
    return JSONResponse(await _toggles(request).read())


@admin_only
async def put_toggles(request: Request) -> Response:
    body = await json_body(request)
    try:
        return JSONResponse(await _toggles(request).update(body))
    except InvalidToggles as exc:
        raise ApiError(422, str(exc), field=exc.field) from None


routes = [
    Route("/telemetry/toggles", get_toggles, methods=["GET"]),
    Route("/telemetry/toggles", put_toggles, methods=["PUT"]),
]
