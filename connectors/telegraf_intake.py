"""The Telegraf endpoint's I/O: which source a token belongs to (the stored hashes, cached briefly),
and writing an accepted batch to `logs` exactly once per batch and source."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError

from streamapp.auth import token_hash
from streamapp.errors import TransientError
from streamapp.settings import Settings
from streamapp.telegraf import Accepted

TOKEN_CACHE_SEC = 5.0  # a disabled or deleted source's token keeps working this long at most
MISS_RELOAD_SEC = 1.0  # an unknown token re-reads the hashes at most this often (new sources)


@dataclass(frozen=True)
class TelegrafSource:
    id: str
    name: str
    config: dict[str, Any]


Loader = Callable[[], Awaitable[dict[str, tuple[str, str, dict]]]]


class TelegrafTokens:
    """Token -> enabled Telegraf source, compared in constant time against every stored hash."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sources: dict[str, TelegrafSource] = {}
        self._loaded_at: float | None = None

    async def source(self, token: str, load: Loader) -> TelegrafSource | None:
        """The source, with the hashes `load` returns re-read when the cache is stale."""
        age = None if self._loaded_at is None else self._clock() - self._loaded_at
        if age is None or age >= TOKEN_CACHE_SEC:
            await self._reload(load)
        found = self._match(token)
        if found is None and age is not None and MISS_RELOAD_SEC <= age < TOKEN_CACHE_SEC:
            await self._reload(load)
            found = self._match(token)
        return found

    def _match(self, token: str) -> TelegrafSource | None:
        presented = token_hash(token)
        found = None
        for stored, source in self._sources.items():  # no early exit: timing says nothing of the match
            if hmac.compare_digest(presented, stored):
                found = source
        return found

    async def _reload(self, load: Loader) -> None:
        try:
            rows = await load()
        except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
            raise TransientError(f"data sources unavailable: {type(exc).__name__}") from None
        self._sources = {h: TelegrafSource(sid, name, config) for h, (sid, name, config) in rows.items()}
        self._loaded_at = self._clock()


class TelegrafSink:
    """Writes a batch's lines to `logs` and marks the batch seen, in one MULTI/EXEC: a batch is written
    whole or not at all, and a re-send (Telegraf repeats a batch after any non-2xx, e.g. when our 2xx
    was lost) within the TTL writes nothing."""

    def __init__(self, client: aioredis.Redis, settings: Settings, dedupe_ttl_sec: int) -> None:
        self.client = client
        self.settings = settings
        self.dedupe_ttl_sec = dedupe_ttl_sec

    async def write_once(self, source: TelegrafSource, batch: Accepted) -> bool:
        """False when this source already sent this batch (nothing is written)."""
        s = self.settings
        seen = s.redis_key(f"telegraf:batch:{source.id}:{batch.digest}")
        stream = s.logs_key(s.logs_shard_of(source.id))  # the source's ingest shard
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                await pipe.watch(seen)
                if await pipe.exists(seen):
                    return False
                pipe.multi()
                lines = [(f"telegraf:{source.name}", line) for line in batch.payload_lines] + list(batch.log_lines)
                for origin, line in lines:
                    pipe.xadd(stream, {"source": origin, "line": line, "source_id": source.id},
                              maxlen=s.logs_maxlen, approximate=True)
                pipe.set(seen, "1", ex=self.dedupe_ttl_sec)
                await pipe.execute()
        except WatchError:
            return False  # the same batch was written by a concurrent request
        except (RedisError, OSError) as exc:
            raise TransientError(f"Redis unavailable: {type(exc).__name__}") from None
        return True
