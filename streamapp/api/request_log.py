"""One structured log line per API request: `request id=<id> method=<m> path=<p> status=<s> duration_ms=<d>`.

The id is generated here (a client-sent one is not trusted into our logs) and returned as
`X-Request-Id`. Headers, query strings and bodies are never logged: they carry tokens.
"""

from __future__ import annotations

import logging
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("streamapp.api.requests")
MAX_PATH = 200  # characters of the path that are logged


class RequestLogging:
    """Pure ASGI middleware (streams pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-Id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request id=%s method=%s path=%s status=%d duration_ms=%.1f", request_id, scope["method"],
                _printable(scope["path"]), status, (time.perf_counter() - started) * 1000,
            )


def _printable(path: str) -> str:
    """The path without anything that could forge a log line (control characters, spaces)."""
    return "".join(c if c.isprintable() and not c.isspace() else "?" for c in path[:MAX_PATH])
