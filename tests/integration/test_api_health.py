"""`/healthz` and `/readyz` against the real services, and with one of them unreachable."""

from __future__ import annotations

import httpx
import pytest

from streamapp.api import create_api
from streamapp.processes import free_port
from streamapp.settings import Settings

pytestmark = pytest.mark.integration


async def get(settings: Settings, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_api(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        return await client.get(path)


async def test_ready_when_every_dependency_answers(settings: Settings) -> None:
    r = await get(settings, "/readyz")
    assert r.status_code == 200, r.text
    deps = r.json()["dependencies"]
    assert set(deps) >= {"redis", "kafka", "postgres"}
    assert all(d["ok"] for d in deps.values())


async def test_not_ready_names_the_dependency_that_is_down(settings: Settings) -> None:
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    r = await get(down, "/readyz")
    assert r.status_code == 503
    deps = r.json()["dependencies"]
    assert deps["redis"]["ok"] is False and deps["redis"]["error"]
    assert deps["kafka"]["ok"] and deps["postgres"]["ok"]
    health = await get(down, "/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
