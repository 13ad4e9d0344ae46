"""The consumer on batch records: one `issue_events` record per partition per batch, positions that
let the aggregator recognise a redelivery, bridge replays dropped, unreadable records parked, and
vector-store work queued off the hot path (dropped and counted when the queue is full)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from agents.consumer import LineConsumer, RecentIds
from streamapp.clock import ManualClock
from streamapp.embedding import HashedTfidfEmbedder
from streamapp.records import LINES_PER_RECORD, DeadLetter, IssueEvents, LineBatch, RawLine
from streamapp.rules import RuleSet
from streamapp.settings import Settings
from streamapp.sources import FormatLookups
from streamapp.worker.deps import Deps

LINE = "Jun 14 15:16:{s:02d} host{h} sshd[{p}]: authentication failure; rhost=10.0.0.{n} user=root"


class Sink:
    def __init__(self) -> None:
        self.sent: list[tuple[object, int | None]] = []

    async def send(self, key: str, value: object, partition: int | None = None) -> None:
        self.sent.append((value, partition))


class Sinks:
    def __init__(self) -> None:
        self.issue_events, self.deadletter, self.metrics, self.line_candidates = Sink(), Sink(), Sink(), Sink()
        self.pattern_counts = Sink()


def make(tmp_path: Path, **overrides) -> tuple[LineConsumer, Sinks]:
    settings = Settings(data_dir=tmp_path, topic_partitions=4, **overrides)
    sinks = Sinks()
    deps = Deps(app=None, settings=settings, topics=sinks, rules=RuleSet.load(),  # type: ignore[arg-type]
                embedder=HashedTfidfEmbedder(16), clock=ManualClock())
    return LineConsumer(deps), sinks


def at(partition: int, offset: int, value: bytes) -> SimpleNamespace:
    """A `logs` record as the agent's batch holds it (the event and its Kafka message)."""
    message = SimpleNamespace(topic="logs", partition=partition, offset=offset, value=value)
    return SimpleNamespace(message=message, value=value)


def record(first: int, n: int) -> bytes:
    return LineBatch([
        RawLine(f"{first + i}-0", "auth.log", LINE.format(s=i % 60, h=(first + i) % 700, p=100 + i % 13, n=i))
        for i in range(n)
    ]).dumps()


async def test_one_issue_events_record_per_partition_per_batch(tmp_path: Path) -> None:
    consumer, sinks = make(tmp_path)
    await consumer.handle_records([at(0, 10, record(1, 300)), at(1, 4, record(1000, 300))])
    parts = [p for _, p in sinks.issue_events.sent]
    assert len(parts) == len(set(parts)) <= 4, "one record per partition for the whole batch"
    cmds = [IssueEvents.loads(v) for v, _ in sinks.issue_events.sent]  # type: ignore[arg-type]
    events = [e for c in cmds for evs in c.groups.values() for e in evs]
    assert len(events) == 600
    first = next(e for e in events if e.id == "1-0")
    assert (first.src, first.off) == (0, 10 * LINES_PER_RECORD)
    tenth = next(e for e in events if e.id == "1009-0")
    assert (tenth.src, tenth.off) == (1, 4 * LINES_PER_RECORD + 9)


async def test_a_replayed_bridge_batch_is_dropped_and_an_unreadable_record_parked(tmp_path: Path) -> None:
    consumer, sinks = make(tmp_path)
    await consumer.handle_records([at(0, 1, record(1, 50))])
    sent = len(sinks.issue_events.sent)
    processed = await consumer.handle_records([at(0, 2, record(1, 50)), at(2, 7, b"\x00not a batch")])
    assert consumer.seen.duplicates == 50 and processed.events == []
    assert len(sinks.issue_events.sent) == sent
    (letter,) = [v for v, _ in sinks.deadletter.sent]
    assert isinstance(letter, DeadLetter) and letter.original_id.endswith("logs/2/7")
    assert "undecodable LineBatch" in letter.reason


async def test_index_work_is_queued_and_dropped_with_a_count_when_full(tmp_path: Path) -> None:
    consumer, _ = make(tmp_path, index_queue_batches=2)  # every line a new host: the sampler keeps all
    for k in range(4):
        await consumer.handle_records([at(0, k, record(1 + 100 * k, 100))])
    assert consumer.index_queue.qsize() == 2
    assert consumer.index_dropped == 200, "two batches found the queue full"


def test_a_new_source_is_looked_up_at_once_and_a_formatless_one_at_most_every_second() -> None:
    lookups = FormatLookups(min_age_sec=1.0, size=3)
    assert lookups.due({"mac"}, now=100.0)
    lookups.read_at = 100.0
    assert lookups.due({"windows"}, now=100.2), "another new source a moment later: read again"
    lookups.read_at = 100.2
    assert not lookups.due({"windows", "mac"}, now=100.5), "looked up already, still without one: wait"
    assert lookups.due({"mac"}, now=101.3)
    for sid in ("a", "b", "c"):  # bounded: "mac" and "windows" are forgotten, so new again
        lookups.due({sid}, now=101.3)
    assert lookups.due({"mac"}, now=101.3)


def test_recent_ids_keep_the_last_ids_within_their_bound() -> None:
    seen = RecentIds(size=3)
    lines = [RawLine(f"{i}-0", "s", "x") for i in range(5)]
    assert seen.fresh(lines[:4]) == lines[:4] and seen.forgotten == 1  # "0-0" is past the bound
    assert seen.fresh([lines[3], lines[0], lines[4]]) == [lines[0], lines[4]]
    assert seen.duplicates == 1 and seen.forgotten == 3
    assert seen.fresh([lines[0], lines[3], lines[4]]) == [] and seen.duplicates == 4
    assert seen.fresh([lines[2]]) == [lines[2]]  # forgotten: taken as new
