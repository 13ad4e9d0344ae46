"""The exporter's state without OpenTelemetry: latest value per series (bounded, stale series
forgotten) and the health counters the agents increment."""

from __future__ import annotations

from streamapp.clock import ManualClock
from streamapp.records import Metric
from streamapp.telemetry import Health, LatestValues


def metric(name: str, value: float, **attributes: object) -> Metric:
    return Metric(id="x", name=name, value=value, unit="By", type="counter", resource={"host.name": "h1"},
                  attributes=dict(attributes))


def test_latest_value_per_series_with_the_resource_as_attributes() -> None:
    latest = LatestValues(clock=ManualClock())
    assert latest.update([metric("io", 1, dir="rx"), metric("io", 2, dir="tx")]) == ["io"]
    assert latest.update([metric("io", 5, dir="rx")]) == [], "a known name needs no new instrument"
    assert sorted(latest.observe("io"), key=lambda v: v[0]) == [
        (2, {"dir": "tx", "host.name": "h1"}), (5, {"dir": "rx", "host.name": "h1"})]
    assert (latest.kinds["io"].type, latest.kinds["io"].unit) == ("counter", "By")
    latest.update([metric("odd", 1, nested={"a": [1]})])
    assert latest.observe("odd") == [(1, {"host.name": "h1", "nested": '{"a": [1]}'})]


def test_stale_series_are_forgotten_and_the_size_is_bounded() -> None:
    clock = ManualClock()
    latest = LatestValues(max_series=2, stale_after_sec=60, clock=clock)
    latest.update([metric("a", 1, n=1), metric("a", 1, n=2), metric("a", 1, n=3)])
    assert len(latest.observe("a")) == 2 and latest.dropped == 1
    clock.advance(61)
    latest.update([metric("a", 7, n=2)])
    assert latest.observe("a") == [(7, {"host.name": "h1", "n": 2})]
    latest.update([metric("a", 9, n=3)])
    assert len(latest.observe("a")) == 2, "room again once stale series went"


def test_health_counters_and_gauges() -> None:
    health = Health()
    health.count("lines", 3)
    health.count("lines", 2)
    health.count("dead", 1, stage="bridge")
    health.gauge("open", 4)
    health.gauge("open", 2)
    assert health.read("lines") == [(5.0, {})]
    assert health.read("dead") == [(1.0, {"stage": "bridge"})]
    assert health.read("open") == [(2.0, {})]
    assert health.read("never") == []
