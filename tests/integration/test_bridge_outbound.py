"""Outbound bridge on real Kafka and Redis: replays add nothing, alerts get hashes with a TTL,
and an undecodable record is dead-lettered instead of stopping the bridge."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from connectors.bridge_out import OutboundBridge
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
