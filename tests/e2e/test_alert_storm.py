"""Alert storms on real services: the same failure on 50 hosts within the grouping window is one
alert listing the 50 hosts (the cluster alerts of those issues join it too), and a replay of the
enricher's input adds nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from streamapp.processes import start_worker
from streamapp.records import Alert, IssueCandidate
from streamapp.settings import Settings
from tests.support.kafka import caught_up, produce
from tests.support.streams import accounted_lines, eventually, records, xadd_lines

pytestmark = pytest.mark.e2e

HOSTS = [f"node-{i:02d}" for i in range(50)]


def ecc_lines(host: str, i: int) -> list[str]:
    """Corrected memory errors a node's kernel reports (EDAC), twice."""
    return [
        f"Jun 14 15:{16 + k:02d}:0{k} {host} kernel: EDAC MC0: 1 CE memory read error on "
        f"CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 (channel:1 slot:0 page:0x{i * 977 + k:x} offset:0x0 grain:32)"
        for k in range(2)
    ]


async def test_fifty_hosts_one_alert_and_a_replay_adds_nothing(
    settings: Settings, env: dict[str, str], redis: aioredis.Redis, tmp_path: Path
) -> None:
    env = {**env, "ISSUE_INACTIVITY_SEC": "3", "SOURCE_FORMATS": '{"storm.log": "linux"}', "LLM_PROVIDER": "none"}
    worker = start_worker(env, tmp_path / "worker.log")
    alerts_key = settings.redis_key(settings.stream_alerts)
    try:
        lines = [line for i, host in enumerate(HOSTS) for line in ecc_lines(host, i)]
        ids = await xadd_lines(redis, settings.redis_key("logs"), lines, "storm.log")

        async def accounted() -> bool:
            return await accounted_lines(redis, settings) >= len(ids)

        await eventually(accounted, timeout=180)
        candidates = [c for _, c in await records(redis, settings.redis_key("issues_candidates"), IssueCandidate)]
        assert sorted(c.host for c in candidates) == HOSTS, "one issue per host"
        topic = settings.topic_name("issues_candidates")

        async def enriched() -> bool:
            return await caught_up(settings, topic)

        await eventually(enriched, timeout=120)
        await asyncio.sleep(2)  # the outbound bridge's last batch
        got = [a for _, a in await records(redis, alerts_key, Alert)]
        assert len(got) == 1, [(a.type, a.host, a.failure_type, a.template_ids, a.group_key) for a in got]
        alert = got[0]
        assert alert.failure_type == "hardware_memory"
        raw = await redis.hgetall(settings.redis_key(f"alert:{alert.id}"))
        stored = {k.decode(): v.decode() for k, v in raw.items()}
        hosts = json.loads(stored["hosts"])
        assert sorted(h["host"] for h in hosts) == HOSTS and stored["host_count"] == "50"
        assert all(h["count"] == 1 and h["evidence"] and h["first_seen"] <= h["last_seen"] for h in hosts)
        # 50 issues, and the clusters of them the cluster enricher assessed as their prototype grew
        assert int(stored["occurrences"]) >= 50

        # Replay: every candidate reaches the enricher again (as after a crash before its commit).
        await produce(settings, topic, [(c.id.encode(), c.dumps()) for c in candidates])
        await eventually(enriched, timeout=120)
        await asyncio.sleep(2)
    finally:
        assert worker.terminate() == 0, worker.output()[-3000:]
    assert [a.id for _, a in await records(redis, alerts_key, Alert)] == [alert.id], "no new alert"
    again = await redis.hgetall(settings.redis_key(f"alert:{alert.id}"))
    assert again[b"occurrences"].decode() == stored["occurrences"] and again[b"host_count"] == b"50", "none twice"
