"""Issues aggregator agent: `issue_events` -> open-issues table -> `issues_candidates`.

Events are applied one at a time, because the table's local store and changelog partition come
from the event being processed. A timer sweeps the locally owned issues and, for each one due to
close (inactivity, age, size, or too many open), sends a `close` command into the same keyed
topic, so closing happens in stream order like every other change. Closing emits the candidate
(stable id) and a `ClosedIssue`; the closed issue is purged only after a grace period, so a
replayed close re-emits the same ids instead of losing them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import faust

from streamapp.deps import Deps
from streamapp.issues import (
    IssuePolicy,
    OpenIssue,
    absorb,
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
        issue: OpenIssue | None = self.table.get(cmd.key)
        if cmd.kind == "lines":
            events = [ParsedEvent(**e) for e in cmd.events]
            while events:
                issue, events = absorb(issue, cmd.key, events, now, self.policy)
                if issue.line_count >= self.policy.max_lines:
                    await self._close(issue, "max_lines", now)
                else:
                    self._store(issue)
        elif cmd.kind == "close" and issue is not None:
            if issue.state == "open" and issue.version == cmd.version:
                await self._close(issue, cmd.reason or "inactivity", now)
            elif issue.state == "closed" and issue.version == cmd.version:
                await self._emit(issue)  # a replayed close: same ids, deduplicated downstream
        elif cmd.kind == "purge" and issue is not None and issue.state == "closed" and issue.version == cmd.version:
            del self.table[cmd.key]
            self.index.pop(cmd.key, None)
        self._asked.pop(cmd.key, None)

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
            close_reason=issue.close_reason, first_ts=issue.first_t, last_ts=issue.last_t, issue=issue.asdict(),
        )
        await topics.closed_issues.send(key=issue.os, value=closed)

    def _store(self, issue: OpenIssue) -> None:
        self.table[issue.key] = issue
        self.index[issue.key] = entry_of(issue)

    # -------------------------------------------------------------------------------- sweeping
    def refresh_index(self, actives: frozenset) -> None:
        """Rebuild the index from the table after partitions moved (the table iterates only the
        partitions this worker owns)."""
        if actives == self._indexed_for:
            return
        self.index = {key: entry_of(issue) for key, issue in self.table.items()}
        self._indexed_for = actives
        self._asked.clear()

    def due(self, now: float) -> list[IssueEvents]:
        """Commands for every local issue that must close or may be purged now (pure over the index)."""
        commands = []
        p = self.policy
        opened = sorted((e.updated_at, k) for k, e in self.index.items() if e.state == "open")
        over = max(0, len(opened) - self.deps.settings.issue_max_open)
        stalest = {k for _, k in opened[:over]}
        for key, e in self.index.items():
            if self._asked.get(key) == e.version:
                continue
            if e.state == "open":
                reason = "capacity" if key in stalest else close_reason(e, now, p)
                if reason:
                    commands.append(IssueEvents(kind="close", key=key, version=e.version, reason=reason))
            elif now - e.closed_at >= self.deps.settings.issue_purge_grace_sec:
                commands.append(IssueEvents(kind="purge", key=key, version=e.version))
        return commands

    async def sweep(self) -> int:
        actives = frozenset(self.deps.app.assignor.assigned_actives())
        self.refresh_index(actives)
        commands = self.due(self.deps.clock.now())
        for cmd in commands:
            await self.deps.topics.issue_events.send(key=cmd.key, value=cmd)
            self._asked[cmd.key] = cmd.version
        return len(commands)


def entry_of(issue: OpenIssue) -> Entry:
    return Entry(
        version=issue.version, state=issue.state, opened_at=issue.opened_at, updated_at=issue.updated_at,
        closed_at=issue.closed_at, line_count=issue.line_count,
    )


def register(deps: Deps) -> Aggregator:
    app, s = deps.app, deps.settings
    table = deps.tables["open_issues"] = open_issues(app, s)
    aggregator = Aggregator(deps, table)

    @app.agent(deps.topics.issue_events, name="issues_aggregator")
    async def aggregate(stream):  # type: ignore[no-untyped-def]
        async for cmd in stream:
            await aggregator.apply(cmd)

    @app.timer(interval=s.issue_sweep_interval_sec, name="issues_aggregator.sweep")
    async def sweep() -> None:
        await aggregator.sweep()

    return aggregator
