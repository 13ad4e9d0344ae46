"""Issues: lines of one key (os, host, component, pid) grouped until the key goes quiet.

Pure functions over `OpenIssue`, the value of the open-issues table: absorb a batch of parsed
lines, decide when an issue closes (inactivity, maximum duration, maximum size), and turn it into
the contract's issue candidate. Time is always passed in (`now`), never read here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from streamapp.classify.features import spoken
from streamapp.records import IssueCandidate, LineCandidate, ParsedEvent
from streamapp.taxonomy import Severity

KEY_FIELDS = ("os", "host", "component", "pid")
MAX_PATTERN_SIGNALS = 10  # novelty and rate signals kept per issue
_RANK = {s: s.rank for s in Severity}  # looked up per line: cheaper than the enum's property
_BY_RANK = {s.rank: s for s in Severity}


@dataclass(frozen=True)
class IssuePolicy:
    """When issues close and how much of them is kept (settings ISSUE_*)."""

    inactivity_sec: float = 30.0
    max_duration_sec: float = 600.0
    max_lines: int = 2000
    sample_head: int = 10
    sample_tail: int = 10
    max_templates: int = 50
    key_fields: tuple[str, ...] = KEY_FIELDS
    emit: str = "signal"  # signal = only issues with a warning+ signal or a rule hit; all = every issue


@dataclass(slots=True)
class OpenIssue:
    """An issue being built: the open-issues table's value (stored as its dict). Bounded by
    IssuePolicy. A slotted dataclass: read and written once per batch of a key, on the hot path."""

    key: str
    os: str
    host: str
    component: str
    pid: str
    first_line_id: str
    first_t: float
    last_t: float
    opened_at: float
    updated_at: float
    version: int = 0
    line_count: int = 0
    template_counts: dict = field(default_factory=dict)  # template id -> lines
    templates: dict = field(default_factory=dict)  # template id -> template text
    other_templates: int = 0  # lines whose template did not fit under max_templates
    head: list = field(default_factory=list)  # first lines (contract `logs` items)
    tail: list = field(default_factory=list)  # last lines
    severity: str = "info"
    signals: dict = field(default_factory=dict)  # rule id -> hits (ignored rules excluded)
    hints: dict = field(default_factory=dict)  # failure type -> summed rule score
    interesting: bool = False
    pattern_signals: list = field(default_factory=list)  # novelty and rate signals (`streamapp.patterns`)
    sources: list = field(default_factory=list)
    high_water: dict = field(default_factory=dict)  # `logs` partition -> newest offset absorbed
    state: str = "open"  # open | closed (kept until purged, so a replayed close re-emits)
    close_reason: str = ""
    closed_at: float = 0.0

    def asdict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OpenIssue:
        return cls(**{k: v for k, v in data.items() if k in _ISSUE_FIELDS})


_ISSUE_FIELDS = frozenset(OpenIssue.__slots__)  # type: ignore[attr-defined]


def partition_key(event: ParsedEvent, fields: Sequence[str] = KEY_FIELDS) -> str:
    """The aggregation key (and Kafka key) of a line."""
    return "|".join(_key_part(event, f) for f in fields)


def _key_part(event: ParsedEvent, name: str) -> str:
    value = str(getattr(event, name) or "")
    if name == "component":
        return value.lower() or "unknown"
    if name == "pid":
        return value or "nopid"
    return value or "-"


def contract_issue_key(issue: OpenIssue | LineCandidate) -> str:
    """`<os>|<component lowercased>|<pid or nopid>`, as outside readers expect it."""
    return f"{issue.os}|{(issue.component or 'unknown').lower()}|{issue.pid or 'nopid'}"


def issue_id(key: str, first_line_id: str) -> str:
    """Stable id: the same lines always make the same issue, on any worker, after any replay."""
    return hashlib.blake2b(f"{key}\x00{first_line_id}".encode(), digest_size=10).hexdigest()


def log_item(ev: ParsedEvent) -> dict:
    """A line as the contract's `logs` item (plus the line id, so evidence can be cited)."""
    return {
        "id": ev.id, "templated": ev.template, "raw": ev.raw, "component": ev.component, "pid": ev.pid,
        "time": ev.timestamp or ev.t, "template_id": ev.template_id, "severity": ev.severity, "source": ev.source,
        "level": ev.level,  # the header's own level, as written: the classifier's strongest prior
        # what the classifier reads, when its masked values say something (`changed state to down`)
        **({"read": read} if (read := spoken(ev.template, ev.params)) != ev.template else {}),
    }


