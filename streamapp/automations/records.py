"""The records of automations: the task routed to the owner of a cooldown scope (Kafka, internal),
and the decision events (Redis stream `automation_events`, same field names)."""

from __future__ import annotations

from streamapp.records import Record, StreamRecord


class AutomationTask(Record):
    """One rule matched one alert; keyed by `scope_key`, so every decision on a cooldown scope is
    taken in one partition, in order (the table stores values in the event's partition)."""

    id: str  # <alert id>|<rule id>
    rule_id: str
    scope_key: str
    alert: dict
    rules_version: str = ""
    signature: str = ""  # HMAC of the above by AUTOMATION_TASK_KEY (streamapp.automations.signing)


class AutomationEvent(StreamRecord):
    """A decision on one (alert, rule). `id` is `<alert id>|<rule id>|<decision>`: a replay writes
    the same id, which the stream writer drops. `action` is what was (or, dry run, would be) sent;
    `response` the provider's answer; `reason` why skipped/dry-run/failed; `error` the failure."""

    id: str
    alert_id: str
    rule_id: str
    decision: str  # matched | skipped | rejected | dry_run | executed | failed | finished (a followed job ended)
    provider: str
    scope_key: str = ""
    correlation_id: str = ""
    action: dict = {}
    response: dict = {}
    reason: str = ""
    error: str = ""
    cooldown_until: float = 0.0
    rules_version: str = ""
    at: float = 0.0
