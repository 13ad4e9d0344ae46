"""Redis primitives of the stream connector layer: the client, consumer groups, and idempotent
writes of records to streams (and `alert:<id>` hashes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from streamapp.records import StreamRecord
from streamapp.settings import Settings


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