def absorb(
    issue: OpenIssue | None, key: str, events: Sequence[ParsedEvent], now: float, policy: IssuePolicy
) -> tuple[OpenIssue, list[ParsedEvent]]:
    """Add lines to the open issue of `key` (a closed or missing issue starts a new one) until it
    holds `max_lines`; returns the issue and the lines that did not fit (for the next issue)."""
    if issue is None or issue.state != "open":
        first = events[0]
        issue = OpenIssue(
            key=key, os=first.os, host=first.host, component=first.component, pid=first.pid,
            first_line_id=first.id, first_t=first.t, last_t=first.t, opened_at=now, updated_at=now,
        )
    rest: list[ParsedEvent] = []
    added: list[ParsedEvent] = []
    for i, ev in enumerate(events):
        if issue.line_count >= policy.max_lines:
            rest = list(events[i:])
            break
        if _is_new(issue, ev):
            _add_line(issue, ev, policy)
            added.append(ev)
    _sample(issue, added, policy)
    issue.updated_at = now
    issue.version += 1
    return issue, rest


def _sample(issue: OpenIssue, added: list[ParsedEvent], policy: IssuePolicy) -> None:
    """The first lines fill `head`, the last ones after them `tail`: only lines that stay become
    items (a busy key's batch would otherwise build one per line, to drop all but a few)."""
    room = policy.sample_head - len(issue.head)
    if room > 0:
        issue.head.extend(log_item(ev) for ev in added[:room])
        added = added[room:]
    if added:
        issue.tail.extend(log_item(ev) for ev in added[-policy.sample_tail :])
        del issue.tail[: max(0, len(issue.tail) - policy.sample_tail)]


def _is_new(issue: OpenIssue, ev: ParsedEvent) -> bool:
    """Each `logs` partition is consumed in offset order, and a redelivery (a consumer restart or
    a rebalance) re-reads from an older committed offset. So a line at or below its partition's
    high-water offset was absorbed before: the issue must not count it twice. (Redis entry ids
    cannot serve here: several bridges interleave their batches in one Kafka partition.)"""
    if ev.src < 0:  # not from Kafka (tools, tests): nothing to deduplicate against
        return True
    part = str(ev.src)
    last = issue.high_water.get(part)
    if last is not None and ev.off <= last:
        return False
    issue.high_water[part] = ev.off
    return True


def _add_line(issue: OpenIssue, ev: ParsedEvent, policy: IssuePolicy) -> None:
    issue.line_count += 1
    issue.first_t = min(issue.first_t, ev.t)
    issue.last_t = max(issue.last_t, ev.t)
    tid = ev.template_id
    if tid in issue.template_counts or len(issue.template_counts) < policy.max_templates:
        issue.template_counts[tid] = issue.template_counts.get(tid, 0) + 1
        issue.templates[tid] = ev.template
    else:
        issue.other_templates += 1
    if ev.source and len(issue.sources) < 5 and ev.source not in issue.sources:
        issue.sources.append(ev.source)
    rank = _RANK[Severity(ev.severity)]
    noteworthy = [s for s in ev.signals if not s.get("ignore")] if ev.signals else []
    for s in noteworthy:
        issue.signals[s["rule"]] = issue.signals.get(s["rule"], 0) + 1
        if s.get("failure_type"):
            issue.hints[s["failure_type"]] = round(issue.hints.get(s["failure_type"], 0.0) + s["score"], 4)
    if ev.signals and not noteworthy:
        rank = _RANK[Severity.INFO]  # known noise never raises an issue's severity
    if rank > _RANK[Severity(issue.severity)]:
        issue.severity = str(_BY_RANK[rank])
    if rank >= _RANK[Severity.WARNING] or any(s["rule"] != "level" and s.get("failure_type") for s in noteworthy):
        issue.interesting = True


