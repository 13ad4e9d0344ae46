"""SNMP producer against a real net-snmp agent on loopback (tests/doubles/snmp_agent.py), writing to
the real Redis: v2c and v3 polls, counter deltas across wraps and producer restarts, an agent
restart, alarm lines once per change, and the failures (silence, USM errors, missing objects)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from connectors.sources.base import Emitter, SourceConfig
from connectors.sources.registry import producer_class
from connectors.sources.snmp import SnmpProducer
from streamapp.errors import AuthFailed
from streamapp.metrics import metric_payload, normalise
from streamapp.settings import Settings
from tests.conftest import IN_CI
from tests.doubles.snmp_agent import SnmpAgent, snmpd_path
from tests.support.producers import lines, payloads, until

pytestmark = pytest.mark.integration
IF_IN, IF_OPER = "1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.2.2.1.8"
HC_IN, HC_OUT = "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10"


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[SnmpAgent]:
    if snmpd_path() is None:
        message = "snmpd not installed (apt-get install -y snmpd)"
        if IN_CI:
            pytest.fail(message + "; CI must have it")
        pytest.skip(message)
    with SnmpAgent(tmp_path / "snmpd") as running:
        yield running


def producer(settings: Settings, redis: aioredis.Redis, agent: SnmpAgent, source_id: str | None = None,
             secrets: dict[str, str] | None = None, **config: object) -> SnmpProducer:
    source = SourceConfig(
        id=source_id or uuid.uuid4().hex[:8], name="edge", type="snmp",
        config={"host": "127.0.0.1", "port": agent.port, "timeout_sec": 0.5, "retries": 0, **config},
        secrets={"community": agent.community} if secrets is None else secrets,
    )
    return producer_class("snmp")(source, Emitter(redis, settings, source))


def texts(all_lines: list[str]) -> list[str]:
    return [line for line in all_lines if metric_payload(line) is None]


async def test_v2c_poll_writes_payload_and_alarm_lines_once(settings: Settings, redis, agent: SnmpAgent) -> None:
    prod = producer(settings, redis, agent)
    try:
        await prod.poll_once()
        await prod.poll_once()
    finally:
        await prod.stop()
    out = await lines(redis, settings)
    first, second = payloads(out)
    assert first["schema"] == "snmp" and first["host"] == "edge-sw1" and first["scalars"]["uptime"] > 0
    assert first["tables"]["if"]["2"]["oper"] == 2 and first["tables"]["ifx"]["1"]["hc_out_octets"] == 2**64 - 616
    assert "delta" not in first["tables"]["if"]["1"] and second["tables"]["if"]["1"]["delta"]["in_octets"] == 0
    alarms = texts(out)
    assert len(alarms) == 3, "each alarm once, although both polls saw it"
    assert any("edge-sw1 snmp: Interface eth1 (ifIndex 2): link down (admin up, oper down)" in a for a in alarms)
    assert any('Sensor "Inlet Temp" (entity_sensor 14): status unavailable' in a for a in alarms)
    assert any('Cisco fan "Fan Tray 2": state critical' in a for a in alarms)

    metrics = normalise("1-0", first)
    names = {m.name for m in metrics}
    assert {"hw.temperature", "hw.fan.speed", "hw.power", "hw.voltage", "hw.status", "system.cpu.utilization",
            "system.memory.usage", "system.filesystem.usage", "hw.network.up"} <= names
    temps = {m.attributes["hw.name"]: m.value for m in metrics if m.name == "hw.temperature"}
    assert temps == {"CPU Temp": 45.1, "Inlet": 31, "System Board Inlet Temp": 28.5, "CPU1 Temp": 41.2}
    power = next(m for m in metrics if m.name == "hw.power")
    assert (power.value, power.unit) == (1230.0, "W")


async def test_v3_auth_priv_and_wrong_key(settings: Settings, redis, agent: SnmpAgent) -> None:
    good = producer(settings, redis, agent, version="3", user=agent.user,
                    secrets={"auth_key": agent.auth_key, "priv_key": agent.priv_key})
    bad = producer(settings, redis, agent, version="3", user=agent.user,
                   secrets={"auth_key": "not-the-key-123", "priv_key": agent.priv_key})
    try:
        assert await good.poll_once() >= 1
        with pytest.raises(AuthFailed, match="Wrong SNMP PDU digest"):
            await bad.poll_once()
    finally:
        await good.stop()
        await bad.stop()
    assert payloads(await lines(redis, settings))[0]["tables"]["cpu"] == {"196608": {"load": 12},
                                                                          "196609": {"load": 85}}


async def test_wrong_community_is_a_timeout_in_the_status(settings: Settings, redis, agent: SnmpAgent) -> None:
    prod = producer(settings, redis, agent, secrets={"community": "guess"}, interval_sec=60)
    await prod.start()
    try:
        await until(lambda: prod.status.last_error, timeout=4)
    finally:
        await prod.stop()
    assert prod.status.state == "backoff"
    assert "No SNMP response received before timeout" in prod.status.last_error
    assert await lines(redis, settings) == []


async def test_missing_oid_is_null(settings: Settings, redis, agent: SnmpAgent) -> None:
    prod = producer(settings, redis, agent, oids={"ups.battery.charge": "1.3.6.1.2.1.33.1.2.4.0",
                                                  "snmp.in.packets": "1.3.6.1.2.1.11.1.0"}, groups=["cpu"])
    try:
        await prod.poll_once()
    finally:
        await prod.stop()
    (payload,) = payloads(await lines(redis, settings))
    assert payload["oids"]["ups.battery.charge"] is None and payload["oids"]["snmp.in.packets"] > 0
    assert payload["scalars"]["idrac_status"] == 3 and set(payload["tables"]) == {"cpu"}
    assert {m.name for m in normalise("2-0", payload)} == {"system.cpu.utilization", "snmp.in.packets", "hw.status"}


async def test_counter_wraps_and_producer_restart_keep_deltas(settings: Settings, redis, agent: SnmpAgent) -> None:
    prod = producer(settings, redis, agent, source_id="wrap")
    await prod.poll_once()
    await prod.stop()
    agent.set(f"{IF_IN}.3", 500)  # tun0, 32-bit only: 4294967200 -> 500 is a wrap of +596
    agent.set(f"{HC_OUT}.1", 400)  # eth0 64-bit: 2^64 - 616 -> 400 is +1016
    agent.set(f"{HC_IN}.1", 10_000_004_096)
    agent.set(f"{IF_OPER}.2", 1)  # eth1 back up
    again = producer(settings, redis, agent, source_id="wrap")  # a new producer, the same stored cursor
    try:
        await again.poll_once()
    finally:
        await again.stop()
    out = await lines(redis, settings)
    payload = payloads(out)[-1]
    assert payload["tables"]["if"]["3"]["delta"]["in_octets"] == 596
    assert payload["tables"]["ifx"]["1"]["delta"] == {"hc_in_octets": 4096, "hc_out_octets": 1016}
    io = {(m.attributes["network.interface.name"], m.attributes["network.io.direction"]): m.value
          for m in normalise("3-0", payload) if m.name == "system.network.io"}
    assert io[("eth0", "receive")] == 4096 and io[("eth0", "transmit")] == 1016 and io[("tun0", "receive")] == 596
    alarm_lines = texts(out)
    assert sum("Interface eth1" in a for a in alarm_lines) == 2 and alarm_lines[-1].endswith(
        "Interface eth1 (ifIndex 2): recovered")


async def test_agent_restart_drops_deltas_and_says_so(settings: Settings, redis, agent: SnmpAgent) -> None:
    prod = producer(settings, redis, agent)
    try:
        await asyncio.sleep(1.5)  # let sysUpTime grow past what the restarted agent will show
        await prod.poll_once()
        agent.restart()
        await prod.poll_once()
        await prod.poll_once()
    finally:
        await prod.stop()
    out = await lines(redis, settings)
    first, after_restart, later = payloads(out)
    assert after_restart["restarted"] and not later["restarted"]
    assert "delta" not in after_restart["tables"]["if"]["1"] and "delta" in later["tables"]["if"]["1"]
    assert sum("SNMP agent restarted" in line for line in texts(out)) == 1


def test_validate_names_the_failing_field() -> None:
    from streamapp.errors import ConfigError

    with pytest.raises(ConfigError, match="host"):
        SnmpProducer.validate({})
    with pytest.raises(ConfigError, match="user"):
        SnmpProducer.validate({"host": "h", "version": "3"})
    with pytest.raises(ConfigError, match="groups"):
        SnmpProducer.validate({"host": "h", "groups": ["nope"]})
    assert SnmpProducer.validate({"host": "h"})["port"] == 161
    assert json.dumps(SnmpProducer.validate({"host": "h", "oids": {"x": "1.3.6.1.2.1.1.3.0"}}))
