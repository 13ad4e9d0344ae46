"""SNMP and Redfish payloads become OpenTelemetry-named metrics with the right units and math
(RFC 3433 scale/precision, iDRAC tenths, kWh, counter wraps, agent restarts), and alarms."""

from __future__ import annotations

import json

import pytest

from connectors.sources.alarms import transitions
from streamapp.metrics import metric_payload, normalise
from streamapp.normalisers import redfish, snmp


@pytest.mark.parametrize(("raw", "scale", "precision", "value"), [
    (451, 9, 1, 45.1),  # celsius, units, one decimal
    (123, 10, 2, 1230.0),  # 1.23 kW
    (12050, 8, 0, 12.05),  # mV
    (-40, 9, 0, -40.0),
    (7, 7, 0, 0.000007),  # micro
])
def test_rfc3433_sensor_math(raw: int, scale: int, precision: int, value: float) -> None:
    assert snmp.sensor_value(raw, scale, precision) == pytest.approx(value, rel=1e-12)
    assert snmp.sensor_value(451, 9, 1) == 45.1, "exact, not 45.100000000000001"


def test_counter_wrap_and_restart_detection() -> None:
    assert snmp.counter_delta(100, 250, 32) == 150
    assert snmp.counter_delta(4_294_967_200, 500, 32) == 596
    assert snmp.counter_delta(2**64 - 616, 400, 64) == 1016
    assert snmp.agent_restarted(360_000, 1_200, elapsed_sec=60)  # went back: restarted
    assert not snmp.agent_restarted(2**32 - 3_000, 2_900, elapsed_sec=60), "sysUpTime itself wrapped"
    assert not snmp.agent_restarted(1_200, 7_200, elapsed_sec=60)


def snmp_payload() -> dict:
    return {
        "schema": "snmp", "host": "sw1", "agent": "10.0.0.1:161", "time": 1700000000.0,
        "scalars": {"uptime": 100, "name": "sw1", "idrac_status": 4},
        "tables": {
            "if": {"1": {"descr": "eth0", "admin": 1, "oper": 1, "in_octets": 5,
                         "delta": {"in_octets": 7, "out_octets": 8, "in_errors": 2}},
                   "2": {"descr": "eth1", "admin": 1, "oper": 2},
                   "3": {"descr": "eth2", "admin": 2, "oper": 2}},
            "ifx": {"1": {"name": "Gi0/1", "delta": {"hc_in_octets": 70_000_000_000}}},
            "cpu": {"196609": {"load": 85}, "196608": {"load": 12}},
            "storage": {"1": {"type": "1.3.6.1.2.1.25.2.1.2", "descr": "RAM", "units": 1024, "size": 100, "used": 40},
                        "31": {"type": "1.3.6.1.2.1.25.2.1.4", "descr": "/", "units": 4096, "size": 10, "used": 4}},
            "entity": {"10": {"name": "CPU Temp"}, "14": {"name": "Inlet"}},
            "entity_sensor": {"10": {"type": 8, "scale": 9, "precision": 1, "value": 451, "status": 1},
                              "14": {"type": 8, "scale": 9, "precision": 0, "value": 0, "status": 2}},
            "idrac_temp": {"1.1": {"status": 3, "reading": 285, "name": "Inlet Temp"}},
            "idrac_fan": {"1.1": {"status": 5, "reading": 0, "name": "Fan1"}},
        },
        "oids": {"ups.charge": 97, "missing": None},
    }


