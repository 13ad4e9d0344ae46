"""Patterns agent: `pattern_counts` (keyed by OS) -> the patterns table -> novelty and rate signals
to the issues whose lines had the template (`issue_events`, kind `signals`, per partition).

Its input is keyed by OS, so one worker counts all of an OS's templates, in order; a worker that
takes the partition over recovers the counts from the table's changelog.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import faust

from agents.guard import guarded_agent
from connectors.kafka_admin import partition_for
from streamapp import telemetry
from streamapp.patterns import PatternPolicy, PatternSignal, book_key, evict, observe, os_prefix
from streamapp.records import IssueSignals, PatternCounts
from streamapp.worker.deps import Deps
from tables.patterns import patterns

log = logging.getLogger(__name__)


class PatternKeeper:
    def __init__(self, deps: Deps, table: faust.Table) -> None:
        self.deps = deps
        self.table = table
        self.policy = PatternPolicy.from_settings(deps.settings)

    async def apply(self, batch: PatternCounts) -> list[PatternSignal]:
        observed = observe(self.table, batch, self.policy)
        for key, value in observed.writes.items():
            self.table[key] = value
        for key in observed.deletes:
            self.table.pop(key, None)
        if observed.over:
            self.evict(batch.os)
        await self.signal(observed.signals)
        return observed.signals

    def evict(self, os_name: str) -> None:
        prefix = os_prefix(os_name)
        gone, book = evict(((k, v) for k, v in self.table.items() if k.startswith(prefix)), os_name, self.policy)
        for key in gone:
            del self.table[key]
        self.table[book_key(os_name)] = book
        log.info("patterns: %s over %d templates, %d entries dropped", os_name, self.policy.max_templates, len(gone))

    async def signal(self, signals: list[PatternSignal]) -> None:
        """One `signals` command per issue-events partition, for the issues of each signal."""
        parts: dict[int, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for sig in signals:
            telemetry.count("streamapp.patterns.signals", rule=sig.rule)
            for key in sig.keys:
                parts[partition_for(key, self.deps.settings.topic_partitions)][key].append(sig.as_json())
        for part, groups in parts.items():
            cmd = IssueSignals(f"signals:{part}", dict(groups))
            await self.deps.topics.issue_events.send(key=cmd.key, value=cmd.dumps(), partition=part)


def register(deps: Deps) -> PatternKeeper:
    table = deps.tables["patterns"] = patterns(deps.app, deps.settings)
    keeper = PatternKeeper(deps, table)
    guarded_agent(deps, deps.topics.pattern_counts, "patterns", keeper.apply)
    return keeper
