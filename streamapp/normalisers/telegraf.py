"""Telegraf metric payloads (`{"schema": "telegraf", "metrics": [{name, tags, fields, time}]}`, written
by the Telegraf endpoint) -> OpenTelemetry semantic-convention metrics (system.*, hw.*).

One Telegraf field is one metric: `cpu.usage_user` (percent) is `system.cpu.utilization` 0..1 with
`cpu.mode=user`, `net.bytes_recv` is `system.network.io` in bytes with direction `receive`, and so on
(`FIELDS`). A field with no semantic name keeps `telegraf.<measurement>.<field>` and all its tags.
The agent's `host` tag is the resource `host.name`; other tags become semantic attributes where the
conventions name them, and stay as they are otherwise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streamapp.records import Metric


@dataclass(frozen=True)
class Semantic:
    name: str
    unit: str
    type: str = "gauge"  # gauge | counter (monotonic, cumulative) | updowncounter
    scale: float = 1.0
    attributes: dict[str, str] = field(default_factory=dict)


def _each(fields: dict[str, str], make: Callable[[str], Semantic]) -> dict[str, Semantic]:
    return {name: make(value) for name, value in fields.items()}


_CPU_MODES = {"user": "user", "system": "system", "idle": "idle", "nice": "nice", "iowait": "iowait",
              "irq": "interrupt", "softirq": "softirq", "steal": "steal", "guest": "guest", "guest_nice": "guest_nice"}
_MEMORY = {"used": "used", "free": "free", "cached": "cached", "buffered": "buffers"}
_PROCESSES = {"running": "running", "sleeping": "sleeping", "stopped": "stopped", "zombies": "defunct",
              "blocked": "blocked"}


def _network(name: str, unit: str, receive: str, transmit: str) -> dict[str, Semantic]:
    return {
        receive: Semantic(name, unit, "counter", attributes={"network.io.direction": "receive"}),
        transmit: Semantic(name, unit, "counter", attributes={"network.io.direction": "transmit"}),
    }


def _disk(name: str, unit: str, read: str, write: str, scale: float = 1.0) -> dict[str, Semantic]:
    return {
        read: Semantic(name, unit, "counter", scale, {"disk.io.direction": "read"}),
        write: Semantic(name, unit, "counter", scale, {"disk.io.direction": "write"}),
    }


# measurement -> field -> semantic metric (Telegraf inputs cpu, mem, swap, net, disk, diskio, system,
# processes, temp, sensors; ipmi_sensor is mapped by its `unit` tag in `_ipmi`).
FIELDS: dict[str, dict[str, Semantic]] = {
    "cpu": {
        **_each({f"usage_{k}": v for k, v in _CPU_MODES.items()},
                lambda mode: Semantic("system.cpu.utilization", "1", scale=0.01, attributes={"cpu.mode": mode})),
        **_each({f"time_{k}": v for k, v in _CPU_MODES.items()},
                lambda mode: Semantic("system.cpu.time", "s", "counter", attributes={"cpu.mode": mode})),
    },
    "mem": {
        **_each(_MEMORY, lambda state: Semantic(
            "system.memory.usage", "By", "updowncounter", attributes={"system.memory.state": state})),
        "total": Semantic("system.memory.limit", "By", "updowncounter"),
        "used_percent": Semantic("system.memory.utilization", "1", scale=0.01,
                                 attributes={"system.memory.state": "used"}),
    },
    "swap": {
        **_each({"used": "used", "free": "free"}, lambda state: Semantic(
            "system.paging.usage", "By", "updowncounter", attributes={"system.paging.state": state})),
        "used_percent": Semantic("system.paging.utilization", "1", scale=0.01,
                                 attributes={"system.paging.state": "used"}),
    },
    "net": {
        **_network("system.network.io", "By", "bytes_recv", "bytes_sent"),
        **_network("system.network.packet.count", "{packet}", "packets_recv", "packets_sent"),
        **_network("system.network.errors", "{error}", "err_in", "err_out"),
        **_network("system.network.packet.dropped", "{packet}", "drop_in", "drop_out"),
    },
    "disk": {
        **_each({"used": "used", "free": "free"}, lambda state: Semantic(
            "system.filesystem.usage", "By", "updowncounter", attributes={"system.filesystem.state": state})),
        "total": Semantic("system.filesystem.limit", "By", "updowncounter"),
        "used_percent": Semantic("system.filesystem.utilization", "1", scale=0.01,
                                 attributes={"system.filesystem.state": "used"}),
    },
    "diskio": {
        **_disk("system.disk.io", "By", "read_bytes", "write_bytes"),
        **_disk("system.disk.operations", "{operation}", "reads", "writes"),
        **_disk("system.disk.operation_time", "s", "read_time", "write_time", scale=0.001),  # ms
        "io_time": Semantic("system.disk.io_time", "s", "counter", 0.001),
    },
    "system": {
        "uptime": Semantic("system.uptime", "s"),
        "n_cpus": Semantic("system.cpu.logical.count", "{cpu}", "updowncounter"),
    },
    "processes": _each(_PROCESSES, lambda status: Semantic(
        "system.process.count", "{process}", "updowncounter", attributes={"process.status": status})),
    "temp": {"temp": Semantic("hw.temperature", "Cel")},
    "sensors": {
        "temp_input": Semantic("hw.temperature", "Cel"),
        "temp_max": Semantic("hw.temperature.limit", "Cel", attributes={"hw.limit_type": "high.degraded"}),
        "temp_crit": Semantic("hw.temperature.limit", "Cel", attributes={"hw.limit_type": "high.critical"}),
        "fan_input": Semantic("hw.fan.speed", "rpm"),
        "in_input": Semantic("hw.voltage", "V"),
        "power_input": Semantic("hw.power", "W"),
        "power_average": Semantic("hw.power", "W"),
    },
}

_IPMI_UNITS = {"degrees_c": Semantic("hw.temperature", "Cel"), "rpm": Semantic("hw.fan.speed", "rpm"),
               "volts": Semantic("hw.voltage", "V"), "watts": Semantic("hw.power", "W")}


def _cpu_tags(tags: dict[str, str]) -> dict[str, Any]:
    cpu = tags.get("cpu", "")
    return {"cpu.logical_number": int(cpu[3:])} if cpu[3:].isdigit() else {}


def _renamed(mapping: dict[str, str]) -> Callable[[dict[str, str]], dict[str, Any]]:
    return lambda tags: {new: tags[old] for old, new in mapping.items() if old in tags}


def _sensor_tags(tags: dict[str, str]) -> dict[str, Any]:
    chip, feature = tags.get("chip", ""), tags.get("feature", "")
    return {"hw.id": f"{chip}/{feature}".strip("/") or "sensor", "hw.name": feature or chip, "hw.parent": chip}


def _hw_tags(key: str, parent: str = "") -> Callable[[dict[str, str]], dict[str, Any]]:
    def attrs(tags: dict[str, str]) -> dict[str, Any]:
        out = {"hw.id": tags.get(key) or "sensor", "hw.name": tags.get(key, "")}
        return {**out, "hw.parent": tags[parent]} if parent in tags else out

    return attrs


# measurement -> (tags the semantic attributes replace, how to make those attributes)
TAGS: dict[str, tuple[frozenset[str], Callable[[dict[str, str]], dict[str, Any]]]] = {
    "cpu": (frozenset({"cpu"}), _cpu_tags),
    "net": (frozenset({"interface"}), _renamed({"interface": "network.interface.name"})),
    "disk": (frozenset({"device", "path", "fstype", "mode"}), _renamed({
        "device": "system.device", "path": "system.filesystem.mountpoint", "fstype": "system.filesystem.type",
        "mode": "system.filesystem.mode"})),
    "diskio": (frozenset({"name"}), _renamed({"name": "system.device"})),
    "temp": (frozenset({"sensor"}), _hw_tags("sensor")),
    "sensors": (frozenset({"chip", "feature"}), _sensor_tags),
    "ipmi_sensor": (frozenset({"name", "unit", "server", "status"}), _hw_tags("name", "server")),
}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def normalise(line_id: str, payload: dict[str, Any]) -> list[Metric]:
    """Every numeric field of every metric; ids `<line id>#<metric index>:<field>` stay equal on replays."""
    items = payload.get("metrics")
    out: list[Metric] = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        raw_tags, fields = item.get("tags"), item.get("fields")
        tags = {str(k): str(v) for k, v in raw_tags.items()} if isinstance(raw_tags, dict) else {}
        if not isinstance(fields, dict):
            continue
        time = item.get("time")
        resource = {"host.name": tags["host"]} if tags.get("host") else {}
        for key, value in fields.items():
            number = _number(value)
            if number is None:
                continue
            name, unit, kind, scaled, attributes = semantic(item["name"], str(key), number, tags)
            out.append(Metric(
                id=f"{line_id}#{i}:{key}", name=name, value=scaled, type=kind, unit=unit, resource=resource,
                attributes=attributes, time=float(time) if isinstance(time, int | float) else 0.0,
            ))
    return out


def semantic(measurement: str, key: str, value: float, tags: dict[str, str]) -> tuple[str, str, str, float, dict]:
    """(name, unit, type, value, attributes) of one field."""
    known = _ipmi(tags) if measurement == "ipmi_sensor" and key == "value" else FIELDS.get(measurement, {}).get(key)
    others = {k: v for k, v in tags.items() if k != "host"}
    if known is None:
        return f"telegraf.{_safe(measurement)}.{_safe(key)}"[:255], "", "gauge", value, others
    consumed, make = TAGS.get(measurement, (frozenset(), lambda _tags: {}))
    attributes = {**{k: v for k, v in others.items() if k not in consumed}, **make(tags), **known.attributes}
    return known.name, known.unit, known.type, value * known.scale, attributes


def _ipmi(tags: dict[str, str]) -> Semantic | None:
    return _IPMI_UNITS.get(tags.get("unit", ""))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("_") or "_"
