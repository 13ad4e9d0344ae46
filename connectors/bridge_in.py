"""Inbound half of the stream connector layer: Redis stream `logs` (and its shards) -> Kafka topic
`logs`, one record per partition per read (`LineBatch`), not one per line."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from mode import Service
from redis.exceptions import RedisError

from connectors.kafka_admin import client_options, ensure_topics, partition_for
from connectors.lease import FencedScript, Lease, LeaseLost
from connectors.redis_streams import Entry, GroupReader, connect
from streamapp import telemetry
from streamapp.batches import line_records
from streamapp.errors import PoisonInput, TransientError
from streamapp.intake import (
    GroupState,
    Stalls,
    decode_entry,
    format_id,
    parse_id,
    partition_key,
    preview,
    trim_point,
)
from streamapp.records import DeadLetter, RawLine
from streamapp.settings import Settings
from streamapp.shards import entry_of, line_id, owned, stream_name

log = logging.getLogger(__name__)


# KEYS: logs, dead-letter stream. ARGV: group, the dead-letter stream's cap, number of letters, each
# letter as its field count and fields, then the entry ids to acknowledge (in chunks: Lua's unpack
# has a limit).
_ACKNOWLEDGE = """
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  local n = tonumber(ARGV[i])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, i + 1, i + n))
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
# KEYS: logs, the count of entries trimmed so far. ARGV: MINID. Trimmed and counted in one step, so
# what the caps removed is exact: entries added - length - trimmed.
_TRIM = """
local n = redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
redis.call('INCRBY', KEYS[2], n)
return n
"""
NEAR_CAP = 0.9  # past this share of LOGS_MAXLEN, acknowledged entries are trimmed whatever their age


async def _drop(read: asyncio.Future[list[Entry]]) -> None:
    """Wait for a read made ahead and forget its entries (and its failure): they are pending in the
    group, where a claim finds them."""
    await asyncio.gather(read, return_exceptions=True)


@dataclass
class Shard:
    """One `logs` shard as a bridge sees it: its stream (Redis key), its leader lease."""

    number: int
    name: str  # the stream's name (`logs`, `logs:{k}`), as dead letters record it
    stream: str  # its Redis key (prefix applied)
    lease: Lease
    reader: GroupReader  # claims and reads; acknowledging is `acknowledge`'s
    acknowledge: FencedScript  # dead letters and XACK, only while the lease is held
    trimmed_key: str  # how many entries the bridges trimmed from it (after acknowledgement)
    capped_key: str  # how many entries its cap removed, as last counted
    stalls: Stalls
    stalled: set[str] = field(default_factory=set)  # groups reported stalled at the last look


