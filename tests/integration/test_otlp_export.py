"""OTLP export against an in-process OTLP/HTTP receiver (protobuf decoded with opentelemetry-proto),
with the runtime toggle on the real Redis: normalised metrics come out with their semantic names,
units, kinds and attributes, the pipeline's health metrics with them; 503/429 + Retry-After are
retried after the wait asked for, 400 is not; switching the toggle off stops exports, on resumes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from connectors.otlp import OtlpExport, otlp_exporter
from connectors.redis_streams import connect
from connectors.toggles import Toggles
from streamapp import telemetry
from streamapp.api.app import create_api
from streamapp.metrics import metric_payload, normalise
from streamapp.processes import start_worker
from streamapp.records import Metric
from streamapp.settings import Settings
from streamapp.telegraf import parse_body, payload_lines
from streamapp.worker.app import create_app
from tests.doubles.otlp_receiver import OtlpReceiver
from tests.support.streams import eventually

pytestmark = pytest.mark.integration
TELEGRAF = (b"cpu,cpu=cpu0,host=web-01 usage_user=12.5,usage_idle=80 1458229140000000000\n"
            b"net,host=web-01,interface=eth0 bytes_recv=123456789i,bytes_sent=42i 1458229140000000000\n"
            b"sensors,chip=coretemp,feature=core_0,host=web-01 temp_input=47.5 1458229140000000000\n"
            b"mem,host=web-01 used=1024i 1458229140000000000\n")


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as r:
        yield r


@pytest.fixture
def otel(settings: Settings, receiver: OtlpReceiver) -> Settings:
    return settings.model_copy(update={"otel_exporter_otlp_endpoint": receiver.endpoint, "enable_otel_export": True})


async def started(s: Settings, **kwargs: object) -> OtlpExport:
    export = OtlpExport(s, toggle_poll_sec=0.1, **{"interval_sec": 3600.0, **kwargs})  # type: ignore[arg-type]
    await export.start()
    return export


@pytest.fixture
async def export(otel: Settings) -> AsyncIterator[OtlpExport]:
    e = await started(otel, timeout_sec=5.0)
    yield e
    await e.stop()


def semantic_metrics() -> list[Metric]:
    (line,) = payload_lines(parse_body(TELEGRAF, time.time()))
    return normalise("1-0", metric_payload(line))


async def flush(e: OtlpExport) -> bool:
    return await asyncio.to_thread(e.flush)


async def test_metrics_come_out_with_semantic_names_units_and_attributes(
    export: OtlpExport, receiver: OtlpReceiver
) -> None:
    export.record(semantic_metrics())
    telemetry.count("streamapp.lines.in", 7)
    assert await flush(export)
    points = {(p.name, tuple(sorted(p.attributes.items()))): p for p in receiver.points()}
    cpu = points[("system.cpu.utilization", (("cpu.logical_number", 0), ("cpu.mode", "user"),
                                             ("host.name", "web-01")))]
    assert (cpu.unit, cpu.kind, cpu.value) == ("1", "gauge", 0.125)
    rx = points[("system.network.io", (("host.name", "web-01"), ("network.interface.name", "eth0"),
                                       ("network.io.direction", "receive")))]
    assert (rx.unit, rx.kind, rx.monotonic, rx.value) == ("By", "sum", True, 123456789)
    temp = points[("hw.temperature", (("host.name", "web-01"), ("hw.id", "coretemp/core_0"), ("hw.name", "core_0"),
                                      ("hw.parent", "coretemp")))]
    assert (temp.unit, temp.value) == ("Cel", 47.5)
    memory = points[("system.memory.usage", (("host.name", "web-01"), ("system.memory.state", "used")))]
    assert (memory.kind, memory.monotonic, memory.unit) == ("sum", False, "By")
    assert temp.resource["service.name"] == "streamapp"
    lines_in = [p for p in receiver.points() if p.name == "streamapp.lines.in"]
    assert lines_in and lines_in[-1].value >= 7 and lines_in[-1].unit == "{line}"
    export.record([Metric(id="2-0#0", name="system.cpu.utilization", value=0.5, unit="1",
                          resource={"host.name": "web-01"}, attributes={"cpu.mode": "user", "cpu.logical_number": 0})])
    assert await flush(export)
    latest = [p for p in receiver.points() if p.name == "system.cpu.utilization" and p.attributes["cpu.mode"] == "user"]
    assert latest[-1].value == 0.5, "the latest value per series is exported"


@pytest.mark.parametrize("status", [503, 429])
async def test_throttling_is_retried_after_retry_after(
    export: OtlpExport, receiver: OtlpReceiver, status: int
) -> None:
    export.record(semantic_metrics())
    receiver.script = [(status, {"Retry-After": "1"})]
    assert await flush(export)
    # The receiver refuses again any export coming back before Retry-After is over.
    first, second = receiver.received
    assert (first.status, second.status) == (status, 200), "the exporter waited what Retry-After asked"
    assert first.headers["content-encoding"] == "gzip" and first.headers["content-type"] == "application/x-protobuf"


async def test_a_rejected_export_is_not_retried(
    export: OtlpExport, receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    export.record(semantic_metrics())
    receiver.script = [(400, {})]
    await flush(export)
    assert [r.status for r in receiver.received] == [400]
    assert any("refused the export" in m and "not retried" in m for m in caplog.messages)
    assert await flush(export) and [r.status for r in receiver.received] == [400, 200]


async def test_an_unreachable_collector_never_raises(otel: Settings, caplog: pytest.LogCaptureFixture) -> None:
    from streamapp.processes import free_port

    down = otel.model_copy(update={"otel_exporter_otlp_endpoint": f"http://127.0.0.1:{free_port()}"})
    e = await started(down, timeout_sec=1.0)
    try:
        e.record(semantic_metrics())
        e.record([Metric(id="x", name="not a valid name!", value=1.0)])
        await flush(e)
    finally:
        await e.stop()
    assert any("failed" in m for m in caplog.messages)


async def test_backend_headers_from_the_standard_variable_and_grpc_by_setting(
    otel: Settings, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=k1,tenant=ops")
    e = await started(otel)
    try:
        e.record(semantic_metrics())
        assert await flush(e)
    finally:
        await e.stop()
    assert (receiver.received[0].headers["api-key"], receiver.received[0].headers["tenant"]) == ("k1", "ops")
    grpc = otlp_exporter(otel.model_copy(update={"otel_exporter_otlp_protocol": "grpc",
                                                 "otel_exporter_otlp_endpoint": "127.0.0.1:4317"}), 1.0)
    assert type(grpc).__module__ == "opentelemetry.exporter.otlp.proto.grpc.metric_exporter"
    grpc.shutdown()


async def test_the_toggle_stops_and_resumes_exports(otel: Settings, receiver: OtlpReceiver) -> None:
    e = await started(otel, interval_sec=0.2)
    toggles = Toggles(connect(otel), otel)
    try:
        e.record(semantic_metrics())
        await eventually(lambda: _at_least(receiver, 2), timeout=10, interval=0.1)
        await toggles.update({"otel_export": False})
        await eventually(lambda: _is(not e.enabled), timeout=5, interval=0.05)
        await asyncio.sleep(0.5)  # an export already under way may still land
        quiet_since, skipped = len(receiver.received), e.gate.skipped if e.gate else 0
        await asyncio.sleep(1.5)
        assert len(receiver.received) == quiet_since, "nothing is sent while the toggle is off"
        assert e.gate is not None and e.gate.skipped > skipped, "the reader kept collecting; the gate skipped"
        await toggles.update({"otel_export": True})
        await eventually(lambda: _at_least(receiver, quiet_since + 2), timeout=10, interval=0.1)
    finally:
        await e.stop()
        await toggles.client.aclose()


async def test_off_at_start_then_switched_on_without_restart(settings: Settings, receiver: OtlpReceiver) -> None:
    off = settings.model_copy(update={"otel_exporter_otlp_endpoint": receiver.endpoint, "enable_otel_export": False})
    e = await started(off, interval_sec=0.2)
    toggles = Toggles(connect(off), off)
    try:
        e.record(semantic_metrics())
        await asyncio.sleep(1.0)
        assert receiver.received == [] and not e.enabled
        await toggles.update({"otel_export": True})
        await eventually(lambda: _at_least(receiver, 1), timeout=10, interval=0.1)
        assert any(p.name == "system.network.io" for p in receiver.points())
    finally:
        await e.stop()
        await toggles.client.aclose()


async def test_the_worker_agent_feeds_the_exporter(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """The `metrics` topic agent, through Faust's test context (no broker): records reach the store."""
    app = create_app(settings.model_copy(update={"table_store": "memory://"}))
    agent = next(a for a in app.agents.values() if a.name.endswith("otlp_export"))
    export = next(s for s in app._extra_services if isinstance(s, OtlpExport))
    caplog.set_level(logging.INFO)
    async with agent.test_context() as tested:
        for m in semantic_metrics():
            await tested.put(m)
        await eventually(lambda: _is("hw.temperature" in export.latest.kinds), timeout=10, interval=0.05)
    assert export.latest.observe("system.network.io")


