"""The runtime toggles endpoints, in-process against the real Redis: defaults from the flags,
partial updates stored as `true`/`false` in the `toggles` hash, 422 naming the field at fault,
the admin token, and the workers' cached reads (an injected clock decides when they re-read)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from connectors.toggles import Toggles
from streamapp.api.app import create_api
from streamapp.clock import ManualClock
from streamapp.settings import Settings

pytestmark = pytest.mark.integration

TOKEN = "toggles-admin-token-of-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def admin(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_token": SecretStr(TOKEN), "enable_otel_export": True})


@pytest.fixture
async def api(admin: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_api(admin, probes={})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=AUTH) as client:
            yield client


async def test_defaults_come_from_the_flags(api: httpx.AsyncClient) -> None:
    got = await api.get("/telemetry/toggles")
    assert got.status_code == 200
    assert got.json() == {"automations": False, "otel_export": True, "redfish_polling": True}


async def test_put_changes_only_what_it_names(api: httpx.AsyncClient, redis: aioredis.Redis, admin: Settings) -> None:
    put = await api.put("/telemetry/toggles", json={"automations": True})
    assert put.status_code == 200
    assert put.json() == {"automations": True, "otel_export": True, "redfish_polling": True}
    put = await api.put("/telemetry/toggles", json={"otel_export": False, "redfish_polling": False})
    assert put.json() == {"automations": True, "otel_export": False, "redfish_polling": False}
    assert (await api.get("/telemetry/toggles")).json() == put.json()
    stored = await redis.hgetall(admin.redis_key("toggles"))
    assert stored == {b"automations": b"true", b"otel_export": b"false", b"redfish_polling": b"false"}


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"automations": True, "coffee_machine": True}, "coffee_machine", "unknown toggle 'coffee_machine'"),
    ({"automations": "yes"}, "automations", "must be true or false"),
    ({"otel_export": 1}, "otel_export", "must be true or false"),
    ({"redfish_polling": None}, "redfish_polling", "must be true or false"),
    ([True], "body", "JSON object"),
])
async def test_422_names_the_field_and_changes_nothing(
    api: httpx.AsyncClient, body: object, field: str, words: str
) -> None:
    got = await api.put("/telemetry/toggles", json=body)
    assert got.status_code == 422
    assert got.json()["field"] == field and words in got.json()["error"]
    assert (await api.get("/telemetry/toggles")).json()["automations"] is False


async def test_not_json_and_no_token(api: httpx.AsyncClient) -> None:
    assert (await api.put("/telemetry/toggles", content=b"{nope")).status_code == 400
    for method in ("GET", "PUT"):
        got = await api.request(method, "/telemetry/toggles", json={}, headers={"Authorization": "Bearer wrong"})
        assert got.status_code == 401 and "error" in got.json()


async def test_workers_read_through_a_short_cache(admin: Settings, redis: aioredis.Redis) -> None:
    clock = ManualClock()
    worker = Toggles(redis, admin, cache_sec=1.0, clock=clock)
    writer = Toggles(redis, admin)
    assert await worker.enabled("automations") is False
    await writer.update({"automations": True})
    assert await worker.enabled("automations") is False, "cached for a second"
    clock.advance(1.0)
    assert await worker.enabled("automations") is True


async def test_without_redis_the_last_value_holds_and_nothing_starts_blind(admin: Settings) -> None:
    broken = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    clock = ManualClock()
    toggles = Toggles(broken, admin, cache_sec=1.0, clock=clock)
    assert await toggles.enabled("otel_export") is False, "never read: off, even though the flag is on"
    toggles._cached, toggles._read_at = {"automations": True, "otel_export": True, "redfish_polling": True}, 0.0
    clock.advance(5)
    assert await toggles.enabled("automations") is True
    await broken.aclose()
