"""Every Kafka topic the app uses, declared once with its record type and partition count."""

from __future__ import annotations

from dataclasses import dataclass, fields

import faust

from streamapp.automations.records import AutomationTask
from streamapp.records import (
    Alert,
    ClosedIssue,
    ClusterCandidate,
    DeadLetter,
    IssueCandidate,
    IssueEvents,
    LineBatch,
    LineCandidate,
    Metric,
    PatternCounts,
    PrototypeCommand,
    StreamRecord,
)
from streamapp.settings import Settings


@dataclass(frozen=True)
class Topics:
    """The app's topics. Keys are strings; values are the records of `streamapp.records`."""

    logs: faust.TopicT
    metrics: faust.TopicT
    issues_candidates: faust.TopicT
    line_candidates: faust.TopicT
    clusters_candidates: faust.TopicT
    alerts: faust.TopicT
    deadletter: faust.TopicT
    issue_events: faust.TopicT
    closed_issues: faust.TopicT
    prototype_commands: faust.TopicT
    pattern_counts: faust.TopicT
    automation_tasks: faust.TopicT

    def all(self) -> list[faust.TopicT]:
        return [getattr(self, f.name) for f in fields(self)]


# topic attribute -> value type; the Kafka name is the attribute name plus TOPIC_PREFIX.
VALUE_TYPES: dict[str, type] = {
    # internal, batched: the inbound bridge -> consumer (one record per partition per Redis read)
    "logs": LineBatch,
    "metrics": Metric,
    "issues_candidates": IssueCandidate,
    "line_candidates": LineCandidate,
    "clusters_candidates": ClusterCandidate,
    "alerts": Alert,
    "deadletter": DeadLetter,
    # internal: consumer -> aggregator (keyed by aggregation key), aggregator -> clustering (by OS)
    "issue_events": IssueEvents,
    "closed_issues": ClosedIssue,
    # internal: enrichers/improver -> the agent owning prototypes (keyed by OS, like closed_issues)
    "prototype_commands": PrototypeCommand,
    # internal: consumer -> the patterns agent (keyed by OS)
    "pattern_counts": PatternCounts,
    # internal: the automations router -> their actor (keyed by cooldown scope, like the cooldowns table)
    "automation_tasks": AutomationTask,
}
# Topics Faust itself creates along with the tables co-partitioned with them.
INTERNAL = frozenset({"automation_tasks"})


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    """Faust records travel as models; the batched hot-path records (dataclasses with their own
    `dumps`/`loads`) as raw bytes the agents decode once per record."""
    raw = {"value_type": bytes, "value_serializer": "raw"}
    return Topics(**{
        name: app.topic(
            settings.topic_name(name), key_type=str, partitions=settings.topic_partitions,
            internal=name in INTERNAL, **({"value_type": vt} if issubclass(vt, faust.Record) else raw),
        )
        for name, vt in VALUE_TYPES.items()
    })


def outbound_routes(settings: Settings) -> dict[str, tuple[str, type[StreamRecord], str]]:
    """Kafka topic -> (Redis stream, record type, hash prefix) of the outbound bridge."""
    routes = {
        "metrics": (settings.stream_metrics, ""),
        "issues_candidates": (settings.stream_issues_candidates, ""),
        "line_candidates": (settings.stream_issues_candidates, ""),
        "clusters_candidates": (settings.stream_clusters_candidates, ""),
        "alerts": (settings.stream_alerts, "alert:"),
        "deadletter": (settings.stream_deadletter, ""),
        "closed_issues": (settings.stream_issues_closed, ""),
    }
    records: dict[str, type[StreamRecord]] = {t: VALUE_TYPES[t] for t in routes}
    return {
        settings.topic_name(topic): (stream, records[topic], prefix)
        for topic, (stream, prefix) in routes.items()
    }