class InboundBridge(Service):
    """Moves entries of the Redis `logs` stream (or of its shards, `LOGS_SHARDS`) to the Kafka topic
    `logs` through a consumer group per stream.

    Order per batch: produce every entry, wait for the broker's acks, then XACK (and dead-letter
    poison in the same step, a Lua script that first checks this bridge still holds the shard's
    lease). A crash anywhere before XACK leaves entries pending. One bridge forwards a shard at a
    time (its lease), so Kafka keeps the order its lines had in Redis; whoever takes a shard over
    first forwards everything still pending in its group, oldest first, then the new entries. With
    several shards, the live bridges share them out (each takes the shards whose number modulo the
    number of live bridges is its rank among them), and take over a dead one's.
    """

    def __init__(self, settings: Settings, **kwargs) -> None:
        super().__init__(**kwargs)
        s = self.settings = settings
        self.topic = settings.topic_name("logs")
        self.redis: aioredis.Redis | None = None
        self.producer: AIOKafkaProducer | None = None
        self.forwarded = 0
        self.dead_lettered = 0
        self.shards: list[Shard] = []
        # With one stream every bridge stands by for it; with shards, membership decides (below).
        self.mine: set[int] = {0} if s.logs_shards == 1 else set()
        self._members_key = s.redis_key("bridge:in:members")

    @property
    def stream(self) -> str:
        """The Redis key of shard 0 (`logs`)."""
        return self.settings.redis_key(self.settings.stream_logs)

    async def on_start(self) -> None:
        s = self.settings
        self.redis = connect(s)
        for k in range(s.logs_shards):
            name = stream_name(s.stream_logs, k)
            lease_key = s.redis_key("bridge:in:leader" if k == 0 else f"bridge:in:leader:{{{k}}}")
            lease = Lease(self.redis, lease_key, s.bridge_consumer, s.bridge_lease_sec)
            suffix = "" if k == 0 else f":{{{k}}}"
            reader = GroupReader(self.redis, s.redis_key(name), s.bridge_group, s.bridge_consumer,
                                 count=s.bridge_batch_size, block_ms=s.bridge_block_ms)
            shard = Shard(k, name, s.redis_key(name), lease, reader, FencedScript(self.redis, _ACKNOWLEDGE, lease),
                          s.redis_key(f"bridge:in:trimmed{suffix}"), s.redis_key(f"bridge:in:capped:logs{suffix}"),
                          Stalls(s.bridge_group_stall_sec))
            await reader.ensure()
            self.shards.append(shard)
        await ensure_topics(s, {self.topic: s.topic_partitions})
        self.producer = AIOKafkaProducer(
            **client_options(s), acks="all", enable_idempotence=True,
            linger_ms=5, max_batch_size=512 * 1024, request_timeout_ms=30_000,
        )
        await self.producer.start()

    async def on_started(self) -> None:
        # Not in on_start: a test (or a caller) that prepares the clients runs no pump behind its back.
        for shard in self.shards:
            self.add_future(self._pump(shard))

    async def on_shutdown(self) -> None:
        # After the tasks stopped (mode runs on_shutdown last): a task must never meet a closed client.
        if self.producer is not None:
            await self.producer.stop()
        if self.redis is not None:
            for shard in self.shards:
                await shard.lease.release()
            if self.settings.logs_shards > 1:
                await self.redis.zrem(self._members_key, self.settings.bridge_consumer)
            await self.redis.aclose()

    @Service.task
    async def _membership(self) -> None:
        """With shards: a heartbeat in the members set, and this bridge's share of the shards."""
        s = self.settings
        while not self.should_stop and s.logs_shards > 1:
            try:
                self.mine = await self._share()
            except (RedisError, OSError) as exc:
                log.warning("bridge: membership not refreshed (%s)", exc)
            await self.sleep(s.bridge_lease_sec / 3)

    async def _share(self) -> set[int]:
        s = self.settings
        assert self.redis is not None
        now_ms = int(time.time() * 1000)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._members_key, {s.bridge_consumer: now_ms})
            pipe.zremrangebyscore(self._members_key, 0, now_ms - int(s.bridge_lease_sec * 1000))
            pipe.zrange(self._members_key, 0, -1)
            *_, members = await pipe.execute()
        return owned(s.logs_shards, [m.decode() for m in members], s.bridge_consumer)

    async def _pump(self, shard: Shard) -> None:
        """Forwards one shard while this bridge holds it. The next read is made while a batch goes to
        Kafka (its entries wait in the group's pending list, as read entries do until acknowledged),
        and is forwarded only after that batch was acknowledged, so batches reach Kafka in order."""
        s = self.settings
        takeover = True  # on taking the shard (again): everything pending first, oldest first
        next_claim = 0.0
        delay = 0.5
        ahead: asyncio.Task[list[Entry]] | None = None  # the next read, made while forwarding
        try:
            while not self.should_stop:
                try:
                    if (shard.number not in self.mine or takeover) and ahead is not None:
                        await _drop(ahead)  # its entries stay pending: claimed below, or by the next owner
                        ahead = None
                    if shard.number not in self.mine:
                        await shard.lease.release()  # between batches: the shard's new owner goes on
                        takeover = True
                        await self.sleep(0.5)
                        continue
                    if not await shard.lease.keep():
                        takeover = True
                        await self.sleep(min(1.0, s.bridge_lease_sec / 3))
                        continue
                    if takeover:
                        while pending := await shard.reader.claim(idle_ms=0):
                            await self._forward(shard, pending)
                        takeover = False
                        continue
                    entries: list[Entry] = []
                    if time.monotonic() >= next_claim:
                        entries = await shard.reader.claim(idle_ms=s.bridge_claim_idle_ms)
                        next_claim = time.monotonic() + max(s.bridge_claim_idle_ms / 2000, 0.5)
                    if not entries:
                        entries = await (ahead or shard.reader.read())
                        ahead = None
                    if entries:
                        ahead = asyncio.ensure_future(shard.reader.read())
                        await self._forward(shard, entries)
                    delay = 0.5
                except LeaseLost:
                    # Stalled past the lease: another bridge forwards now, and claims what we left pending.
                    log.warning("bridge %s: lease lost while forwarding; standing by", shard.name)
                    takeover = True
                except (TimeoutError, RedisError, KafkaError, OSError, TransientError) as exc:
                    if self.should_stop:
                        break
                    failure = exc.__cause__ if isinstance(exc, TransientError) and exc.__cause__ else exc
                    log.warning("bridge %s: %s: %s; retrying in %.1fs", shard.name, type(failure).__name__, exc,
                                delay)
                    takeover = True
                    await self.sleep(delay)
                    delay = min(delay * 2, 10.0)
        finally:
            if ahead is not None:  # never left running against a client that on_shutdown closes
                ahead.cancel()
                await _drop(ahead)

    @Service.task
    async def _trim(self) -> None:
        while not self.should_stop:
            await self.sleep(self.settings.bridge_trim_interval_sec)
            for shard in self.shards:
                if not shard.lease.held:  # a shard's leader trims and watches it, not every standby
                    continue
                try:
                    await self.trim_once(shard.number)
                    await self.watch_once(time.time(), shard.number)
                except (RedisError, OSError) as exc:
                    if not self.should_stop:
                        log.warning("bridge trim of %s skipped: %s", shard.name, exc)

    async def _forward(self, shard: Shard, entries: list[Entry]) -> None:
        s = self.settings
        assert self.redis is not None and self.producer is not None
        good: list[RawLine] = []
        poison: list[DeadLetter] = []
        for raw_id, fields in entries:
            entry_id = raw_id.decode()
            if not fields:  # deleted from the stream while pending: nothing left to forward
                continue
            try:
                good.append(decode_entry(line_id(entry_id, shard.number), fields, s.bridge_max_entry_bytes))
            except PoisonInput as exc:
                poison.append(self._dead(shard, entry_id, exc.reason, preview(fields)))
        # One record per partition (a line's partition is its source's), the lines in Redis order.
        records, too_big = line_records(good, lambda line: partition_for(partition_key(line), s.topic_partitions))
        poison.extend(self._dead(shard, entry_of(x.id)[1], "entry too large for a Kafka record once encoded",
                                 x.line[:2048]) for x in too_big)
        futures = [
            await self.producer.send(self.topic, value=data, key=str(part).encode(), partition=part)
            for part, _, data in records
        ]
        await asyncio.gather(*futures)  # the broker has every line (acks=all) ...
        letters: list[Any] = [len(poison)]  # ... so now acknowledge, if still the holder
        for dl in poison:
            pairs = [x for kv in dl.to_redis().items() for x in kv]
            letters += [len(pairs), *pairs]
        await shard.acknowledge([shard.stream, s.redis_key(s.stream_deadletter)],
                                [s.bridge_group, s.deadletter_maxlen, *letters, *(raw_id for raw_id, _ in entries)])
        self.forwarded += len(good) - len(too_big)
        self.dead_lettered += len(poison)
        telemetry.count("streamapp.deadletters", len(poison), stage="bridge")

    def _dead(self, shard: Shard, entry_id: str, reason: str, payload: str) -> DeadLetter:
        return DeadLetter.of("bridge_in", entry_id, prefix=shard.name, stream=shard.name, reason=reason,
                             payload=payload, at=time.time())

    async def trim_once(self, shard: int = 0) -> str | None:
        """Trim a shard's stream below what every group has acknowledged and older than the
        retention (near LOGS_MAXLEN, whatever its age: then the cap has only unacknowledged entries
        left to take)."""
        s = self.settings
        assert self.redis is not None
        sh = self.shards[shard]
        retain_sec = s.bridge_trim_retain_sec
        if await self.redis.xlen(sh.stream) >= s.logs_maxlen * NEAR_CAP:
            retain_sec = 0
        point = trim_point(await self._groups(sh.stream), int(time.time() * 1000), retain_sec * 1000)
        if point is None:
            return None
        minid = format_id(point)
        await self.redis.eval(_TRIM, 2, sh.stream, sh.trimmed_key, minid)
        return minid

    async def watch_once(self, now: float, shard: int = 0) -> dict[str, float]:
        """Count what the caps removed from a shard's stream (and, with shard 0, from the dead-letter
        stream) since the last look (`streamapp.dropped`, what=logs / deadletter), and warn of the
        consumer groups of the stream that stalled; returns them, each with how long it has not
        moved (seconds)."""
        s = self.settings
        assert self.redis is not None
        sh = self.shards[shard]
        info = await self.redis.xinfo_stream(sh.stream)
        await self._count_capped("logs", sh.capped_key, info, int(await self.redis.get(sh.trimmed_key) or 0))
        deadletter = s.redis_key(s.stream_deadletter)
        if shard == 0 and await self.redis.exists(deadletter):
            await self._count_capped("deadletter", s.redis_key("bridge:in:capped:deadletter"),
                                     await self.redis.xinfo_stream(deadletter), 0)
        groups = await self._groups(sh.stream)
        stalled = sh.stalls.update(groups, parse_id(info["last-generated-id"]), now)
        for g in groups:
            if g.name in stalled and g.name not in sh.stalled:
                log.warning("bridge: consumer group %r of %s has not moved for %.0fs with entries to read "
                            "(%d pending); past LOGS_MAXLEN its oldest entries are dropped",
                            g.name, sh.stream, stalled[g.name], g.pending)
        sh.stalled = set(stalled)
        telemetry.gauge("streamapp.logs.stalled_groups", sum(len(x.stalled) for x in self.shards))
        return stalled

    async def _count_capped(self, what: str, key: str, info: dict[str, Any], trimmed: int) -> None:
        """Count the entries a cap removed since the last look (whoever looked: the total is shared)."""
        assert self.redis is not None
        if info.get("entries-added") is None:  # Redis before 7.0 does not say
            return
        total = max(0, int(info["entries-added"]) - int(info["length"]) - trimmed)
        before = await self.redis.set(key, total, get=True)
        if (dropped := total - int(before or 0)) > 0:
            telemetry.count("streamapp.dropped", dropped, what=what)
            log.warning("bridge: %d entries of %s removed by its cap before they were acknowledged", dropped, what)

    async def _groups(self, stream: str) -> list[GroupState]:
        """What XINFO GROUPS and XPENDING say about each consumer group of a stream."""
        assert self.redis is not None
        groups = []
        for info in await self.redis.xinfo_groups(stream):
            name = info["name"]
            pending = int(info["pending"])
            lowest = None
            if pending:
                summary = await self.redis.xpending(stream, name)
                lowest = parse_id(summary["min"]) if summary.get("min") else None
            groups.append(GroupState(
                name=name.decode() if isinstance(name, bytes) else name,
                last_delivered=parse_id(info["last-delivered-id"]), pending=pending, lowest_pending=lowest,
            ))
        return groups
