"""Pure rules of the inbound bridge: which `logs` entries are poison, which Kafka key a line gets,
how far the stream may be trimmed without losing anything a group has not acknowledged, and which
groups stalled."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from streamapp.errors import PoisonInput
from streamapp.records import RawLine

StreamId = tuple[int, int]


def parse_id(entry_id: str | bytes) -> StreamId:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def format_id(sid: StreamId) -> str:
    return f"{sid[0]}-{sid[1]}"


def decode_entry(entry_id: str, fields: Mapping[bytes, bytes], max_bytes: int) -> RawLine:
    """Turn one raw `logs` entry into a line, or raise PoisonInput with the reason."""
    size = sum(len(k) + len(v) for k, v in fields.items())
    if size > max_bytes:
        raise PoisonInput(f"entry too large: {size} bytes > limit {max_bytes}", record_id=entry_id)
    try:
        text = {k.decode("utf-8"): v.decode("utf-8") for k, v in fields.items()}
    except UnicodeDecodeError as exc:
        raise PoisonInput(f"invalid UTF-8 at byte {exc.start}: {exc.reason}", record_id=entry_id) from None
    if "line" not in text:
        raise PoisonInput("missing field 'line'", record_id=entry_id)
    return RawLine(entry_id, text.get("source", "") or "unknown", text["line"], text.get("source_id", ""))


def partition_key(line: RawLine) -> str:
    """What decides a line's partition on Kafka: its source, so one source's lines keep their
    order in one partition (one host/component of a source never spreads over partitions)."""
    return line.source_id or line.source


def preview(fields: Mapping[bytes, bytes], limit: int = 2048) -> str:
    """A printable, bounded rendering of a poison entry for the dead-letter stream."""
    parts = []
    for k, v in fields.items():
        parts.append(f"{k.decode('utf-8', 'backslashreplace')}={v[:limit].decode('utf-8', 'backslashreplace')}")
    text = " ".join(parts)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


@dataclass(frozen=True)
class GroupState:
    """What XINFO GROUPS / XPENDING say about one consumer group."""

    name: str
    last_delivered: StreamId
    pending: int
    lowest_pending: StreamId | None


def trim_point(groups: Iterable[GroupState], now_ms: int, retain_ms: int) -> StreamId | None:
    """The MINID below which every entry is acknowledged by every group and older than the
    retention window; None when nothing may be trimmed (no group has read anything yet)."""
    bounds: list[StreamId] = []
    for g in groups:
        if g.pending and g.lowest_pending is not None:
            bounds.append(g.lowest_pending)
        else:
            # Everything up to last_delivered is acknowledged; keep last_delivered itself.
            bounds.append(g.last_delivered)
    if not bounds:
        return None
    point = min(min(bounds), (now_ms - retain_ms, 0))
    return point if point > (0, 0) else None


@dataclass
class Stalls:
    """Which consumer groups stopped moving while they have work. A group moves when its last
    delivered id or its pending count changes; it has work while entries follow its last delivered
    id or some are pending. Remembers only the groups of the last look."""

    stall_sec: float
    _seen: dict[str, tuple[StreamId, int, float]] = field(default_factory=dict)  # name -> (id, pending, since)

    def update(self, groups: Iterable[GroupState], last_id: StreamId, now: float) -> dict[str, float]:
        """The stalled groups, each with how long it has not moved (seconds)."""
        seen, stalled = {}, {}
        for g in groups:
            prev = self._seen.get(g.name)
            has_work = g.pending > 0 or g.last_delivered < last_id
            since = prev[2] if has_work and prev is not None and prev[:2] == (g.last_delivered, g.pending) else now
            seen[g.name] = (g.last_delivered, g.pending, since)
            if now - since >= self.stall_sec:
                stalled[g.name] = now - since
        self._seen = seen
        return stalled
