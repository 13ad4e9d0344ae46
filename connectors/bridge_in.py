"""Inbound half of the stream connector layer: Redis stream `logs` -> Kafka topic `logs`, one
record per partition per read (`LineBatch`), not one per line."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from mode import Service
from redis.exceptions import RedisError

from connectors.kafka_admin import client_options, ensure_topics, partition_for
from connectors.lease import FencedScript, Lease, LeaseLost
from connectors.redis_streams import connect, ensure_group
from streamapp import telemetry
from streamapp.batches import line_records
from streamapp.errors import PoisonInput
from streamapp.intake import GroupState, decode_entry, format_id, parse_id, partition_key, preview, trim_point
from streamapp.records import DeadLetter, RawLine
from streamapp.settings import Settings

log = logging.getLogger(__name__)

Entry = tuple[bytes, dict[bytes, bytes]]

# KEYS: logs, dead-letter stream. ARGV: group, number of letters, each letter as its field count
# and fields, then the entry ids to acknowledge (in chunks: Lua's unpack has a limit).
_ACKNOWLEDGE = """
local i = 4
for _ = 1, tonumber(ARGV[3]) do
  local n = tonumber(ARGV[i])
  redis.call('XADD', KEYS[3], '*', unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
local acked = 0
while i <= #ARGV do
  local last = math.min(i + 999, #ARGV)
  acked = acked + redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, i, last))
  i = last + 1
