"""Issues aggregator agent: `issue_events` -> open-issues table -> `issues_candidates`.

Records are taken in batches and applied per partition, in order. A changed key is written to
the table (store and changelog) once per offset commit, not once per batch: a busy key changes in
nearly every batch, and each changelog record costs the worker a send (measured at a steady 3,000
lines/s: about 1,100 records/s, more than Faust's one-send-at-a-time producer buffer drains with
the loop busy, so every agent stalled for seconds whenever the buffer passed its bound). The
changed keys are flushed just before Faust picks the offsets to commit (`FlushBeforeCommit`), and
each commit waits until every write queued before it is in Kafka (`streamapp.worker.transport`)
before it commits: an offset is never committed before the changes of the records below it are in
Kafka (at-least-once as before).

A timer sweeps the locally owned issues and sends, per partition, one `sweep` command listing the
issues due to close (inactivity, age, size, too many open) or to purge, into that partition of the
same topic: closing happens in stream order like every other change. Closing emits the candidate
(stable id) and a `ClosedIssue`; a closed issue is purged only after a grace period, so a replayed
close re-emits the same ids instead of losing them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass

import faust
from faust.types import EventT

from agents.guard import guarded_batches, guarded_timer
from connectors.kafka_admin import partition_for
from streamapp import telemetry
from streamapp.batches import by_partition
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
from streamapp.records import ClosedIssue, IssueCommand, IssueEvents, IssueLines, IssueSweep
from streamapp.worker.deps import Deps
from tables.issues import open_issues
from tables.partition import acting_for

log = logging.getLogger(__name__)

# How soon after its deadline an issue is seen to be due (a scan only happens when one is).
SWEEP_TICK_SEC = 0.1
ISSUE_CACHE = 5_000  # decoded issues kept between batches (LRU; evictions counted, then read from the table)
# Changed keys held until the next commit; past this many they are written at once (counted), so a
# flush stays well under the producer buffer's bound (`PRODUCER_BUFFER_MESSAGES`).
DIRTY_MAX = 2_000



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
        key_fields=s.issue_key_fields, emit=s.issue_emit,
    )


class Aggregator:
    def __init__(self, deps: Deps, table: faust.Table) -> None:
        self.deps = deps
        self.table = table
        self.policy = policy_from(deps)
        self.index: dict[str, Entry] = {}
        self._indexed_for: frozenset | None = None
        self._asked: dict[str, int] = {}  # key -> version a command was sent for (not re-sent)
        self._next_due = 0.0  # no issue can be due before this (see `due`)
        self._last_full = float("-inf")
        # Changed since the last flush, not yet written (None: purged), and the event of the partition
        # each one's input arrived on (its table writes go there; None outside a stream, in tests).
        self._dirty: dict[str, OpenIssue | None] = {}
        self._homes: dict[str, EventT | None] = {}
        # The batch being applied: its changes join `_dirty` only once what it emitted is in the
        # producer, so a commit never writes an issue as closed before its candidate was sent.
        self._batch: dict[str, OpenIssue | None] = {}
        self._outbox: list[tuple[faust.TopicT, str, object]] = []  # sends of the batch in flight
        self.early_flushes = 0
        # Issues as written, kept decoded between batches (a busy key is read back every batch).
        # Forgotten when partitions are revoked: another worker may change them before they return.
        self._cache: OrderedDict[str, OpenIssue] = OrderedDict()
        self.cache_evicted = 0

    # ------------------------------------------------------------------------ stream iteration
    async def apply(self, cmd: IssueCommand) -> None:
        """One command, written to the table at once."""
        await self.apply_all([cmd])
        self.flush()

    async def apply_all(self, cmds: list[IssueCommand], home: EventT | None = None) -> None:
        """Commands of one partition, in order (`home`: an event of that partition); the keys they
        change are written at the next `flush`, or at once when too many wait."""
        try:
            for cmd in cmds:
                self._apply(cmd)
        finally:
            # What the closes emitted, sent together: awaited one by one, they took 0.1-0.8 s per
            # closed issue in a trace at half load, and the batch's later candidates waited for them.
            outbox, self._outbox = self._outbox, []
            try:
                await asyncio.gather(*(topic.send(key=key, value=value) for topic, key, value in outbox))
            finally:
                batch, self._batch = self._batch, {}
                self._dirty.update(batch)
                self._homes.update(dict.fromkeys(batch, home))
            if len(self._dirty) > DIRTY_MAX:
                self.early_flushes += 1
                telemetry.count("streamapp.issues.early_flushes")
                self.flush()

    def _apply(self, cmd: IssueCommand) -> None:
        now = self.deps.clock.now()
        if isinstance(cmd, IssueLines):
            for key, group in cmd.groups.items():
                issue = self._load(key)
                events = group
                while events:
                    issue, events = absorb(issue, key, events, now, self.policy)
                    if issue.line_count >= self.policy.max_lines:
                        self._close(issue, "max_lines", now)
                    else:
                        self._store(issue)
        elif isinstance(cmd, IssueSweep):
            for action, key, version, reason in cmd.actions:
                self._act(action, key, version, reason, now)
        else:  # signals from the patterns agent: novelty and rate on these keys' issues
            for key, signals in cmd.groups.items():
                issue = self._load(key)
                if issue is not None and add_pattern_signals(issue, signals):
                    self._store(issue)
                else:
                    telemetry.count("streamapp.patterns.signals_late", len(signals))

    def _act(self, action: str, key: str, version: int, reason: str, now: float) -> None:
        """A sweep decision, applied only if the issue is still the version the sweep saw."""
        self._asked.pop(key, None)
        issue = self._load(key)
        if issue is None or issue.version != version:
            return
        if action == "close" and issue.state == "open":
            self._close(issue, reason, now)
        elif action == "close":
            self._emit(issue)  # a replayed close: same ids, deduplicated downstream
        elif action == "purge" and issue.state == "closed":
            self._mark(key, None)
            self.index.pop(key, None)

    def _load(self, key: str) -> OpenIssue | None:
        if key in self._batch:
            return self._batch[key]
        if key in self._dirty:
            return self._dirty[key]
        if (cached := self._cache.get(key)) is not None:
            return cached
        stored = self.table.get(key)
        return OpenIssue.from_dict(stored) if stored is not None else None

    def forget(self) -> None:
        """Drop the decoded issues (partitions were revoked); the table stays the truth."""
        self._cache.clear()

    def _close(self, issue: OpenIssue, reason: str, now: float) -> None:
        close(issue, reason, now)
        self._store(issue)
        self._emit(issue)

    def _emit(self, issue: OpenIssue) -> None:
        """The candidate (if emitted) and the closed issue, into the batch's outbox."""
        topics = self.deps.topics
        emitted = should_emit(issue, self.policy)
        candidate = to_candidate(issue)
        if emitted:
            self._outbox.append((topics.issues_candidates, candidate.id, candidate))
        closed = ClosedIssue(
            id=issue_id(issue.key, issue.first_line_id), os=issue.os, issue_key=contract_issue_key(issue),
            key=issue.key, host=issue.host, component=issue.component, pid=issue.pid,
            line_count=issue.line_count, emitted=emitted, severity=issue.severity,
            close_reason=issue.close_reason, first_ts=issue.first_t, last_ts=issue.last_t,
            issue=issue.asdict() if emitted else {},  # only candidates are clustered
        )
        self._outbox.append((topics.closed_issues, issue.os, closed))

    def _store(self, issue: OpenIssue) -> None:
        self._mark(issue.key, issue)
        self.index[issue.key] = entry_of(issue)

    def _mark(self, key: str, issue: OpenIssue | None) -> None:
        self._batch[key] = issue

    def flush(self) -> int:
        """The keys changed since the last flush into the table, each in the partition its input
        came from: one store write and one changelog record (queued in the producer's buffer) each.
        Synchronous, so nothing changes the keys while they are written."""
        dirty, homes = self._dirty, self._homes
        self._dirty, self._homes = {}, {}
        cache = self._cache
        for key, issue in dirty.items():
            home = homes[key]
            with acting_for(home) if home is not None else nullcontext():
                if issue is not None:
                    self.table[key] = issue.asdict()
                    cache[key] = issue
                    cache.move_to_end(key)
                else:
                    cache.pop(key, None)
                    if key in self.table:
                        del self.table[key]
        if len(cache) > ISSUE_CACHE:
            over = len(cache) - ISSUE_CACHE
            for _ in range(over):
                cache.popitem(last=False)
            self.cache_evicted += over
            telemetry.count("streamapp.dropped", over, what="issue_cache")
        return len(dirty)

    # -------------------------------------------------------------------------------- sweeping
    def refresh_index(self, actives: frozenset) -> None:
        """Rebuild the index from the table after partitions moved (the table iterates only the
        partitions this worker owns)."""
        if actives == self._indexed_for:
            return
        self.index = {key: entry_of(OpenIssue.from_dict(issue)) for key, issue in self.table.items()}
        self._indexed_for = actives
        self._asked.clear()
        self._next_due = 0.0

    def due(self, now: float, *, full: bool = True) -> dict[int, IssueSweep]:
        """One sweep command per partition holding issues that must close or may be purged now
        (pure over the index): a handful of messages per sweep, not one per issue. Unless `full`,
        the index is only scanned once the earliest deadline the last scan saw has come (or the
        open-issue cap may be passed): a change only ever moves a deadline later, and a new
        issue's deadline is no earlier than that, so nothing is missed by waiting for it."""
        s, p = self.deps.settings, self.policy
        if not full and now < self._next_due and len(self.index) <= s.issue_max_open:
            return {}
        opened = [(e.updated_at, k) for k, e in self.index.items() if e.state == "open"]
        telemetry.gauge("streamapp.issues.open", len(opened))
        over = len(opened) - s.issue_max_open
        stalest = {k for _, k in sorted(opened)[:over]} if over > 0 else set()
        actions: dict[int, list[list]] = {}
        next_due = now + min(p.inactivity_sec, p.max_duration_sec, s.issue_purge_grace_sec)
        for key, e in self.index.items():
            if self._asked.get(key) == e.version:
                continue
            if e.state == "open":
                reason = "capacity" if key in stalest else close_reason(e, now, p)
                if reason:
                    actions.setdefault(self.partition_of(key), []).append(["close", key, e.version, reason])
                else:
                    next_due = min(next_due, e.updated_at + p.inactivity_sec, e.opened_at + p.max_duration_sec)
            elif now - e.closed_at >= s.issue_purge_grace_sec:
                actions.setdefault(self.partition_of(key), []).append(["purge", key, e.version, ""])
            else:
                next_due = min(next_due, e.closed_at + s.issue_purge_grace_sec)
        self._next_due = next_due
        return {part: IssueSweep(f"sweep:{part}", acts) for part, acts in actions.items()}

    def partition_of(self, key: str) -> int:
        return partition_for(key, self.deps.settings.topic_partitions)

    async def sweep(self) -> int:
        """Called every SWEEP_TICK_SEC: a full scan every ISSUE_SWEEP_INTERVAL_SEC (it also
        re-asks what an earlier command did not settle), in between only when a deadline came."""
        actives = frozenset(self.deps.app.assignor.assigned_actives())
        self.refresh_index(actives)
        now = self.deps.clock.now()
        full = now - self._last_full >= self.deps.settings.issue_sweep_interval_sec
        if full:
            self._last_full = now
        commands = self.due(now, full=full)
        for part, cmd in commands.items():
            await self.deps.topics.issue_events.send(key=cmd.key, value=cmd.dumps(), partition=part)
            for _, key, version, _ in cmd.actions:
                self._asked[key] = version
        return sum(len(c.actions) for c in commands.values())


