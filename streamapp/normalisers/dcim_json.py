"""Generic JSON DCIM status pages (a PDU's, a UPS's, a sensor hub's) as metrics and states, by
extraction rules a `dcim_http` source in `json` mode carries in its config:

    "metrics": [{"each": "$.Outputs[*]", "value": "$.Load", "name": "hw.power", "unit": "W",
                 "labels": {"hw.id": "$.ID", "hw.name": "$.Name"}, "scale": 1, "type": "gauge"}],
    "states":  [{"each": "$.Outputs[*]", "value": "$.State", "ok": [1], "subject": "$.Name",
                 "name": "outlet state", "labels": {"hw.id": "$.ID"}}]

`each` (default `$`, the document) selects the items a rule reads; the other paths are relative to
one item. `name`, `unit` and `subject` are text, or a path when they start with `$`; label values
likewise. A metric's value must be a number (or a numeric string); `scale` multiplies it (mA -> A:
0.001). A state whose value is not in `ok` is an alarm: the producer logs it once when it starts
or changes and once when it clears (`connectors.sources.alarms`).

Paths: `$`, then any of `.key`, `['key']`, `[n]`, `[*]` (every element) and `.*` (every value of
an object). Pure and bounded: at most MAX_POINTS points and MAX_STATES states per document.

The producer writes the points as a `{"schema": "dcim_json"}` payload line on `logs`; `normalise`
turns it into metrics.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from streamapp.errors import ConfigError
from streamapp.records import Metric

MAX_POINTS = 10_000
MAX_STATES = 1_000
MAX_RULES = 200
_STEP = re.compile(r"""\.(?P<key>[A-Za-z0-9_@$-]+)|(?P<wild>\.\*|\[\*\])|\[(?P<index>-?\d+)\]"""
                   r"""|\[(?P<q>['"])(?P<quoted>[^'"]*)(?P=q)\]""")
_METRIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_./-]{0,254}")
WILD = object()  # a `[*]` / `.*` step


@dataclass(frozen=True)
class JsonPath:
    text: str
    steps: tuple[Any, ...]  # str (key), int (index) or WILD

    def select(self, doc: Any) -> list[Any]:
        """Every value the path reaches in `doc` (none when a step does not apply)."""
        current = [doc]
        for step in self.steps:
            nxt: list[Any] = []
            for value in current:
                if step is WILD:
                    nxt.extend(value.values() if isinstance(value, dict) else value if isinstance(value, list) else ())
                elif isinstance(step, int):
                    if isinstance(value, list) and -len(value) <= step < len(value):
                        nxt.append(value[step])
                elif isinstance(value, dict) and step in value:
                    nxt.append(value[step])
            current = nxt
        return current

    def first(self, doc: Any) -> Any:
        found = self.select(doc)
        return found[0] if found else None


def json_path(text: Any, where: str) -> JsonPath:
    """Compile `text`; ConfigError naming `where` when it is not a path of the syntax above."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise ConfigError(f"{where}: a JSON path starting with '$' (got {text!r})")
    steps: list[Any] = []
    pos = 1
    while pos < len(text):
        m = _STEP.match(text, pos)
        if m is None:
            raise ConfigError(f"{where}: cannot read {text!r} at {text[pos:pos + 20]!r}")
        if m["wild"]:
            steps.append(WILD)
        elif m["index"] is not None:
            steps.append(int(m["index"]))
        else:
            steps.append(m["key"] if m["key"] is not None else m["quoted"])
        pos = m.end()
    return JsonPath(text, tuple(steps))


@dataclass(frozen=True)
class Value:
    """A rule field that is either fixed text or read from the item by a path."""

    text: str
    path: JsonPath | None = None

    def of(self, item: Any) -> str:
        if self.path is None:
            return self.text
        found = self.path.first(item)
        return "" if found is None or isinstance(found, dict | list) else str(found)


def _value(raw: Any, where: str, default: str = "") -> Value:
    if raw is None:
        return Value(default)
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ConfigError(f"{where}: text, or a JSON path starting with '$'")
    raw = str(raw)
    return Value(raw, json_path(raw, where)) if raw.startswith("$") else Value(raw)


@dataclass(frozen=True)
class MetricRule:
    each: JsonPath
    value: JsonPath
    name: Value
    unit: Value
    labels: tuple[tuple[str, Value], ...]
    scale: float
    kind: str


@dataclass(frozen=True)
class StateRule:
    each: JsonPath
    value: JsonPath
    ok: frozenset[str]
    subject: Value
    name: str
    labels: tuple[tuple[str, Value], ...]


@dataclass(frozen=True)
class Rules:
    metrics: tuple[MetricRule, ...]
    states: tuple[StateRule, ...]


def parse_rules(config: dict[str, Any]) -> Rules:
    """The `metrics` and `states` rules of a source's config; ConfigError naming the failing field."""
    metrics, states = config.get("metrics", []), config.get("states", [])
    for key, rules in (("metrics", metrics), ("states", states)):
        if not isinstance(rules, list) or len(rules) > MAX_RULES:
            raise ConfigError(f"{key}: a list of at most {MAX_RULES} rules")
    if not metrics and not states:
        raise ConfigError("metrics: at least one metric or state rule is needed")
    return Rules(tuple(_metric_rule(r, f"metrics[{i}]") for i, r in enumerate(metrics)),
                 tuple(_state_rule(r, f"states[{i}]") for i, r in enumerate(states)))


def _common(rule: Any, where: str, allowed: set[str]) -> tuple[JsonPath, JsonPath, tuple[tuple[str, Value], ...]]:
    if not isinstance(rule, dict):
        raise ConfigError(f"{where}: an object")
    if unknown := set(rule) - allowed:
        raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown (known: {', '.join(sorted(allowed))})")
    labels = rule.get("labels", {})
    if not isinstance(labels, dict):
        raise ConfigError(f"{where}.labels: an object of label name -> text or path")
    return (json_path(rule.get("each", "$"), f"{where}.each"), json_path(rule.get("value"), f"{where}.value"),
            tuple((str(k), _value(v, f"{where}.labels.{k}")) for k, v in labels.items()))


def _metric_rule(rule: Any, where: str) -> MetricRule:
    each, value, labels = _common(rule, where, {"each", "value", "name", "unit", "labels", "scale", "type"})
    if "name" not in rule:
        raise ConfigError(f"{where}.name: a metric name, or a path to one")
    name = _value(rule["name"], f"{where}.name")
    if name.path is None and not _METRIC_NAME.fullmatch(name.text):
        raise ConfigError(f"{where}.name: letters, digits and ._/- (got {name.text!r})")
    scale = rule.get("scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale):
        raise ConfigError(f"{where}.scale: a number")
    kind = rule.get("type", "gauge")
    if kind not in ("gauge", "counter", "updowncounter"):
        raise ConfigError(f"{where}.type: gauge, counter or updowncounter")
    return MetricRule(each, value, name, _value(rule.get("unit"), f"{where}.unit"), labels, float(scale), kind)


def _state_rule(rule: Any, where: str) -> StateRule:
    each, value, labels = _common(rule, where, {"each", "value", "ok", "subject", "name", "labels"})
    ok = rule.get("ok")
    if not isinstance(ok, list) or not ok or not all(isinstance(x, str | int | float | bool) for x in ok):
        raise ConfigError(f"{where}.ok: a non-empty list of the normal values")
    name = rule.get("name", "state")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}.name: what the value is (e.g. 'outlet state')")
    return StateRule(each, value, frozenset(_text(x) for x in ok), _value(rule.get("subject"), f"{where}.subject"),
                     name.strip(), labels)


def _text(value: Any) -> str:
    """A JSON scalar as compared with `ok` values: true/false, integers without `.0`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


Point = tuple[str, float, str, str, dict[str, str]]  # name, value, unit, type, attributes
Alarm = tuple[str, str, str]  # subject, problem, detail (as `connectors.sources.alarms` wants)


def points(doc: Any, rules: Rules) -> Iterator[Point]:
    """The metric points the rules find in `doc` (at most MAX_POINTS)."""
    count = 0
    for rule in rules.metrics:
        for item in rule.each.select(doc):
            for raw in rule.value.select(item):
                number = _number(raw)
                name = rule.name.of(item)
                if number is None or not _METRIC_NAME.fullmatch(name):
                    continue
                attrs = {k: v.of(item) for k, v in rule.labels}
                yield name, number * rule.scale, rule.unit.of(item), rule.kind, attrs
                count += 1
                if count >= MAX_POINTS:
                    return


def alarms(doc: Any, rules: Rules) -> dict[str, Alarm]:
    """States not in their `ok` values, keyed stably (rule, subject, labels), at most MAX_STATES."""
    out: dict[str, Alarm] = {}
    for i, rule in enumerate(rules.states):
        for item in rule.each.select(doc):
            found = rule.value.first(item)
            if found is None or isinstance(found, dict | list):
                continue
            value = _text(found)
            if value in rule.ok:
                continue
            labels = {k: v.of(item) for k, v in rule.labels}
            subject = rule.subject.of(item) or rule.name
            key = f"{i}|{subject}|{sorted(labels.items())}"
            where = ", ".join(f"{k} {v}" for k, v in labels.items() if v)
            problem = f"{rule.name} {value} (normal: {', '.join(sorted(rule.ok))})"
            out[key] = (subject if not where else f"{subject} ({where})", problem, "")
            if len(out) >= MAX_STATES:
                return out
    return out


def normalise(line_id: str, payload: dict[str, Any]) -> list[Metric]:
    """A `{"schema": "dcim_json", "host", "url", "time", "points": [[name, value, unit, type, attrs]]}`
    payload as metrics; malformed points are skipped."""
    resource = {"host.name": str(payload.get("host", "")), "dcim.url": str(payload.get("url", ""))}
    when = float(payload.get("time", 0) or 0)
    out = []
    for i, point in enumerate(payload.get("points") or []):
        if not isinstance(point, list) or len(point) != 5:
            continue
        name, value, unit, kind, attrs = point
        number = _number(value)
        if number is None or not isinstance(attrs, dict):
            continue
        out.append(Metric(id=f"{line_id}#{i}", name=str(name), value=number, type=str(kind), unit=str(unit),
                          resource=resource, attributes={str(k): str(v) for k, v in attrs.items()}, time=when))
    return out