def test_snmp_metrics_names_units_and_ids() -> None:
    line = json.dumps(snmp_payload())
    metrics = normalise("1700000000000-3", metric_payload(line))
    assert metrics[0].id == "1700000000000-3#0" and len({m.id for m in metrics}) == len(metrics)
    assert {m.resource["host.name"] for m in metrics} == {"sw1"}
    io = {(m.attributes["network.interface.name"], m.attributes["network.io.direction"]): (m.value, m.unit, m.type)
          for m in metrics if m.name == "system.network.io"}
    assert io == {("Gi0/1", "receive"): (70_000_000_000, "By", "counter"), ("Gi0/1", "transmit"): (8, "By", "counter")}
    cpu = sorted((m.attributes["cpu.logical_number"], m.value) for m in metrics if m.name == "system.cpu.utilization")
    assert cpu == [(0, 0.12), (1, 0.85)]
    memory = {m.attributes["system.memory.state"]: m.value for m in metrics if m.name == "system.memory.usage"}
    assert memory == {"used": 40 * 1024, "free": 60 * 1024}
    disk = {m.attributes["system.filesystem.state"]: m.value for m in metrics if m.name == "system.filesystem.usage"}
    assert disk == {"used": 4 * 4096, "free": 6 * 4096}
    temps = {m.attributes["hw.name"]: (m.value, m.unit) for m in metrics if m.name == "hw.temperature"}
    assert temps == {"CPU Temp": (45.1, "Cel"), "Inlet Temp": (28.5, "Cel")}, "unavailable sensor has no value"
    fan_status = {m.attributes["hw.state"]: m.value for m in metrics
                  if m.name == "hw.status" and m.attributes["hw.id"] == "idrac_fan.1.1"}
    assert fan_status == {"ok": 0, "degraded": 0, "failed": 1}
    assert next(m for m in metrics if m.name == "ups.charge").value == 97
    assert [m.attributes["hw.name"] for m in metrics if m.name == "hw.network.up" and m.value == 0] == ["eth1", "eth2"]


def test_snmp_alarms() -> None:
    found = snmp.alarms(snmp_payload())
    assert found["if:2"] == ("Interface eth1 (ifIndex 2)", "link down", " (admin up, oper down)")
    assert "if:3" not in found, "administratively down is not an alarm"
    assert found["entity_sensor:14"][1] == "status unavailable"
    assert found["idrac_fan:1.1"] == ('iDRAC fan "Fan1"', "status critical", "")
    assert found["idrac"] == ("iDRAC global system status", "nonCritical", "")


def sensor(ident: str, reading: float | None, units: str, **extra: object) -> dict:
    doc = {"Id": ident, "Name": ident, "ReadingUnits": units, "Status": {"State": "Enabled", "Health": "OK"}}
    if reading is not None:
        doc["Reading"] = reading
    return {**doc, **extra}


def redfish_payload() -> dict:
    return {
        "schema": "redfish", "bmc": "bmc1", "time": 1.0,
        "systems": [{"Id": "S1", "HostName": "web1", "Status": {"State": "Enabled", "Health": "Warning",
                                                                 "HealthRollup": "Critical"}}],
        "chassis": [{
            "Id": "1U", "Status": {"State": "Enabled", "Health": "OK"},
            "Sensors": [
                sensor("CPU1Temp", 47, "Cel", PhysicalContext="CPU",
                       Thresholds={"UpperCaution": {"Reading": 42}, "UpperCritical": {"Reading": 45}}),
                sensor("CPUFan1", 80, "%", ReadingType="Percent", PhysicalContext="CPU"),
                sensor("PS1InputPower", 374, "W", ReadingType="Power", PhysicalContext="PowerSupply"),
                sensor("TotalEnergy", 2.5, "kW.h", ReadingType="EnergykWh", PhysicalContext="Chassis"),
                sensor("PS1Frequency", 60.1, "Hz", ReadingType="Frequency"),
                sensor("CPU2Temp", None, "Cel", Status={"State": "Disabled"}),
                sensor("PS2InputPower", None, "W", Status={"State": "Absent"}),
            ],
            "Fans": [{"Id": "Bay1", "Name": "Fan Bay 1", "Status": {"State": "Enabled", "Health": "Critical"}}],
            "PowerSupplies": [{"Id": "Bay2", "Name": "PSU 2", "Status": {"State": "Absent", "Health": "Warning"}}],
        }],
    }


