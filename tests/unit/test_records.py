"""Pins the Redis contract: stream field names and string encodings. A renamed or removed field
fails here; new fields must be added to PINNED deliberately."""

from __future__ import annotations

import json

import pytest

from streamapp.records import (
    CONTRACT_STREAMS,
    Alert,
    ClosedIssue,
    ClusterCandidate,
    DeadLetter,
    IssueCandidate,
    IssueEvents,
    IssueLines,
    IssueSignals,
    IssueSweep,
    LineCandidate,
    LogLine,
    Metric,
)

# Fields of the system this replaces (contract doc): they must stay, with the same meaning.
LEGACY = {
    LogLine: {"source", "line", "source_id"},
    Metric: {"name", "type", "value", "unit", "resource", "attributes"},
    IssueCandidate: {"os", "issue_key", "templated_summary", "logs"},
    LineCandidate: {"os", "raw", "templated", "rule_label", "rule_score", "nearest_distance", "nearest_label"},
    ClusterCandidate: {"os", "cluster_id", "env_ids", "sample_logs"},
    Alert: {
        "type", "os", "issue_key", "is_hardware_failure", "failure_type", "confidence", "result", "log_ids",
        "cluster_id", "env_id", "env_ids", "evidence_logs",
    },
}
# Every field written to Redis today (legacy plus the fields the new stages added).
PINNED = {
    LogLine: LEGACY[LogLine],
    Metric: LEGACY[Metric] | {"id", "time"},
    IssueCandidate: LEGACY[IssueCandidate] | {
        "id", "host", "component", "pid", "first_ts", "last_ts", "line_count", "template_ids", "severity",
        "signals", "hints", "kind", "pattern_signals",
    },
    LineCandidate: LEGACY[LineCandidate] | {
        "id", "template_id", "kind", "host", "component", "pid", "severity", "hints", "item",
    },
    ClusterCandidate: LEGACY[ClusterCandidate] | {"id", "member_count", "template_ids", "label"},
    Alert: LEGACY[Alert] | {
        "id", "host", "component", "severity", "summary", "template_ids", "prototype_id", "classifier", "created_at",
        "group_key", "hosts", "host_count", "hosts_unlisted", "occurrences", "first_seen", "last_seen", "llm_only",
    },
    DeadLetter: {"id", "reason", "stream", "original_id", "payload", "failed_at", "stage"},
    ClosedIssue: {
        "id", "os", "issue_key", "key", "host", "component", "pid", "line_count", "emitted", "severity",
        "close_reason", "first_ts", "last_ts",
    },
}

EXAMPLES = [
    LogLine(id="1-0", source="Linux.log", line="Jun 14 15:16:01 combo sshd[1]: hi", source_id="3"),
    Metric(id="m1", name="hw.temperature", value=41.5, unit="Cel", resource={"host.name": "h"}, attributes={"a": 1}),
    IssueCandidate(
        id="i1", os="linux", issue_key="linux|sshd|19939", templated_summary="a <*> \nb",
        logs=[{"id": "1-0", "templated": "a <*>", "raw": "a 1", "component": "sshd", "pid": "19939", "time": 1.0}],
        template_ids=["t1"], line_count=1,
    ),
    LineCandidate(
        id="l1", os="linux", raw="x", templated="x", rule_label="disk", rule_score=0.9, nearest_distance=0.1,
        nearest_label="disk",
    ),
    ClusterCandidate(id="c1", os="linux", cluster_id="p1", env_ids=["1-0"], sample_logs=[{"raw": "x"}]),
    Alert(
        id="a1", type="issue", os="linux", failure_type="hardware_disk", confidence=0.87, result={"k": [1]},
        is_hardware_failure=True, issue_key="linux|kernel|nopid", log_ids=["1-0", "2-0"],
    ),
    DeadLetter(id="d", reason="bad", stream="logs", original_id="1-0", payload="x", failed_at=1.5),
    ClosedIssue(
        id="i1", os="linux", issue_key="linux|sshd|1", key="linux|h|sshd|1", host="h", component="sshd", pid="1",
        line_count=3, emitted=False, severity="info", close_reason="inactivity", first_ts=1.0, last_ts=2.0,
        issue={"key": "linux|h|sshd|1"},
    ),
]


