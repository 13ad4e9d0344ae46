"""SNMP poll payloads (`{"schema": "snmp"}`, written by `connectors.sources.snmp`) as metrics and alarms.

A payload holds one poll of one agent: `scalars` (sysUpTime ticks, sysName, ...), `tables` (group ->
row index -> field -> raw value, groups named in `connectors.sources.snmp_oids`), per-row `delta`
(counter increase since the previous poll, wraps already added back; absent after an agent restart)
and `oids` (the user's extra OIDs, `null` when the agent has no such object).

Counters become OpenTelemetry counters carrying the *increase over the interval* (delta
temporality); levels are gauges or up-down counters. Sensor math follows RFC 3433 (value x
10^scale x 10^-precision); iDRAC probes report tenths of a degree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from streamapp.records import Metric

# entPhySensorScale -> power of ten (RFC 3433: yocto(1) .. units(9) .. yotta(17)).
SCALE_EXPONENT = {n: 3 * (n - 9) for n in range(1, 18)}
# entPhySensorType -> metric name, unit, hw.type; types without a semantic name keep their own unit.
SENSOR_TYPES: dict[int, tuple[str, str, str]] = {
    3: ("hw.voltage", "V", "voltage"),  # voltsAC
    4: ("hw.voltage", "V", "voltage"),  # voltsDC
    5: ("snmp.sensor.value", "A", "sensor"),
    6: ("hw.power", "W", "power_supply"),  # watts sensors sit on supplies almost always
    7: ("snmp.sensor.value", "Hz", "sensor"),
    8: ("hw.temperature", "Cel", "temperature"),
    9: ("snmp.sensor.value", "%", "sensor"),  # relative humidity
    10: ("hw.fan.speed", "rpm", "fan"),
}
SENSOR_STATUS = {1: "ok", 2: "unavailable", 3: "nonoperational"}
OPER_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}
ENVMON_STATE = {1: "normal", 2: "warning", 3: "critical", 4: "shutdown", 5: "notPresent", 6: "notFunctioning"}
IDRAC_STATUS = {1: "other", 2: "unknown", 3: "ok", 4: "nonCritical", 5: "critical", 6: "nonRecoverable"}
# Vendor states -> hw.status states (notPresent/unknown: no status at all).
_ENVMON_HW = {1: "ok", 2: "degraded", 3: "failed", 4: "failed", 6: "failed"}
_IDRAC_HW = {3: "ok", 4: "degraded", 5: "failed", 6: "failed"}
HW_STATES = ("ok", "degraded", "failed")
STORAGE_RAM, STORAGE_DISK = "1.3.6.1.2.1.25.2.1.2", "1.3.6.1.2.1.25.2.1.4"
TICKS_WRAP = 1 << 32

Point = tuple[str, float, str, str, dict[str, Any]]  # name, value, unit, type, attributes
Alarm = tuple[str, str, str]  # subject, problem (compared between polls), detail (not compared)


def counter_delta(before: int, now: int, bits: int) -> int:
    """Increase of a Counter32/Counter64 between two samples; a decrease is one wrap."""
    return now - before if now >= before else now + (1 << bits) - before


def agent_restarted(before_ticks: int, now_ticks: int, elapsed_sec: float) -> bool:
    """sysUpTime went back: the agent restarted and its counters started again (drop the sample),
    unless the previous value was close enough to 2^32 ticks (~497 days) to have wrapped since."""
    if now_ticks >= before_ticks:
        return False
    return before_ticks + elapsed_sec * 110 + 100 < TICKS_WRAP


def sensor_value(raw: int, scale: int, precision: int) -> float:
    """RFC 3433 value in base units; dividing by a power of ten keeps 451 at precision 1 = 45.1."""
    exponent = SCALE_EXPONENT.get(scale, 0) - precision
    return raw / 10**-exponent if exponent < 0 else float(raw * 10**exponent)


def normalise(line_id: str, payload: dict[str, Any]) -> list[Metric]:
    resource = {"host.name": str(payload.get("host", "")), "snmp.agent": str(payload.get("agent", ""))}
    when = float(payload.get("time", 0) or 0)
    return [
        Metric(id=f"{line_id}#{i}", name=name, value=float(value), type=kind, unit=unit, resource=resource,
               attributes=attrs, time=when)
        for i, (name, value, unit, kind, attrs) in enumerate(points(payload))
    ]


def points(payload: dict[str, Any]) -> Iterator[Point]:
    tables = payload.get("tables") or {}
    yield from _interfaces(tables.get("if") or {}, tables.get("ifx") or {})
    for group in ("cpu", "cisco_cpu"):
        for n, (idx, row) in enumerate(sorted((tables.get(group) or {}).items(), key=_index_order)):
            if _num(row.get("load")):
                yield ("system.cpu.utilization", row["load"] / 100, "1", "gauge",
                       {"cpu.logical_number": n, "snmp.table": group, "snmp.index": idx})
    yield from _storage(tables.get("storage") or {})
    names = {idx: row.get("name") for idx, row in (tables.get("entity") or {}).items()}
    for group in ("entity_sensor", "cisco_sensor"):
        yield from _sensors(group, tables.get(group) or {}, names)
    yield from _cisco(tables)
    yield from _idrac(tables, (payload.get("scalars") or {}).get("idrac_status"))
    for name, value in (payload.get("oids") or {}).items():
        if _num(value):
            yield (name, value, "", "gauge", {"snmp.oid.name": name})


def alarms(payload: dict[str, Any]) -> dict[str, Alarm]:
    """The alarms that hold in this poll: key -> (subject, problem, detail)."""
    tables = payload.get("tables") or {}
    out: dict[str, Alarm] = {}
    ifx = tables.get("ifx") or {}
    for idx, row in (tables.get("if") or {}).items():
        oper = row.get("oper")
        if row.get("admin") == 1 and oper not in (None, 1):
            name = (ifx.get(idx) or {}).get("name") or row.get("descr") or idx
            out[f"if:{idx}"] = (f"Interface {name} (ifIndex {idx})", "link down",
                                f" (admin up, oper {OPER_STATUS.get(oper, oper)})")
    names = {idx: row.get("name") for idx, row in (tables.get("entity") or {}).items()}
    for group in ("entity_sensor", "cisco_sensor"):
        for idx, row in (tables.get(group) or {}).items():
            if row.get("status") in (2, 3):
                subject = f'Sensor "{names.get(idx) or idx}" ({group} {idx})'
                out[f"{group}:{idx}"] = (subject, f"status {SENSOR_STATUS[row['status']]}", "")
    for group, what in (("cisco_temp", "temperature"), ("cisco_fan", "fan"), ("cisco_psu", "power supply")):
        for idx, row in (tables.get(group) or {}).items():
            if row.get("state") not in (None, 1, 5):
                state = ENVMON_STATE.get(row["state"], row["state"])
                out[f"{group}:{idx}"] = (f'Cisco {what} "{row.get("descr") or idx}"', f"state {state}", "")
    for group, what in (("idrac_temp", "temperature probe"), ("idrac_fan", "fan"), ("idrac_psu", "power supply")):
        for idx, row in (tables.get(group) or {}).items():
            if row.get("status") in (4, 5, 6):
                status = IDRAC_STATUS[row["status"]]
                out[f"{group}:{idx}"] = (f'iDRAC {what} "{row.get("name") or idx}"', f"status {status}", "")
    global_status = (payload.get("scalars") or {}).get("idrac_status")
    if global_status in (4, 5, 6):
        out["idrac"] = ("iDRAC global system status", IDRAC_STATUS[global_status], "")
    return out


def _interfaces(ifs: dict[str, dict], ifx: dict[str, dict]) -> Iterator[Point]:
    for idx, row in ifs.items():
        x = ifx.get(idx) or {}
        name = x.get("name") or row.get("descr") or idx
        attrs = {"network.interface.name": name, "snmp.if_index": idx}
        delta, hc_delta = row.get("delta") or {}, x.get("delta") or {}
        for direction, hc, low in (("receive", "hc_in_octets", "in_octets"),
                                   ("transmit", "hc_out_octets", "out_octets")):
            octets = hc_delta.get(hc, delta.get(low))  # 64-bit first: 32-bit octets wrap in minutes
            if octets is not None:
                yield ("system.network.io", octets, "By", "counter", {**attrs, "network.io.direction": direction})
        for field, name_, unit in (("errors", "system.network.errors", "{error}"),
                                   ("discards", "system.network.packet.dropped", "{packet}")):
            for direction, prefix in (("receive", "in"), ("transmit", "out")):
                value = delta.get(f"{prefix}_{field}")
                if value is not None:
                    yield (name_, value, unit, "counter", {**attrs, "network.io.direction": direction})
        if _num(row.get("oper")):
            yield ("hw.network.up", 1 if row["oper"] == 1 else 0, "1", "updowncounter",
                   {"hw.id": f"if{idx}", "hw.name": name, "hw.type": "network"})


def _storage(rows: dict[str, dict]) -> Iterator[Point]:
    for idx, row in rows.items():
        if not all(_num(row.get(k)) for k in ("units", "size", "used")):
            continue
        used, free = row["used"] * row["units"], (row["size"] - row["used"]) * row["units"]
        kind = str(row.get("type", "")).lstrip(".")
        if kind == STORAGE_RAM:
            for state, value in (("used", used), ("free", free)):
                yield ("system.memory.usage", value, "By", "updowncounter", {"system.memory.state": state})
        elif kind == STORAGE_DISK:
            attrs = {"system.filesystem.mountpoint": row.get("descr") or idx, "snmp.index": idx}
            for state, value in (("used", used), ("free", free)):
                yield ("system.filesystem.usage", value, "By", "updowncounter",
                       {**attrs, "system.filesystem.state": state})


def _sensors(group: str, rows: dict[str, dict], names: dict[str, Any]) -> Iterator[Point]:
    for idx, row in rows.items():
        name, unit, hw_type = SENSOR_TYPES.get(row.get("type", 0), ("snmp.sensor.value", "", "sensor"))
        attrs = {"hw.id": f"{group}.{idx}", "hw.name": names.get(idx) or idx}
        status = row.get("status")
        if status == 1 and all(_num(row.get(k)) for k in ("value", "scale", "precision")):
            value = sensor_value(row["value"], row["scale"], row["precision"])
            extra: dict[str, Any] = {"hw.type": hw_type} if name == "hw.power" else {}
            if name == "snmp.sensor.value":
                extra = {"snmp.sensor.type": row.get("type")}
            yield (name, value, unit, "gauge", {**attrs, **extra})
        if status in (1, 3):
            yield from _status({**attrs, "hw.type": hw_type}, "ok" if status == 1 else "failed")


def _cisco(tables: dict[str, dict]) -> Iterator[Point]:
    for idx, row in (tables.get("cisco_temp") or {}).items():
        attrs = {"hw.id": f"cisco_temp.{idx}", "hw.name": row.get("descr") or idx}
        if row.get("state") in _ENVMON_HW and _num(row.get("value")):
            yield ("hw.temperature", row["value"], "Cel", "gauge", attrs)
            if _num(row.get("threshold")):
                yield ("hw.temperature.limit", row["threshold"], "Cel", "gauge",
                       {**attrs, "hw.limit_type": "high.critical"})
        if row.get("state") in _ENVMON_HW:
            yield from _status({**attrs, "hw.type": "temperature"}, _ENVMON_HW[row["state"]])
    for group, hw_type in (("cisco_fan", "fan"), ("cisco_psu", "power_supply")):
        for idx, row in (tables.get(group) or {}).items():
            if row.get("state") in _ENVMON_HW:
                attrs = {"hw.id": f"{group}.{idx}", "hw.name": row.get("descr") or idx, "hw.type": hw_type}
                yield from _status(attrs, _ENVMON_HW[row["state"]])


def _idrac(tables: dict[str, dict], global_status: Any) -> Iterator[Point]:
    readings = {"idrac_temp": ("hw.temperature", "Cel", 10, "temperature"),  # tenths of a degree
                "idrac_fan": ("hw.fan.speed", "rpm", 1, "fan"), "idrac_psu": ("", "", 1, "power_supply")}
    for group, (name, unit, divisor, hw_type) in readings.items():
        for idx, row in (tables.get(group) or {}).items():
            attrs = {"hw.id": f"{group}.{idx}", "hw.name": row.get("name") or idx}
            if name and row.get("status") in _IDRAC_HW and _num(row.get("reading")):
                yield (name, row["reading"] / divisor, unit, "gauge", attrs)
            if row.get("status") in _IDRAC_HW:
                yield from _status({**attrs, "hw.type": hw_type}, _IDRAC_HW[row["status"]])
    if global_status in _IDRAC_HW:
        yield from _status({"hw.id": "idrac", "hw.name": "iDRAC global status", "hw.type": "enclosure"},
                           _IDRAC_HW[global_status])


def _status(attrs: dict[str, Any], state: str) -> Iterator[Point]:
    """`hw.status`: one series per state, 1 for the current one (the semantic-convention shape)."""
    for candidate in HW_STATES:
        yield ("hw.status", 1 if candidate == state else 0, "1", "updowncounter", {**attrs, "hw.state": candidate})


def _num(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _index_order(item: tuple[str, Any]) -> tuple[int, ...]:
    return tuple(int(p) for p in item[0].split(".") if p.isdigit())
