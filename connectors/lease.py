"""A lease in Redis: one holder at a time among processes doing the same job (the inbound bridge,
the producer manager). Held by renewing it before it expires; a holder that dies loses it after
its TTL, and another takes over."""

from __future__ import annotations

import redis.asyncio as aioredis

# Extend the lease only if we still hold it (a stalled holder must not steal it back).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    def __init__(self, client: aioredis.Redis, key: str, holder: str, ttl_sec: float) -> None:
        self.client, self.key, self.holder = client, key, holder
        self.ttl_ms = int(ttl_sec * 1000)
        self.held = False

    async def hold(self) -> bool:
        """Take the lease if free, renew it if ours; False while another process holds it."""
        got = await self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms)
        if not got:
            got = bool(await self.client.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms))
        self.held = bool(got)
        return self.held

    async def release(self) -> None:
        if self.held:
            await self.client.eval(_RELEASE, 1, self.key, self.holder)
            self.held = False
