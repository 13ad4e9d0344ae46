"""How each data source's lines are to be parsed (its configured format), as the source managers
publish it on Redis (`sources:formats`, source id -> format) for the consumers to read."""

from __future__ import annotations

import redis.asyncio as aioredis

from connectors.redis_streams import transient
from streamapp.settings import Settings


class SourceFormats:
    def __init__(self, client: aioredis.Redis, settings: Settings) -> None:
        self.client, self.key = client, settings.redis_key("sources:formats")

    async def read(self) -> dict[str, str]:
        """Source id -> format; raises TransientError when Redis fails."""
        with transient():
            raw = await self.client.hgetall(self.key)
        return {k.decode(): v.decode() for k, v in raw.items()}


class MemorySourceFormats(SourceFormats):
    """The in-memory twin (unit tests of the consumer): `formats` as published."""

    def __init__(self, formats: dict[str, str] | None = None) -> None:
        self.formats = dict(formats or {})

    async def read(self) -> dict[str, str]:
        return dict(self.formats)
