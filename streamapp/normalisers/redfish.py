"""Redfish poll payloads (`{"schema": "redfish"}`, written by `connectors.sources.redfish`) as metrics
and alarms.

A payload holds one poll of one BMC: `systems` (ComputerSystem resources) and `chassis`, each with
either `Sensors` (the current model) or the legacy `Thermal`/`Power` resources, plus the `Fans` and
`PowerSupplies` of the newer subsystems — Redfish property names as the BMC sent them, noise
removed. Legacy temperatures, fans, voltages and supplies are read as sensors, so one mapping serves
both models. Readings missing or null (absent or disabled parts) give no metric.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from streamapp.records import Metric

# ReadingUnits -> ReadingType, for sensors that leave the type out (the DMTF mockup's temperatures).
UNIT_TYPES = {"Cel": "Temperature", "RPM": "Rotational", "W": "Power", "V": "Voltage", "A": "Current",
              "kW.h": "EnergykWh", "Hz": "Frequency", "%": "Percent"}
HEALTH_STATES = {"OK": "ok", "Warning": "degraded", "Critical": "failed"}
HW_STATES = ("ok", "degraded", "failed")
# Threshold names -> hw.limit_type, and the upper ones in the order a reading crosses them.
LIMIT_TYPES = {"UpperCaution": "high.degraded", "UpperCritical": "high.critical", "LowerCaution": "low.degraded",
               "LowerCritical": "low.critical"}
UPPER = (("UpperFatal", "fatal"), ("UpperCritical", "critical"), ("UpperCaution", "caution"))
# Legacy Thermal/Power threshold properties -> Sensor threshold names.
LEGACY_THRESHOLDS = {"UpperThresholdNonCritical": "UpperCaution", "UpperThresholdCritical": "UpperCritical",
                     "UpperThresholdFatal": "UpperFatal", "LowerThresholdNonCritical": "LowerCaution",
                     "LowerThresholdCritical": "LowerCritical", "LowerThresholdFatal": "LowerFatal"}
HW_TYPES = {"PowerSupply": "power_supply", "CPU": "cpu", "GPU": "gpu", "Memory": "memory", "Battery": "battery",
            "StorageDevice": "physical_disk", "NetworkingDevice": "network", "Fan": "fan"}
JOULES_PER_KWH = 3.6e6

Point = tuple[str, float, str, str, dict[str, Any]]  # name, value, unit, type, attributes
Alarm = tuple[str, str, str]  # subject, problem (compared between polls), detail (not compared)


def normalise(line_id: str, payload: dict[str, Any]) -> list[Metric]:
    resource = {"host.name": host_name(payload), "redfish.bmc": str(payload.get("bmc", ""))}
    when = float(payload.get("time", 0) or 0)
    return [
        Metric(id=f"{line_id}#{i}", name=name, value=float(value), type=kind, unit=unit, resource=resource,
               attributes=attrs, time=when)
        for i, (name, value, unit, kind, attrs) in enumerate(points(payload))
    ]


def host_name(payload: dict[str, Any]) -> str:
    """The host the BMC manages (the first system's HostName), else the BMC's own name."""
    names = [s.get("HostName") for s in payload.get("systems") or [] if s.get("HostName")]
    return str(names[0] if names else payload.get("bmc", ""))


def points(payload: dict[str, Any]) -> Iterator[Point]:
    for system in payload.get("systems") or []:
        yield from _status(system, {"hw.id": system.get("Id"), "hw.name": system.get("Name"), "hw.type": "system"})
    for chassis in payload.get("chassis") or []:
        parent = chassis.get("Id")
        yield from _status(chassis, {"hw.id": parent, "hw.name": chassis.get("Name"), "hw.type": "enclosure"})
        for sensor in sensors(chassis):
            yield from _reading(sensor, parent)
        for part, hw_type in parts(chassis):
            yield from _status(part, {"hw.id": _id(part), "hw.name": part.get("Name"), "hw.type": hw_type,
                                      "hw.parent": parent})


def alarms(payload: dict[str, Any]) -> dict[str, Alarm]:
    """The alarms that hold in this poll: health not OK, a temperature over an upper threshold,
    a fan or power supply not OK. Key -> (subject, problem, detail)."""
    out: dict[str, Alarm] = {}
    for system in payload.get("systems") or []:
        if _bad(system):
            rollup = (system.get("Status") or {}).get("HealthRollup")
            out[f"system:{system.get('Id')}"] = (f"System {system.get('Id')} ({system.get('HostName') or '-'})",
                                                 f"health {_health(system)}", f" (rollup {rollup})" if rollup else "")
    for chassis in payload.get("chassis") or []:
        parent = chassis.get("Id")
        if _bad(chassis):
            out[f"chassis:{parent}"] = (f"Chassis {parent}", f"health {_health(chassis)}", "")
        for sensor in sensors(chassis):
            subject, reading = f'Sensor "{sensor.get("Name")}" (chassis {parent})', _reading_text(sensor)
            if _bad(sensor):
                out[f"sensor:{parent}/{_id(sensor)}"] = (subject, f"health {_health(sensor)}", reading)
            over = _over_upper(sensor)
            if over and _kind(sensor) == "Temperature":
                out[f"temperature:{parent}/{_id(sensor)}"] = (subject, f"temperature above {over}", reading)
        for part, hw_type in parts(chassis):
            if _bad(part):
                what = "Fan" if hw_type == "fan" else "Power supply"
                out[f"{hw_type}:{parent}/{_id(part)}"] = (f'{what} "{part.get("Name")}" (chassis {parent})',
                                                          f"health {_health(part)}", "")
    return out


def sensors(chassis: dict[str, Any]) -> list[dict[str, Any]]:
    """The chassis' Sensor resources, or its legacy Thermal/Power readings in Sensor shape."""
    if chassis.get("Sensors") is not None:
        return list(chassis["Sensors"])
    thermal, power = chassis.get("Thermal") or {}, chassis.get("Power") or {}
    out = [_legacy(t, "ReadingCelsius", "Cel") for t in thermal.get("Temperatures") or []]
    out += [_legacy(f, "Reading", f.get("ReadingUnits") or "RPM", fan=True) for f in thermal.get("Fans") or []]
    out += [_legacy(v, "ReadingVolts", "V") for v in power.get("Voltages") or []]
    out += [_legacy(c, "PowerConsumedWatts", "W") for c in power.get("PowerControl") or []]
    return out


def parts(chassis: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Fans and power supplies with their hw.type: the new subsystems, else the legacy arrays."""
    thermal, power = chassis.get("Thermal") or {}, chassis.get("Power") or {}
    new_fans, new_supplies = chassis.get("Fans"), chassis.get("PowerSupplies")
    fans = new_fans if new_fans is not None else thermal.get("Fans") or []
    supplies = new_supplies if new_supplies is not None else power.get("PowerSupplies") or []
    return [(f, "fan") for f in fans] + [(p, "power_supply") for p in supplies]


def _reading(sensor: dict[str, Any], parent: Any) -> Iterator[Point]:
    kind, value = _kind(sensor), sensor.get("Reading")
    location = str(sensor.get("PhysicalContext") or "")
    attrs = {"hw.id": _id(sensor), "hw.name": sensor.get("Name"), "hw.parent": parent}
    if location:
        attrs["hw.sensor_location"] = location
    hw_type = "fan" if _is_fan(sensor) else HW_TYPES.get(location, kind.lower() or "sensor")
    if _number(value):
        if kind == "Temperature":
            yield ("hw.temperature", value, "Cel", "gauge", attrs)
            for name, limit_type in LIMIT_TYPES.items():
                limit = ((sensor.get("Thresholds") or {}).get(name) or {}).get("Reading")
                if _number(limit):
                    yield ("hw.temperature.limit", limit, "Cel", "gauge", {**attrs, "hw.limit_type": limit_type})
        elif kind == "Rotational":
            yield ("hw.fan.speed", value, "rpm", "gauge", attrs)
        elif kind == "Percent" and _is_fan(sensor):
            yield ("hw.fan.speed_ratio", value / 100, "1", "gauge", attrs)
        elif kind == "Power":
            yield ("hw.power", value, "W", "gauge", {**attrs, "hw.type": HW_TYPES.get(location, "enclosure")})
        elif kind == "Voltage":
            yield ("hw.voltage", value, "V", "gauge", attrs)
        elif kind == "EnergykWh":
            yield ("hw.energy", value * JOULES_PER_KWH, "J", "counter",
                   {**attrs, "hw.type": HW_TYPES.get(location, "enclosure")})
        else:
            yield ("redfish.sensor.reading", value, str(sensor.get("ReadingUnits") or ""), "gauge",
                   {**attrs, "redfish.reading_type": kind})
    yield from _status(sensor, {**attrs, "hw.type": hw_type})


def _status(resource: dict[str, Any], attrs: dict[str, Any]) -> Iterator[Point]:
    """`hw.status`: one series per state, 1 for the current one; nothing without a known Health."""
    state = HEALTH_STATES.get(_health(resource) or "")
    if state is None or (resource.get("Status") or {}).get("State") == "Absent":
        return
    for candidate in HW_STATES:
        yield ("hw.status", 1 if candidate == state else 0, "1", "updowncounter", {**attrs, "hw.state": candidate})


def _legacy(item: dict[str, Any], reading_key: str, units: str, *, fan: bool = False) -> dict[str, Any]:
    thresholds = {LEGACY_THRESHOLDS[k]: {"Reading": v} for k, v in item.items() if k in LEGACY_THRESHOLDS}
    name = item.get("Name") or item.get("FanName")  # MemberIds repeat across arrays; names do not
    return {"Id": name or item.get("MemberId"), "Name": name,
            "Reading": item.get(reading_key), "ReadingUnits": units, "Status": item.get("Status"),
            "PhysicalContext": "Fan" if fan else item.get("PhysicalContext"), "Thresholds": thresholds}


def _kind(sensor: dict[str, Any]) -> str:
    return str(sensor.get("ReadingType") or UNIT_TYPES.get(str(sensor.get("ReadingUnits")), ""))


def _is_fan(sensor: dict[str, Any]) -> bool:
    return sensor.get("PhysicalContext") == "Fan" or "fan" in f"{sensor.get('Id')} {sensor.get('Name')}".lower()


def _over_upper(sensor: dict[str, Any]) -> str:
    """`upper critical threshold 45 Cel` for the highest upper threshold the reading reached, else ''."""
    value = sensor.get("Reading")
    if not _number(value):
        return ""
    for name, level in UPPER:
        limit = ((sensor.get("Thresholds") or {}).get(name) or {}).get("Reading")
        if _number(limit) and value >= limit:
            return f"upper {level} threshold {limit:g} {sensor.get('ReadingUnits') or ''}".rstrip()
    return ""


def _reading_text(sensor: dict[str, Any]) -> str:
    value = sensor.get("Reading")
    return f" (reading {value:g} {sensor.get('ReadingUnits') or ''})".replace(" )", ")") if _number(value) else ""


def _health(resource: dict[str, Any]) -> str | None:
    return (resource.get("Status") or {}).get("Health")


def _bad(resource: dict[str, Any]) -> bool:
    status = resource.get("Status") or {}
    return status.get("Health") in ("Warning", "Critical") and status.get("State") != "Absent"


def _id(resource: dict[str, Any]) -> Any:
    return resource.get("Id") or resource.get("MemberId") or resource.get("Name")


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
