"""Metric payloads on `logs` are recognised cheaply and normalised with replay-stable ids."""

from __future__ import annotations

import json

from streamapp.metrics import metric_payload, normalise


def test_ordinary_lines_are_not_metrics() -> None:
    assert metric_payload("Jun 14 15:16:01 host kernel: metric value 3") is None
    assert metric_payload('{"message": "hello"}') is None
    assert metric_payload("{not json") is None


def test_passthrough_single_and_batch() -> None:
    one = json.dumps({"metric": "hw.temperature", "value": 71.5, "unit": "Cel", "resource": {"host.name": "h1"}})
    (m,) = normalise("9-0", metric_payload(one))
    assert (m.id, m.name, m.value, m.unit, m.resource) == ("9-0#0", "hw.temperature", 71.5, "Cel", {"host.name": "h1"})
    batch = json.dumps({"metrics": [{"name": "a", "value": 1}, {"name": "b", "value": "x"}, {"name": "c", "value": 2}]})
    out = normalise("10-0", metric_payload(batch))
    assert [(x.id, x.name) for x in out] == [("10-0#0", "a"), ("10-0#2", "c")], "non-numeric values are dropped"


def test_nan_and_booleans_are_dropped() -> None:
    bad = json.dumps({"metrics": [{"name": "a", "value": True}]}).replace("true", "true")
    assert normalise("1-0", metric_payload(bad)) == []
    assert normalise("1-0", {"metric": "x", "value": float("nan")}) == []
