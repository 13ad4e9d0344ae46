"""Every API error is JSON with a reason: `{"error": reason, ...}` (plus `field` where one is at fault)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from streamapp.errors import StreamAppError, TransientError

log = logging.getLogger(__name__)

RETRY_AFTER_SEC = 5  # what a 503 asks a client to wait


class ApiError(StreamAppError):
    """A request the API refuses, with the status and the body's extra keys."""

    def __init__(self, status: int, reason: str, **extra: Any) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.extra = extra


def error(status: int, reason: str, headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": reason, **extra}, status_code=status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error(exc.status, exc.reason, **exc.extra)


async def _http_error(request: Request, exc: Exception) -> Response:
    # Starlette's own refusals (unknown path 404, method 405): same JSON shape, its headers kept (Allow)
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, exc.detail, headers=exc.headers)


async def _unavailable(request: Request, exc: Exception) -> Response:
    return error(503, str(exc)[:300], headers={"Retry-After": str(RETRY_AFTER_SEC)})


async def _internal(request: Request, exc: Exception) -> Response:
    log.exception("api: %s %s failed", request.method, request.url.path)
    return error(500, "internal error")


HANDLERS = {ApiError: _api_error, HTTPException: _http_error, TransientError: _unavailable, Exception: _internal}