def test_redfish_metrics() -> None:
    metrics = redfish.normalise("9-1", redfish_payload())
    by_id = {(m.name, m.attributes.get("hw.id")): m for m in metrics if m.name != "hw.status"}
    temp = by_id[("hw.temperature", "CPU1Temp")]
    assert (temp.value, temp.unit, temp.attributes["hw.parent"], temp.resource) == (
        47, "Cel", "1U", {"host.name": "web1", "redfish.bmc": "bmc1"})
    limits = {m.attributes["hw.limit_type"]: m.value for m in metrics if m.name == "hw.temperature.limit"}
    assert limits == {"high.degraded": 42, "high.critical": 45}
    assert by_id[("hw.fan.speed_ratio", "CPUFan1")].value == 0.8
    assert by_id[("hw.power", "PS1InputPower")].attributes["hw.type"] == "power_supply"
    energy = by_id[("hw.energy", "TotalEnergy")]
    assert (energy.value, energy.unit, energy.type) == (9_000_000.0, "J", "counter")
    assert by_id[("redfish.sensor.reading", "PS1Frequency")].unit == "Hz"
    assert ("hw.temperature", "CPU2Temp") not in by_id, "a disabled sensor has no reading"
    status = {(m.attributes["hw.id"], m.attributes["hw.state"]): m.value for m in metrics if m.name == "hw.status"}
    assert status[("S1", "degraded")] == 1 and status[("S1", "ok")] == 0
    assert status[("Bay1", "failed")] == 1 and ("Bay2", "degraded") not in status, "absent parts have no status"


def test_redfish_legacy_thermal_power_read_as_sensors() -> None:
    chassis = {"Id": "1U", "Thermal": {
        "Temperatures": [{"MemberId": "0", "Name": "CPU1 Temp", "ReadingCelsius": 46, "UpperThresholdCritical": 45,
                          "Status": {"State": "Enabled", "Health": "OK"}}],
        "Fans": [{"MemberId": "0", "Name": "System Fan", "Reading": 2100, "ReadingUnits": "RPM",
                  "Status": {"State": "Enabled", "Health": "OK"}}]},
        "Power": {"Voltages": [{"MemberId": "0", "Name": "VRM1", "ReadingVolts": 12}],
                  "PowerSupplies": [{"MemberId": "0", "Name": "PSU Bay", "Status": {"Health": "Warning"}}]}}
    payload = {"bmc": "b", "chassis": [chassis]}
    names = {(m.name, m.attributes.get("hw.name"), m.value) for m in redfish.normalise("1-0", payload)}
    assert {("hw.temperature", "CPU1 Temp", 46), ("hw.fan.speed", "System Fan", 2100), ("hw.voltage", "VRM1", 12),
            ("hw.temperature.limit", "CPU1 Temp", 45)} <= names
    found = redfish.alarms(payload)
    assert found["temperature:1U/CPU1 Temp"][1] == "temperature above upper critical threshold 45 Cel"
    assert found["power_supply:1U/0"][0] == 'Power supply "PSU Bay" (chassis 1U)'


def test_redfish_alarms() -> None:
    found = redfish.alarms(redfish_payload())
    assert found["system:S1"] == ("System S1 (web1)", "health Warning", " (rollup Critical)")
    assert found["temperature:1U/CPU1Temp"] == ('Sensor "CPU1Temp" (chassis 1U)',
                                                "temperature above upper critical threshold 45 Cel",
                                                " (reading 47 Cel)")
    assert found["fan:1U/Bay1"][1] == "health Critical"
    assert "power_supply:1U/Bay2" not in found, "an absent supply is not an alarm"


def test_alarm_transitions_raise_change_and_clear_once() -> None:
    messages, held = transitions({}, {"a": ("Fan 1", "health Warning", " (x)")})
    assert messages == ["Fan 1: health Warning (x)"]
    messages, held = transitions(held, {"a": ("Fan 1", "health Warning", " (y)")})
    assert messages == [], "only the detail changed"
    messages, held = transitions(held, {"a": ("Fan 1", "health Critical", "")})
    assert messages == ["Fan 1: health Critical"]
    assert transitions(json.loads(json.dumps(held)), {}) == (["Fan 1: recovered"], {})