end
return acked
"""


class InboundBridge(Service):
    """Moves entries of the Redis stream `logs` to the Kafka topic `logs` through a consumer group.

    Order per batch: produce every entry, wait for the broker's acks, then XACK (and dead-letter
    poison in the same transaction, which also checks that this bridge still holds the lease). A
    crash anywhere before XACK leaves entries pending; they are re-read (own pending list) or
    reclaimed from dead consumers (XAUTOCLAIM) and sent again.
    """

    def __init__(self, settings: Settings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.stream = settings.redis_key(settings.stream_logs)
        self.topic = settings.topic_name("logs")
        self.redis: aioredis.Redis | None = None
        self.producer: AIOKafkaProducer | None = None
        self.forwarded = 0
        self.dead_lettered = 0
        self.lease: Lease | None = None
        self._acknowledge: FencedScript | None = None

    async def on_start(self) -> None:
        s = self.settings
        self.redis = connect(s)
        # One bridge forwards at a time, so Kafka keeps the order lines had in Redis (per-key
        # state downstream depends on it); the others stand by and take over when it dies.
        self.lease = Lease(self.redis, s.redis_key("bridge:in:leader"), s.bridge_consumer, s.bridge_lease_sec)
        self._acknowledge = FencedScript(self.redis, _ACKNOWLEDGE, self.lease)
        await ensure_group(self.redis, self.stream, s.bridge_group)
        await ensure_topics(s, {self.topic: s.topic_partitions})
        self.producer = AIOKafkaProducer(
            **client_options(s), acks="all", enable_idempotence=True,
            linger_ms=5, max_batch_size=512 * 1024, request_timeout_ms=30_000,
        )
        await self.producer.start()

    async def on_shutdown(self) -> None:
        # After the tasks stopped (mode runs on_shutdown last): a task must never meet a closed client.
        if self.producer is not None:
            await self.producer.stop()
        if self.redis is not None:
            if self.lease is not None:
                await self.lease.release()
            await self.redis.aclose()

    @Service.task
    async def _pump(self) -> None:
        s = self.settings
        backlog = True  # first drain our own pending list (delivered to us, never acknowledged)
        next_claim = 0.0
        delay = 0.5
        while not self.should_stop:
            try:
                assert self.lease is not None
                if not await self.lease.hold():
                    backlog = True
                    await self.sleep(min(1.0, s.bridge_lease_sec / 3))
                    continue
                entries: list[Entry] = []
                if time.monotonic() >= next_claim:
                    entries = await self._claim()
                    next_claim = time.monotonic() + max(s.bridge_claim_idle_ms / 2000, 0.5)
                if not entries:
                    entries = await self._read("0" if backlog else ">")
                    if backlog and not entries:
                        backlog = False
                        continue
                if entries:
                    await self._forward(entries)
                delay = 0.5
            except LeaseLost:
                # Stalled past the lease: another bridge forwards now, and claims what we left pending.
                log.warning("bridge: lease lost while forwarding; standing by")
                backlog = True
            except (TimeoutError, RedisError, KafkaError, OSError) as exc:
                if self.should_stop:
                    break
                log.warning("bridge: %s: %s; retrying in %.1fs", type(exc).__name__, exc, delay)
                backlog = True
                await self.sleep(delay)
                delay = min(delay * 2, 10.0)

    @Service.task
    async def _trim(self) -> None:
        while not self.should_stop:
            await self.sleep(self.settings.bridge_trim_interval_sec)
            try:
                await self.trim_once()
            except (RedisError, OSError) as exc:
                if not self.should_stop:
                    log.warning("bridge trim skipped: %s", exc)

    async def _read(self, from_id: str) -> list[Entry]:
        s = self.settings
        assert self.redis is not None
        reply = await self.redis.xreadgroup(
            s.bridge_group, s.bridge_consumer, {self.stream: from_id},
            count=s.bridge_batch_size, block=None if from_id == "0" else s.bridge_block_ms,
        )
        return [e for _, entries in reply for e in entries] if reply else []

    async def _claim(self) -> list[Entry]:
        s = self.settings
        assert self.redis is not None
        _, entries, *_ = await self.redis.xautoclaim(
            self.stream, s.bridge_group, s.bridge_consumer, s.bridge_claim_idle_ms,
            start_id="0-0", count=s.bridge_batch_size,
        )
        return [e for e in entries if e]

    async def _forward(self, entries: list[Entry]) -> None:
        s = self.settings
        assert self.redis is not None and self.producer is not None
        good: list[RawLine] = []
        poison: list[DeadLetter] = []
        for raw_id, fields in entries:
            entry_id = raw_id.decode()
            if not fields:  # deleted from the stream while pending: nothing left to forward
                continue
            try:
                good.append(decode_entry(entry_id, fields, s.bridge_max_entry_bytes))
            except PoisonInput as exc:
                poison.append(self._dead(entry_id, exc.reason, preview(fields)))
        # One record per partition (a line's partition is its source's), the lines in Redis order.
        records, too_big = line_records(good, lambda line: partition_for(partition_key(line), s.topic_partitions))
        poison.extend(self._dead(x.id, "entry too large for a Kafka record once encoded", x.line[:2048])
                      for x in too_big)
        futures = [
            await self.producer.send(self.topic, value=data, key=str(part).encode(), partition=part)
            for part, _, data in records
        ]
        await asyncio.gather(*futures)  # the broker has every line (acks=all) ...
        letters: list[Any] = [len(poison)]  # ... so now acknowledge, if still the holder
        for dl in poison:
            pairs = [x for kv in dl.to_redis().items() for x in kv]
            letters += [len(pairs), *pairs]
        assert self._acknowledge is not None
        await self._acknowledge([self.stream, s.redis_key(s.stream_deadletter)],
                                [s.bridge_group, *letters, *(raw_id for raw_id, _ in entries)])
        self.forwarded += len(good) - len(too_big)
        self.dead_lettered += len(poison)
        telemetry.count("streamapp.deadletters", len(poison), stage="bridge")

    def _dead(self, entry_id: str, reason: str, payload: str) -> DeadLetter:
        s = self.settings
        return DeadLetter(id=f"{s.stream_logs}:{entry_id}", reason=reason, stream=s.stream_logs,
                          original_id=entry_id, payload=payload, failed_at=time.time(), stage="bridge_in")

    async def trim_once(self) -> str | None:
        """Trim `logs` below what every group has acknowledged (and older than the retention)."""
        assert self.redis is not None
        groups = []
        for info in await self.redis.xinfo_groups(self.stream):
            name = info["name"]
            pending = int(info["pending"])
            lowest = None
            if pending:
                summary = await self.redis.xpending(self.stream, name)
                lowest = parse_id(summary["min"]) if summary.get("min") else None
            groups.append(GroupState(
                name=name.decode() if isinstance(name, bytes) else name,
                last_delivered=parse_id(info["last-delivered-id"]), pending=pending, lowest_pending=lowest,
            ))
        point = trim_point(groups, int(time.time() * 1000), self.settings.bridge_trim_retain_sec * 1000)
        if point is None:
            return None
        minid = format_id(point)
        await self.redis.xtrim(self.stream, minid=minid, approximate=False)
        return minid
