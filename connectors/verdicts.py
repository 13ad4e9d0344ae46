"""LLM verdicts cached on Redis by key (`streamapp.verdicts.cache_key`: subject, prompt version and
model), so a subject seen again costs no LLM call. The cache is an optimisation, never a dependency:
a read that fails is a miss, a write that fails is logged, and neither stops an alert."""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streamapp.settings import Settings

log = logging.getLogger(__name__)

CACHE_TTL_SEC = 7 * 86400


class VerdictCache:
    def __init__(self, client: aioredis.Redis | None, settings: Settings, ttl_sec: int = CACHE_TTL_SEC) -> None:
        self.client, self.settings, self.ttl_sec = client, settings, ttl_sec

    async def get(self, key: str) -> bytes | str | None:
        """The cached verdict (`verdict_to_cache`'s text), or None on a miss or a failure."""
        try:
            return await self._get(self.settings.redis_key(key))
        except (OSError, RedisError) as exc:
            log.warning("verdict cache unavailable (%s)", exc)
            return None

    async def put(self, key: str, value: str) -> None:
        try:
            await self._set(self.settings.redis_key(key), value)
        except (OSError, RedisError) as exc:
            log.warning("verdict not cached (%s)", exc)

    async def _get(self, key: str) -> bytes | str | None:
        assert self.client is not None
        raw: bytes | None = await self.client.get(key)
        return raw

    async def _set(self, key: str, value: str) -> None:
        assert self.client is not None
        await self.client.set(key, value, ex=self.ttl_sec)


class MemoryVerdictCache(VerdictCache):
    """The in-memory twin (unit tests of the enrichers): the same keys, no expiry; `down` makes every
    call fail as a lost Redis would."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(None, settings)
        self.items: dict[str, str] = {}
        self.down = False

    async def _get(self, key: str) -> str | None:
        self._check()
        return self.items.get(key)

    async def _set(self, key: str, value: str) -> None:
        self._check()
        self.items[key] = value

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("redis down (twin)")
