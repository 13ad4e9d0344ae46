"""The open-issues changelog on real Kafka: a key changed by many aggregator batches is written once
per offset commit, not once per batch, and once the aggregator's offsets are committed the
changelog holds the latest state of every key (what a restarted worker recovers from)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from streamapp.processes import start_worker
from streamapp.settings import Settings
from tests.support.kafka import caught_up, read_topic
from tests.support.streams import eventually, xadd_lines

pytestmark = pytest.mark.integration

TOKEN = "changelog-token-of-the-tests-0123456789"
LINE = "Jun 14 15:16:{s:02d} db-0{h} kernel: EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0 (line {n})"
HOSTS, WAVES, PER_WAVE = 4, 12, 2  # each wave: PER_WAVE lines per host, a separate bridge read and batch


async def test_changed_keys_are_written_once_per_commit(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {**env, "ADMIN_TOKEN": TOKEN, "ISSUE_INACTIVITY_SEC": "300"}  # nothing closes during the test
    worker = start_worker(env, tmp_path / "worker.log")
    total = HOSTS * WAVES * PER_WAVE
    try:
        n = 0
        for _ in range(WAVES):  # apart by more than the aggregator waits to fill a batch
            wave = [LINE.format(s=(n + i) % 60, h=(n + i) % HOSTS, n=n + i) for i in range(HOSTS * PER_WAVE)]
            await xadd_lines(redis, settings.redis_key("logs"), wave, "dbs.log")
            n += len(wave)
            await asyncio.sleep(0.3)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['WEB_PORT']}", timeout=10) as http:

            async def all_open() -> bool:
                items = (await http.get("/issues/", headers=auth)).json()["items"]
                return sum(i["line_count"] for i in items) == total

            await eventually(all_open, timeout=90, interval=0.2)
        await eventually(lambda: caught_up(settings, settings.topic_name("issue_events")), timeout=60)

        # Every offset of the aggregator's input is committed: its table changes must be in Kafka.
        changelog = f"{settings.streamapp_id}-open_issues-changelog"
        values = [json.loads(v) for v in await read_topic(settings, changelog, lambda v: False, timeout=5)]
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]

    latest = {v["key"]: v for v in values}
    assert len(latest) == HOSTS
    assert sorted(v["line_count"] for v in latest.values()) == [WAVES * PER_WAVE] * HOSTS, "latest state of each key"
    writes = Counter(v["key"] for v in values)
    assert max(writes.values()) < WAVES, f"a key's writes are coalesced across batches: {writes}"
