"""Ingest shards on real Redis and Kafka: two bridge processes share two shards, one is SIGKILLed
mid-stream, the other takes its shard over; every line reaches Kafka and each source's lines keep
the order they had in Redis."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from streamapp.processes import Proc, start_cli
from streamapp.records import LineBatch
from streamapp.settings import Settings, settings_for_env
from streamapp.shards import line_id
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

SOURCES = [f"host-{i}.log" for i in range(8)]
CHUNKS, PER_CHUNK = 20, 250


async def feed_chunk(redis: aioredis.Redis, s: Settings, chunk: int, sent: dict[str, list[str]]) -> None:
    """PER_CHUNK lines spread over the sources, each to its source's shard; ids kept per source."""
    async with redis.pipeline(transaction=False) as pipe:
        order = []
        for i in range(PER_CHUNK):
            source = SOURCES[i % len(SOURCES)]
            shard = s.logs_shard_of(source)
            pipe.xadd(s.logs_key(shard), {"source": source, "line": f"{source} chunk {chunk} line {i}"})
            order.append((source, shard))
        for (source, shard), eid in zip(order, await pipe.execute(), strict=True):
            sent[source].append(line_id(eid.decode(), shard))


async def until(check, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_two_shards_two_bridges_one_killed_order_kept_nothing_lost(
    env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {**env, "LOGS_SHARDS": "2", "BRIDGE_LEASE_SEC": "2", "BRIDGE_BATCH_SIZE": "200"}
    s = settings_for_env(env)
    assert {s.logs_shard_of(x) for x in SOURCES} == {0, 1}, "the sources must use both shards"
    bridges: dict[str, Proc] = {
        name: start_cli(["bridge", "in"], {**env, "BRIDGE_CONSUMER": name}, tmp_path / f"{name}.log")
        for name in ("bridge-a", "bridge-b")
    }
    leases = [s.redis_key("bridge:in:leader"), s.redis_key("bridge:in:leader:{1}")]
    sent: dict[str, list[str]] = defaultdict(list)
    try:
        async def shared() -> bool:  # each bridge leads one shard
            holders = {v.decode() if v else None for v in await redis.mget(leases)}
            return holders == {"bridge-a", "bridge-b"}

        await until(shared)
        for chunk in range(CHUNKS):
            await feed_chunk(redis, s, chunk, sent)
            if chunk == CHUNKS // 3:
                victim = (await redis.get(leases[1])).decode()
                bridges[victim].kill()  # mid-stream, whatever it was doing
            await asyncio.sleep(0.05)
        ids = {x for xs in sent.values() for x in xs}

        def got_all(values: list[bytes]) -> bool:
            return ids <= {x.id for v in values for x in LineBatch.loads(v).lines}

        values = await read_topic(s, s.topic_name("logs"), got_all, timeout=120)
        survivor = next(name for name in bridges if name != victim)
        assert {v.decode() for v in await redis.mget(leases) if v} == {survivor}, "the survivor leads both shards"
    finally:
        for proc in bridges.values():
            proc.terminate()
    seen: dict[str, list[str]] = defaultdict(list)
    first: set[str] = set()
    for v in values:  # a source's lines are all in one partition, so read order is Kafka's order
        for x in LineBatch.loads(v).lines:
            if x.id not in first:  # a batch forwarded again after the kill repeats some lines
                first.add(x.id)
                seen[x.source].append(x.id)
    assert ids <= first, f"{len(ids - first)} lines never reached Kafka"
    for source, expected in sent.items():
        assert seen[source] == expected, f"{source}: order differs from Redis"
    print(f"{len(ids)} lines over 2 shards; {victim} killed; {len(first)} distinct on Kafka, in order per source")
