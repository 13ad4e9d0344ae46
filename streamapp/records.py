"""Records: the schema of every message on a Kafka topic and a Redis stream.

Field names on Redis equal the record field names, and every Redis value is a string: text as is,
booleans `true`/`false`, numbers in decimal, lists and objects as JSON. The names and encodings of
the system this replaces (see the contract doc) are kept; new fields are only added.
`tests/unit/test_records.py` pins every contract.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import faust

R = TypeVar("R", bound="StreamRecord")


class Record(faust.Record, abstract=True, serializer="json", include_metadata=False):  # type: ignore[call-arg]
    """Base of every record: JSON on Kafka, and list/dict defaults that are not shared."""

    def __post_init__(self) -> None:
        # Faust shares a default object between instances; give each record its own list/dict.
        for name, default in self._options.defaults.items():
            if isinstance(default, list | dict) and getattr(self, name) is default:
                setattr(self, name, type(default)())


class StreamRecord(Record, abstract=True):  # type: ignore[call-arg]
    """A record that is also a Redis stream entry. `id` is stable: replays carry the same id."""

    # Kafka side only: never written to Redis (e.g. the entry id of `logs`, which is the key).
    redis_exclude: ClassVar[frozenset[str]] = frozenset()

    def to_redis(self) -> dict[str, str]:
        """Encode as Redis stream fields (all strings)."""
        return {
            name: encode_value(getattr(self, name))
            for name in self._options.fields
            if name not in self.redis_exclude
        }

    @classmethod
    def from_redis(cls: type[R], fields: Mapping[bytes | str, bytes | str], **extra: Any) -> R:
        """Decode Redis stream fields back into the record (the inverse of `to_redis`); `extra`
        supplies fields that are not stored as fields (the entry id of a `logs` line)."""
        text = {_text(k): _text(v) for k, v in fields.items()}
        hints = typing.get_type_hints(cls)
        kwargs = {name: decode_value(hints[name], text[name]) for name in cls._options.fields if name in text}
        return cls(**kwargs, **extra)


def _text(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v


def encode_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, faust.Record):
        return value.asdict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def decode_value(hint: Any, raw: str) -> Any:
    origin = typing.get_origin(hint) or hint
    if origin is bool:
        return raw == "true"
    if origin is int:
        return int(raw)
    if origin is float:
        return float(raw)
    if origin in (list, dict):
        return json.loads(raw) if raw else origin()
    return raw


# ------------------------------------------------------------------------------------------- logs
class LogLine(StreamRecord):
    """One raw line from a source (Redis stream `logs` -> Kafka topic `logs`).

    `id` is the Redis entry id of the line in `logs`: the stable line id every later stage cites.
    """

    redis_exclude = frozenset({"id"})

    id: str
    source: str
    line: str
    source_id: str = ""


# ---------------------------------------------------------------------------------------- metrics
class Metric(StreamRecord):
    """A normalised metric (OpenTelemetry semantic names where they exist)."""

    id: str
    name: str
    value: float
    type: str = "gauge"
    unit: str = ""
    resource: dict = {}
    attributes: dict = {}
    time: float = 0.0


# ------------------------------------------------------------------------------------- candidates
class IssueCandidate(StreamRecord):
    """An aggregated issue closed by the aggregator (stream `issues_candidates`).

    `logs` items are `{id, templated, raw, component, pid, time}`; `id` is the line id in `logs`.
    """

    id: str
    os: str
    issue_key: str
    templated_summary: str
    logs: list
    host: str = ""
    component: str = ""
    pid: str = ""
    first_ts: float = 0.0
    last_ts: float = 0.0
    line_count: int = 0
    template_ids: list = []
    severity: str = "info"
    signals: list = []  # rule hits: {rule, hits}
    hints: dict = {}  # failure type -> summed rule score
    kind: str = "issue"
    # novelty and rate signals of its templates: {rule, template_id, template, count, t, baseline,
    # os_templates, bucket_sec} (`streamapp.patterns`)
    pattern_signals: list = []


class LineCandidate(StreamRecord):
    """A single line with an error signal, sent straight on (`ENABLE_PER_LINE_CANDIDATES`) and
    classified into an alert like a one-line issue. `item` is the line as an issue's `logs` item."""

    id: str
    os: str
    raw: str
    templated: str
    rule_label: str
    rule_score: float
    nearest_distance: float
    nearest_label: str
    template_id: str = ""
    kind: str = "line"
    host: str = ""
    component: str = ""
    pid: str = ""
    severity: str = "info"
    hints: dict = {}  # failure type -> rule score
    item: dict = {}


class ClusterCandidate(StreamRecord):
    """A prototype that crossed its size threshold (stream `clusters_candidates`).

    `env_ids` are the line ids of the cluster's evidence in `logs_<os>`; `sample_logs` items are
    `{raw, templated, os, source, env_id}`.
    """

    id: str
    os: str
    cluster_id: str
    env_ids: list
    sample_logs: list
    member_count: int = 0
    template_ids: list = []
    label: str = ""


