"""Metric payloads on `logs`: recognised, routed to a normaliser by schema, turned into `Metric`
records (OpenTelemetry semantic names where they exist). The SNMP, Redfish and Telegraf
normalisers register themselves here; `passthrough` takes payloads already in our shape."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from streamapp.records import Metric

Normaliser = Callable[[str, dict[str, Any]], list[Metric]]
NORMALISERS: dict[str, Normaliser] = {}


def normaliser(schema: str) -> Callable[[Normaliser], Normaliser]:
    """Register a normaliser for payloads whose `schema` field equals `schema`."""

    def deco(fn: Normaliser) -> Normaliser:
        NORMALISERS[schema] = fn
        return fn

    return deco


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


@normaliser("passthrough")
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


# Last: the schema normalisers register themselves with `normaliser` above.
import streamapp.normalisers  # noqa: E402, F401
