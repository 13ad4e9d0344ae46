"""The Starlette API: health and readiness, and the alert endpoints (`streamapp.api.alerts`).

Run with `streamapp api` or `uvicorn --factory streamapp.api.app:create_api`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.alert_store import AlertStore
from connectors.health import Probe, Readiness, dependency_probes
from connectors.llm import LLMConnector
from connectors.llm_health import LLMHealth
from streamapp import console
from streamapp.api import alerts, deadletters, sources, status, telegraf, toggles
from streamapp.api.errors import HANDLERS
from streamapp.api.request_log import RequestLogging
from streamapp.auth import FailureLimiter
from streamapp.settings import Settings, get_settings


async def healthz(request: Request) -> JSONResponse:
    """The process is up and serving (no dependency is checked)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Every dependency answers; 503 with the failing ones otherwise (checked at most once a second,
    reasons without exception text: `connectors.health`). The LLM is reported but never makes the
    API unready (the offline classifier answers without it): `degraded` says it is not usable."""
    results = await request.app.state.readiness.results()
    body = {name: r.as_json() for name, r in results.items()}
    ready = all(r.ok for r in results.values())
    llm = request.app.state.llm_health.status
    return JSONResponse(
        {"ready": ready, "dependencies": body, "llm": llm.as_json(), "degraded": not llm.ok},
        status_code=200 if ready else 503,
    )


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Starts the LLM health checks; on the way out stops them and closes the connections."""
    health: LLMHealth = app.state.llm_health
    await health.start()
    try:
        yield
    finally:
        await health.stop()
        if health.llm is not None:
            await health.llm.aclose()
        await app.state.alerts.aclose()
        if app.state.sources is not None:
            await app.state.sources.close()


def create_api(settings: Settings | None = None, probes: dict[str, Probe] | None = None) -> Starlette:
    """The app. Clients connect lazily, so it also serves without its lifespan (in-process tests);
    the LLM status is then what it was before any check (`disabled`, or `unknown`)."""
    s = settings or get_settings()
    app = Starlette(
        routes=[
            Route("/healthz", healthz), Route("/readyz", readyz),
            *alerts.routes, *sources.routes, *deadletters.routes, *toggles.routes,
            *telegraf.routes, *status.routes,
            console.mount(),  # the operator console's pages (`streamapp.console`)
        ],
        exception_handlers=HANDLERS,
        middleware=[Middleware(RequestLogging)] if s.api_request_logs else [],
        lifespan=lifespan,
    )
    app.state.settings = s
    app.state.auth_failures = FailureLimiter(s.auth_max_failures, s.auth_failure_window_sec)
    app.state.readiness = Readiness(probes if probes is not None else dependency_probes(s))
    app.state.llm_health = LLMHealth(LLMConnector.from_settings(s), interval_sec=s.llm_health_interval_sec)
    app.state.alerts = AlertStore.from_settings(s)
    app.state.sources = None  # the data-source store connects on first use
    return app
