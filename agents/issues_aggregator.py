"""Issues aggregator agent: `issue_events` -> open-issues table -> `issues_candidates`.

Events are applied one at a time, because the table's local store and changelog partition come
from the event being processed. A timer sweeps the locally owned issues and sends, per partition,
one `sweep` command listing the issues due to close (inactivity, age, size, too many open) or to
purge, into that partition of the same topic: closing happens in stream order like every other
change. Closing emits the candidate (stable id) and a `ClosedIssue`; a closed issue is purged
only after a grace period, so a replayed close re-emits the same ids instead of losing them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import faust

from agents.guard import guarded_agent, guarded_timer
from connectors.kafka_admin import partition_for
from streamapp import telemetry
from streamapp.deps import Deps
from streamapp.issues import (
    IssuePolicy,
    OpenIssue,
    absorb,
    add_pattern_signals,
    close,
    close_reason,
    contract_issue_key,
    issue_id,
    should_emit,
    to_candidate,
)
from streamapp.records import ClosedIssue, IssueEvents, ParsedEvent
from tables.issues import open_issues

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Entry:
    """What the sweep needs to know of one local issue, without decoding the table value."""

    version: int
    state: str
    opened_at: float
    updated_at: float
    closed_at: float
    line_count: int


def policy_from(deps: Deps) -> IssuePolicy:
    s = deps.settings
    return IssuePolicy(
        inactivity_sec=s.issue_inactivity_sec, max_duration_sec=s.issue_max_duration_sec,
        max_lines=s.issue_max_lines, sample_head=s.issue_sample_lines, sample_tail=s.issue_sample_lines,
        key_fields=tuple(f.strip() for f in s.issue_key_fields.split(",") if f.strip()), emit=s.issue_emit,
    )


class Aggregator:
    def __init__(self, deps: Deps, table: faust.Table) -> None:
        self.deps = deps
        self.table = table
        self.policy = policy_from(deps)
        self.index: dict[str, Entry] = {}
        self._indexed_for: frozenset | None = None
        self._asked: dict[str, int] = {}  # key -> version a command was sent for (not re-sent)

    # ------------------------------------------------------------------------ stream iteration
    async def apply(self, cmd: IssueEvents) -> None:
        now = self.deps.clock.now()
        if cmd.kind == "lines":
            for key, group in cmd.groups.items():
                issue = self._load(key)
                events = [ParsedEvent(**e) for e in group]
                while events:
                    issue, events = absorb(issue, key, events, now, self.policy)
                    if issue.line_count >= self.policy.max_lines:
                        await self._close(issue, "max_lines", now)
                    else:
                        self._store(issue)
        elif cmd.kind == "sweep":
            for action, key, version, reason in cmd.actions:
                await self._act(action, key, version, reason, now)
        elif cmd.kind == "signals":  # from the patterns agent: novelty and rate on these keys' issues
            for key, signals in cmd.groups.items():
                issue = self._load(key)
                if issue is not None and add_pattern_signals(issue, signals):
                    self._store(issue)
                else:
                    telemetry.count("streamapp.patterns.signals_late", len(signals))

    async def _act(self, action: str, key: str, version: int, reason: str, now: float) -> None:
        """A sweep decision, applied only if the issue is still the version the sweep saw."""
        self._asked.pop(key, None)
        issue = self._load(key)
        if issue is None or issue.version != version:
            return
        if action == "close" and issue.state == "open":
            await self._close(issue, reason, now)
        elif action == "close":
            await self._emit(issue)  # a replayed close: same ids, deduplicated downstream
        elif action == "purge" and issue.state == "closed":
            del self.table[key]
            self.index.pop(key, None)

    def _load(self, key: str) -> OpenIssue | None:
        stored = self.table.get(key)
        return OpenIssue.from_dict(stored) if stored is not None else None

    async def _close(self, issue: OpenIssue, reason: str, now: float) -> None:
        close(issue, reason, now)
        self._store(issue)
        await self._emit(issue)

    async def _emit(self, issue: OpenIssue) -> None:
        topics = self.deps.topics
        emitted = should_emit(issue, self.policy)
        candidate = to_candidate(issue)
        if emitted:
            await topics.issues_candidates.send(key=candidate.id, value=candidate)
        closed = ClosedIssue(
            id=issue_id(issue.key, issue.first_line_id), os=issue.os, issue_key=contract_issue_key(issue),
            key=issue.key, host=issue.host, component=issue.component, pid=issue.pid,
            line_count=issue.line_count, emitted=emitted, severity=issue.severity,
            close_reason=issue.close_reason, first_ts=issue.first_t, last_ts=issue.last_t,
            issue=issue.asdict() if emitted else {},  # only candidates are clustered
        )
        await topics.closed_issues.send(key=issue.os, value=closed)

    def _store(self, issue: OpenIssue) -> None:
        self.table[issue.key] = issue.asdict()
        self.index[issue.key] = entry_of(issue)

    # -------------------------------------------------------------------------------- sweeping
    def refresh_index(self, actives: frozenset) -> None:
        """Rebuild the index from the table after partitions moved (the table iterates only the
        partitions this worker owns)."""
        if actives == self._indexed_for:
            return
        self.index = {key: entry_of(OpenIssue.from_dict(issue)) for key, issue in self.table.items()}
        self._indexed_for = actives
        self._asked.clear()

    def due(self, now: float) -> dict[int, IssueEvents]:
        """One sweep command per partition holding issues that must close or may be purged now
        (pure over the index): a handful of messages per sweep, not one per issue."""
        p = self.policy
        opened = sorted((e.updated_at, k) for k, e in self.index.items() if e.state == "open")
        over = max(0, len(opened) - self.deps.settings.issue_max_open)
        telemetry.gauge("streamapp.issues.open", len(opened))
        stalest = {k for _, k in opened[:over]}
        actions: dict[int, list[list]] = {}
        for key, e in self.index.items():
            if self._asked.get(key) == e.version:
                continue
            if e.state == "open":
                reason = "capacity" if key in stalest else close_reason(e, now, p)
                if reason:
                    actions.setdefault(self.partition_of(key), []).append(["close", key, e.version, reason])
            elif now - e.closed_at >= self.deps.settings.issue_purge_grace_sec:
                actions.setdefault(self.partition_of(key), []).append(["purge", key, e.version, ""])
        return {part: IssueEvents(kind="sweep", key=f"sweep:{part}", actions=acts) for part, acts in actions.items()}

    def partition_of(self, key: str) -> int:
        return partition_for(key, self.deps.settings.topic_partitions)

    async def sweep(self) -> int:
        actives = frozenset(self.deps.app.assignor.assigned_actives())
        self.refresh_index(actives)
        commands = self.due(self.deps.clock.now())
        for part, cmd in commands.items():
            await self.deps.topics.issue_events.send(key=cmd.key, value=cmd, partition=part)
            for _, key, version, _ in cmd.actions:
                self._asked[key] = version
        return sum(len(c.actions) for c in commands.values())


def entry_of(issue: OpenIssue) -> Entry:
    return Entry(
        version=issue.version, state=issue.state, opened_at=issue.opened_at, updated_at=issue.updated_at,
        closed_at=issue.closed_at, line_count=issue.line_count,
    )


def register(deps: Deps) -> Aggregator:
    app, s = deps.app, deps.settings
    table = deps.tables["open_issues"] = open_issues(app, s)
    aggregator = Aggregator(deps, table)

    guarded_agent(deps, deps.topics.issue_events, "issues_aggregator", aggregator.apply)
    guarded_timer(deps, s.issue_sweep_interval_sec, "issues_aggregator.sweep", aggregator.sweep)
    return aggregator
