"""Source producer tests: what a producer wrote to `logs`, and waiting on its status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import redis.asyncio as aioredis

from streamapp.metrics import metric_payload
from streamapp.settings import Settings


async def lines(redis: aioredis.Redis, settings: Settings) -> list[str]:
    """Every line on the test's `logs` stream, in order."""
    entries = await redis.xrange(settings.redis_key(settings.stream_logs))
    return [fields[b"line"].decode() for _, fields in entries]


def payloads(all_lines: list[str]) -> list[dict]:
    """The metric payloads among `all_lines` (the other lines are log or alarm text)."""
    return [p for p in map(metric_payload, all_lines) if p is not None]


async def until(check: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait until `check()` is truthy (e.g. a producer's status says so); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
