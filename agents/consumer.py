"""Consumer agent: `logs` -> parsed, mined lines -> the aggregator (and metrics, and the template
counts of the patterns agent).

Per batch of `logs` records (each a bridge read's lines for one partition): parse and mine every
line (pure CPU), then one `issue_events` record per partition holding the batch's lines grouped by
aggregation key. Nothing here waits on the vector store: indexing lines and templates and looking
up the nearest prototype of warning+ templates happen in a timer that drains a bounded queue (a
batch that finds it full is not indexed, and counted); the hot path reads the lookups' latest
answers from a bounded cache.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict, defaultdict, deque
from pathlib import Path

import numpy as np
from faust.types import EventT

from agents.guard import guarded_batches, guarded_timer, letter
from connectors.kafka_admin import partition_for
from streamapp import telemetry
from streamapp.batches import event_records
from streamapp.continuation import Headlines
from streamapp.errors import StreamAppError, TransientError
from streamapp.issues import line_hints, log_item, partition_key
from streamapp.lines import LineProcessor, Processed, dead_letter
from streamapp.metrics import metric_payload, normalise
from streamapp.mining import InvalidState, TemplateMiner
from streamapp.patterns import pattern_counts
from streamapp.records import DeadLetter, LineBatch, LineCandidate, Metric, ParsedEvent, RawLine, line_position
from streamapp.sampling import IndexSampler
from streamapp.sources import FormatLookups, SourceProfiles
from streamapp.taxonomy import Severity
from streamapp.vector_schema import line_metadata, prototype_label, template_metadata
from streamapp.worker.deps import Deps

log = logging.getLogger(__name__)

INDEX_TICK_SEC = 0.2  # how often the index queue is drained
NEAREST_CACHE = 50_000  # (os, template id) -> nearest prototype; cleared when full (counted)
# (os, template id) known to be in `templates_<os>`; the least recently seen are forgotten (counted),
# which costs one more upsert of the same vector if the template comes back.
INDEXED_TEMPLATES = 50_000


class LineConsumer:
    """The consumer's state in one worker: miners per OS, known templates, the index queue."""

    def __init__(self, deps: Deps) -> None:
        s = deps.settings
        self.deps = deps
        self.processor = LineProcessor(
            SourceProfiles(s.source_formats), deps.rules, headlines=Headlines(s.issue_continuation_gap_sec),
            max_clusters=s.miner_max_clusters,
        )
        self.key_fields = s.issue_key_fields
        self.snapshot_dir = Path(s.data_dir) / "miners"
        self.indexed_templates: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.sampler = IndexSampler(window_sec=s.index_window_sec, per_window=s.index_per_window)
        self.seen = RecentIds()
        self.vector_errors = 0
        self.index_queue: asyncio.Queue[list[ParsedEvent]] = asyncio.Queue(maxsize=s.index_queue_batches)
        self.index_dropped = 0  # lines not indexed because the queue was full
        self.nearest: dict[tuple[str, str], tuple[float, str]] = {}  # (os, template id) -> (distance, label)
        self.format_lookups = FormatLookups()
        self.load_snapshots()

    # ------------------------------------------------------------------------------ persistence
    def load_snapshots(self) -> None:
        """Resume the miners where the last run saved them (a missing or bad file starts fresh:
        ids are content hashes, so a fresh miner still gives known templates their old ids)."""
        for path in sorted(self.snapshot_dir.glob("*.state")):
            try:
                self.processor.miners[path.stem] = TemplateMiner.from_state(
                    path.read_bytes(), max_clusters=self.processor.max_clusters
                )
            except (OSError, InvalidState) as exc:
                log.warning("miner snapshot %s not loaded: %s", path, exc)

    def save_snapshots(self) -> None:
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        for os_name, miner in list(self.processor.miners.items()):
            tmp = self.snapshot_dir / f".{os_name}.tmp"
            tmp.write_bytes(miner.to_state())
            os.replace(tmp, self.snapshot_dir / f"{os_name}.state")

    # --------------------------------------------------------------------------------- batches
    async def handle_records(self, events: list[EventT]) -> Processed:
        """A batch of `logs` records, each the lines of one bridge read for one partition."""
        lines: list[RawLine] = []
        positions: list[tuple[int, int]] = []
        undecodable: list[DeadLetter] = []
        for event in events:
            msg = event.message
            try:
                batch = LineBatch.loads(event.value)
            except (ValueError, TypeError, KeyError) as exc:  # not the bridge's: parked with the reason
                undecodable.append(letter("consumer", msg, f"undecodable LineBatch: {exc}", self.deps.clock.now()))
                continue
            lines.extend(batch.lines)
            positions.extend((msg.partition, line_position(msg.offset, i)) for i in range(len(batch.lines)))
        return await self.handle(lines, positions, undecodable)

    async def handle(
        self, lines: list[RawLine], positions: list[tuple[int, int]] | None = None, dead: list[DeadLetter] | None = None
    ) -> Processed:
        """One batch; `positions` are the lines' (partition, position) in `logs`, which the
        aggregator uses to recognise a redelivered line."""
        s, topics = self.deps.settings, self.deps.topics
        now = self.deps.clock.now()
        at = dict(zip((x.id for x in lines), positions or (), strict=False))
        metrics: list[Metric] = []
        logs: list[RawLine] = []
        dead = list(dead or ())
        by_id = self.processor.profiles.by_id
        unknown = {x.source_id for x in lines if x.source_id and x.source_id not in by_id}
        if unknown and self.format_lookups.due(unknown, now):  # before parsing: a new source's format,
            await self.refresh_formats()  # published with its first lines
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
            if (hit := self.nearest.get((ev.os, ev.template_id))) is not None:
                ev.nearest_distance, ev.nearest_label = hit
        self.offer_index(processed.events)
        records, too_big = event_records(
            processed.events, lambda ev: partition_key(ev, self.key_fields),
            lambda key: partition_for(key, s.topic_partitions),
        )
        for part, cmd, data in records:
            await topics.issue_events.send(key=cmd.key, value=data, partition=part)
        too_large = "parsed line too large for a Kafka record"
        processed.dead.extend(dead_letter(RawLine(ev.id, ev.source, ev.raw, ev.source_id), too_large, now)
                              for ev in too_big)
        if s.enable_patterns:  # after the lines: a signal then finds the issue they opened
            counted, unsent = pattern_counts(processed.events, self.key_fields, processed.changes, now)
            for counts in counted:
                await topics.pattern_counts.send(key=counts.os, value=counts)
            if unsent:
                telemetry.count("streamapp.dropped", unsent, what="pattern_rows")
        telemetry.count("streamapp.lines.in", len(lines))
        if processed.evicted:
            telemetry.count("streamapp.dropped", processed.evicted, what="miner_clusters")
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

    async def refresh_formats(self) -> None:
        """Data sources' formats as producers publish them (`sources:formats`)."""
        self.format_lookups.read_at = self.deps.clock.now()
        try:
            formats = await self.deps.source_formats().read()
        except TransientError as exc:
            log.warning("consumer: source formats not refreshed (%s)", exc)
            return
        self.processor.profiles.set_source_formats(formats)

    # ------------------------------------------------------------------- vector store, off path
    def offer_index(self, events: list[ParsedEvent]) -> None:
        """Queue the batch's sampled lines for the index task; a full queue drops them (counted):
        retrieval gets a little poorer, ingestion never waits for the vector store."""
        kept = [ev for ev in events if self.sampler.keep(ev)]
        if not kept:
            return
        try:
            self.index_queue.put_nowait(kept)
        except asyncio.QueueFull:
            self.index_dropped += len(kept)
            telemetry.count("streamapp.dropped", len(kept), what="index_lines")

    async def drain_index(self) -> None:
        """The index timer's tick: every queued batch into the vector store, one at a time."""
        while not self.index_queue.empty():
            await self.index(self.index_queue.get_nowait())

    async def index(self, events: list[ParsedEvent]) -> None:
        """Lines into `logs_<os>`, new templates into `templates_<os>`, the nearest prototype of
        the warning+ templates from `proto_<os>` (into the cache the hot path reads). Best effort:
        the vector store being down slows retrieval later, it never stops issues from forming."""
        by_os: dict[str, list[ParsedEvent]] = defaultdict(list)
        for ev in events:
            by_os[ev.os].append(ev)
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
        indexed = self.indexed_templates
        new = []
        for tid in templates:
            if (os_name, tid) in indexed:
                indexed.move_to_end((os_name, tid))
            else:
                new.append(tid)
        if new:
            await store.upsert(
                "templates", os_name, new, np.stack([vecs[t] for t in new]),
                metadatas=[template_metadata(t) for t in new],
                documents=[templates[t] for t in new],
            )
            indexed.update(((os_name, t), None) for t in new)
            if (over := len(indexed) - INDEXED_TEMPLATES) > 0:
                for _ in range(over):
                    indexed.popitem(last=False)
                telemetry.count("streamapp.dropped", over, what="indexed_templates")
        loud = sorted({ev.template_id for ev in evs if Severity(ev.severity).rank >= Severity.WARNING.rank})
        if loud and await store.count("proto", os_name):
            hits = await store.query("proto", os_name, np.stack([vecs[t] for t in loud]), n_results=1)
            if len(self.nearest) + len(loud) > NEAREST_CACHE:
                telemetry.count("streamapp.dropped", len(self.nearest), what="nearest_cache")
                self.nearest.clear()
            for tid, h in zip(loud, hits, strict=True):
                if h:
                    self.nearest[(os_name, tid)] = (h[0].distance, prototype_label(h[0].metadata))


