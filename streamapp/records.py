"""Records: the schema of every message on a Kafka topic and a Redis stream.

Field names on Redis equal the record field names, and every Redis value is a string: text as is,
booleans `true`/`false`, numbers in decimal, lists and objects as JSON. The names and encodings of
the system this replaces (see the contract doc) are kept; new fields are only added.
`tests/unit/test_records.py` pins every contract.
"""

from __future__ import annotations

import json
import operator
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import faust
import orjson

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

    `logs` items are `{id, templated, raw, component, pid, time}`; `id` is the line id in `logs`; `read`,
    when present, is the template with the masked values that say something put back (what the offline
    classifier reads: `streamapp.classify.features.spoken`).
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

    @classmethod
    def of(cls, stage: str, ref: str, *, stream: str, reason: str, payload: str | bytes, at: float,
           prefix: str = "", original_id: str = "") -> DeadLetter:
        """The one way a dead letter is made. Its id, `<prefix or stage>:<ref>` (`ref`: where the input
        was, e.g. a stream entry id or `topic/partition/offset`), is stable, so a replay parks nothing
        new. The reason is capped at `REASON_CHARS`; bytes become a printable preview of their first
        `PAYLOAD_LIMIT` (invalid UTF-8 escaped); text is kept as the caller bounded it."""
        if isinstance(payload, bytes):
            payload = payload[:PAYLOAD_LIMIT].decode("utf-8", "backslashreplace")
        return cls(id=f"{prefix or stage}:{ref}", reason=reason[:REASON_CHARS], stream=stream,
                   original_id=original_id or ref, payload=payload, failed_at=at, stage=stage)


REASON_CHARS = 500
PAYLOAD_LIMIT = 2048  # bytes of a binary payload kept in a dead letter (callers cap text alike)


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


@dataclass(frozen=True)
class IssueLines:
    """A consumer batch's lines of one partition, grouped by aggregation key (`groups`: key ->
    ParsedEvents, in order): one message per partition per batch, not one per key."""

    key: str
    groups: dict[str, list[ParsedEvent]] = field(default_factory=dict)
    kind: ClassVar[str] = "lines"

    def line_ids(self) -> list[str]:
        return [e.id for events in self.groups.values() for e in events]

    def dumps(self) -> bytes:
        rows = {key: [_event_row(e) for e in events] for key, events in self.groups.items()}
        return orjson.dumps({"kind": self.kind, "key": self.key, "fields": EVENT_FIELDS, "groups": rows, "actions": []})


@dataclass(frozen=True)
class IssueSweep:
    """The sweep timer's decisions for a partition's issues (`actions` items are
    `[close|purge, key, version, reason]`): only stream iteration may change a table, so the timer
    asks instead of acting."""

    key: str
    actions: list[list] = field(default_factory=list)
    kind: ClassVar[str] = "sweep"

    def line_ids(self) -> list[str]:
        return []

    def dumps(self) -> bytes:
        return orjson.dumps({"kind": self.kind, "key": self.key, "fields": [], "groups": {}, "actions": self.actions})


@dataclass(frozen=True)
class IssueSignals:
    """The patterns agent's novelty and rate signals (`groups`: key -> signal dicts) for the issues
    of those keys."""

    key: str
    groups: dict[str, list[dict]] = field(default_factory=dict)
    kind: ClassVar[str] = "signals"

    def line_ids(self) -> list[str]:
        return []

    def dumps(self) -> bytes:
        return orjson.dumps({"kind": self.kind, "key": self.key, "fields": [], "groups": self.groups, "actions": []})


IssueCommand = IssueLines | IssueSweep | IssueSignals


class IssueEvents:
    """The messages of the issue-events topic, each sent to the partition of the keys it concerns:
    `IssueLines`, `IssueSweep`, `IssueSignals`. `IssueEvents(kind=..., ...)` makes the one of that
    kind; `IssueEvents.loads` reads any.

    On Kafka: JSON `{"kind", "key", "fields", "groups", "actions"}`, encoded once per record; for
    lines, each event is a row of its values in the order `fields` names (rows parse several times
    faster than objects, and a reader maps by name when its fields differ)."""

    def __new__(cls, kind: str, key: str, groups: dict[str, list] | None = None,  # type: ignore[misc]
                actions: list[list] | None = None) -> IssueCommand:
        return issue_command(kind, key, groups or {}, actions or [])

    @staticmethod
    def loads(data: bytes) -> IssueCommand:
        """Decode a record (ValueError/TypeError/KeyError on a malformed one)."""
        obj = orjson.loads(data)
        groups = obj.get("groups", {})
        if obj["kind"] == "lines":
            decode = _event_decoder(tuple(obj["fields"]))
            groups = {key: [decode(row) for row in rows] for key, rows in groups.items()}
        return issue_command(obj["kind"], obj["key"], groups, obj.get("actions", []))


def issue_command(kind: str, key: str, groups: dict[str, list], actions: list[list]) -> IssueCommand:
    if kind == "lines":
        return IssueLines(key, groups)
    if kind == "sweep":
        return IssueSweep(key, actions)
    if kind == "signals":
        return IssueSignals(key, groups)
    raise ValueError(f"unknown issue-events kind {kind!r}")


EVENT_FIELDS: tuple[str, ...] = tuple(ParsedEvent.__slots__)  # type: ignore[attr-defined]
_event_row = operator.attrgetter(*EVENT_FIELDS)


def _event_decoder(fields: tuple[str, ...]) -> Callable[[list], ParsedEvent]:
    """Rows in our own field order become events directly; a producer with other fields (newer or
    older) is read by name, fields this version does not know ignored."""
    if fields == EVENT_FIELDS:
        return lambda row: ParsedEvent(*row)
    known = [(i, name) for i, name in enumerate(fields) if name in EVENT_FIELDS]
    return lambda row: ParsedEvent(**{name: row[i] for i, name in known})


# A `logs` record holds at most this many lines, so (record offset, index in it) folds into one
# increasing position per partition (BRIDGE_BATCH_SIZE, the most one read returns, is below it).
LINES_PER_RECORD = 100_000


@dataclass(frozen=True, slots=True)
class RawLine:
    """One line of a `LineBatch`: the fields of `LogLine` (a test keeps them equal) without a
    Faust record's construction cost, which is paid per line on the hot path."""

    id: str
    source: str
    line: str
    source_id: str = ""


@dataclass(frozen=True)
class LineBatch:
    """The value of the Kafka topic `logs`: the lines one bridge read (XREADGROUP) had for one
    partition, in their Redis order; one record per partition per read, not one per line.

    On Kafka: JSON `{"lines": [[id, source, line, source_id], ...]}`."""

    lines: list[RawLine]

    def dumps(self) -> bytes:
        return orjson.dumps({"lines": [_line_row(x) for x in self.lines]})

    @classmethod
    def loads(cls, data: bytes) -> LineBatch:
        """Decode a record (ValueError/TypeError on a malformed one)."""
        return cls([RawLine(*item) for item in orjson.loads(data)["lines"]])


_line_row = operator.attrgetter("id", "source", "line", "source_id")


def line_position(offset: int, index: int) -> int:
    """Where a line sits in its `logs` partition: its record's offset and its index in the record
    as one number that grows with both (what the aggregator's replay check compares)."""
    return offset * LINES_PER_RECORD + index


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