class FlushBeforeCommit(faust.Sensor):
    """Flushes the aggregator's changed keys when Faust starts an offset commit: every commit (the
    periodic one, the one before partitions are revoked, the last one on stop) goes through
    `Consumer.force_commit`, which calls this hook before it picks the offsets and, with no
    `await` in between, then waits for every write queued in the producer's buffer (these included)
    to be in Kafka before it commits them."""

    def __init__(self, aggregator: Aggregator) -> None:
        super().__init__()
        self.aggregator = aggregator

    def on_commit_initiated(self, consumer: object) -> None:
        self.aggregator.flush()


def entry_of(issue: OpenIssue) -> Entry:
    return Entry(
        version=issue.version, state=issue.state, opened_at=issue.opened_at, updated_at=issue.updated_at,
        closed_at=issue.closed_at, line_count=issue.line_count,
    )


def register(deps: Deps) -> Aggregator:
    app, s = deps.app, deps.settings
    table = deps.tables["open_issues"] = open_issues(app, s)
    aggregator = Aggregator(deps, table)

    async def aggregate(events: list[EventT]) -> None:
        for part_events in by_partition(events, lambda e: e.message.partition).values():
            cmds = [IssueEvents.loads(e.value) for e in part_events]
            await aggregator.apply_all(cmds, home=part_events[-1])  # table writes go to this partition

    app.sensors.add(FlushBeforeCommit(aggregator))

    @app.on_partitions_revoked.connect
    async def revoked(sender, revoked, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # Faust committed before this signal (each commit flushed); anything changed since is
        # written now, and sent before the partitions go, while their stores are still open.
        if aggregator.flush():
            await app.producer.flush()
        aggregator.forget()

    # Retried record by record after a failed batch: a line absorbed twice is recognised (its
    # position), a close or purge applies only to the version it was decided on.
    guarded_batches(deps, deps.topics.issue_events, "issues_aggregator", aggregate, size=s.issue_batch_records,
                    within=s.issue_batch_within_sec, retry_alone=True)
    guarded_timer(deps, SWEEP_TICK_SEC, "issues_aggregator.sweep", aggregator.sweep)
    return aggregator
