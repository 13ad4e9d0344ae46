"""Feeding the pipeline through Redis `logs` and reading what comes out, in tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import redis.asyncio as aioredis

from streamapp.records import ClosedIssue, StreamRecord
from streamapp.settings import Settings

R = TypeVar("R", bound=StreamRecord)
T = TypeVar("T")


async def xadd_lines(redis: aioredis.Redis, stream: str, lines: Sequence[str], source: str) -> list[str]:
    """XADD each line (pipelined) and return the entry ids, which are the pipeline's line ids."""
    ids: list[str] = []
    for start in range(0, len(lines), 1000):
        async with redis.pipeline(transaction=False) as pipe:
            for line in lines[start : start + 1000]:
                pipe.xadd(stream, {"source": source, "line": line})
            ids.extend(x.decode() for x in await pipe.execute())
    return ids


async def records(redis: aioredis.Redis, key: str, cls: type[R]) -> list[tuple[dict, R]]:
    """Every entry of a stream as (raw fields, decoded record)."""
    out = []
    for _, fields in await redis.xrange(key):
        out.append(({k.decode(): v.decode() for k, v in fields.items()}, cls.from_redis(fields)))
    return out


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 120, interval: float = 0.5) -> T:
    """Poll `check` until it returns something truthy; fail with its last answer otherwise."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


async def accounted_lines(redis: aioredis.Redis, settings: Settings) -> int:
    """Lines in closed issues so far (each closed issue once, replays deduplicated by id)."""
    closed = await records(redis, settings.redis_key(settings.stream_issues_closed), ClosedIssue)
    return sum({c.id: c.line_count for _, c in closed}.values())