class RecentIds:
    """Line ids seen lately. A bridge that crashed after producing but before acknowledging sends
    its batch again, so Kafka holds the same Redis entry twice; the second copy is dropped here.
    The last `size` ids, in a set with a queue of their order (about 114 bytes an id, where an
    ordered dict took 155)."""

    def __init__(self, size: int = 200_000) -> None:
        self.size = size
        self._ids: set[str] = set()
        self._order: deque[str] = deque()
        self.duplicates = 0
        self.forgotten = 0  # ids dropped past the bound

    def fresh(self, lines: list[RawLine]) -> list[RawLine]:
        ids, order = self._ids, self._order
        out = []
        for line in lines:
            if line.id in ids:
                self.duplicates += 1
                continue
            ids.add(line.id)
            order.append(line.id)
            out.append(line)
        while len(order) > self.size:
            ids.discard(order.popleft())
            self.forgotten += 1
        return out


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
    """Add the consumer agent, its index task and its miner-snapshot and source-formats timers."""
    s = deps.settings
    consumer = LineConsumer(deps)

    async def snapshot() -> None:
        consumer.save_snapshots()

    # Not retried line by line: a retried line would be taken for a redelivered one (`RecentIds`).
    guarded_batches(deps, deps.topics.logs, "consumer", consumer.handle_records, size=s.consumer_batch_records,
                    within=s.consumer_batch_within_sec, retry_alone=False)
    guarded_timer(deps, s.miner_snapshot_sec, "consumer.snapshot", snapshot)
    guarded_timer(deps, 10.0, "consumer.source_formats", consumer.refresh_formats)
    guarded_timer(deps, INDEX_TICK_SEC, "consumer.index", consumer.drain_index)

    return consumer
