"""How the hot path cuts lines into Kafka records: one record per partition per batch, in order,
each small enough for the broker. Pure functions: the partition of a key is passed in.

A record per line would cost a producer send, a consumer event and a commit per line; a record per
partition per batch costs them once per hundreds of lines. Order holds per key because a key always
maps to one partition and a partition's records are produced and consumed in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from streamapp.records import IssueLines, LineBatch, ParsedEvent, RawLine

# Below Kafka's default limits (broker message.max.bytes and producer max_request_size, ~1 MiB),
# with room for the record's headers: a record never fails for its size alone.
MAX_RECORD_BYTES = 900_000

T = TypeVar("T")


def by_partition(items: Sequence[T], partition_of: Callable[[T], int]) -> dict[int, list[T]]:
    """Items grouped by partition, each group in the items' order."""
    out: dict[int, list[T]] = {}
    for item in items:
        out.setdefault(partition_of(item), []).append(item)
    return out


class Encodable(Protocol):
    def dumps(self) -> bytes: ...


R = TypeVar("R", bound=Encodable)


def fit(items: list[T], build: Callable[[list[T]], R], max_bytes: int = MAX_RECORD_BYTES
        ) -> tuple[list[tuple[list[T], R, bytes]], list[T]]:
    """Build and encode `items` as few records as fit in `max_bytes`, keeping their order: the usual
    batch is built and encoded once; a larger one is cut into equal runs (recursively). Returns
    (items, record, encoding) triples and the items too large even alone (the caller dead-letters
    them)."""
    if not items:
        return [], []
    record = build(items)
    data = record.dumps()
    if len(data) <= max_bytes:
        return [(items, record, data)], []
    if len(items) == 1:
        return [], items
    parts = min(len(items), len(data) // max_bytes + 1)
    step = -(-len(items) // parts)
    records: list[tuple[list[T], R, bytes]] = []
    too_big: list[T] = []
    for start in range(0, len(items), step):
        r, big = fit(items[start : start + step], build, max_bytes)
        records.extend(r)
        too_big.extend(big)
    return records, too_big


def line_records(lines: Sequence[RawLine], partition_of: Callable[[RawLine], int], max_bytes: int = MAX_RECORD_BYTES
                 ) -> tuple[list[tuple[int, list[RawLine], bytes]], list[RawLine]]:
    """One bridge read as `logs` records: (partition, lines, value) in order, and the lines that
    cannot fit in any record."""
    out: list[tuple[int, list[RawLine], bytes]] = []
    too_big: list[RawLine] = []
    for part, group in by_partition(lines, partition_of).items():
        records, big = fit(group, LineBatch, max_bytes)
        out.extend((part, xs, data) for xs, _, data in records)
        too_big.extend(big)
    return out, too_big


def event_records(events: Sequence[ParsedEvent], key_of: Callable[[ParsedEvent], str],
                  partition_of: Callable[[str], int], max_bytes: int = MAX_RECORD_BYTES
                  ) -> tuple[list[tuple[int, IssueLines, bytes]], list[ParsedEvent]]:
    """One consumer batch as `issue_events` records (kind `lines`): per partition, the lines
    grouped by aggregation key in order; and the lines that cannot fit in any record."""
    keyed = [(key_of(ev), ev) for ev in events]
    out: list[tuple[int, IssueLines, bytes]] = []
    too_big: list[ParsedEvent] = []
    for part, group in by_partition(keyed, lambda kv: partition_of(kv[0])).items():
        name = f"lines:{part}"
        records, big = fit(group, lambda kvs, name=name: _grouped(name, kvs), max_bytes)  # type: ignore[misc]
        out.extend((part, lines, data) for _, lines, data in records)
        too_big.extend(ev for _, ev in big)
    return out, too_big


def _grouped(name: str, keyed: list[tuple[str, ParsedEvent]]) -> IssueLines:
    groups: dict[str, list[ParsedEvent]] = {}
    for key, ev in keyed:
        groups.setdefault(key, []).append(ev)
    return IssueLines(name, groups)
