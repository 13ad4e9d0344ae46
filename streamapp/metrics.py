"""Metric payloads on `logs`: recognised, routed to a normaliser by schema, turned into `Metric`
records (OpenTelemetry semantic names where they exist). `NORMALISERS` routes each schema to its
function in `streamapp.normalisers`; `passthrough` takes payloads already in our shape."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from streamapp.normalisers import dcim_json, redfish, snmp, telegraf
from streamapp.records import Metric

Normaliser = Callable[[str, dict[str, Any]], list[Metric]]


def metric_payload(line: str) -> dict[str, Any] | None:
    """The JSON object of a metric payload line, or None for ordinary log lines (cheap pre-check)."""
    if not line.startswith("{") or ('"metric' not in line and '"schema"' not in line):
        return None
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, or a nesting bomb
        return None
    if not isinstance(obj, dict):
        return None
    if obj.get("schema") in NORMALISERS or "metrics" in obj or ("metric" in obj and "value" in obj):
        return obj
    return None


def normalise(line_id: str, payload: dict[str, Any]) -> list[Metric]:
    """Route a payload to its normaliser; ids derive from the line id, so replays dedupe."""
    fn = NORMALISERS.get(str(payload.get("schema", "passthrough")), passthrough)
    return fn(line_id, payload)


def passthrough(line_id: str, payload: dict[str, Any]) -> list[Metric]:
    """`{"metric": name, "value": v, ...}` or `{"metrics": [...]}` already in our metric shape."""
    metrics = payload.get("metrics")
    items: list[Any] = metrics if isinstance(metrics, list) else [payload]
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        name = item.get("metric") or item.get("name")
        value = item.get("value")
        if not name or isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            continue
        out.append(Metric(
            id=f"{line_id}#{i}", name=str(name), value=float(value), type=str(item.get("type", "gauge")),
            unit=str(item.get("unit", "")), resource=_obj(item.get("resource")),
            attributes=_obj(item.get("attributes")), time=float(item.get("time", 0) or 0),
        ))
    return out


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


# payload `schema` -> its normaliser (a payload without one is `passthrough`)
NORMALISERS: dict[str, Normaliser] = {
    "passthrough": passthrough,
    "snmp": snmp.normalise,
    "redfish": redfish.normalise,
    "dcim_json": dcim_json.normalise,
    "telegraf": telegraf.normalise,
}
