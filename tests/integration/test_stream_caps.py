"""Caps on the Redis streams the pipeline writes to (issue 16 #12), on real Redis: every writer of
`logs` (sources, Telegraf intake) caps it (MAXLEN ~), so does every writer of the dead-letter
stream; the bridge counts what the caps removed before it was acknowledged, trims acknowledged
entries first near the cap, and warns of a consumer group that stopped moving."""

from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis

from connectors.bridge_in import InboundBridge
from connectors.redis_streams import StreamWriter
from connectors.sources.base import Batch, Emitter, SourceConfig
from connectors.telegraf_intake import TelegrafSink, TelegrafSource
from streamapp import telemetry
from streamapp.records import DeadLetter
from streamapp.settings import Settings
from streamapp.telegraf import Accepted

pytestmark = pytest.mark.integration

CAP = 1000
SLACK = 100  # MAXLEN ~ removes whole radix-tree nodes (stream-node-max-entries: 100 by default)


def dropped(what: str) -> float:
    return sum(v for v, attrs in telemetry.HEALTH_VALUES.read("streamapp.dropped") if attrs.get("what") == what)


@pytest.fixture
async def bridge(settings: Settings) -> InboundBridge:
    bridge = InboundBridge(settings.model_copy(update={"logs_maxlen": CAP, "deadletter_maxlen": CAP,
                                                       "bridge_group_stall_sec": 60}))
    await bridge.on_start()  # its group on `logs`, its clients; no task runs: the test calls it
    yield bridge
    await bridge.on_shutdown()


async def test_writers_cap_logs_and_the_bridge_counts_what_the_cap_removed(
    bridge: InboundBridge, redis: aioredis.Redis
) -> None:
    s = bridge.settings
    emitter = Emitter(redis, s, SourceConfig(id="s1", name="app", type="filetail", config={}))
    for k in range(30):
        await emitter.emit(Batch(lines=[f"line {k} {i}" for i in range(100)], cursor=str(k)))
    sink = TelegrafSink(redis, s, dedupe_ttl_sec=60)
    for k in range(20):
        batch = Accepted(metrics=0, log_lines=[("syslog", f"event {k} {i}") for i in range(100)], payload_lines=[],
                         digest=f"d{k}")
        assert await sink.write_once(TelegrafSource("t1", "edge", {}), batch)
    length = await redis.xlen(bridge.stream)
    assert CAP <= length <= CAP + SLACK, length
    before = dropped("logs")
    await bridge.watch_once(now=0.0)
    assert dropped("logs") - before == 5000 - length, "nothing was read: everything the cap removed is lost"
    await bridge.watch_once(now=1.0)
    assert dropped("logs") - before == 5000 - length, "counted once"


async def test_acknowledged_entries_are_trimmed_not_counted_and_first_near_the_cap(
    bridge: InboundBridge, redis: aioredis.Redis
) -> None:
    s = bridge.settings
    emitter = Emitter(redis, s, SourceConfig(id="s1", name="app", type="filetail", config={}))
    await emitter.emit(Batch(lines=[f"line {i}" for i in range(950)], cursor=None))
    read = await redis.xreadgroup(s.bridge_group, "c1", {bridge.stream: ">"}, count=950)
    await redis.xack(bridge.stream, s.bridge_group, *(eid for _, entries in read for eid, _ in entries))
    before = dropped("logs")
    assert await bridge.trim_once() is not None, "near the cap the retention gives way"
    assert await redis.xlen(bridge.stream) <= 1
    await bridge.watch_once(now=0.0)
    assert dropped("logs") == before, "trimmed after acknowledgement: nothing lost"


async def test_the_dead_letter_stream_is_capped_and_counted(bridge: InboundBridge, redis: aioredis.Redis) -> None:
    s = bridge.settings
    letters = [DeadLetter(id=f"d{i}", reason="bad", stream="logs", original_id=f"{i}-0", payload="x", failed_at=0.0)
               for i in range(3000)]
    await StreamWriter(redis, s).write(s.stream_deadletter, letters)
    length = await redis.xlen(s.redis_key(s.stream_deadletter))
    assert CAP <= length <= CAP + SLACK, length
    before = dropped("deadletter")
    await bridge.watch_once(now=0.0)
    assert dropped("deadletter") - before == 3000 - length


async def test_a_group_that_stops_moving_with_work_is_reported_stalled(
    bridge: InboundBridge, redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    s = bridge.settings
    await redis.xgroup_create(bridge.stream, "reports", id="0")
    await Emitter(redis, s, SourceConfig(id="s1", name="app", type="filetail", config={})).emit(
        Batch(lines=["a line", "another"], cursor=None))
    read = await redis.xreadgroup(s.bridge_group, "c1", {bridge.stream: ">"})
    await redis.xack(bridge.stream, s.bridge_group, *(eid for _, entries in read for eid, _ in entries))
    assert await bridge.watch_once(now=1000.0) == {}
    with caplog.at_level(logging.WARNING, logger="connectors.bridge_in"):
        stalled = await bridge.watch_once(now=1061.0)
    assert set(stalled) == {"reports"}, "the bridge's own group is up to date; `reports` read nothing in 61 s"
    assert any("'reports'" in r.getMessage() for r in caplog.records)
    assert telemetry.HEALTH_VALUES.read("streamapp.logs.stalled_groups")[0][0] == 1
    await redis.xreadgroup("reports", "r1", {bridge.stream: ">"}, count=1)  # it moves again
    assert await bridge.watch_once(now=1062.0) == {}
