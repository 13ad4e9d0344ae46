"""Redis primitives of the stream connector layer: the client, consumer groups (`GroupReader`), and
idempotent writes of records to streams (and `alert:<id>` hashes)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from streamapp.clock import Clock, SystemClock
from streamapp.errors import TransientError
from streamapp.records import StreamRecord
from streamapp.settings import Settings

Entry = tuple[bytes, dict[bytes, bytes]]  # a stream entry as the client returns it: id, fields


def connect(settings: Settings) -> aioredis.Redis:
    """A Redis client that returns bytes, so invalid UTF-8 can be detected and dead-lettered."""
    return aioredis.from_url(
        settings.redis_url, decode_responses=False, socket_timeout=30, socket_connect_timeout=5,
        health_check_interval=30,
    )


# Fields for a hash `<name>` that arrived before the hash was written wait at `pending:<name>`
# (an alert group's host list, which the enricher updates as hosts join); writing the hash merges them.
PENDING_PREFIX = "pending:"

# One round trip per record would be the hot-path cost; the script runs for a whole pipeline.
# KEYS: stream, id mark, offset watermark, [hash, pending fields]. ARGV: id mark TTL, hash TTL, maxlen,
# the record's Kafka offset (-1: none), field, value, ... A record is written once, atomically with
# its marks: not when its partition's watermark is at or past its offset (the bridge read it again,
# however long ago), nor when its id was written within the TTL (an upstream stage sent it again).
_WRITE_ONCE = """
local offset = tonumber(ARGV[4])
if offset >= 0 then
  local mark = redis.call('GET', KEYS[3])
  if mark and offset <= tonumber(mark) then return false end
  redis.call('SET', KEYS[3], offset)
end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return false end
local fields = {unpack(ARGV, 5)}
local entry = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(fields))
if KEYS[4] then
  redis.call('HSET', KEYS[4], unpack(fields))
  redis.call('EXPIRE', KEYS[4], ARGV[2])
  local pending = redis.call('HGETALL', KEYS[5])
  if #pending > 0 then
    redis.call('HSET', KEYS[4], unpack(pending))
    redis.call('DEL', KEYS[5])
  end
end
return entry
"""


class Outgoing(NamedTuple):
    """One record for a stream; `at` is where it was read on Kafka (topic, partition, offset)."""

    stream: str
    record: StreamRecord
    hash_prefix: str = ""
    at: tuple[str, int, int] | None = None


class StreamWriter:
    """Writes records to Redis streams once each, in one pipeline per batch.

    Bounded memory: one watermark per Kafka partition (the highest offset written), which drops the
    bridge's own replays exactly, and an id mark per record for OUTBOUND_DEDUPE_TTL_SEC only, which
    drops what an upstream stage re-sent lately (`bench/outbound_dedupe_bench.py` measures both).
    """

    def __init__(self, client: aioredis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._script = client.register_script(_WRITE_ONCE)

    def watermark_key(self, topic: str, partition: int) -> str:
        return self.settings.redis_key(f"outbound:offset:{topic}:{partition}")

    async def write(self, stream: str, records: Sequence[StreamRecord], *, hash_prefix: str = "") -> int:
        """Append records to `stream` (skipping ids written lately); with `hash_prefix`, also
        mirror each to the hash `<hash_prefix><id>` with the alert TTL, merging the fields pending
        for it (PENDING_PREFIX). Returns entries added."""
        return await self.write_all([Outgoing(stream, rec, hash_prefix) for rec in records])

    async def write_all(self, items: Sequence[Outgoing]) -> int:
        """`write` for records bound to several streams, in this order (records read from Kafka in
        their partitions' order: a partition's watermark only moves forward); returns entries added."""
        if not items:
            return 0
        s = self.settings
        async with self.client.pipeline(transaction=False) as pipe:
            for stream, rec, hash_prefix, at in items:
                key = s.redis_key(stream)
                watermark = self.watermark_key(at[0], at[1]) if at else key
                keys = [key, s.redis_key(f"dedupe:{stream}:{rec.id}"), watermark]
                if hash_prefix:
                    name = f"{hash_prefix}{rec.id}"
                    keys += [s.redis_key(name), s.redis_key(PENDING_PREFIX + name)]
                maxlen = s.deadletter_maxlen if stream == s.stream_deadletter else s.outbound_stream_maxlen
                fields = [x for kv in rec.to_redis().items() for x in kv]
                args = [s.outbound_dedupe_ttl_sec, s.alerts_ttl_sec, maxlen, at[2] if at else -1, *fields]
                await self._script(keys=keys, args=args, client=pipe)
            results = await pipe.execute()
        return sum(1 for r in results if r)


async def ensure_group(client: aioredis.Redis, stream: str, group: str, start_id: str = "0") -> None:
    """Create the consumer group at `0` (not `$`) so entries written before it are not skipped."""
    try:
        await client.xgroup_create(stream, group, id=start_id, mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


@contextlib.contextmanager
def transient() -> Iterator[None]:
    """Any Redis failure (refused, timed out, answered with an error) as a `TransientError` with the
    same message: what callers that hold no Redis client of their own (agents) catch."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise TransientError(str(exc)) from exc


