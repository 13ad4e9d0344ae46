"""Redis primitives of the stream connector layer: the client, consumer groups, and idempotent
writes of records to streams (and `alert:<id>` hashes)."""

from __future__ import annotations

from collections.abc import Sequence

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
# KEYS: stream, dedupe key, [hash key, pending fields key]. ARGV: dedupe ttl, hash ttl, maxlen,
# field, value, ... The dedupe mark and the entry are written atomically: a replayed record adds nothing.
_WRITE_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  local fields = {unpack(ARGV, 4)}
  local entry = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(fields))
  if KEYS[3] then
    redis.call('HSET', KEYS[3], unpack(fields))
    redis.call('EXPIRE', KEYS[3], ARGV[2])
    local pending = redis.call('HGETALL', KEYS[4])
    if #pending > 0 then
      redis.call('HSET', KEYS[3], unpack(pending))
      redis.call('DEL', KEYS[4])
    end
  end
  return entry
end
return false
"""


class StreamWriter:
    """Writes records to Redis streams once per record id, in one pipeline per batch."""

    def __init__(self, client: aioredis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._script = client.register_script(_WRITE_ONCE)

    async def write(self, stream: str, records: Sequence[StreamRecord], *, hash_prefix: str = "") -> int:
        """Append records to `stream` (skipping ids already written); with `hash_prefix`, also
        mirror each to the hash `<hash_prefix><id>` with the alert TTL, merging the fields pending
        for it (PENDING_PREFIX). Returns entries added."""
        if not records:
            return 0
        s = self.settings
        key = s.redis_key(stream)
        maxlen = s.deadletter_maxlen if stream == s.stream_deadletter else s.outbound_stream_maxlen
        async with self.client.pipeline(transaction=False) as pipe:
            for rec in records:
                keys = [key, s.redis_key(f"dedupe:{stream}:{rec.id}")]
                if hash_prefix:
                    name = f"{hash_prefix}{rec.id}"
                    keys += [s.redis_key(name), s.redis_key(PENDING_PREFIX + name)]
                fields = [x for kv in rec.to_redis().items() for x in kv]
                args = [s.outbound_dedupe_ttl_sec, s.alerts_ttl_sec, maxlen, *fields]
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
