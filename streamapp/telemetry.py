"""What the pipeline measures, kept without OpenTelemetry (the OTLP exporter reads it):

- `count(name, n)` / `gauge(name, value)`: the pipeline's own health, called from the agents
  (one line each; nothing here can raise or block);
- `LatestValues`: the latest value of every normalised metric series, which the exporter
  observes.

Both are read from the exporter's collection thread, hence the locks.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from streamapp.clock import Clock, SystemClock
from streamapp.records import Metric

# name -> (instrument kind, unit, description) of the pipeline's own metrics.
HEALTH: dict[str, tuple[str, str, str]] = {
    "streamapp.lines.in": ("counter", "{line}", "Lines the consumer read from `logs`"),
    "streamapp.deadletters": ("counter", "{entry}", "Input parked on the dead-letter stream"),
    "streamapp.dropped": ("counter", "{item}", "Best-effort work dropped at a full bound, by `what`"),
    "streamapp.stage_errors": ("counter", "{error}", "Timer ticks that failed, by stage (the next tick runs)"),
    "streamapp.alerts": ("counter", "{alert}", "Alerts raised"),
    "streamapp.issues.open": ("gauge", "{issue}", "Issues open in this worker"),
    "streamapp.logs.stalled_groups": ("gauge", "{group}", "Consumer groups of `logs` not moving with work to do"),
    "streamapp.patterns.signals": ("counter", "{signal}", "Novelty and rate signals, by rule"),
    "streamapp.patterns.signals_late": ("counter", "{signal}", "Signals whose issue had closed (dropped)"),
    "streamapp.alertgroups.untracked": ("counter", "{issue}", "Alert group members past the replay-check bound"),
    "streamapp.llm.calls": ("counter", "{call}", "LLM answers asked for"),
    "streamapp.llm.tokens": ("counter", "{token}", "LLM tokens spent, by gen_ai.token.type"),
}

Attributes = tuple[tuple[str, Any], ...]


class Health:
    """Counters and gauges by (name, attributes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, dict[Attributes, float]] = {}

    def count(self, name: str, amount: float = 1, **attributes: str) -> None:
        key = tuple(sorted(attributes.items()))
        with self._lock:
            series = self._values.setdefault(name, {})
            series[key] = series.get(key, 0.0) + amount

    def gauge(self, name: str, value: float, **attributes: str) -> None:
        with self._lock:
            self._values.setdefault(name, {})[tuple(sorted(attributes.items()))] = float(value)

    def read(self, name: str) -> list[tuple[float, dict[str, Any]]]:
        with self._lock:
            return [(value, dict(key)) for key, value in self._values.get(name, {}).items()]


HEALTH_VALUES = Health()
count = HEALTH_VALUES.count
gauge = HEALTH_VALUES.gauge


@dataclass(slots=True)
class Point:
    value: float
    seen_at: float


@dataclass(frozen=True)
class Kind:
    type: str  # gauge | counter | updowncounter
    unit: str


class LatestValues:
    """The latest value per (name, attributes + resource), for observable instruments. Bounded: a
    series not updated for `stale_after_sec` is forgotten, and past `max_series` new series are
    dropped (and counted) until old ones go stale."""

    def __init__(self, max_series: int = 100_000, stale_after_sec: float = 900.0, clock: Clock | None = None) -> None:
        self.max_series = max_series
        self.stale_after_sec = stale_after_sec
        self.clock = clock or SystemClock()
        self.kinds: dict[str, Kind] = {}  # the first type and unit seen for a name win
        self.dropped = 0
        self._series: dict[str, dict[Attributes, Point]] = {}
        self._size = 0
        self._lock = threading.Lock()

    def update(self, metrics: Iterable[Metric]) -> list[str]:
        """Take the metrics in; returns the names never seen before (they need an instrument)."""
        now = self.clock.now()
        new: list[str] = []
        with self._lock:
            for m in metrics:
                if m.name not in self.kinds:
                    self.kinds[m.name] = Kind(m.type, m.unit)
                    self._series[m.name] = {}
                    new.append(m.name)
                series = self._series[m.name]
                key = attributes_key({**m.resource, **m.attributes})
                if key not in series:
                    if self._size >= self.max_series:
                        self.dropped += 1
                        continue
                    self._size += 1
                series[key] = Point(m.value, now)
        return new

    def observe(self, name: str) -> list[tuple[float, dict[str, Any]]]:
        """The fresh values of `name` with their attributes; stale series are forgotten here."""
        horizon = self.clock.now() - self.stale_after_sec
        with self._lock:
            series = self._series.get(name, {})
            stale = [key for key, point in series.items() if point.seen_at < horizon]
            for key in stale:
                del series[key]
            self._size -= len(stale)
            return [(point.value, dict(key)) for key, point in series.items()]


def attributes_key(attributes: dict[str, Any]) -> Attributes:
    """Hashable, OpenTelemetry-valid attributes: str/bool/int/float values, anything else as JSON."""
    return tuple(sorted(
        (str(k), v if isinstance(v, str | bool | int | float) else json.dumps(v, sort_keys=True, default=str))
        for k, v in attributes.items()
    ))
