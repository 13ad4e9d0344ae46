"""Outbound bridge on real Kafka and Redis: replays add nothing (a re-sent id soon after, a re-read
partition however late), alerts get hashes with a TTL, and an undecodable record is dead-lettered
instead of stopping the bridge."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.bridge_out import OutboundBridge
from connectors.kafka_admin import client_options
from streamapp.records import Alert, DeadLetter
from streamapp.settings import Settings
from tests.support.kafka import produce

pytestmark = pytest.mark.integration


async def wait_len(redis: aioredis.Redis, key: str, n: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (length := await redis.xlen(key)) >= n:
            return length
        await asyncio.sleep(0.1)
    return await redis.xlen(key)


def alert(alert_id: str) -> Alert:
    return Alert(
        id=alert_id, type="issue", os="linux", failure_type="hardware_disk", confidence=0.9,
        result={"summary": "disk sda failing"}, is_hardware_failure=True, issue_key="linux|kernel|nopid",
        log_ids=["1-0"],
    )


async def test_same_alert_delivered_twice_gives_one_entry(settings: Settings, redis: aioredis.Redis) -> None:
    topic = settings.topic_name("alerts")
    first, other = alert("a-1"), alert("a-2")
    await produce(settings, topic, [(b"k", first.dumps()), (b"k", first.dumps()), (b"k", other.dumps())])
    bridge = OutboundBridge(settings)
    await bridge.start()
    try:
        assert await wait_len(redis, settings.redis_key("alerts"), 2) == 2
        # A replay after a restart (same id again) adds nothing either.
        await produce(settings, topic, [(b"k", first.dumps())])
        await asyncio.sleep(1.5)
    finally:
        await bridge.stop()
    entries = await redis.xrange(settings.redis_key("alerts"))
    assert sorted(Alert.from_redis(f).id for _, f in entries) == ["a-1", "a-2"]
    key = settings.redis_key("alert:a-1")
    stored = await redis.hgetall(key)
    assert stored[b"id"] == b"a-1" and stored[b"is_hardware_failure"] == b"true"
    assert 0 < await redis.ttl(key) <= settings.alerts_ttl_sec


async def test_undecodable_record_is_dead_lettered(settings: Settings, redis: aioredis.Redis) -> None:
    topic = settings.topic_name("alerts")
    await produce(settings, topic, [(b"k", b"\xff not json"), (b"k", alert("a-3").dumps())])
    bridge = OutboundBridge(settings)
    await bridge.start()
    try:
        assert await wait_len(redis, settings.redis_key("alerts"), 1) == 1
        assert await wait_len(redis, settings.redis_key("deadletter"), 1) == 1
    finally:
        await bridge.stop()
    (_, fields), = await redis.xrange(settings.redis_key("deadletter"))
    letter = DeadLetter.from_redis(fields)
    assert "undecodable Alert" in letter.reason and letter.stream == topic


async def rewind(settings: Settings, topic: str) -> None:
    """The bridge's group back to offset 0: as if it had crashed after writing, before committing."""
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=f"{settings.streamapp_id}-redis-out",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        consumer.assign(parts)
        await consumer.commit(dict.fromkeys(parts, 0))
    finally:
        await consumer.stop()


async def test_a_late_replay_adds_nothing_though_the_id_marks_expired(
    settings: Settings, redis: aioredis.Redis
) -> None:
    """Issue 16 #8: ids are remembered briefly (bounded memory); the bridge's own replays are dropped
    by each partition's offset watermark, however late they come."""
    topic, stream = settings.topic_name("alerts"), settings.redis_key("alerts")
    await produce(settings, topic, [(f"k{i}".encode(), alert(f"w-{i}").dumps()) for i in range(6)])
    for run in ("first", "replay"):
        bridge = OutboundBridge(settings)
        await bridge.start()
        try:
            assert await wait_len(redis, stream, 6) == 6
            await asyncio.sleep(1.0)  # a replay, if any, would have been written by now
        finally:
            await bridge.stop()
        marks = [k async for k in redis.scan_iter(match=settings.redis_key("dedupe:*"))]
        ttls = [await redis.ttl(k) for k in marks]
        assert all(0 < ttl <= settings.outbound_dedupe_ttl_sec for ttl in ttls)
        assert len(marks) == (6 if run == "first" else 0), "the replay wrote nothing, so marked nothing"
        if marks:
            await redis.delete(*marks)  # the id marks expire ...
        await rewind(settings, topic)  # ... and the group is read again from the start
    assert await redis.xlen(stream) == 6
    watermarks = [k async for k in redis.scan_iter(match=settings.redis_key("outbound:offset:*"))]
    assert 1 <= len(watermarks) <= settings.topic_partitions, "one key per partition, whatever the traffic"


async def test_a_watermark_past_a_recreated_partition_is_forgotten(settings: Settings, redis: aioredis.Redis) -> None:
    topic, stream = settings.topic_name("alerts"), settings.redis_key("alerts")
    for p in range(settings.topic_partitions):  # left by a topic of the same name, deleted since
        await redis.set(settings.redis_key(f"outbound:offset:{topic}:{p}"), 1_000_000)
    await produce(settings, topic, [(b"k", alert("n-1").dumps()), (b"k", alert("n-2").dumps())])
    bridge = OutboundBridge(settings)
    await bridge.start()
    try:
        assert await wait_len(redis, stream, 2) == 2
    finally:
        await bridge.stop()