class GroupReader:
    """One consumer of a Redis consumer group on one stream: entries left pending (by a consumer that
    died, or by this one before a restart) are claimed, new ones read, and each is acknowledged
    only once the next hop has it, by `ack` or by the caller's own script. Every call raises
    `TransientError` when Redis fails."""

    def __init__(self, client: aioredis.Redis, stream: str, group: str, consumer: str, *, count: int,
                 block_ms: int | None = None) -> None:
        self.client, self.stream, self.group, self.consumer = client, stream, group, consumer
        self.count, self.block_ms = count, block_ms

    async def ensure(self) -> None:
        """The group exists (created at the stream's start, so nothing written before it is skipped)."""
        with transient():
            await ensure_group(self.client, self.stream, self.group)

    async def claim(self, idle_ms: int) -> list[Entry]:
        """Pending entries of the group idle at least `idle_ms`, oldest first (one batch)."""
        with transient():
            _, entries, *_ = await self.client.xautoclaim(
                self.stream, self.group, self.consumer, idle_ms, start_id="0-0", count=self.count,
            )
        return [e for e in entries if e]

    async def read(self) -> list[Entry]:
        """New entries (one batch), waiting up to `block_ms` for one when given."""
        with transient():
            reply = await self.client.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=self.count, block=self.block_ms,
            )
        return [e for _, entries in reply for e in entries] if reply else []

    async def ack(self, entry_ids: Sequence[bytes | str]) -> None:
        if entry_ids:
            with transient():
                await self.client.xack(self.stream, self.group, *entry_ids)


class MemoryGroupReader(GroupReader):
    """The in-memory twin (unit tests of the agents that read a group): `add` appends to the stream;
    an entry read or claimed is pending until acknowledged, and claimable once idle `idle_ms`
    on `clock`. `down` makes every call fail as a lost Redis would."""

    def __init__(self, *, count: int = 500, clock: Clock | None = None) -> None:
        super().__init__(None, "", "", "", count=count)  # type: ignore[arg-type]
        self.clock = clock or SystemClock()
        self.new: list[Entry] = []
        self.pending: dict[bytes, tuple[Entry, float]] = {}
        self.down = False
        self._seq = 0

    def add(self, fields: dict[str, str]) -> bytes:
        self._seq += 1
        entry_id = f"{self._seq}-0".encode()
        self.new.append((entry_id, {k.encode(): v.encode() for k, v in fields.items()}))
        return entry_id

    async def ensure(self) -> None:
        self._check()

    async def claim(self, idle_ms: int) -> list[Entry]:
        self._check()
        now = self.clock.now()
        due = [e for e, at in self.pending.values() if (now - at) * 1000 >= idle_ms][: self.count]
        for entry in due:
            self.pending[entry[0]] = (entry, now)
        return due

    async def read(self) -> list[Entry]:
        self._check()
        batch, self.new = self.new[: self.count], self.new[self.count :]
        self.pending.update((e[0], (e, self.clock.now())) for e in batch)
        return batch

    async def ack(self, entry_ids: Sequence[bytes | str]) -> None:
        self._check()
        for entry_id in entry_ids:
            self.pending.pop(entry_id.encode() if isinstance(entry_id, str) else entry_id, None)

    def _check(self) -> None:
        if self.down:
            raise TransientError("redis down (twin)")