@pytest.mark.slow
async def test_telegraf_to_otlp_through_a_real_worker(
    otel: Settings, env: dict[str, str], receiver: OtlpReceiver, tmp_path: Path
) -> None:
    """The whole path: Telegraf's POST -> `logs` -> bridge -> consumer (normaliser) -> `metrics`
    -> the export agent -> OTLP, in a worker process with only the stages it needs."""
    worker_env = {**env, "ENABLE_OTEL_EXPORT": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                  "OTEL_METRIC_EXPORT_INTERVAL": "500", "ENABLE_SOURCES": "false", "CONSUMER_BATCH_WITHIN_SEC": "0.1",
                  **{f"ENABLE_{stage}": "false" for stage in (
                      "ISSUES_AGGREGATOR", "CLUSTERING", "ENRICHER", "CLUSTER_ENRICHER", "PROTOTYPE_IMPROVER")}}
    worker = start_worker(worker_env, tmp_path / "worker.log")
    app = create_api(otel.model_copy(update={"admin_token": SecretStr("admin")}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
            created = await api.post("/sources", headers={"Authorization": "Bearer admin"},
                                     json={"name": "agents", "type": "telegraf"})
            r = await api.post("/telemetry/telegraf", content=TELEGRAF,
                               headers={"Authorization": f"Bearer {created.json()['token']}"})
            assert r.status_code == 200, r.text

        async def exported() -> bool:
            return any(p.name == "hw.temperature" and p.value == 47.5 for p in receiver.points())

        await eventually(exported, timeout=60, interval=0.5)
        io = next(p for p in receiver.points() if p.name == "system.network.io")
        assert (io.unit, io.monotonic, io.attributes["host.name"]) == ("By", True, "web-01")
    finally:
        await app.state.sources.close()
        await app.state.alerts.aclose()
        assert worker.terminate() == 0, worker.output()[-3000:]


async def _at_least(receiver: OtlpReceiver, n: int) -> bool:
    return len([r for r in receiver.received if r.status == 200]) >= n


async def _is(value: bool) -> bool:
    return value
