"""Lease fencing (issue 16 #15), on real Redis and Kafka: a process that stalled past its lease
while another took over writes nothing, because the lease is checked in the same transaction as
the write: the inbound bridge's acknowledgement (entries stay pending for the new holder) and a
source's lines and cursor (the producer manager's lease)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from connectors.bridge_in import InboundBridge
from connectors.lease import Lease, LeaseLost
from connectors.sources.base import Batch, Emitter, SourceConfig
from streamapp.settings import Settings

pytestmark = pytest.mark.integration


async def test_a_stalled_bridge_cannot_acknowledge_after_another_took_the_lease(
    settings: Settings, redis: aioredis.Redis
) -> None:
    stream = settings.redis_key("logs")
    async with redis.pipeline(transaction=False) as pipe:
        for i in range(20):
            pipe.xadd(stream, {"source": "app.log", "line": f"line {i}"})
        await pipe.execute()
    stalled = InboundBridge(settings)
    await stalled.on_start()
    try:
        shard = stalled.shards[0]  # `logs`
        assert await shard.lease.hold()
        entries = await shard.reader.read()
        assert len(entries) == 20
        # It stalls here past its lease; the lease expires and a standby bridge takes it.
        await redis.set(shard.lease.key, "standby-bridge", px=60_000)
        with pytest.raises(LeaseLost):
            await stalled._forward(shard, entries)
        pending = await redis.xpending(stream, settings.bridge_group)
        assert pending["pending"] == 20, "the former holder acknowledged entries the new holder must claim"
        # Back as the holder (the standby's lease ran out), the same call acknowledges.
        await redis.delete(shard.lease.key)
        assert await shard.lease.hold()
        await stalled._forward(shard, entries)
        assert (await redis.xpending(stream, settings.bridge_group))["pending"] == 0
    finally:
        await stalled.on_shutdown()


async def test_a_stalled_source_manager_writes_no_lines_and_no_cursor(
    settings: Settings, redis: aioredis.Redis
) -> None:
    lease = Lease(redis, settings.redis_key("sources:leader"), "manager-1", ttl_sec=15)
    assert await lease.hold()
    emitter = Emitter(redis, settings, SourceConfig(id="s1", name="app", type="filetail", config={}), lease)
    assert await emitter.emit(Batch(lines=["first line"], cursor="10")) == len("first line")
    await redis.set(lease.key, "manager-2", px=60_000)  # manager-1 stalled past its lease
    with pytest.raises(LeaseLost):
        await emitter.emit(Batch(lines=["stale line", "another"], cursor="4"))
    assert await redis.xlen(settings.redis_key("logs")) == 1
    assert await emitter.cursor() == "10"
    assert not lease.held

