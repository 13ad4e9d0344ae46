"""A lease in Redis: one holder at a time among processes doing the same job (the inbound bridge,
the producer manager). Held by renewing it before it expires; a holder that dies loses it after
its TTL, and another takes over.

Renewing is not enough on its own: a holder that stalls (a long GC pause, a frozen VM) past the
TTL wakes up believing it still holds the lease while another process already does. So the writes
only the holder may make are `FencedScript`s: Lua scripts whose first step checks the lease, in
the same atomic run as the writes, and a former holder writes nothing (`LeaseLost`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from streamapp.errors import TransientError

# Extend the lease only if we still hold it (a stalled holder must not steal it back).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# The first step of every fenced script: KEYS[1] is the lease, ARGV[1] its holder ('' = not fenced).
_FENCE = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('LEASELOST the lease is not held by ' .. ARGV[1])
end
"""


class LeaseLost(TransientError):
    """Another process holds the lease (or nobody does): the fenced writes were not made."""


class Lease:
    def __init__(self, client: aioredis.Redis, key: str, holder: str, ttl_sec: float) -> None:
        self.client, self.key, self.holder = client, key, holder
        self.ttl_ms = int(ttl_sec * 1000)
        self.held = False
        self._renew_at = 0.0  # monotonic time after which `keep` renews

    async def hold(self) -> bool:
        """Take the lease if free, renew it if ours; False while another process holds it."""
        got = await self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms)
        if not got:
            got = bool(await self.client.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms))
        self.held = bool(got)
        self._renew_at = time.monotonic() + self.ttl_ms / 3000
        return self.held

    async def keep(self) -> bool:
        """`hold`, but while held only once a third of the TTL has passed since the last renewal: a
        loop calling it per batch makes no round trip per batch. Safe because what only the holder
        may write is fenced (`FencedScript` checks the lease in the same atomic step)."""
        if self.held and time.monotonic() < self._renew_at:
            return True
        return await self.hold()

    async def release(self) -> None:
        if self.held:
            await self.client.eval(_RELEASE, 1, self.key, self.holder)
            self.held = False


class FencedScript:
    """A Lua script that writes only while `lease` is held (checked first, atomically with the
    writes); without a lease it runs unfenced. The body's own keys start at KEYS[2] and its own
    arguments at ARGV[2] (KEYS[1] and ARGV[1] are the lease's)."""

    def __init__(self, client: aioredis.Redis, body: str, lease: Lease | None = None) -> None:
        self.lease = lease
        self._script = client.register_script(_FENCE + body)

    async def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        lease = self.lease
        try:
            return await self._script(keys=[lease.key if lease else keys[0], *keys],
                                      args=[lease.holder if lease else "", *args])
        except ResponseError as exc:
            if lease is None or not str(exc).startswith("LEASELOST"):
                raise
            lease.held = False
            raise LeaseLost(str(exc)) from None