@pytest.mark.parametrize("record", EXAMPLES, ids=lambda r: type(r).__name__)
def test_field_names_are_pinned(record) -> None:
    fields = record.to_redis()
    assert set(fields) == PINNED[type(record)]
    assert LEGACY.get(type(record), set()) <= set(fields)
    assert all(isinstance(v, str) for v in fields.values()), "every Redis value is a string"


@pytest.mark.parametrize("record", EXAMPLES, ids=lambda r: type(r).__name__)
def test_redis_round_trip(record) -> None:
    raw = {k.encode(): v.encode() for k, v in record.to_redis().items()}
    back = type(record).from_redis(raw, **({"id": record.id} if "id" in type(record).redis_exclude else {}))
    for name, value in record.to_redis().items():
        assert back.to_redis()[name] == value


def test_encodings_match_the_legacy_system() -> None:
    alert = EXAMPLES[5].to_redis()
    assert alert["is_hardware_failure"] == "true"
    assert alert["confidence"] == "0.87"
    assert json.loads(alert["log_ids"]) == ["1-0", "2-0"]
    assert json.loads(alert["result"]) == {"k": [1]}
    assert Alert(id="b", type="cluster", os="x", failure_type="y", confidence=1.0, result={}).to_redis()[
        "is_hardware_failure"
    ] == "false"
    assert json.loads(EXAMPLES[1].to_redis()["resource"]) == {"host.name": "h"}
    assert EXAMPLES[1].to_redis()["type"] == "gauge"


def test_every_contract_stream_has_records() -> None:
    assert set(CONTRACT_STREAMS) >= {"logs", "metrics", "issues_candidates", "clusters_candidates", "alerts"}
    for records in CONTRACT_STREAMS.values():
        assert all(r in PINNED for r in records)


def test_defaults_are_not_shared_between_records() -> None:
    a = Alert(id="1", type="issue", os="x", failure_type="y", confidence=1.0, result={})
    b = Alert(id="2", type="issue", os="x", failure_type="y", confidence=1.0, result={})
    a.log_ids.append("1-0")
    assert b.log_ids == []


def test_one_factory_makes_every_dead_letter() -> None:
    """Stable ids (a replay parks nothing new), bounded reason and payload, bytes shown printable."""
    from streamapp.records import PAYLOAD_LIMIT, REASON_CHARS

    kafka = DeadLetter.of("enricher", "alerts/3/42", stream="alerts", reason="x" * 900, payload=b"\xff" + b"a" * 5000,
                          at=2.0, original_id="a-1")
    assert (kafka.id, kafka.original_id, kafka.stage) == ("enricher:alerts/3/42", "a-1", "enricher")
    assert len(kafka.reason) == REASON_CHARS and kafka.payload == "\\xff" + "a" * (PAYLOAD_LIMIT - 1)
    def entry() -> DeadLetter:
        return DeadLetter.of("bridge_in", "1-0", prefix="logs", stream="logs", reason="bad", payload="line", at=1.0)

    assert (entry().id, entry().original_id, entry().payload) == ("logs:1-0", "1-0", "line")
    assert entry() == entry(), "the same input makes the same letter"


def test_issue_events_carry_three_frozen_messages_in_one_wire_format() -> None:
    """Lines, a sweep and signals are types of their own; on Kafka they keep the one JSON layout
    (`kind`, `key`, `fields`, `groups`, `actions`), so workers of both sides of a rolling upgrade agree."""
    import dataclasses

    import orjson

    sweep, signals = IssueSweep("sweep:1", [["close", "k", 3, "inactivity"]]), IssueSignals("signals:0", {"k": [{}]})
    assert orjson.loads(sweep.dumps()) == {"kind": "sweep", "key": "sweep:1", "fields": [], "groups": {},
                                           "actions": [["close", "k", 3, "inactivity"]]}
    assert orjson.loads(signals.dumps())["groups"] == {"k": [{}]}
    lines = IssueLines("lines:0", {})
    for cmd in (sweep, signals, lines):
        assert type(IssueEvents.loads(cmd.dumps())) is type(cmd) and IssueEvents.loads(cmd.dumps()) == cmd
        with pytest.raises(dataclasses.FrozenInstanceError):
            cmd.key = "other"  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown issue-events kind"):
        IssueEvents.loads(b'{"kind": "purge-all", "key": "x"}')
