"""Each connector the agents use and its in-memory twin pass the same contract, the real one on the
real Redis: what the agents' unit tests learn from a twin holds for the connector."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from connectors.alert_store import AlertGroups, MemoryAlertGroups
from connectors.redis_streams import GroupReader, MemoryGroupReader
from connectors.source_formats import MemorySourceFormats, SourceFormats
from connectors.verdicts import MemoryVerdictCache, VerdictCache
from streamapp.alert_groups import Occurrence
from streamapp.settings import Settings

pytestmark = pytest.mark.integration

REAL_OR_TWIN = pytest.mark.parametrize("real", [True, False], ids=["redis", "twin"])


@REAL_OR_TWIN
async def test_verdict_cache(real: bool, settings: Settings, redis: aioredis.Redis) -> None:
    cache = VerdictCache(redis, settings) if real else MemoryVerdictCache(settings)
    assert await cache.get("verdict:a") is None
    await cache.put("verdict:a", '{"failure_type": "hardware_disk"}')
    got = await cache.get("verdict:a")
    assert (got.decode() if isinstance(got, bytes) else got) == '{"failure_type": "hardware_disk"}'
    assert await cache.get("verdict:b") is None


@REAL_OR_TWIN
async def test_group_reader(real: bool, settings: Settings, redis: aioredis.Redis) -> None:
    twin = MemoryGroupReader(count=2)
    reader = GroupReader(redis, settings.redis_key("twins"), "g", "c", count=2) if real else twin
    await reader.ensure()
    for i in range(3):
        fields = {"n": str(i)}
        if real:
            await redis.xadd(settings.redis_key("twins"), fields)
        else:
            twin.add(fields)
    first = await reader.read()
    assert [f[b"n"] for _, f in first] == [b"0", b"1"], "a batch is at most `count`, oldest first"
    assert [f[b"n"] for _, f in await reader.claim(idle_ms=0)] == [b"0", b"1"], "read, not acknowledged: pending"
    await reader.ack([first[0][0]])
    assert [f[b"n"] for _, f in await reader.claim(idle_ms=0)] == [b"1"]
    assert [f[b"n"] for _, f in await reader.read()] == [b"2"]
    assert await reader.read() == []
    assert await reader.claim(idle_ms=60_000) == [], "nothing has been idle that long"


@REAL_OR_TWIN
async def test_source_formats(real: bool, settings: Settings, redis: aioredis.Redis) -> None:
    if real:
        await redis.hset(settings.redis_key("sources:formats"), mapping={"s1": "json", "s2": "linux"})
    formats = SourceFormats(redis, settings) if real else MemorySourceFormats({"s1": "json", "s2": "linux"})
    assert await formats.read() == {"s1": "json", "s2": "linux"}


@REAL_OR_TWIN
async def test_alert_groups(real: bool, settings: Settings, redis: aioredis.Redis) -> None:
    groups = AlertGroups(redis, settings) if real else MemoryAlertGroups(settings)

    def occ(i: int, host: str, t: float) -> Occurrence:
        return Occurrence(id=f"o{i}", host=host, failure_type="hardware_memory", template_ids=("t1",), t=t, os="linux")

    first = await groups.join(occ(1, "n1", 100.0), "a1", 900)
    second = await groups.join(occ(2, "n2", 150.0), "a2", 900)
    replay = await groups.join(occ(2, "n2", 150.0), "a3", 900)
    later = await groups.join(occ(3, "n1", 2000.0), "a4", 900)
    assert (first.owner, second.owner, replay.owner, later.owner) == ("a1", "a1", "a1", "a4")
    assert (second.host_count, replay.host_count, later.host_count) == (2, 2, 1)
    assert sum(h.count for h in replay.hosts.values()) == 2, "a replay counts nothing twice"
