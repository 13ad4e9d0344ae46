"""Consumer agent: `logs` -> parsed, mined, embedded lines -> the aggregator (and metrics, and
the template counts of the patterns agent).

Per batch (stream.take): parse and mine every line (pure CPU), then one Chroma upsert of the
lines into `logs_<os>` and of newly seen templates into `templates_<os>`, one query of `proto_<os>`
for the batch's distinct warning+ templates, and one message per aggregation key to
`issue_events`. Nothing here makes a per-line network round trip.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict, defaultdict
from pathlib import Path

import numpy as np
from faust.types import EventT
from redis.exceptions import RedisError

from agents.guard import guarded_batches, guarded_timer
from connectors.kafka_admin import partition_for
from streamapp import telemetry
from streamapp.continuation import Headlines
from streamapp.deps import Deps
from streamapp.errors import StreamAppError
from streamapp.issues import line_hints, log_item, partition_key
from streamapp.lines import LineProcessor, Processed, dead_letter
from streamapp.metrics import metric_payload, normalise
from streamapp.mining import InvalidState, TemplateMiner
from streamapp.patterns import pattern_counts
from streamapp.records import IssueEvents, LineCandidate, LogLine, Metric, ParsedEvent
from streamapp.sampling import IndexSampler
from streamapp.sources import SourceProfiles
from streamapp.taxonomy import Severity

log = logging.getLogger(__name__)

class LineConsumer:
    """The consumer's state in one worker: miners per OS, known templates, embedding cache."""

    def __init__(self, deps: Deps) -> None:
        s = deps.settings
        self.deps = deps
        self.processor = LineProcessor(
            SourceProfiles(s.source_formats), deps.rules, headlines=Headlines(s.issue_continuation_gap_sec)
        )
        self.key_fields = tuple(f.strip() for f in s.issue_key_fields.split(",") if f.strip())
        self.snapshot_dir = Path(s.data_dir) / "miners"
        self._indexed_templates: set[str] = set()
        self.sampler = IndexSampler(window_sec=s.index_window_sec, per_window=s.index_per_window)
        self.seen = RecentIds()
        self.vector_errors = 0
        self._formats_read_at = float("-inf")
        self.load_snapshots()

    # ------------------------------------------------------------------------------ persistence
    def load_snapshots(self) -> None:
        """Resume the miners where the last run saved them (a missing or bad file starts fresh:
        ids are content hashes, so a fresh miner still gives known templates their old ids)."""
        for path in sorted(self.snapshot_dir.glob("*.state")):
            try:
                self.processor.miners[path.stem] = TemplateMiner.from_state(path.read_bytes())
            except (OSError, InvalidState) as exc:
                log.warning("miner snapshot %s not loaded: %s", path, exc)

    def save_snapshots(self) -> None:
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        for os_name, miner in list(self.processor.miners.items()):
            tmp = self.snapshot_dir / f".{os_name}.tmp"
            tmp.write_bytes(miner.to_state())
            os.replace(tmp, self.snapshot_dir / f"{os_name}.state")

    # --------------------------------------------------------------------------------- batches
    async def handle(self, lines: list[LogLine], positions: list[tuple[int, int]] | None = None) -> Processed:
        """One batch; `positions` are the lines' (partition, offset) in `logs`, which the
        aggregator uses to recognise a redelivered line."""
        s, topics = self.deps.settings, self.deps.topics
        now = self.deps.clock.now()
        at = dict(zip((x.id for x in lines), positions or (), strict=False))
        metrics: list[Metric] = []
        logs: list[LogLine] = []
        dead = []
        if any(x.source_id and x.source_id not in self.processor.profiles.by_id for x in lines):
            await self.refresh_formats(min_age_sec=1.0)  # a new source's format, published with its lines
        for line in self.seen.fresh(lines):
            try:
                payload = metric_payload(line.line) if s.enable_metrics_normalization else None
                if payload is not None:
                    metrics.extend(normalise(line.id, payload))
                    continue
            except Exception as exc:  # a payload no normaliser can read is parked, with the reason
                dead.append(dead_letter(line, f"metric payload rejected: {exc!r}"[:500], now))
                continue
            logs.append(line)
        try:
            processed = self.processor.process(logs, now)
        except Exception as exc:  # a bug must not stop the stream: park the batch with the reason
            log.exception("consumer: batch failed")
            processed = Processed(dead=[dead_letter(x, f"consumer error: {exc!r}"[:500], now) for x in logs])
        processed.dead.extend(dead)
        for ev in processed.events:
            ev.src, ev.off = at.get(ev.id, (-1, -1))
        await self.index(processed.events)
        by_partition: dict[int, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for ev in processed.events:
            key = partition_key(ev, self.key_fields)
            by_partition[partition_for(key, s.topic_partitions)][key].append(ev.asdict())
        for part, groups in by_partition.items():
            await topics.issue_events.send(
                key=f"lines:{part}", value=IssueEvents(kind="lines", key=f"lines:{part}", groups=dict(groups)),
                partition=part,
            )
        if s.enable_patterns:  # after the lines: a signal then finds the issue they opened
            for counts in pattern_counts(processed.events, self.key_fields, processed.changes, now):
                await topics.pattern_counts.send(key=counts.os, value=counts)
        telemetry.count("streamapp.lines.in", len(lines))
        telemetry.count("streamapp.deadletters", len(processed.dead), stage="consumer")
        for dl in processed.dead:
            await topics.deadletter.send(key=dl.id, value=dl)
        for m in metrics:
            await topics.metrics.send(key=m.id, value=m)
        if s.enable_per_line_candidates:
            for ev in processed.events:
                if Severity(ev.severity).rank >= Severity.ERROR.rank and not ev.headline:  # context stays in its event
                    await topics.line_candidates.send(key=ev.id, value=line_candidate(ev))
        return processed

    async def refresh_formats(self, min_age_sec: float = 0.0) -> None:
        """Data sources' formats as producers publish them (`sources:formats`), at most every
        `min_age_sec` (a source without one must not cost a read per batch)."""
        now = self.deps.clock.now()
        if now - self._formats_read_at < min_age_sec:
            return
        self._formats_read_at = now
        try:
            raw = await self.deps.redis().hgetall(self.deps.settings.redis_key("sources:formats"))
        except (RedisError, OSError) as exc:
            log.warning("consumer: source formats not refreshed (%s)", exc)
            return
        self.processor.profiles.set_source_formats({k.decode(): v.decode() for k, v in raw.items()})

    async def index(self, events: list[ParsedEvent]) -> None:
        """Lines into `logs_<os>` (those the sampler keeps), new templates into `templates_<os>`,
        nearest prototype of the batch's warning+ templates from `proto_<os>`. Best effort: the
        vector store being down slows retrieval later, it never stops issues from forming."""
        by_os: dict[str, list[ParsedEvent]] = defaultdict(list)
        for ev in events:
            if self.sampler.keep(ev):
                by_os[ev.os].append(ev)
        if not by_os:
            return
        try:
            store = await self.deps.vectors()
            for os_name, evs in by_os.items():
                await self._index_os(store, os_name, evs)
        except (StreamAppError, OSError, ValueError) as exc:
            self.vector_errors += 1
            log.warning("consumer: vector store unavailable (%s); lines not indexed this batch", exc)

    async def _index_os(self, store, os_name: str, evs: list[ParsedEvent]) -> None:  # type: ignore[no-untyped-def]
        templates = {ev.template_id: ev.template for ev in evs}
        vecs = await self.deps.template_vectors(templates)
        await store.add_new(
            "logs", os_name, [ev.id for ev in evs], np.stack([vecs[ev.template_id] for ev in evs]),
            metadatas=[line_metadata(ev, partition_key(ev, self.key_fields)) for ev in evs],
            documents=[ev.raw[:2000] for ev in evs],
        )
        new = [tid for tid in templates if tid not in self._indexed_templates]
        if new:
            await store.upsert(
                "templates", os_name, new, np.stack([vecs[t] for t in new]),
                metadatas=[{"template_id": t, "source": "stream"} for t in new],
                documents=[templates[t] for t in new],
            )
            self._indexed_templates.update(new)
        loud = sorted({ev.template_id for ev in evs if Severity(ev.severity).rank >= Severity.WARNING.rank})
        if loud and await store.count("proto", os_name):
            hits = await store.query("proto", os_name, np.stack([vecs[t] for t in loud]), n_results=1)
            nearest = {tid: h[0] for tid, h in zip(loud, hits, strict=True) if h}
            for ev in evs:
                if ev.template_id in nearest:
                    ev.nearest_distance = nearest[ev.template_id].distance
                    ev.nearest_label = str(nearest[ev.template_id].metadata.get("label", ""))


class RecentIds:
    """Line ids seen lately. A bridge that crashed after producing but before acknowledging sends
    its batch again, so Kafka holds the same Redis entry twice; the second copy is dropped here."""

    def __init__(self, size: int = 200_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self.duplicates = 0

    def fresh(self, lines: list[LogLine]) -> list[LogLine]:
        out = []
        for line in lines:
            if line.id in self._ids:
                self.duplicates += 1
                continue
            self._ids[line.id] = None
            out.append(line)
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return out


def line_metadata(ev: ParsedEvent, key: str) -> dict:
    """What `logs_<os>` keeps per line: enough to filter by host/issue and cite the line."""
    return {
        "source": ev.source, "host": ev.host, "component": ev.component, "pid": ev.pid,
        "severity": ev.severity, "template_id": ev.template_id, "ikey": key, "t": ev.t, "cluster_id": "",
    }


def line_candidate(ev: ParsedEvent) -> LineCandidate:
    top = max((s for s in ev.signals if not s.get("ignore")), key=lambda s: s["score"], default=None)
    return LineCandidate(
        id=f"line:{ev.id}", os=ev.os, raw=ev.raw, templated=ev.template,
        rule_label=(top or {}).get("failure_type", "") or (top or {}).get("rule", ""),
        rule_score=(top or {}).get("score", 0.0), nearest_distance=ev.nearest_distance,
        nearest_label=ev.nearest_label, template_id=ev.template_id, host=ev.host, component=ev.component,
        pid=ev.pid, severity=ev.severity, hints=line_hints(ev), item=log_item(ev),
    )


def register(deps: Deps) -> LineConsumer:
    """Add the consumer agent (and its miner-snapshot and source-formats timers) to the app."""
    s = deps.settings
    consumer = LineConsumer(deps)

    async def consume(events: list[EventT]) -> None:
        await consumer.handle([e.value for e in events], [(e.message.partition, e.message.offset) for e in events])

    async def snapshot() -> None:
        consumer.save_snapshots()

    # Not retried line by line: a retried line would be taken for a redelivered one (`RecentIds`).
    guarded_batches(deps, deps.topics.logs, "consumer", consume, size=s.consumer_batch_size,
                    within=s.consumer_batch_within_sec, retry_alone=False)
    guarded_timer(deps, s.miner_snapshot_sec, "consumer.snapshot", snapshot)
    guarded_timer(deps, 10.0, "consumer.source_formats", consumer.refresh_formats)
    return consumer
