"""The admin API in process, for tests that drive it over HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from streamapp.api.app import create_api
from streamapp.settings import Settings


@contextlib.asynccontextmanager
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API app built for `settings` (called over ASGI, no port); the app's sources
    and alerts connections are closed after."""
    app = create_api(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client
    if app.state.sources is not None:
        await app.state.sources.close()
    await app.state.alerts.aclose()
