"""The original's telemetry status routes on the real Redis (and PostgreSQL for the sources):
answered from the same toggles, published counters and streams as the rest of the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from connectors import otlp
from connectors.otlp import OtlpExport
from connectors.redis_streams import StreamWriter
from streamapp.automations.records import AutomationEvent
from streamapp.records import Metric
from streamapp.settings import Settings
from tests.doubles.otlp_receiver import OtlpReceiver
from tests.support.api import api_client
from tests.support.streams import eventually

pytestmark = pytest.mark.integration
TOKEN = "status-routes-token-" + "x" * 20
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROUTES = ("/telemetry/export/status", "/telemetry/automations/status", "/telemetry/redfish/status",
          "/telemetry/metrics")


@pytest.fixture
def admin(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_token": SecretStr(TOKEN)})


@pytest.fixture
async def api(admin: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(admin) as client:
        yield client


async def get(api: httpx.AsyncClient, path: str) -> dict:
    r = await api.get(path, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


async def test_every_route_needs_the_admin_token(api: httpx.AsyncClient) -> None:
    for route in ROUTES:
        r = await api.get(route)
        assert r.status_code == 401 and "error" in r.json(), route


async def test_export_status_has_the_toggle_and_each_workers_exporter_counters(
    api: httpx.AsyncClient, admin: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(otlp, "STATUS_EVERY_SEC", 0.2)
    with OtlpReceiver() as receiver:
        s = admin.model_copy(update={"otel_exporter_otlp_endpoint": receiver.endpoint, "enable_otel_export": True})
        export = OtlpExport(s, toggle_poll_sec=0.1, interval_sec=3600.0, timeout_sec=5.0)
        await export.start()
        try:
            export.record([Metric(id="m1", name="hw.power", value=120.0, unit="W")])
            assert await asyncio.to_thread(export.flush)

            async def exported() -> dict | None:
                status = await get(api, "/telemetry/export/status")
                workers = status["workers"]
                return status if workers and workers[0]["exports"] >= 1 else None

            status = await eventually(exported, timeout=10, interval=0.2)
        finally:
            await export.stop()
    assert status["enabled"] is False, "the API's own settings: the toggle was never set, its default is off"
    assert status["endpoint"] == admin.otel_exporter_otlp_endpoint and status["protocol"] == "http/protobuf"
    (worker,) = status["workers"]
    assert worker["worker"] == admin.bridge_consumer and worker["failures"] == 0 and worker["last_export_at"]
    assert (await api.put("/telemetry/toggles", headers=AUTH, json={"otel_export": True})).status_code == 200
    assert (await get(api, "/telemetry/export/status"))["enabled"] is True


async def test_automations_status_counts_recent_decisions_and_says_the_mode(
    api: httpx.AsyncClient, admin: Settings, redis: aioredis.Redis
) -> None:
    events = [AutomationEvent(id=f"a{i}|r|{d}", alert_id=f"a{i}", rule_id="r", decision=d, provider="awx",
                              at=1000.0 + i) for i, d in enumerate(["matched", "dry_run", "matched", "skipped"])]
    await StreamWriter(redis, admin).write(admin.stream_automation_events, events)
    status = await get(api, "/telemetry/automations/status")
    assert status["mode"] == "dry_run" and status["enabled"] is False and status["default"] is False
    assert status["events"] == 4 and status["recent"] == {"count": 4, "matched": 2, "dry_run": 1, "skipped": 1}
    assert status["last_event_at"] == 1003.0
    await api.put("/telemetry/toggles", headers=AUTH, json={"automations": True})
    assert (await get(api, "/telemetry/automations/status"))["mode"] == "dry_run", "ENABLE_AUTOMATIONS is off"
    async with api_client(admin.model_copy(update={"enable_automations": True,
                                                   "automation_task_key": SecretStr("k" * 32)})) as enabled:
        r = await enabled.get("/telemetry/automations/status", headers=AUTH)
    assert r.json()["mode"] == "execute"


async def test_metrics_lists_stream_lengths_and_the_newest_metrics(
    api: httpx.AsyncClient, admin: Settings, redis: aioredis.Redis
) -> None:
    metrics = [Metric(id=f"m{i}", name=name, value=float(i), unit="W" if name == "hw.power" else "Cel",
                      resource={"host.name": "pdu-1"}) for i, name in enumerate(["hw.power", "hw.temperature"] * 3)]
    await StreamWriter(redis, admin).write(admin.stream_metrics, metrics)
    await redis.xadd(admin.redis_key("logs"), {"source": "s", "line": "x"})
    body = await get(api, "/telemetry/metrics?limit=2&name=hw.power")
    assert body["streams"]["metrics"] == 6 and body["streams"]["logs"] == 1 and body["streams"]["alerts"] == 0
    assert [m["id"] for m in body["metrics"]] == ["m4", "m2"], "newest first, filtered by name"
    assert body["metrics"][0]["resource"] == {"host.name": "pdu-1"} and body["metrics"][0]["unit"] == "W"
    assert len((await get(api, "/telemetry/metrics"))["metrics"]) == 6
    bad = await api.get("/telemetry/metrics?limit=0", headers=AUTH)
    assert bad.status_code == 422 and bad.json()["field"] == "limit"
    assert (await api.get("/telemetry/metrics?colour=red", headers=AUTH)).status_code == 422
