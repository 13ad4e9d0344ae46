"""Redfish producer against the Redfish double (DMTF mockup behind our own auth, paging and
scenarios), writing to the real Redis: SEL entries once across restarts, readings as one payload
per poll, alarm lines once per change, sessions (expiry, logout), Basic, 401, 503 and slowness."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from connectors.sources.base import Emitter, SourceConfig
from connectors.sources.redfish import RedfishProducer
from connectors.sources.registry import producer_class
from streamapp.errors import AuthFailed, ExternalAPIError, RateLimited
from streamapp.metrics import normalise
from streamapp.settings import Settings
from tests.doubles.redfish import SEL, V1, RedfishDouble
from tests.support.producers import lines, payloads, until

pytestmark = pytest.mark.integration
CPU_TEMP = f"{V1}/Chassis/1U/Sensors/CPU1Temp"
SYSTEM = f"{V1}/Systems/437XR1138R2"


@pytest.fixture
def bmc(redfish_mockup_dir: Path) -> Iterator[RedfishDouble]:
    with RedfishDouble(redfish_mockup_dir, session_timeout_sec=30) as double:
        yield double


def producer(settings: Settings, redis: aioredis.Redis, bmc: RedfishDouble, source_id: str | None = None,
             password: str | None = None, **config: object) -> RedfishProducer:
    source = SourceConfig(
        id=source_id or uuid.uuid4().hex[:8], name="rack1", type="dcim_http",
        config={"url": bmc.url, "username": bmc.username, "hostname": "bmc-web483", "timeout_sec": 2, **config},
        secrets={"password": password or bmc.password},
    )
    return producer_class("dcim_http")(source, Emitter(redis, settings, source))


def sel(all_lines: list[str]) -> list[str]:
    return [line for line in all_lines if " redfish-sel" in line]


def alarm_lines(all_lines: list[str]) -> list[str]:
    return [line for line in all_lines if " redfish: " in line]


async def test_first_poll_entries_readings_and_alarms(settings: Settings, redis, bmc: RedfishDouble) -> None:
    prod = producer(settings, redis, bmc)
    try:
        await prod.poll_once()
    finally:
        await prod.stop()
    out = await lines(redis, settings)
    entries = sel(out)
    assert len(entries) == 6, "5 system entries over 3 pages, 1 manager entry"
    assert entries[0] == ("2012-03-07T14:44:00Z bmc-web483 redfish-sel[1]: Critical Temperature: Temperature "
                          "threshold exceeded (Upper Critical - going high; log Log1)")
    (payload,) = payloads(out)
    assert payload["schema"] == "redfish" and payload["chassis"][0]["Id"] == "1U"
    metrics = normalise("5-0", payload)
    assert {m.resource["host.name"] for m in metrics} == {"web483"}
    cpu = next(m for m in metrics if m.name == "hw.temperature" and m.attributes["hw.id"] == "CPUTemp1")
    assert (cpu.value, cpu.unit, cpu.attributes["hw.sensor_location"]) == (37, "Cel", "CPU")
    assert {"hw.fan.speed_ratio", "hw.power", "hw.voltage", "hw.energy", "hw.status"} <= {m.name for m in metrics}
    assert [a.split(" redfish: ")[1] for a in alarm_lines(out)] == [
        'Power supply "Power Supply Bay 1" (chassis 1U): health Warning']  # the mockup's own warning
    assert [c.method for c in bmc.calls].count("POST") == 1
    assert bmc.calls[-1].method == "DELETE" and not bmc.sessions, "logged out on stop"
    assert {c.auth for c in bmc.calls if c.path != V1} == {"token", ""}  # "" = the login POST itself


async def test_new_entries_once_across_restart(settings: Settings, redis, bmc: RedfishDouble) -> None:
    first = producer(settings, redis, bmc, source_id="rf-restart")
    try:
        await first.poll_once()
        bmc.add_entry("Critical", "Fan 3 failed", sensor_type="Fan")
    finally:
        await first.stop()
    bmc.add_entry("Warning", "Power supply redundancy lost", sensor_type="Power Supply")
    second = producer(settings, redis, bmc, source_id="rf-restart")
    try:
        await second.poll_once()
        await second.poll_once()
    finally:
        await second.stop()
    entries = sel(await lines(redis, settings))
    assert len(entries) == 8 and len(set(entries)) == 8, "no loss, no repeat"
    assert "Critical Fan: Fan 3 failed" in entries[-2] and "Warning Power Supply:" in entries[-1]
    assert len(alarm_lines(await lines(redis, settings))) == 1, "the held PSU alarm is not repeated"


async def test_breaches_raise_once_and_recover(settings: Settings, redis, bmc: RedfishDouble) -> None:
    prod = producer(settings, redis, bmc)
    try:
        await prod.poll_once()
        bmc.set_reading(CPU_TEMP, 52)
        bmc.set_health(SYSTEM, "Critical")
        bmc.set_health(f"{V1}/Chassis/1U/ThermalSubsystem/Fans/CPU1", "Critical")
        await prod.poll_once()
        await prod.poll_once()
        bmc.set_reading(CPU_TEMP, 38)
        bmc.set_health(SYSTEM, "OK")
        await prod.poll_once()
    finally:
        await prod.stop()
    raised = [a.split(" redfish: ")[1] for a in alarm_lines(await lines(redis, settings))][1:]
    assert raised == [
        "System 437XR1138R2 (web483): health Critical (rollup OK)",
        'Sensor "CPU #1 Temperature" (chassis 1U): temperature above upper fatal threshold 50 Cel (reading 52 Cel)',
        'Fan "Fan for CPU 1" (chassis 1U): health Critical',
        "System 437XR1138R2 (web483): recovered",
        'Sensor "CPU #1 Temperature" (chassis 1U): recovered',
    ]


async def test_disabled_sensor_and_legacy_thermal_power(settings: Settings, redis, bmc: RedfishDouble) -> None:
    bmc.hide(f"{V1}/Chassis/1U", "Sensors")  # an older BMC: Thermal and Power only
    prod = producer(settings, redis, bmc)
    try:
        await prod.poll_once()
    finally:
        await prod.stop()
    (payload,) = payloads(await lines(redis, settings))
    assert "Sensors" not in payload["chassis"][0] and payload["chassis"][0]["Thermal"]["Temperatures"]
    metrics = normalise("6-0", payload)
    temps = {m.attributes["hw.name"]: m.value for m in metrics if m.name == "hw.temperature"}
    assert temps == {"CPU1 Temp": 41, "Chassis Intake Temp": 25}, "CPU2 Temp is disabled: no reading"
    fans = {m.attributes["hw.name"]: m.value for m in metrics if m.name == "hw.fan.speed"}
    assert fans["BaseBoard System Fan"] == 2100


async def test_disabled_sensor_has_no_reading_metric(settings: Settings, redis, bmc: RedfishDouble) -> None:
    bmc.disable(CPU_TEMP)
    prod = producer(settings, redis, bmc, auth="basic")
    try:
        await prod.poll_once()
    finally:
        await prod.stop()
    metrics = normalise("7-0", payloads(await lines(redis, settings))[0])
    assert not [m for m in metrics if m.attributes.get("hw.id") == "CPUTemp1"]
    assert {c.auth for c in bmc.calls if c.path != V1} == {"basic"} and not bmc.sessions


async def test_session_expiry_relogs_in_once(settings: Settings, redis, bmc: RedfishDouble) -> None:
    bmc.session_timeout_sec = 0.5
    prod = producer(settings, redis, bmc)
    try:
        await prod.poll_once()
        await asyncio.sleep(0.8)
        await prod.poll_once()
    finally:
        await prod.stop()
    assert [c.method for c in bmc.calls].count("POST") == 2
    assert len(payloads(await lines(redis, settings))) == 2


async def test_unauthenticated_and_wrong_password(settings: Settings, redis, bmc: RedfishDouble) -> None:
    async with httpx.AsyncClient(base_url=bmc.url, timeout=5) as client:
        assert (await client.get(f"{V1}/")).status_code == 200, "the service root needs no credentials"
        refused = await client.get(SEL)
    assert refused.status_code == 401
    assert refused.json()["error"]["@Message.ExtendedInfo"][0]["MessageId"] == "Base.1.8.NoValidSession"
    prod = producer(settings, redis, bmc, password="wrong-password")
    await prod.start()
    try:
        for _ in range(50):
            if prod.status.state == "failed":
                break
            await asyncio.sleep(0.1)
    finally:
        await prod.stop()
    assert prod.status.state == "failed" and "NoValidSession" in prod.status.last_error
    assert await lines(redis, settings) == []
    with pytest.raises(AuthFailed):
        await producer(settings, redis, bmc, password="wrong-password").poll(None)


async def test_busy_honours_retry_after_then_succeeds(settings: Settings, redis, bmc: RedfishDouble) -> None:
    bmc.retry_after_sec = 7
    prod = producer(settings, redis, bmc)
    try:
        await prod.poll_once()
        bmc.enqueue("busy")
        with pytest.raises(RateLimited) as caught:
            await prod.poll_once()
        assert caught.value.retry_after == 7
        await prod.poll_once()
    finally:
        await prod.stop()
    assert len(payloads(await lines(redis, settings))) == 2


async def test_slow_bmc_times_out_into_the_status(settings: Settings, redis, bmc: RedfishDouble) -> None:
    bmc.slow_sec = 1.5
    prod = producer(settings, redis, bmc, timeout_sec=0.3)
    bmc.scenario = "slow"
    await prod.start()
    try:
        await until(lambda: prod.status.last_error, timeout=4)
    finally:
        bmc.scenario = "ok"
        await prod.stop()
    assert prod.status.state == "backoff" and "timed out after 0.3 s" in prod.status.last_error
    assert await lines(redis, settings) == []


async def test_top_level_next_link_is_followed(settings: Settings, redis, bmc: RedfishDouble) -> None:
    bmc.next_link_key = "@odata.nextLink"  # how the DMTF mockup pages
    prod = producer(settings, redis, bmc, log_services=["Log1"])
    try:
        await prod.poll_once()
    finally:
        await prod.stop()
    assert [line.split("[")[1].split("]")[0] for line in sel(await lines(redis, settings))] == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize("auth", ["session", "basic"])
async def test_links_to_another_origin_are_not_followed(
    settings: Settings, redis, bmc: RedfishDouble, redfish_mockup_dir: Path, auth: str
) -> None:
    """A BMC (or whoever answers in its name) linking elsewhere must not get our credentials sent there."""
    with RedfishDouble(redfish_mockup_dir) as other:
        if auth == "session":
            bmc.resources[V1]["Links"]["Sessions"]["@odata.id"] = f"{other.url}{V1}/SessionService/Sessions"
        else:
            bmc.resources[SEL]["Members"][0] = {"@odata.id": f"{other.url}{SEL}/1"}  # a bare link, to be fetched
        prod = producer(settings, redis, bmc, auth=auth, log_services=["Log1"])
        try:
            with pytest.raises(ExternalAPIError, match="another origin"):
                await prod.poll(None)
        finally:
            await prod.stop()
        assert other.calls == [], "nothing, above all no credentials, went to the other host"
