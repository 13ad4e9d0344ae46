"""The Starlette API: health and readiness (later issues add alerts, sources and telemetry).

Run with `streamapp api` or `uvicorn --factory streamapp.api:create_api`.
"""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.health import Probe, dependency_probes, run_probe
from streamapp.settings import Settings, get_settings


async def healthz(request: Request) -> JSONResponse:
    """The process is up and serving (no dependency is checked)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Every dependency answers; 503 with the failing ones otherwise."""
    probes: dict[str, Probe] = request.app.state.probes
    results = await asyncio.gather(*(run_probe(p, timeout=4.0) for p in probes.values()))
    body = {name: r.as_json() for name, r in zip(probes, results, strict=True)}
    ready = all(r.ok for r in results)
    return JSONResponse({"ready": ready, "dependencies": body}, status_code=200 if ready else 503)


def create_api(settings: Settings | None = None, probes: dict[str, Probe] | None = None) -> Starlette:
    s = settings or get_settings()
    app = Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz)])
    app.state.settings = s
    app.state.probes = probes if probes is not None else dependency_probes(s)
    return app
