"""Runtime toggles: the Redis hash `toggles` (with the stream prefix), fields `automations`,
`otel_export`, `redfish_polling`, values `true`/`false`. A field that was never set takes its
default from the settings. The API writes them (`PUT /telemetry/toggles`); workers read them per
decision through a short cache, so a change reaches every worker within `cache_sec`.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streamapp.clock import Clock, SystemClock
from streamapp.errors import TransientError
from streamapp.settings import Settings

FIELDS = ("automations", "otel_export", "redfish_polling")


class InvalidToggles(ValueError):
    """A toggle update names an unknown toggle or a value that is not a boolean (`field` says which)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def defaults(settings: Settings) -> dict[str, bool]:
    """What a toggle is until someone sets it: the matching ENABLE_* flag (Redfish polling: on,
    each Redfish source is configured on its own)."""
    return {"automations": settings.enable_automations, "otel_export": settings.enable_otel_export,
            "redfish_polling": True}


def validated(body: Any) -> dict[str, bool]:
    """A JSON update: an object of known toggle names to booleans."""
    if not isinstance(body, dict):
        raise InvalidToggles("body", f"expected a JSON object of booleans ({', '.join(FIELDS)})")
    for name, value in body.items():
        if name not in FIELDS:
            raise InvalidToggles(name, f"unknown toggle {name!r} (known: {', '.join(FIELDS)})")
        if not isinstance(value, bool):
            raise InvalidToggles(name, f"{name}: must be true or false, got {value!r}")
    return dict(body)


class Toggles:
    def __init__(self, client: aioredis.Redis, settings: Settings, *, cache_sec: float = 1.0,
                 clock: Clock | None = None) -> None:
        self.client = client
        self.key = settings.redis_key("toggles")
        self.defaults = defaults(settings)
        self.cache_sec = cache_sec
        self.clock = clock or SystemClock()
        self._cached: dict[str, bool] | None = None
        self._read_at = 0.0

    async def read(self) -> dict[str, bool]:
        """Every toggle, fresh from Redis (TransientError when Redis cannot answer)."""
        try:
            stored = await self.client.hgetall(self.key)
        except (RedisError, OSError) as exc:
            raise TransientError(f"toggles: Redis unavailable: {exc}") from exc
        values = dict(self.defaults)
        for name, raw in stored.items():
            name = name.decode() if isinstance(name, bytes) else name
            if name in values:
                values[name] = (raw.decode() if isinstance(raw, bytes) else raw) == "true"
        self._cached, self._read_at = values, self.clock.now()
        return values

    async def enabled(self, name: str) -> bool:
        """One toggle, re-read at most every `cache_sec`. When Redis cannot answer, the last value
        read holds; before any read, the toggle is off (what it gates does not run blind)."""
        if self._cached is None or self.clock.now() - self._read_at >= self.cache_sec:
            try:
                await self.read()
            except TransientError:
                if self._cached is None:
                    return False
        assert self._cached is not None
        return self._cached[name]

    async def update(self, values: Any) -> dict[str, bool]:
        """Set some toggles (a JSON object, validated), then every toggle as it now is."""
        changes = validated(values)
        if changes:
            try:
                await self.client.hset(self.key, mapping={k: "true" if v else "false" for k, v in changes.items()})
            except (RedisError, OSError) as exc:
                raise TransientError(f"toggles: Redis unavailable: {exc}") from exc
        return await self.read()
