"""`/healthz` and `/readyz` against the real services, and with one of them unreachable."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from streamapp.api.app import create_api
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


async def test_readiness_is_computed_once_a_second_for_all_askers_and_says_no_exception_text(
    settings: Settings,
) -> None:
    """Unauthenticated, so cheap and terse: 50 concurrent askers cause one round of probes, and a
    failure is a reason from a fixed list, not the exception's text."""
    runs = 0

    async def probe() -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.2)

    async def failing() -> None:
        raise RuntimeError("postgresql://admin:hunter2@db.internal:5432 refused: role 'admin'")

    app = create_api(settings, probes={"slow": probe, "db": failing})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        answers = await asyncio.gather(*(client.get("/readyz") for _ in range(50)))
        again = await client.get("/readyz")
    assert runs == 1, f"{runs} rounds of probes for 51 requests within a second"
    assert {r.status_code for r in [*answers, again]} == {503}
    db = again.json()["dependencies"]["db"]
    assert (db["ok"], db["error"]) == (False, "error")
    assert "hunter2" not in again.text and "db.internal" not in again.text