def add_pattern_signals(issue: OpenIssue, signals: Sequence[dict], limit: int = MAX_PATTERN_SIGNALS) -> bool:
    """Novelty and rate signals on the open issue whose lines had the template: kept once per
    (rule, template, bucket) up to `limit`, counted in `signals` by rule, and make the issue a
    candidate. False when the issue is no longer open (the signal came too late)."""
    if issue.state != "open":
        return False
    held = {_mark(s) for s in issue.pattern_signals}
    for sig in signals:
        mark = _mark(sig)
        if mark not in held and len(issue.pattern_signals) < limit:
            held.add(mark)
            issue.pattern_signals.append(dict(sig))
            issue.signals[sig["rule"]] = issue.signals.get(sig["rule"], 0) + 1
            issue.interesting = True
    issue.version += 1
    return True


def _mark(sig: dict) -> tuple[str, str, float]:
    """What makes a signal the same signal again (a redelivered one): rule, template, rate bucket."""
    bucket = sig["t"] // sig["bucket_sec"] if sig.get("bucket_sec") else 0.0
    return sig["rule"], sig["template_id"], bucket


class Timing(Protocol):
    """The part of an issue that decides when it closes (OpenIssue, or a sweep's index entry)."""

    @property
    def state(self) -> str: ...
    @property
    def line_count(self) -> int: ...
    @property
    def opened_at(self) -> float: ...
    @property
    def updated_at(self) -> float: ...


def close_reason(issue: Timing, now: float, policy: IssuePolicy) -> str | None:
    """Why the issue should close now, or None. Inactivity is measured from the last update."""
    if issue.state != "open":
        return None
    if issue.line_count >= policy.max_lines:
        return "max_lines"
    if now - issue.opened_at >= policy.max_duration_sec:
        return "max_duration"
    if now - issue.updated_at >= policy.inactivity_sec:
        return "inactivity"
    return None


def should_emit(issue: OpenIssue, policy: IssuePolicy) -> bool:
    return policy.emit == "all" or issue.interesting


def close(issue: OpenIssue, reason: str, now: float) -> OpenIssue:
    issue.state = "closed"
    issue.close_reason = reason
    issue.closed_at = now
    issue.version += 1
    return issue


def line_hints(ev: ParsedEvent) -> dict[str, float]:
    """Failure type -> rule score of one line's signals (known noise excluded)."""
    hints: dict[str, float] = {}
    for s in ev.signals:
        if not s.get("ignore") and s.get("failure_type"):
            hints[s["failure_type"]] = round(hints.get(s["failure_type"], 0.0) + s["score"], 4)
    return hints


def line_issue(line: LineCandidate) -> IssueCandidate:
    """A per-line candidate as the one-line issue the enricher classifies: same verdict cache
    (its template), same alert id scheme (from the candidate's id, `line:<line id>`)."""
    item = dict(line.item) or {"id": line.id.removeprefix("line:"), "templated": line.templated, "raw": line.raw,
                               "component": line.component, "pid": line.pid, "template_id": line.template_id}
    return IssueCandidate(
        id=line.id, os=line.os, issue_key=contract_issue_key(line), templated_summary=line.templated, logs=[item],
        host=line.host, component=line.component, pid=line.pid, line_count=1,
        template_ids=[line.template_id] if line.template_id else [], severity=line.severity,
        hints=dict(line.hints), kind="line",
    )


def to_candidate(issue: OpenIssue) -> IssueCandidate:
    """The contract's aggregated issue candidate."""
    items = issue.head + issue.tail
    ranked = sorted(issue.template_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return IssueCandidate(
        id=issue_id(issue.key, issue.first_line_id),
        os=issue.os,
        issue_key=contract_issue_key(issue),
        templated_summary=" \n".join(issue.templates[tid] for tid, _ in ranked),
        logs=items,
        host=issue.host,
        component=issue.component,
        pid=issue.pid,
        first_ts=issue.first_t,
        last_ts=issue.last_t,
        line_count=issue.line_count,
        template_ids=[tid for tid, _ in ranked],
        severity=issue.severity,
        signals=[{"rule": r, "hits": n} for r, n in sorted(issue.signals.items())],
        hints=dict(issue.hints),
        pattern_signals=list(issue.pattern_signals),
    )