# ----------------------------------------------------------------------------------------- alerts
class Alert(StreamRecord):
    """A classified alert (stream `alerts`, hash `alert:<id>`). `type` is `issue` or `cluster`.

    Issue alerts fill `issue_key` and `log_ids`; cluster alerts fill `cluster_id`, `env_id`,
    `env_ids` and `evidence_logs` (items `{id, templated, raw, source, os, env_id}`).
    An issue alert speaks for its group (`streamapp.alert_groups`): the same failure on other
    hosts within the window joins it instead of raising another. The group fields (`hosts` items
    `{host, count, first_seen, last_seen, evidence: [{id, raw}]}`) are as of the alert's creation
    on the stream, and kept current on the `alert:<id>` hash.
    """

    id: str
    type: str
    os: str
    failure_type: str
    confidence: float
    result: dict
    is_hardware_failure: bool = False
    issue_key: str = ""
    log_ids: list = []
    cluster_id: str = ""
    env_id: str = ""
    env_ids: list = []
    evidence_logs: list = []
    host: str = ""
    component: str = ""
    severity: str = "info"
    summary: str = ""
    template_ids: list = []
    prototype_id: str = ""
    classifier: str = ""
    llm_only: bool = False  # the verdict is an LLM's that nothing else (rules, text, operators) supports
    created_at: float = 0.0
    group_key: str = ""
    hosts: list = []
    host_count: int = 0
    hosts_unlisted: int = 0  # occurrences on hosts past the listed ones
    occurrences: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0


class ClosedIssue(StreamRecord):
    """Every closed issue, candidate or not (stream `issues_closed`): accounting of all lines, and
    the clustering agent's input (`issue`, the whole OpenIssue, stays on Kafka)."""

    redis_exclude = frozenset({"issue"})

    id: str
    os: str
    issue_key: str
    key: str
    host: str
    component: str
    pid: str
    line_count: int
    emitted: bool
    severity: str
    close_reason: str
    first_ts: float
    last_ts: float
    issue: dict = {}


# ------------------------------------------------------------------------------------ dead letters
class DeadLetter(StreamRecord):
    """Input that can never be processed, kept with its reason (stream `deadletter`)."""

    id: str
    reason: str
    stream: str
    original_id: str
    payload: str
    failed_at: float
    stage: str = ""  # what failed: the bridge, an agent's name, `decode` (entries before it have none)


# --------------------------------------------------------------------- internal topics and state
@dataclass(slots=True)
class ParsedEvent:
    """One parsed, mined line, as the consumer hands it to the aggregator (inside `IssueEvents`).

    A slotted dataclass, not a faust.Record: it is built and read once per line on the hot path,
    where Faust's field descriptors cost about a third of the aggregator's time."""

    id: str
    source: str
    os: str
    host: str
    component: str
    pid: str
    level: str
    timestamp: str
    t: float  # ingest time (clock), used for windows and to find the line again in `logs_<os>`
    template_id: str
    template: str
    params: list
    raw: str
    severity: str = "info"
    signals: list = field(default_factory=list)  # rule hits: {rule, severity, failure_type, score, ignore}
    source_id: str = ""
    nearest_label: str = ""
    nearest_distance: float = 1.0
    src: int = -1  # the `logs` partition and offset the line was read at (replay detection)
    off: int = -1
    headline: str = ""  # a continuation line: the id of the line that opened its event

    def asdict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


class IssueEvents(Record):
    """A command on the issue-events topic, sent to the partition of the keys it concerns. `lines`
    carries a consumer batch's lines of that partition, grouped by aggregation key (`groups`: key
    -> ParsedEvent dicts, in order): one message per partition per batch, not one per key. `sweep`
    carries the timer's decisions for the partition's issues (`actions` items are
    `[close|purge, key, version, reason]`): only stream iteration may change a table, so the
    timer asks instead of acting. `signals` carries the patterns agent's novelty and rate signals
    (`groups`: key -> signal dicts) for the issues of those keys."""

    kind: str  # lines | sweep | signals
    key: str
    groups: dict = {}  # for kind=lines and kind=signals
    actions: list = []  # for kind=sweep

    def line_ids(self) -> list[str]:
        if self.kind != "lines":
            return []
        return [e["id"] for events in self.groups.values() for e in events]


class PatternCounts(Record):
    """A consumer batch's lines of one OS, for the patterns agent (keyed by OS): `rows` items are
    `[template id, host, aggregation key, logs partition, offset]`, `templates` maps ids to texts,
    `renamed` lists the miner's `[old id, new id]` (a template generalised or merged)."""

    os: str
    t: float
    templates: dict = {}
    rows: list = []
    renamed: list = []


class PrototypeCommand(Record):
    """A change to the prototypes of one OS, keyed by OS so the agent that owns those prototypes
    applies it in order: `label` (a classifier's verdict on a cluster; never overrides an
    operator's) or `feedback` (operators' verdicts on alerts; `items` are feedback entries)."""

    kind: str  # label | feedback
    os: str
    prototype_id: str = ""
    label: str = ""
    confidence: float = 0.0
    labelled_by: str = ""
    items: list = []
    at: float = 0.0


CONTRACT_STREAMS: dict[str, tuple[type[StreamRecord], ...]] = {
    "logs": (LogLine,),
    "metrics": (Metric,),
    "issues_candidates": (IssueCandidate, LineCandidate),
    "clusters_candidates": (ClusterCandidate,),
    "alerts": (Alert,),
    "deadletter": (DeadLetter,),
    "issues_closed": (ClosedIssue,),
}
