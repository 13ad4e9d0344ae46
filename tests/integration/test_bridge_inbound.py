"""Inbound bridge on real Redis and Kafka: every entry arrives, once; crashes lose nothing;
poison is dead-lettered; trimming never drops what a group has not acknowledged."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from connectors.bridge_in import InboundBridge
from streamapp.processes import start_cli
from streamapp.records import DeadLetter, LineBatch
from streamapp.settings import Settings
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

MID_BATCH_ATTEMPTS = 20


async def xadd_lines(redis: aioredis.Redis, stream: str, n: int, source: str = "app.log") -> list[str]:
    ids: list[str] = []
    for start in range(0, n, 1000):
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(start, min(start + 1000, n)):
                pipe.xadd(stream, {"source": source, "line": f"line {i} something happened", "source_id": "7"})
            ids.extend(x.decode() for x in await pipe.execute())
    return ids


def line_ids(values: list[bytes]) -> list[str]:
    return [x.id for v in values for x in LineBatch.loads(v).lines]


async def wait_for(predicate, timeout: float = 60, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(interval)
    raise AssertionError("condition not met in time")


async def test_10k_entries_arrive_on_kafka_exactly_once(settings: Settings, redis: aioredis.Redis) -> None:
    stream, topic = settings.redis_key("logs"), settings.topic_name("logs")
    ids = await xadd_lines(redis, stream, 10_000)
    bridge = InboundBridge(settings)
    await bridge.start()
    try:
        values = await read_topic(settings, topic, lambda v: len(line_ids(v)) >= 10_000, timeout=90)
        # The last batch is acknowledged just after Kafka has it: wait for that, not stop before it.
        async def all_acknowledged() -> bool:
            return (await redis.xpending(stream, settings.bridge_group))["pending"] == 0
        await wait_for(all_acknowledged, timeout=30)
    finally:
        await bridge.stop()
    got = Counter(line_ids(values))
    assert set(got) == set(ids)
    assert max(got.values()) == 1, "a run without failures must not duplicate"
    assert len(values) < len(ids) / 50, "lines travel in batches, not one record each"
    sample = LineBatch.loads(values[0]).lines[0]
    assert sample.source == "app.log" and sample.source_id == "7" and sample.line.startswith("line ")


async def test_sigkill_mid_batch_loses_nothing(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    stream, topic = settings.redis_key("logs"), settings.topic_name("logs")
    ids = await xadd_lines(redis, stream, 10_000)
    env = {**env, "BRIDGE_BATCH_SIZE": "10000", "BRIDGE_CLAIM_IDLE_MS": "1000"}
    first = start_cli(["bridge", "in"], {**env, "BRIDGE_CONSUMER": "bridge-a"}, tmp_path / "a.log")

    seen: list[bytes] = []
    watcher = asyncio.create_task(read_topic(settings, topic, lambda v: False, timeout=60, into=seen))

    async def pending() -> int:
        try:
            return int((await redis.xpending(stream, settings.bridge_group))["pending"])
        except ResponseError:  # the bridge has not created its group yet
            return 0

    # A 10,000-entry batch read and partly on Kafka, but not yet acknowledged: freeze the bridge there
    # (SIGSTOP), then kill it. The XACK follows Kafka's ack within milliseconds, so a freeze that came
    # after it lets the bridge go on with another batch to read, until one freeze lands mid-batch.
    pending_after_crash = 0
    for _ in range(MID_BATCH_ATTEMPTS):
        on_kafka = len(seen)

        async def mid_batch(on_kafka: int = on_kafka) -> bool:
            return await pending() > 0 and len(seen) > on_kafka

        await wait_for(mid_batch, timeout=60, interval=0.002)
        first.popen.send_signal(signal.SIGSTOP)
        pending_after_crash = await pending()
        if pending_after_crash > 0:
            break
        ids += await xadd_lines(redis, stream, 10_000)
        first.popen.send_signal(signal.SIGCONT)
    first.kill()
    watcher.cancel()
    assert pending_after_crash > 0, "the kill must land mid-batch, before the XACK"

    second = start_cli(["bridge", "in"], {**env, "BRIDGE_CONSUMER": "bridge-b"}, tmp_path / "b.log")
    try:
        values = await read_topic(settings, topic, lambda v: set(line_ids(v)) >= set(ids), timeout=120)

        async def pending_empty():
            return (await redis.xpending(stream, settings.bridge_group))["pending"] == 0

        await wait_for(pending_empty, timeout=60)
    finally:
        assert second.terminate() == 0
    assert set(line_ids(values)) == set(ids), "every entry id reached Kafka"
    print(f"pending at crash: {pending_after_crash}; kafka records: {len(values)} for {len(ids)} ids")


async def test_poison_entries_go_to_deadletter_and_bridge_keeps_running(
    settings: Settings, redis: aioredis.Redis
) -> None:
    stream, topic = settings.redis_key("logs"), settings.topic_name("logs")
    bad_utf8 = await redis.xadd(stream, {"source": "x", "line": b"caf\xc3\x28 broken"})
    huge = await redis.xadd(stream, {"source": "x", "line": "A" * (settings.bridge_max_entry_bytes + 10)})
    good = await redis.xadd(stream, {"source": "x", "line": "fine"})
    bridge = InboundBridge(settings)
    await bridge.start()
    try:
        dl_stream = settings.redis_key("deadletter")

        async def two_dead():
            entries = await redis.xrange(dl_stream)
            return entries if len(entries) >= 2 else None

        entries = await wait_for(two_dead)
        letters = {d.original_id: d for d in (DeadLetter.from_redis(f) for _, f in entries)}
        assert set(letters) == {bad_utf8.decode(), huge.decode()}
        assert "invalid UTF-8" in letters[bad_utf8.decode()].reason
        assert "too large" in letters[huge.decode()].reason
        # Still running: a line added after the poison is forwarded too.
        later = await redis.xadd(stream, {"source": "x", "line": "after poison"})
        values = await read_topic(settings, topic, lambda v: later.decode() in line_ids(v))
        assert {good.decode(), later.decode()} <= set(line_ids(values))
        assert not ({bad_utf8.decode(), huge.decode()} & set(line_ids(values)))
        assert (await redis.xpending(stream, settings.bridge_group))["pending"] == 0
    finally:
        await bridge.stop()


async def test_trim_keeps_what_another_group_has_not_acknowledged(settings: Settings, redis: aioredis.Redis) -> None:
    settings = settings.model_copy(update={"bridge_trim_retain_sec": 0})
    stream = settings.redis_key("logs")
    await xadd_lines(redis, stream, 100)
    await redis.xgroup_create(stream, "outside_reader", id="0")  # an outside reader, behind
    bridge = InboundBridge(settings)
    await bridge.start()
    try:
        async def bridged():
            return bridge.forwarded == 100 and (await redis.xpending(stream, settings.bridge_group))["pending"] == 0

        await wait_for(bridged)
        await bridge.trim_once()
        assert await redis.xlen(stream) == 100, "the outside group has read nothing: nothing may go"
        entries = await redis.xreadgroup("outside_reader", "r1", {stream: ">"}, count=60)
        read_ids = [eid for _, batch in entries for eid, _ in batch]
        await redis.xack(stream, "outside_reader", *read_ids[:50])  # 10 read, still pending
        await bridge.trim_once()
        remaining = await redis.xlen(stream)
        assert 50 <= remaining < 100, remaining
        first_left = (await redis.xrange(stream, count=1))[0][0]
        assert first_left <= read_ids[50], "an unacknowledged entry was trimmed"
    finally:
        await bridge.stop()
